package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
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

func consoleSession(t *testing.T, h http.Handler) *http.Cookie {
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
