package server_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tollgate/tollgate/authn"
)

// leakedEvents counts the org's credential.leaked events.
func leakedEvents(t *testing.T, h http.Handler) int {
	t.Helper()
	code, events := asJSON(t, h, consoleSession(t, h), "GET", "/api/v1/orgs/acme/audit-events?action=credential.leaked", nil)
	if code != 200 {
		t.Fatalf("audit events: %d %v", code, events)
	}
	return len(events["items"].([]any))
}

// TestLeakReportSpentCredentials: an API token past its expiry and a CLI
// session past its end open nothing. Reported, they are false positives
// that change and record nothing (P3, docs/secret-scanning.md: "one
// revoked or expired already"), as an expired client secret is.
func TestLeakReportSpentCredentials(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			code, v := asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/tokens", map[string]any{"name": "short", "service_account_id": env.Account.ID,
				"kind": "private", "expires_at": env.clock.Now().Add(time.Hour).Format(time.RFC3339Nano)})
			if code != 201 {
				t.Fatalf("token: %d %v", code, v)
			}
			tok, id := v["token"].(string), v["id"].(string)
			cli, _ := login(t, h, admin)

			env.clock.Add(8 * 24 * time.Hour) // past the token's expiry and the CLI session's (7 days)
			if code := checkStatus(t, h, tok); code != 401 {
				t.Fatalf("the expired token at /check: %d", code)
			}
			code, got, _ := report(t, h, "203.0.113.20", []map[string]string{
				{"token": tok, "type": "tollgate_api_token", "url": "https://example.com/a", "source": "content"},
				{"token": cli, "type": "tollgate_cli_session", "url": "https://example.com/b", "source": "content"},
			})
			if code != 200 || len(got) != 2 {
				t.Fatalf("report: %d %v", code, got)
			}
			for i, what := range []string{"an expired API token", "an ended CLI session"} {
				if got[i]["label"] != "false_positive" {
					t.Errorf("%s: %v, want false_positive", what, got[i])
				}
			}
			if n := leakedEvents(t, h); n != 0 {
				t.Errorf("%d credential.leaked events for spent credentials, want 0", n)
			}
			if code, v := asJSON(t, h, consoleSession(t, h), "GET", "/api/v1/orgs/acme/tokens/"+id, nil); code != 200 {
				t.Errorf("the expired token's record after a false positive: %d %v", code, v)
			}
		})
	}
}

// TestLeakReportRotatedSecret: a secret rotated out but in its grace
// period is reported: it stops minting at once, though this process had
// it cached, and the tokens minted with it stop too.
func TestLeakReportRotatedSecret(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			old := env.Secret
			code, v := asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/service-accounts/"+env.Account.ID+"/secrets", map[string]any{"grace_period_seconds": 3600})
			if code != 201 {
				t.Fatalf("rotate: %d %v", code, v)
			}
			fresh := v["client_secret"].(string)
			minted := accessToken(t, h, env.Account.ID, old) // warms the secrets cache with both
			if code := checkStatus(t, h, minted); code != 200 {
				t.Fatalf("/check: %d", code)
			}
			if _, got, _ := report(t, h, "203.0.113.30", []map[string]string{{"token": old, "type": "tollgate_client_secret"}}); got[0]["label"] != "true_positive" {
				t.Fatalf("report: %v", got)
			}
			mint := func(secret string) int {
				code, _, _ := serveJSON(t, h, "POST", "/oauth2/token", formType, url.Values{"grant_type": {"client_credentials"},
					"client_id": {env.Account.ID}, "client_secret": {secret}}.Encode())
				return code
			}
			if code := mint(old); code != 401 {
				t.Errorf("the reported secret in its grace period still mints: %d", code)
			}
			if code := checkStatus(t, h, minted); code != 401 {
				t.Errorf("a token of the reported secret: /check %d", code)
			}
			if code := mint(fresh); code != 200 {
				t.Errorf("the new secret: %d", code)
			}
		})
	}
}

// TestLeakReportSpentSecretWithLiveTokens: a secret past its grace period
// mints nothing more, but the access tokens minted with it before still
// open the API until they expire (up to 30 days). Reported, they are
// revoked, and the answer is true_positive: the secret still opened
// something. A spent secret whose tokens are all gone stays a false
// positive.
func TestLeakReportSpentSecretWithLiveTokens(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			old := env.Secret
			minted := accessToken(t, h, env.Account.ID, old)
			env.clock.Add(time.Second)
			code, v := asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/service-accounts/"+env.Account.ID+"/secrets", map[string]any{"grace_period_seconds": 60})
			if code != 201 {
				t.Fatalf("rotate: %d %v", code, v)
			}
			fresh := v["client_secret"].(string)
			env.clock.Add(2 * time.Minute) // the grace period is over; the token (300 s) lives on
			other := accessToken(t, h, env.Account.ID, fresh)
			if code := checkStatus(t, h, minted); code != 200 {
				t.Fatalf("the old secret's token after the grace period: /check %d", code)
			}
			_, got, _ := report(t, h, "203.0.113.32", []map[string]string{{"token": old, "type": "tollgate_client_secret", "url": "https://example.com/x"}})
			if got[0]["label"] != "true_positive" {
				t.Errorf("a spent secret whose token is live: %v, want true_positive", got[0])
			}
			if code := checkStatus(t, h, minted); code != 401 {
				t.Errorf("a token minted with the reported secret: /check %d", code)
			}
			if code := checkStatus(t, h, other); code != 200 {
				t.Errorf("a token of the new secret: /check %d", code)
			}
			if n := leakedEvents(t, h); n != 1 {
				t.Errorf("%d credential.leaked events, want 1", n)
			}
			// Reported again, nothing of it is left: a false positive.
			if _, got, _ := report(t, h, "203.0.113.32", []map[string]string{{"token": old}}); got[0]["label"] != "false_positive" {
				t.Errorf("reported again: %v", got[0])
			}
			if n := leakedEvents(t, h); n != 1 {
				t.Errorf("%d credential.leaked events after the second report, want 1", n)
			}
		})
	}
}
