package server_test

import (
	"net/http"
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
