package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/internal/stacktest"
)

// form posts a form to h, with the session cookie when given.
func form(h http.Handler, path string, values url.Values, cookie *http.Cookie, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func consoleSession(t testing.TB, h http.Handler) *http.Cookie {
	t.Helper()
	rec := form(h, "/signin", url.Values{"email": {"admin@example.com"}, "password": {"admin-password-1"}, "next": {"/orgs/acme/members"}}, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/orgs/acme/members" {
		t.Fatalf("sign-in: %d %v", rec.Code, rec.Header())
	}
	return rec.Result().Cookies()[0]
}

func TestConsoleForms(t *testing.T) {
	h, _, _ := newHandler(t)

	// Signed out, a page sends the browser to sign in and back.
	req := httptest.NewRequest("GET", "/orgs/acme/members", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/signin?next=%2Forgs%2Facme%2Fmembers" {
		t.Fatalf("signed-out page: %d %v", rec.Code, rec.Header())
	}
	// The redirect after sign-in stays on this site.
	for _, next := range []string{"//evil.example", "https://evil.example", "/\\evil.example"} {
		rec := form(h, "/signin", url.Values{"email": {"admin@example.com"}, "password": {"admin-password-1"}, "next": {next}}, nil)
		if loc := rec.Header().Get("Location"); loc != "/" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
	// A wrong password re-renders the form with the message, not the password.
	rec = form(h, "/signin", url.Values{"email": {"admin@example.com"}, "password": {"not-the-password"}}, nil)
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), "the email or password is wrong") || strings.Contains(rec.Body.String(), "not-the-password") {
		t.Fatalf("wrong password: %d", rec.Code)
	}

	cookie := consoleSession(t, h)
	// Server-side validation shows next to the field.
	rec = form(h, "/orgs/acme/members/invite", url.Values{"email": {"not-an-email"}, "role": {"member"}}, cookie)
	if rec.Code != 422 || !strings.Contains(rec.Body.String(), `id="invite-error"`) || !strings.Contains(rec.Body.String(), "plain email address") {
		t.Fatalf("bad email: %d %s", rec.Code, rec.Body)
	}
	rec = form(h, "/orgs/acme/members/invite", url.Values{"email": {"x@example.com"}, "role": {"owner"}}, cookie)
	if rec.Code != 422 || !strings.Contains(rec.Body.String(), "role must be one of") {
		t.Fatalf("bad role: %d", rec.Code)
	}
	// CSRF: a cross-site form post is refused, whatever the session.
	for _, path := range []string{"/orgs/acme/members/invite", "/signin", "/signout", "/invitations/accept"} {
		rec := form(h, path, url.Values{"email": {"y@example.com"}, "role": {"viewer"}}, cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
		if rec.Code != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d", path, rec.Code)
		}
	}
	// A good invitation shows its link once, in the page, not in a URL.
	rec = form(h, "/orgs/acme/members/invite", url.Values{"email": {"z@example.com"}, "role": {"viewer"}}, cookie)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "/invitations/accept?token=") || rec.Header().Get("Location") != "" {
		t.Fatalf("invite: %d", rec.Code)
	}
	// The last super admin cannot demote themselves: the page says why.
	rec = form(h, "/orgs/acme/members/"+adminID(t, h, cookie)+"/role", url.Values{"role": {"viewer"}}, cookie)
	if rec.Code != 409 || !strings.Contains(rec.Body.String(), "last super_admin") {
		t.Fatalf("demote the last super admin: %d", rec.Code)
	}
	// Pages carry the strict security headers.
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
		rec.Header().Get("X-Frame-Options") != "DENY" || rec.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("headers: %v", rec.Header())
	}
}

// adminID reads the admin's user ID from the JSON API.
func adminID(t *testing.T, h http.Handler, cookie *http.Cookie) string {
	t.Helper()
	req := httptest.NewRequest("GET", "/api/v1/me", nil)
	req.AddCookie(cookie)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	i := strings.Index(body, `"id":"`)
	if i < 0 {
		t.Fatalf("me: %s", body)
	}
	return strings.SplitN(body[i+6:], `"`, 2)[0]
}

