package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/authn"
	"github.com/tollgate/tollgate/internal/stacktest"
)

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// report posts a leak report from ip and returns the status and verdicts.
func report(t *testing.T, h http.Handler, ip string, entries any) (int, []map[string]any, http.Header) {
	t.Helper()
	b, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	return reportRaw(t, h, ip, "application/json", string(b))
}

func reportRaw(t *testing.T, h http.Handler, ip, contentType, body string) (int, []map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", "/api/v1/credentials/leaked", strings.NewReader(body))
	req.RemoteAddr = ip + ":4242"
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("leak report answered %d: %s", rec.Code, rec.Body)
	}
	var out []map[string]any
	if rec.Code == 200 {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer: %v: %s", err, rec.Body)
		}
	}
	return rec.Code, out, rec.Header()
}

// checkStatus is /check's answer to a bearer credential.
func checkStatus(t *testing.T, h http.Handler, bearer string) int {
	t.Helper()
	code, _, _ := serveJSON(t, h, "GET", "/check", "", "", "Authorization", "Bearer "+bearer)
	return code
}

// TestLeakReports checks P3 on each store: every kind of Tollgate
// credential in a report is revoked at once, even where it was cached,
// with a credential.leaked event that says where it was found; unknown,
// spent, mistyped and foreign tokens are false positives that change and
// record nothing; and the answer carries hashes, never tokens.
func TestLeakReports(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			mk := func(body map[string]any) string {
				code, v := asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/tokens", body)
				if code != 201 {
					t.Fatalf("token: %d %v", code, v)
				}
				return v["token"].(string)
			}
			private := mk(map[string]any{"name": "ci", "service_account_id": env.Account.ID, "kind": "private"})
			public := mk(map[string]any{"name": "web", "service_account_id": env.Account.ID, "kind": "public", "domains": []string{"https://app.example.com"}})
			keep := mk(map[string]any{"name": "keep", "service_account_id": env.Account.ID, "kind": "private"})
			access := accessToken(t, h, env.Account.ID, env.Secret)
			cli, _ := login(t, h, admin)
			// Warm every cache that could keep a revoked credential alive.
			for _, tok := range []string{private, access, keep} {
				if code := checkStatus(t, h, tok); code != 200 {
					t.Fatalf("/check before the report: %d", code)
				}
			}
			if code, _, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Authorization", "Bearer "+cli); code != 200 {
				t.Fatalf("the CLI credential before the report: %d", code)
			}

			typo := private[:len(private)-1] + map[bool]string{true: "b", false: "a"}[strings.HasSuffix(private, "a")]
			entries := []map[string]string{
				{"token": private, "type": "tollgate_api_token", "url": "https://github.com/acme/app/blob/main/.env", "source": "content"},
				{"token": public, "type": "tollgate_api_token", "url": "https://github.com/acme/web/commit/1", "source": "commit"},
				{"token": env.Secret, "type": "tollgate_client_secret", "url": "https://gist.github.com/x", "source": "gist"},
				{"token": cli, "type": "tollgate_cli_session", "url": "https://github.com/acme/dotfiles", "source": "content"},
				{"token": stacktest.UnknownAPIToken(), "type": "tollgate_api_token", "url": "https://example.com/a", "source": "content"},
				{"token": typo, "type": "tollgate_api_token", "url": "https://example.com/b", "source": "content"},
				{"token": "ghp_notours0123456789", "type": "github", "url": "https://example.com/c", "source": "content"},
				{"token": "", "type": "", "url": "", "source": ""},
				{"token": private, "type": "tollgate_api_token", "url": "https://github.com/acme/app/blob/main/.env", "source": "content"},
			}
			code, got, _ := report(t, h, "203.0.113.9", entries)
			if code != 200 || len(got) != len(entries) {
				t.Fatalf("report: %d %v", code, got)
			}
			want := []string{"true_positive", "true_positive", "true_positive", "true_positive", "false_positive", "false_positive", "false_positive", "false_positive", "true_positive"}
			for i, v := range got {
				if v["label"] != want[i] || v["token_hash"] != sha(entries[i]["token"]) || v["token_type"] != entries[i]["type"] || len(v) != 3 {
					t.Errorf("entry %d: %v, want %s", i, v, want[i])
				}
			}
			// Dead at once, though each was cached.
			for what, tok := range map[string]string{"private token": private, "public token": public, "access token of the leaked secret": access} {
				if code := checkStatus(t, h, tok); code != 401 {
					t.Errorf("%s after the report: /check %d", what, code)
				}
			}
			if code, _, _ := serveJSON(t, h, "POST", "/oauth2/token", formType, url.Values{"grant_type": {"client_credentials"},
				"client_id": {env.Account.ID}, "client_secret": {env.Secret}}.Encode()); code != 401 {
				t.Errorf("the leaked secret still mints: %d", code)
			}
			if code, _, _ := serveJSON(t, h, "GET", "/api/v1/me", "", "", "Authorization", "Bearer "+cli); code != 401 {
				t.Errorf("the leaked CLI credential still works: %d", code)
			}
			if code := checkStatus(t, h, keep); code != 200 {
				t.Errorf("a token nobody reported: /check %d", code)
			}
			// One event per real credential, none for the rest.
			_, events := asJSON(t, h, consoleSession(t, h), "GET", "/api/v1/orgs/acme/audit-events?action=credential.leaked", nil)
			if n := len(events["items"].([]any)); n != 4 {
				t.Errorf("%d credential.leaked events, want 4", n)
			}
			for _, e := range events["items"].([]any) {
				ev := e.(map[string]any)
				d := ev["details"].(map[string]any)
				if ev["actor"].(map[string]any)["type"] != "anonymous" || d["revoked"] != true || !strings.HasPrefix(d["url"].(string), "https://") || d["source"] == "" {
					t.Errorf("event: %v", ev)
				}
				if raw, _ := json.Marshal(ev); strings.Contains(string(raw), private) || strings.Contains(string(raw), env.Secret) {
					t.Errorf("the event holds the credential: %s", raw)
				}
			}
			// Reported again, they are spent: false positives.
			if _, again, _ := report(t, h, "203.0.113.9", entries[:4]); again[0]["label"] != "false_positive" || again[2]["label"] != "false_positive" {
				t.Errorf("a second report: %v", again)
			}
		})
	}
}

