package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/authn"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/internal/stacktest"
	"github.com/tollgate/tollgate/internal/testenv"
)

// clockEnv is a stack on a hand-moved clock, for rules with a time in them
// (the device grant, policy boundaries).
type clockEnv struct {
	*stacktest.Env
	clock *stacktest.Clock
}

func clockStores(t *testing.T, limits authn.Limits) map[string]clockEnv {
	t.Helper()
	mk := func(postgres bool) clockEnv {
		clock := stacktest.NewClock()
		return clockEnv{stacktest.New(t, stacktest.Options{Clock: clock, Limits: limits, Postgres: postgres}), clock}
	}
	out := map[string]clockEnv{"sqlite": mk(false)}
	if testenv.Has(t, "TOLLGATE_TEST_POSTGRES") {
		out["postgres"] = mk(true)
	}
	return out
}

// serveJSON sends a request to h and decodes a JSON answer.
func serveJSON(t *testing.T, h http.Handler, method, path, contentType, body string, headers ...string) (int, map[string]any, http.Header) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var v map[string]any
	if strings.Contains(rec.Header().Get("Content-Type"), "json") && rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, rec.Body)
		}
	}
	if rec.Code >= 500 {
		t.Fatalf("%s %s answered %d: %s", method, path, rec.Code, rec.Body)
	}
	return rec.Code, v, rec.Header()
}

// startDevice starts a device login as the CLI does and returns its codes.
func startDevice(t *testing.T, h http.Handler) (deviceCode, userCode string) {
	t.Helper()
	status, v, hd := serveJSON(t, h, "POST", "/oauth2/device_authorization", formType, "client_id=tollgate-cli", "User-Agent", "tollgate-cli/test")
	if status != 200 || hd.Get("Cache-Control") != "no-store" {
		t.Fatalf("device authorization: %d %v", status, v)
	}
	deviceCode, userCode = v["device_code"].(string), v["user_code"].(string)
	if !strings.HasPrefix(deviceCode, "tgd_") || len(userCode) != 9 || userCode[4] != '-' ||
		v["verification_uri"] != stacktest.Issuer+"/device" || v["verification_uri_complete"] != stacktest.Issuer+"/device?user_code="+userCode ||
		v["expires_in"] != 600.0 || v["interval"] != 5.0 {
		t.Fatalf("device authorization %v", v)
	}
	return deviceCode, userCode
}

// poll polls the token endpoint with a device code; it returns the status
// and the answer, whose "error" is the refusal.
func poll(t *testing.T, h http.Handler, deviceCode string) (int, map[string]any) {
	t.Helper()
	status, v, _ := serveJSON(t, h, "POST", "/oauth2/token", formType,
		url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {"tollgate-cli"}, "device_code": {deviceCode}}.Encode())
	return status, v
}

func wantPoll(t *testing.T, h http.Handler, deviceCode string, status int, errCode string) map[string]any {
	t.Helper()
	got, v := poll(t, h, deviceCode)
	if got != status || (errCode != "" && v["error"] != errCode) {
		t.Fatalf("poll: %d %v, want %d %s", got, v, status, errCode)
	}
	return v
}

// answer posts the /device form: action "" looks the code up, approve or
// deny answers it.
func answer(h http.Handler, cookie *http.Cookie, userCode, action string) *httptest.ResponseRecorder {
	return form(h, "/device", url.Values{"user_code": {userCode}, "action": {action}}, cookie)
}

// login runs a whole device login approved by cookie's person and returns
// the tgc_ credential and its session ID.
func login(t *testing.T, h http.Handler, cookie *http.Cookie) (string, string) {
	t.Helper()
	dc, uc := startDevice(t, h)
	if rec := answer(h, cookie, uc, "approve"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "Approved") {
		t.Fatalf("approve: %d %s", rec.Code, rec.Body)
	}
	v := wantPoll(t, h, dc, 200, "")
	return v["access_token"].(string), v["session_id"].(string)
}

// viewerSession invites a viewer into acme and returns their console
// session.
func viewerSession(t *testing.T, h http.Handler, admin *http.Cookie) *http.Cookie {
	t.Helper()
	return memberSession(t, h, admin, "acme", "viewer@example.com", "viewer")
}