// TestConsoleFormsValidateOnTheServer posts each remaining console form
// with a broken value: the answer is the form again with the rule next to
// its field, and nothing is created. Cross-site posts are refused.
func TestConsoleFormsValidateOnTheServer(t *testing.T) {
	h, saID, _ := newHandler(t)
	cookie := consoleSession(t, h)
	for _, tc := range []struct {
		name, path string
		values     url.Values
		status     int
		says       string
	}{
		{"21-character name", "/orgs/acme/service-accounts", url.Values{"name": {strings.Repeat("n", 21)}, "role": {"viewer"}, "ttl": {"1"}, "ttl_unit": {"hours"}}, 422, "at most 20 characters (it has 21)"},
		{"name with a space", "/orgs/acme/service-accounts", url.Values{"name": {"a b"}, "role": {"viewer"}, "ttl": {"1"}, "ttl_unit": {"hours"}}, 422, "no spaces"},
		{"lifetime too short", "/orgs/acme/service-accounts", url.Values{"name": {"short"}, "role": {"viewer"}, "ttl": {"4"}, "ttl_unit": {"minutes"}}, 422, "between 300"},
		{"lifetime too long", "/orgs/acme/service-accounts", url.Values{"name": {"long"}, "role": {"viewer"}, "ttl": {"31"}, "ttl_unit": {"days"}}, 422, "2592000"},
		{"unknown unit", "/orgs/acme/service-accounts", url.Values{"name": {"unit"}, "role": {"viewer"}, "ttl": {"1"}, "ttl_unit": {"weeks"}}, 422, "token_ttl_seconds"},
		{"long description", "/orgs/acme/service-accounts", url.Values{"name": {"desc"}, "role": {"viewer"}, "ttl": {"1"}, "ttl_unit": {"hours"}, "description": {strings.Repeat("é", 141)}}, 422, "at most 140"},
		{"wildcard domain", "/orgs/acme/tokens", url.Values{"name": {"t"}, "service_account_id": {saID}, "kind": {"public"}, "domains": {"https://*.example.com"}}, 422, "list each subdomain"},
		{"public without domains", "/orgs/acme/tokens", url.Values{"name": {"t"}, "service_account_id": {saID}, "kind": {"public"}}, 422, "at least one domain"},
		{"path in a domain", "/orgs/acme/tokens", url.Values{"name": {"t"}, "service_account_id": {saID}, "kind": {"public"}, "domains": {"https://a.example.com\nhttps://b.example.com/x"}}, 422, "Domain 2: &#34;https://b.example.com/x&#34; has a path"},
		{"token role above owner", "/orgs/acme/tokens", url.Values{"name": {"t"}, "service_account_id": {saID}, "kind": {"private"}, "role": {"admin"}}, 422, "above its owner"},
		{"token expiry in the past", "/orgs/acme/tokens", url.Values{"name": {"t"}, "service_account_id": {saID}, "kind": {"private"}, "expires": {"2001-01-01"}}, 422, "in the future"},
		{"floor not a number", "/orgs/acme/settings", url.Values{"name": {"Acme"}, "floor": {"soon"}}, 422, "whole number"},
		{"floor negative", "/orgs/acme/settings", url.Values{"name": {"Acme"}, "floor": {"-1"}}, 422, "between 0 and"},
		{"empty org name", "/orgs/acme/settings", url.Values{"name": {""}, "floor": {"0"}}, 422, "name is required"},
		{"delete without the name", "/orgs/acme/service-accounts/" + saID + "/delete", url.Values{"confirm": {"nope"}}, 422, "to confirm the deletion"},
		{"rotate with no grace", "/orgs/acme/service-accounts/" + saID + "/rotate", url.Values{}, 422, "choose a grace period"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := form(h, tc.path, tc.values, cookie)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.says) {
				t.Fatalf("%d, want %d saying %q:\n%.400s", rec.Code, tc.status, tc.says, rec.Body)
			}
			if rec := form(h, tc.path, tc.values, cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); rec.Code != http.StatusForbidden {
				t.Fatalf("cross-site post answered %d", rec.Code)
			}
		})
	}
	// Nothing was created by the refused forms: one account, no tokens.
	req := httptest.NewRequest("GET", "/api/v1/orgs/acme/service-accounts", nil)
	req.AddCookie(cookie)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if strings.Count(rec.Body.String(), `"client_id"`) != 1 {
		t.Fatalf("service accounts after refused forms: %s", rec.Body)
	}
	req = httptest.NewRequest("GET", "/api/v1/orgs/acme/tokens", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `"items":[]`) {
		t.Fatalf("tokens after refused forms: %s", rec.Body)
	}
}