// TestLeakReportRefusals: bad bodies are 4xx naming the rule, and the
// endpoint's rate is limited per address.
func TestLeakReportRefusals(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{Limits: authn.Limits{Leak: authn.Rate{N: 3, Per: time.Minute}}})
	h := env.Handler
	for _, c := range []struct {
		name, contentType, body string
		status                  int
	}{
		{"an object", "application/json", `{"token":"x"}`, 400},
		{"not JSON", "application/json", `[{"token":`, 400},
		{"form encoded", "application/x-www-form-urlencoded", `token=x`, 415},
		{"a string for a token", "application/json", `[{"token":5}]`, 400},
		{"101 entries", "application/json", "[" + strings.Repeat(`{"token":"x"},`, 100) + `{"token":"x"}]`, 422},
	} {
		ip := "198.51.100." + string(rune('1'+len(c.name)%9))
		if code, _, _ := reportRaw(t, h, ip, c.contentType, c.body); code != c.status {
			t.Errorf("%s: %d, want %d", c.name, code, c.status)
		}
	}
	for i := range 3 {
		if code, _, _ := report(t, h, "192.0.2.7", []map[string]string{{"token": "x"}}); code != 200 {
			t.Fatalf("report %d: %d", i, code)
		}
	}
	code, _, hd := report(t, h, "192.0.2.7", []map[string]string{{"token": "x"}})
	if code != 429 || hd.Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d %v", code, hd)
	}
	if code, _, _ := report(t, h, "192.0.2.8", []map[string]string{{"token": "x"}}); code != 200 {
		t.Fatalf("another address: %d", code)
	}
}

// TestDisableDropsCachedAccessTokens: disabling an account revokes its
// live access tokens, and each one leaves every cache then, so that
// enabling the account again does not bring back a token /check had
// cached.
func TestDisableDropsCachedAccessTokens(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			access := accessToken(t, h, env.Account.ID, env.Secret)
			if code := checkStatus(t, h, access); code != 200 {
				t.Fatalf("/check: %d", code)
			}
			for _, action := range []string{"disable", "enable"} {
				if code, v := asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/service-accounts/"+env.Account.ID+"/"+action, nil); code != 200 {
					t.Fatalf("%s: %d %v", action, code, v)
				}
			}
			if code := checkStatus(t, h, access); code != 401 {
				t.Fatalf("a token revoked by disabling, after enabling: /check %d", code)
			}
		})
	}
}