// memberSession has admin invite email into org with role, the invitee
// accept in the console, and returns the invitee's console session.
func memberSession(t *testing.T, h http.Handler, admin *http.Cookie, org, email, role string) *http.Cookie {
	t.Helper()
	req := httptest.NewRequest("POST", "/api/v1/orgs/"+org+"/invitations", strings.NewReader(`{"email":"`+email+`","role":"`+role+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(admin)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var inv struct {
		AcceptURL string `json:"accept_url"`
	}
	if rec.Code != 201 || json.Unmarshal(rec.Body.Bytes(), &inv) != nil {
		t.Fatalf("invite: %d %s", rec.Code, rec.Body)
	}
	u, _ := url.Parse(inv.AcceptURL)
	acc := form(h, "/invitations/accept", url.Values{"token": {u.Query().Get("token")}, "name": {"Member " + email}, "password": {"password-of-" + email}}, nil)
	if acc.Code != http.StatusSeeOther {
		t.Fatalf("accept: %d %s", acc.Code, acc.Body)
	}
	return acc.Result().Cookies()[0]
}

// TestDeviceGrant runs `tollgate login`'s protocol on each store, on a
// clock the test moves: pending and slow_down while the person has not
// answered, the console page that answers, one credential for one code,
// and that credential acting as the person (via CLI) until revoked.
func TestDeviceGrant(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			dc, uc := startDevice(t, h)

			// Polling: pending, then slow_down for polling sooner than
			// the interval, which grows by 5 s each time.
			wantPoll(t, h, dc, 400, "authorization_pending")
			wantPoll(t, h, dc, 400, "slow_down") // at once: interval 5 s → 10 s
			env.clock.Add(9 * time.Second)
			wantPoll(t, h, dc, 400, "slow_down") // 9 s < 10 s: → 15 s
			env.clock.Add(15 * time.Second)
			wantPoll(t, h, dc, 400, "authorization_pending")

			// The link fills the code but approves nothing; a browser
			// not signed in goes to sign in and comes back.
			req := httptest.NewRequest("GET", "/device?user_code="+uc, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/signin?next="+url.QueryEscape("/device?user_code="+uc) {
				t.Fatalf("GET /device signed out: %d %v", rec.Code, rec.Header())
			}
			req.AddCookie(admin)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `value="`+uc+`"`) || strings.Contains(rec.Body.String(), "Approve") {
				t.Fatalf("GET /device: %d %s", rec.Code, rec.Body)
			}
			// Continue shows who asks, in any case and without the dash.
			rec = answer(h, admin, strings.ToLower(strings.ReplaceAll(uc, "-", "")), "")
			if body := rec.Body.String(); rec.Code != 200 || !strings.Contains(body, "tollgate-cli/test") || !strings.Contains(body, "192.0.2.1") ||
				!strings.Contains(body, uc) || !strings.Contains(body, "Approve") || !strings.Contains(body, "Deny") {
				t.Fatalf("confirm page: %d %s", rec.Code, body)
			}
			wantPoll(t, h, dc, 400, "") // still not answered (and too soon: slow_down)
			env.clock.Add(30 * time.Second)
			if rec := answer(h, admin, uc, "approve"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "Approved") {
				t.Fatalf("approve: %d %s", rec.Code, rec.Body)
			}
			// Answered once: the code no longer waits.
			if rec := answer(h, admin, uc, "deny"); rec.Code != 404 {
				t.Fatalf("answering twice: %d %s", rec.Code, rec.Body)
			}

			tok := wantPoll(t, h, dc, 200, "")
			cred, sid := tok["access_token"].(string), tok["session_id"].(string)
			if !strings.HasPrefix(cred, "tgc_") || tok["token_type"] != "Bearer" || tok["expires_in"] != float64(7*24*3600) ||
				!strings.HasPrefix(sid, "ses_") || tok["user"].(map[string]any)["email"] != "admin@example.com" {
				t.Fatalf("token %v", tok)
			}
			// One credential per code.
			wantPoll(t, h, dc, 400, "invalid_grant")

			bearer := "Bearer " + cred
			if status, me, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Authorization", bearer); status != 200 || me["user"].(map[string]any)["email"] != "admin@example.com" {
				t.Fatalf("me with the CLI credential: %d %v", status, me)
			}
			// The person's own roles: a super admin creates a service
			// account, audited as the person, via CLI.
			status, sa, _ := serveJSON(t, h, "POST", "/api/v1/orgs/acme/service-accounts", "application/json", `{"name":"made-from-cli","role":"viewer","token_ttl_seconds":3600}`, "Authorization", bearer)
			if status != 201 {
				t.Fatalf("create with the CLI credential: %d %v", status, sa)
			}
			_, evs, _ := serveJSON(t, h, "GET", "/api/v1/orgs/acme/audit-events?action=service_account.created", "", "", "Authorization", bearer)
			ev := evs["items"].([]any)[0].(map[string]any)
			if ev["actor"].(map[string]any)["name"] != "admin@example.com" || ev["details"].(map[string]any)["via"] != "cli" {
				t.Fatalf("audit event %v", ev)
			}
			auditPage := httptest.NewRequest("GET", "/orgs/acme/audit?action=service_account.created", nil)
			auditPage.AddCookie(admin)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, auditPage)
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), "user via CLI") {
				t.Fatalf("the console's audit log does not say via CLI: %d %s", rec.Code, rec.Body)
			}
			_, evs, _ = serveJSON(t, h, "GET", "/api/v1/orgs/acme/audit-events?action=device.approved", "", "", "Authorization", bearer)
			if items := evs["items"].([]any); len(items) != 1 || items[0].(map[string]any)["details"].(map[string]any)["device_user_agent"] != "tollgate-cli/test" {
				t.Fatalf("device.approved events %v", evs)
			}
			// A person's credential works on the admin API only.
			if status, _, _ := serveJSON(t, h, "GET", "/check", "", "", "Authorization", bearer); status != 401 {
				t.Fatalf("/check with a CLI credential: %d", status)
			}
			// DPoP or a bad checksum: malformed.
			if status, _, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Authorization", bearer+"x"); status != 401 {
				t.Fatalf("altered CLI credential: %d", status)
			}

			// Sessions: the CLI's is listed (current for its own
			// request), survives a day unused, and revoking it ends it.
			_, list, _ := serveJSON(t, h, "GET", "/api/v1/me/sessions", "", "", "Authorization", bearer)
			var kinds []string
			for _, it := range list["items"].([]any) {
				s := it.(map[string]any)
				kinds = append(kinds, s["kind"].(string))
				if s["id"] == sid && (s["current"] != true || s["kind"] != "cli" || s["user_agent"] != "Go-http-client/1.1" && s["user_agent"] != "") {
					t.Fatalf("CLI session %v", s)
				}
			}
			if strings.Join(kinds, ",") != "cli,browser" {
				t.Fatalf("sessions %v", list)
			}
			env.clock.Add(13 * time.Hour) // past the browser's idle limit
			if status, _, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Authorization", bearer); status != 200 {
				t.Fatalf("CLI session after 13 h unused: %d", status)
			}
			admin = consoleSession(t, h) // the browser's session ended idle
			page := httptest.NewRequest("GET", "/account/sessions", nil)
			page.AddCookie(admin)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, page)
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), "/account/sessions/"+sid+"/revoke") || !strings.Contains(rec.Body.String(), "Command line") {
				t.Fatalf("sessions page: %d %s", rec.Code, rec.Body)
			}
			if rec := form(h, "/account/sessions/"+sid+"/revoke", nil, admin); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/account/sessions?notice=revoked" {
				t.Fatalf("revoke: %d %v", rec.Code, rec.Header())
			}
			if status, p, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Authorization", bearer); status != 401 || !strings.Contains(p["detail"].(string), "tollgate login") {
				t.Fatalf("revoked CLI credential: %d %v", status, p)
			}
			_, evs, _ = serveJSON(t, h, "GET", "/api/v1/orgs/acme/audit-events?action=session.revoked", "", "", "Cookie", "tollgate_session="+admin.Value)
			if items := evs["items"].([]any); len(items) != 1 || items[0].(map[string]any)["details"].(map[string]any)["session"] != sid {
				t.Fatalf("session.revoked events %v", evs)
			}
		})
	}
}