// TestAddTokenWithoutServiceAccounts: in an org with no service account,
// Add Token says every token needs one and links to Create Service Account.
func TestAddTokenWithoutServiceAccounts(t *testing.T) {
	h, _, _ := newHandler(t)
	cookie := consoleSession(t, h)
	req := httptest.NewRequest("POST", "/api/v1/orgs", strings.NewReader(`{"slug":"empty","name":"Empty"}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(cookie)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create org: %d %s", rec.Code, rec.Body)
	}
	req = httptest.NewRequest("GET", "/orgs/empty/tokens/new", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, "has none yet") || !strings.Contains(body, `href="/orgs/empty/service-accounts/new"`) || strings.Contains(body, `name="kind"`) {
		t.Fatalf("add token without accounts: %d\n%.600s", rec.Code, body)
	}
}

// TestCSRFIsNotSkippedForOtherAuthorizationSchemes: a browser behind a
// proxy that uses Basic or Negotiate adds that Authorization header to a
// cross-site request by itself. It authenticates nothing, so the request
// is still the session cookie's and CSRF protection applies: the forged
// disable is refused, on the console and on the admin API, and the
// account stays active.
func TestCSRFIsNotSkippedForOtherAuthorizationSchemes(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	h := env.Handler
	cookie := consoleSession(t, h)
	id := env.Account.ID
	crossSite := []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}
	for _, auth := range []string{"Basic YWxpY2U6c2VjcmV0", "Negotiate YIIB", "Bearer"} {
		rec := form(h, "/orgs/acme/service-accounts/"+id+"/disable", url.Values{}, cookie, append(crossSite, "Authorization", auth)...)
		if rec.Code != http.StatusForbidden {
			t.Errorf("console, cross-site with Authorization %q: %d", auth, rec.Code)
		}
		req := httptest.NewRequest("POST", "/api/v1/orgs/acme/service-accounts/"+id+"/disable", nil)
		req.AddCookie(cookie)
		for i := 0; i < len(crossSite); i += 2 {
			req.Header.Set(crossSite[i], crossSite[i+1])
		}
		req.Header.Set("Authorization", auth)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden && rec.Code != http.StatusUnauthorized {
			t.Errorf("API, cross-site with Authorization %q: %d %s", auth, rec.Code, rec.Body)
		}
	}
	sa, err := env.App.GetServiceAccount(t.Context(), env.Admin, "acme", id)
	if err != nil || sa.Status != tollgate.StatusActive {
		t.Fatalf("after forged requests the account is %v (%v)", sa.Status, err)
	}
	// The same request from the console's own pages goes through.
	rec := form(h, "/orgs/acme/service-accounts/"+id+"/disable", url.Values{}, cookie, "Sec-Fetch-Site", "same-origin", "Authorization", "Basic YWxpY2U6c2VjcmV0")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("same-origin disable: %d %s", rec.Code, rec.Body)
	}
}

// TestConsoleSignInIsLimited: the console's sign-in form shares the
// password limits, and says when to try again.
func TestConsoleSignInIsLimited(t *testing.T) {
	h, _, _ := newHandler(t)
	var rec *httptest.ResponseRecorder
	for range 6 {
		rec = form(h, "/signin", url.Values{"email": {"admin@example.com"}, "password": {"not-the-password"}}, nil)
	}
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "try again in") {
		t.Fatalf("sixth wrong password: %d %v", rec.Code, rec.Header())
	}
}