// TestDeviceGrantRefusals: deny, expiry, another client, malformed codes,
// a viewer who stays a viewer, another person's session, logout, and two
// redemptions of one code at once.
func TestDeviceGrantRefusals(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)

			dc, uc := startDevice(t, h)
			if rec := answer(h, admin, uc, "deny"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "Denied") {
				t.Fatalf("deny: %d %s", rec.Code, rec.Body)
			}
			wantPoll(t, h, dc, 400, "access_denied")
			env.clock.Add(6 * time.Second)
			wantPoll(t, h, dc, 400, "access_denied")

			dc, uc = startDevice(t, h)
			env.clock.Add(10 * time.Minute)
			wantPoll(t, h, dc, 400, "expired_token")
			if rec := answer(h, admin, uc, ""); rec.Code != 404 || !strings.Contains(rec.Body.String(), "no login is waiting") {
				t.Fatalf("expired code on /device: %d %s", rec.Code, rec.Body)
			}

			for _, tc := range []struct{ body, code string }{
				{"client_id=other", "invalid_client"},
				{"", "invalid_request"},
				{"client_id=tollgate-cli&scope=admin", "invalid_scope"},
			} {
				if status, v, _ := serveJSON(t, h, "POST", "/oauth2/device_authorization", formType, tc.body); status < 400 || v["error"] != tc.code {
					t.Fatalf("device authorization %q: %d %v", tc.body, status, v)
				}
			}
			dc, _ = startDevice(t, h)
			for _, tc := range []struct {
				body, code string
				headers    []string
			}{
				{"grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=other&device_code=" + dc, "invalid_grant", nil},
				{"grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=tollgate-cli&device_code=tgd_nope", "invalid_grant", nil},
				{"grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=tollgate-cli", "invalid_request", nil},
				{"grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code=" + dc, "invalid_request", nil},
				{"grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=tollgate-cli&client_secret=x&device_code=" + dc, "invalid_client", nil},
				{"grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=tollgate-cli&device_code=" + dc, "invalid_client", []string{"Authorization", "Basic dG9sbGdhdGUtY2xpOg=="}},
				{"grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=tollgate-cli&device_code=" + dc + "&device_code=" + dc, "invalid_request", nil},
			} {
				status, v, _ := serveJSON(t, h, "POST", "/oauth2/token", formType, tc.body, tc.headers...)
				if status < 400 || v["error"] != tc.code {
					t.Fatalf("token %q: %d %v, want %s", tc.body, status, v, tc.code)
				}
			}
			for _, code := range []string{"", "BCDF", "BCDF-GHJKL", "AEIO-UUUU", "bcdf-ghj1", "ＢＣＤＦ-ＧＨＪＫ"} {
				if rec := answer(h, admin, code, ""); rec.Code != 422 || !strings.Contains(rec.Body.String(), "user-code-error") {
					t.Fatalf("code %q: %d %s", code, rec.Code, rec.Body)
				}
			}
			if rec := answer(h, admin, "BCDF-GHJK", "steal"); rec.Code != 422 {
				t.Fatalf("unknown action: %d %s", rec.Code, rec.Body)
			}

			// A viewer approves for themselves and stays a viewer.
			viewer := viewerSession(t, h, admin)
			vcred, _ := login(t, h, viewer)
			vb := "Bearer " + vcred
			if status, _, _ := serveJSON(t, h, "GET", "/api/v1/orgs/acme", "", "", "Authorization", vb); status != 200 {
				t.Fatalf("viewer reads the org: %d", status)
			}
			if status, _, _ := serveJSON(t, h, "GET", "/api/v1/orgs/acme/service-accounts", "", "", "Authorization", vb); status != 403 {
				t.Fatalf("viewer lists service accounts (admin+): %d", status)
			}
			if status, _, _ := serveJSON(t, h, "POST", "/api/v1/orgs/acme/service-accounts", "application/json", `{"name":"nope","role":"viewer","token_ttl_seconds":3600}`, "Authorization", vb); status != 403 {
				t.Fatalf("viewer creates: %d", status)
			}
			// Another person's session is not theirs to see or revoke.
			_, asid := login(t, h, admin)
			if status, _, _ := serveJSON(t, h, "DELETE", "/api/v1/me/sessions/"+asid, "", "", "Authorization", vb); status != 404 {
				t.Fatalf("revoking another's session: %d", status)
			}
			if rec := form(h, "/account/sessions/"+asid+"/revoke", nil, viewer); rec.Code != 404 {
				t.Fatalf("revoking another's session in the console: %d", rec.Code)
			}
			_, list, _ := serveJSON(t, h, "GET", "/api/v1/me/sessions", "", "", "Authorization", vb)
			for _, it := range list["items"].([]any) {
				if it.(map[string]any)["id"] == asid {
					t.Fatalf("the viewer sees the admin's session: %v", list)
				}
			}
			// A machine credential has no sessions.
			status, p, _ := serveJSON(t, h, "GET", "/api/v1/me/sessions", "", "", "Authorization", "Bearer "+accessToken(t, h, env.Account.ID, env.Secret))
			if status != 403 {
				t.Fatalf("machine credential lists sessions: %d %v", status, p)
			}
			// tollgate logout: DELETE /session with the credential.
			if status, _, _ := serveJSON(t, h, "DELETE", "/api/v1/session", "", "", "Authorization", vb); status != 204 {
				t.Fatalf("logout: %d", status)
			}
			if status, _, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Authorization", vb); status != 401 {
				t.Fatalf("after logout: %d", status)
			}

			// Two redemptions of one approved code at once: one session.
			dc, uc = startDevice(t, h)
			answer(h, admin, uc, "approve")
			var mu sync.Mutex
			codes := map[int]int{}
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					status, _ := poll(t, h, dc)
					mu.Lock()
					codes[status]++
					mu.Unlock()
				})
			}
			wg.Wait()
			if codes[200] != 1 || codes[400] != 7 {
				t.Fatalf("concurrent redemptions answered %v, want one 200 and seven 400", codes)
			}
		})
	}
}

// accessToken gets a service account's access token.
func accessToken(t *testing.T, h http.Handler, id, secret string) string {
	t.Helper()
	status, v, _ := serveJSON(t, h, "POST", "/oauth2/token", formType, url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}.Encode())
	if status != 200 {
		t.Fatalf("token: %d %v", status, v)
	}
	return v["access_token"].(string)
}

// TestDeviceGrantLimits: wrong codes on /device are limited per person and
// address, and so are device logins started per address.
func TestDeviceGrantLimits(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{Device: authn.Rate{N: 3, Per: time.Hour}, UserCode: authn.Rate{N: 5, Per: 15 * time.Minute}}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			_, uc := startDevice(t, h)
			for i := range 5 {
				if rec := answer(h, admin, "BCDF-GHJK", ""); rec.Code != 404 {
					t.Fatalf("wrong code %d: %d", i, rec.Code)
				}
			}
			rec := answer(h, admin, uc, "") // the right one, but over the limit
			if rec.Code != 429 || rec.Header().Get("Retry-After") == "" {
				t.Fatalf("sixth try: %d %v", rec.Code, rec.Header())
			}
			env.clock.Add(3 * time.Minute) // one more try refills
			if rec := answer(h, admin, uc, ""); rec.Code != 200 {
				t.Fatalf("after the wait: %d %s", rec.Code, rec.Body)
			}

			startDevice(t, h)
			startDevice(t, h) // three started in all
			status, v, hd := serveJSON(t, h, "POST", "/oauth2/device_authorization", formType, "client_id=tollgate-cli")
			if status != 429 || hd.Get("Retry-After") == "" || v["error"] == nil {
				t.Fatalf("fourth device authorization: %d %v", status, v)
			}
		})
	}
}

// TestDeviceConsoleCSRF: the console's /device form and its session
// revocation are refused from another site (Sec-Fetch-Site, or a foreign
// Origin from a browser that sends no Sec-Fetch-Site), so that a page
// elsewhere can neither approve a login waiting for a code it knows (the
// attacker's own, making the victim's approval give the attacker's CLI
// the victim's session) nor sign a person's command line out.
func TestDeviceConsoleCSRF(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			cred, sid := login(t, h, admin)
			dc, uc := startDevice(t, h)
			crossSite := [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "same-site"}, {"Origin", "https://evil.example"}}
			for _, hd := range crossSite {
				for _, action := range []string{"approve", "deny", ""} {
					if rec := form(h, "/device", url.Values{"user_code": {uc}, "action": {action}}, admin, hd...); rec.Code != http.StatusForbidden {
						t.Fatalf("cross-site POST /device %s with %v: %d %s", action, hd, rec.Code, rec.Body)
					}
				}
				if rec := form(h, "/account/sessions/"+sid+"/revoke", nil, admin, hd...); rec.Code != http.StatusForbidden {
					t.Fatalf("cross-site revoke with %v: %d %s", hd, rec.Code, rec.Body)
				}
			}
			// Nothing was answered or revoked.
			env.clock.Add(10 * time.Second)
			wantPoll(t, h, dc, 400, "authorization_pending")
			if status, _, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Authorization", "Bearer "+cred); status != 200 {
				t.Fatalf("the CLI session after cross-site revocations: %d", status)
			}
			// The console itself, same origin, may.
			if rec := form(h, "/device", url.Values{"user_code": {uc}, "action": {"approve"}}, admin, "Sec-Fetch-Site", "same-origin"); rec.Code != 200 {
				t.Fatalf("same-origin approve: %d %s", rec.Code, rec.Body)
			}
			if rec := form(h, "/account/sessions/"+sid+"/revoke", nil, admin, "Origin", "http://example.com"); rec.Code != http.StatusSeeOther {
				t.Fatalf("same-origin revoke: %d %s", rec.Code, rec.Body)
			}
			if status, _, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Authorization", "Bearer "+cred); status != 401 {
				t.Fatalf("the CLI session after its revocation: %d", status)
			}
		})
	}
}

// TestDeviceCLITenantsAndRoles: a CLI credential acts with its person's
// memberships as they are at each request. An admin of acme is 404 in an
// org they do not belong to; a super admin demoted to viewer by another
// super admin acts as a viewer at once; a removed member loses the org at
// once.
func TestDeviceCLITenantsAndRoles(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			as := func(bearer, method, path, body string) int {
				t.Helper()
				ct := ""
				if body != "" {
					ct = "application/json"
				}
				status, _, _ := serveJSON(t, h, method, path, ct, body, "Authorization", "Bearer "+bearer)
				return status
			}
			if status, v, _ := serveJSON(t, h, "POST", "/api/v1/orgs", "application/json", `{"slug":"globex","name":"Globex"}`, "Cookie", "tollgate_session="+admin.Value); status != 201 {
				t.Fatalf("create globex: %d %v", status, v)
			}
			status, sa, _ := serveJSON(t, h, "POST", "/api/v1/orgs/globex/service-accounts", "application/json", `{"name":"globex-sa","role":"viewer","token_ttl_seconds":3600}`, "Cookie", "tollgate_session="+admin.Value)
			if status != 201 {
				t.Fatalf("create globex-sa: %d %v", status, sa)
			}
			globexSA := "/api/v1/orgs/globex/service-accounts/" + sa["id"].(string)

			// An admin of acme, at the command line, in globex: 404.
			alice, _ := login(t, h, memberSession(t, h, admin, "acme", "alice@example.com", "admin"))
			if got := as(alice, "GET", "/api/v1/orgs/acme/service-accounts", ""); got != 200 {
				t.Fatalf("alice lists acme's service accounts: %d", got)
			}
			for _, tc := range []struct{ method, path, body string }{
				{"GET", "/api/v1/orgs/globex", ""},
				{"PATCH", "/api/v1/orgs/globex", `{"name":"Mine"}`},
				{"GET", "/api/v1/orgs/globex/members", ""},
				{"GET", "/api/v1/orgs/globex/service-accounts", ""},
				{"POST", "/api/v1/orgs/globex/service-accounts", `{"name":"x","role":"viewer","token_ttl_seconds":3600}`},
				{"GET", globexSA, ""},
				{"DELETE", globexSA, ""},
				{"GET", "/api/v1/orgs/globex/audit-events", ""},
				{"POST", "/api/v1/orgs/globex/invitations", `{"email":"eve@example.com","role":"viewer"}`},
			} {
				if got := as(alice, tc.method, tc.path, tc.body); got != 404 {
					t.Fatalf("alice %s %s: %d, want 404", tc.method, tc.path, got)
				}
			}

			// A super admin logs in at the command line, then another
			// super admin demotes them to viewer: the credential acts as
			// a viewer from the next request on.
			bob, _ := login(t, h, memberSession(t, h, admin, "acme", "bob@example.com", "super_admin"))
			if got := as(bob, "POST", "/api/v1/orgs/acme/service-accounts", `{"name":"bob-made","role":"viewer","token_ttl_seconds":3600}`); got != 201 {
				t.Fatalf("bob, super admin, creates: %d", got)
			}
			_, me, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Authorization", "Bearer "+bob)
			bobID := me["user"].(map[string]any)["id"].(string)
			if status, v, _ := serveJSON(t, h, "PATCH", "/api/v1/orgs/acme/members/"+bobID, "application/json", `{"role":"viewer"}`, "Cookie", "tollgate_session="+admin.Value); status != 200 || v["role"] != "viewer" {
				t.Fatalf("demote bob: %d %v", status, v)
			}
			for _, tc := range []struct{ method, path, body string }{
				{"POST", "/api/v1/orgs/acme/service-accounts", `{"name":"bob-again","role":"viewer","token_ttl_seconds":3600}`},
				{"GET", "/api/v1/orgs/acme/service-accounts", ""},
				{"PATCH", "/api/v1/orgs/acme", `{"name":"Bob's"}`},
				{"GET", "/api/v1/orgs/acme/members", ""},
				{"POST", "/api/v1/orgs/acme/invitations", `{"email":"eve@example.com","role":"viewer"}`},
			} {
				if got := as(bob, tc.method, tc.path, tc.body); got != 403 {
					t.Fatalf("bob, demoted to viewer, %s %s: %d, want 403", tc.method, tc.path, got)
				}
			}
			if got := as(bob, "GET", "/api/v1/orgs/acme", ""); got != 200 {
				t.Fatalf("bob, viewer, reads the org: %d", got)
			}

			// Removed from acme, the credential loses it at once.
			if status, _, _ := serveJSON(t, h, "DELETE", "/api/v1/orgs/acme/members/"+bobID, "", "", "Cookie", "tollgate_session="+admin.Value); status != 204 {
				t.Fatalf("remove bob: %d", status)
			}
			for _, tc := range []struct{ method, path, body string }{
				{"GET", "/api/v1/orgs/acme", ""},
				{"GET", "/api/v1/orgs/acme/audit-events", ""},
				{"POST", "/api/v1/orgs/acme/service-accounts", `{"name":"bob-gone","role":"viewer","token_ttl_seconds":3600}`},
			} {
				if got := as(bob, tc.method, tc.path, tc.body); got != 404 {
					t.Fatalf("bob, removed, %s %s: %d, want 404", tc.method, tc.path, got)
				}
			}
			if status, me, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Authorization", "Bearer "+bob); status != 200 || len(me["memberships"].([]any)) != 0 {
				t.Fatalf("bob's /me after removal: %d %v", status, me)
			}
		})
	}
}

// TestDeviceGrantConcurrentPolls: anyone may start a device login, so
// anyone may poll its code from many connections at once. That is polling
// too fast (slow_down), never a 500: on PostgreSQL, concurrent polls of
// one code conflict in serializable transactions, and enough of them
// used to exhaust the retries. The code still works afterwards.
func TestDeviceGrantConcurrentPolls(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{Bearer: authn.Rate{N: 1 << 20, Per: time.Minute}}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			dc, uc := startDevice(t, h)
			body := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {"tollgate-cli"}, "device_code": {dc}}.Encode()
			var mu sync.Mutex
			answers := map[string]int{}
			var wg sync.WaitGroup
			for range 400 {
				wg.Go(func() {
					req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(body))
					req.Header.Set("Content-Type", formType)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					var v struct{ Error string }
					json.Unmarshal(rec.Body.Bytes(), &v)
					mu.Lock()
					answers[strconv.Itoa(rec.Code)+" "+v.Error]++
					mu.Unlock()
				})
			}
			wg.Wait()
			for answer := range answers {
				if answer != "400 authorization_pending" && answer != "400 slow_down" {
					t.Fatalf("400 concurrent polls answered %v", answers)
				}
			}
			if rec := answer(h, admin, uc, "approve"); rec.Code != 200 {
				t.Fatalf("approve: %d %s", rec.Code, rec.Body)
			}
			wantPoll(t, h, dc, 200, "")
		})
	}
}

// txCountingStore counts the store's transactions.
type txCountingStore struct {
	tollgate.Store
	txs atomic.Int64
}

func (s *txCountingStore) InTx(ctx context.Context, fn func(q tollgate.Queries) error) error {
	s.txs.Add(1)
	return s.Store.InTx(ctx, fn)
}

// pollFrom polls the device grant with deviceCode from the address ip and
// returns the status, the error and the Retry-After header.
func pollFrom(h http.Handler, ip, deviceCode string) (int, string, string) {
	req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"client_id": {"tollgate-cli"}, "device_code": {deviceCode}}.Encode()))
	req.Header.Set("Content-Type", formType)
	req.RemoteAddr = ip + ":4321"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var v struct{ Error string }
	json.Unmarshal(rec.Body.Bytes(), &v)
	return rec.Code, v.Error, rec.Header().Get("Retry-After")
}

// TestDeviceGrantGuessing: the device grant is a door like the others
// (R1, R3). Device codes are well formed by a public checksum, so anyone
// can make unknown ones; and polling one's own code too fast is free to
// repeat. Refused polls (unknown, spent, too fast) are limited per
// address, with 429 and Retry-After; a code known to be spent or unknown
// is answered without the store when it comes again; and a CLI polling
// its code from another address is not held back.
func TestDeviceGrantGuessing(t *testing.T) {
	for _, postgres := range []bool{false, true} {
		if postgres && !testenv.Has(t, "TOLLGATE_TEST_POSTGRES") {
			continue
		}
		counter := &txCountingStore{}
		clock := stacktest.NewClock()
		env := stacktest.New(t, stacktest.Options{Postgres: postgres, Clock: clock, Limits: authn.Limits{Bearer: authn.Rate{N: 3, Per: time.Minute}},
			Wrap: func(s tollgate.Store) tollgate.Store { counter.Store = s; return counter }})
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[postgres], func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			const attacker, cli, other = "198.51.100.7", "192.0.2.1", "203.0.113.9"
			dc, uc := startDevice(t, h) // from cli's address

			// Unknown well-formed codes: three refused, then limited.
			for i := range 3 {
				if status, code, _ := pollFrom(h, attacker, credential.NewCredential("tgd_")); status != 400 || code != "invalid_grant" {
					t.Fatalf("unknown code %d: %d %s", i, status, code)
				}
			}
			if status, code, retry := pollFrom(h, attacker, credential.NewCredential("tgd_")); status != 429 || code != "slow_down" || retry == "" {
				t.Fatalf("fourth unknown code: %d %s Retry-After %q", status, code, retry)
			}
			// The attacker's address is limited, not the CLI's.
			if status, code, _ := pollFrom(h, cli, dc); status != 400 || code != "authorization_pending" {
				t.Fatalf("the CLI's poll: %d %s", status, code)
			}

			// Polling one's own code too fast: slow_down three times,
			// then limited.
			for i := range 3 {
				if status, code, _ := pollFrom(h, cli, dc); status != 400 || code != "slow_down" {
					t.Fatalf("too fast %d: %d %s", i, status, code)
				}
			}
			if status, code, retry := pollFrom(h, cli, dc); status != 429 || code != "slow_down" || retry == "" {
				t.Fatalf("too fast, fourth: %d %s Retry-After %q", status, code, retry)
			}

			// A spent code comes again: answered from memory.
			clock.Add(time.Minute)
			answer(h, admin, uc, "approve")
			if status, code, _ := pollFrom(h, cli, dc); status != 200 {
				t.Fatalf("redeem: %d %s", status, code)
			}
			if status, code, _ := pollFrom(h, other, dc); status != 400 || code != "invalid_grant" {
				t.Fatalf("replay: %d %s", status, code)
			}
			before := counter.txs.Load()
			clock.Add(time.Minute)
			for i := range 2 {
				if status, code, _ := pollFrom(h, other, dc); status != 400 || code != "invalid_grant" {
					t.Fatalf("replay %d: %d %s", i, status, code)
				}
			}
			if n := counter.txs.Load() - before; n != 0 {
				t.Fatalf("a spent code replayed cost %d transactions, want 0", n)
			}
		})
	}
}

// TestDeviceUserCodeLimitHolds: a right user code says nothing about the
// wrong ones a person tried (anyone can start a login and look up its own
// code as often as they like), so it does not wipe them: five wrong codes
// per person and address in 15 minutes, however many right ones come in
// between.
func TestDeviceUserCodeLimitHolds(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{UserCode: authn.Rate{N: 5, Per: 15 * time.Minute}}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			_, own := startDevice(t, h)
			for i := range 5 {
				if rec := answer(h, admin, own, ""); rec.Code != 200 {
					t.Fatalf("own code %d: %d %s", i, rec.Code, rec.Body)
				}
				if rec := answer(h, admin, "BCDF-GHJK", ""); rec.Code != 404 {
					t.Fatalf("wrong code %d: %d %s", i, rec.Code, rec.Body)
				}
			}
			if rec := answer(h, admin, "BCDF-GHJL", ""); rec.Code != 429 || rec.Header().Get("Retry-After") == "" {
				t.Fatalf("sixth wrong code: %d %v", rec.Code, rec.Header())
			}
		})
	}
}

// TestCLICredentialAsCookie: a tgc_ credential sent as the session cookie
// is refused (it is not a browser's session), and refusing it there does
// not refuse it where it belongs: the negative cache remembers a session
// as unknown for the kind it was presented as.
func TestCLICredentialAsCookie(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			cred, _ := login(t, h, admin)
			for range 2 {
				if status, _, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Cookie", "tollgate_session="+cred); status != 401 {
					t.Fatalf("tgc_ as a cookie: %d", status)
				}
			}
			if status, v, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Authorization", "Bearer "+cred); status != 200 {
				t.Fatalf("tgc_ as Bearer after it was sent as a cookie: %d %v", status, v)
			}
		})
	}
}

// TestDeviceGrantExpiryBoundaries: a device code is good until, not at,
// its expiry, also once approved; a CLI session acts until, not at, its
// absolute expiry (the sessions' maximum after the code was redeemed).
func TestDeviceGrantExpiryBoundaries(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			// Approved a second before the end, picked up at the end: expired.
			dc, uc := startDevice(t, h)
			env.clock.Add(tollgate.DeviceCodeLifetime - time.Second)
			if rec := answer(h, admin, uc, "approve"); rec.Code != 200 {
				t.Fatalf("approve a second before the end: %d %s", rec.Code, rec.Body)
			}
			env.clock.Add(time.Second)
			wantPoll(t, h, dc, 400, "expired_token")

			// Picked up a microsecond before the end: a session.
			dc, uc = startDevice(t, h)
			if rec := answer(h, admin, uc, "approve"); rec.Code != 200 {
				t.Fatalf("approve: %d %s", rec.Code, rec.Body)
			}
			env.clock.Add(tollgate.DeviceCodeLifetime - time.Microsecond)
			tok := wantPoll(t, h, dc, 200, "")
			bearer := "Bearer " + tok["access_token"].(string)
			life := time.Duration(tok["expires_in"].(float64)) * time.Second
			env.clock.Add(life - time.Microsecond)
			if status, _, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Authorization", bearer); status != 200 {
				t.Fatalf("a microsecond before the session's end: %d", status)
			}
			env.clock.Add(time.Microsecond)
			if status, _, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Authorization", bearer); status != 401 {
				t.Fatalf("at the session's end: %d", status)
			}
		})
	}
}
