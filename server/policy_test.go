package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/authn"
)

// asJSON sends a JSON request as cookie's person and decodes the answer.
func asJSON(t *testing.T, h http.Handler, cookie *http.Cookie, method, path string, body any) (int, map[string]any) {
	t.Helper()
	b := ""
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		b = string(raw)
	}
	code, v, _ := serveJSON(t, h, method, path, "application/json", b, "Cookie", cookie.String())
	return code, v
}

// wantPolicy checks a refusal names the policy and the field that broke it.
func wantPolicy(t *testing.T, what string, code int, v map[string]any, policy, field string) {
	t.Helper()
	if code != 422 || v["code"] != "policy_violation" || v["policy"] != policy || v["field"] != field ||
		!strings.HasPrefix(v["detail"].(string), "This organization") {
		t.Errorf("%s: want 422 policy_violation %s on %s, got %d %v", what, policy, field, code, v)
	}
}

// TestOrgPolicy sets each policy (P1) on each store and checks it at its
// boundary on create, import and reassign, that credentials made before
// are listed and not revoked, and who may see and set it.
func TestOrgPolicy(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			call := func(method, path string, body any) (int, map[string]any) {
				t.Helper()
				return asJSON(t, h, admin, method, "/api/v1/orgs/acme"+path, body)
			}
			mustCall := func(want int, method, path string, body any) map[string]any {
				t.Helper()
				code, v := call(method, path, body)
				if code != want {
					t.Fatalf("%s %s: %d %v", method, path, code, v)
				}
				return v
			}
			now := env.clock.Now()
			day := 24 * time.Hour
			at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }

			// The defaults: no limits, everything allowed.
			org := mustCall(200, "GET", "", nil)
			if s := org["settings"].(map[string]any); s["max_token_ttl_seconds"] != 0.0 || s["api_token_max_lifetime_seconds"] != 0.0 ||
				s["public_tokens_allowed"] != true || s["user_token_import_allowed"] != true {
				t.Fatalf("default settings: %v", s)
			}
			if v := mustCall(200, "GET", "/policy-violations", nil); len(v["violations"].([]any)) != 0 {
				t.Fatalf("violations without a policy: %v", v)
			}

			// Credentials made before the policy.
			long := mustCall(201, "POST", "/service-accounts", map[string]any{"name": "long", "role": "member", "token_ttl_seconds": 86400})["id"].(string)
			forever := mustCall(201, "POST", "/tokens", map[string]any{"name": "forever", "service_account_id": long, "kind": "private"})["id"].(string)
			public := mustCall(201, "POST", "/tokens", map[string]any{"name": "web", "service_account_id": long, "kind": "public",
				"domains": []string{"https://app.example.com"}, "expires_at": at(7 * day)})["id"].(string)
			far := mustCall(201, "POST", "/tokens", map[string]any{"name": "far", "service_account_id": long, "kind": "private", "expires_at": at(90 * day)})["id"].(string)
			me := adminID(t, h, admin)
			legacyOK := mustCall(201, "POST", "/tokens/import", map[string]any{"name": "legacy-ok", "owner_user_id": me, "kind": "private",
				"token": "legacy-token-0123456789-ok", "expires_at": at(10 * day)})["id"].(string)
			legacyForever := mustCall(201, "POST", "/tokens/import", map[string]any{"name": "legacy-forever", "owner_user_id": me, "kind": "private",
				"token": "legacy-token-0123456789-forever"})["id"].(string)

			// Bad settings are refused with the setting named.
			for _, bad := range []map[string]any{{"max_token_ttl_seconds": 299}, {"max_token_ttl_seconds": 2592001}, {"max_token_ttl_seconds": -1},
				{"api_token_max_lifetime_seconds": -1}, {"api_token_max_lifetime_seconds": 315360001}} {
				code, v := call("PATCH", "", map[string]any{"settings": bad})
				for k := range bad {
					if code != 422 || v["field"] != "settings."+k {
						t.Errorf("settings %v: %d %v", bad, code, v)
					}
				}
			}
			if code, v := call("PATCH", "", map[string]any{"settings": map[string]any{"public_tokens_allowed": "no"}}); code != 400 {
				t.Errorf("a string for a boolean: %d %v", code, v)
			}

			// Set every policy at once.
			month := 30 * 86400
			org = mustCall(200, "PATCH", "", map[string]any{"settings": map[string]any{"max_token_ttl_seconds": 3600,
				"api_token_max_lifetime_seconds": month, "public_tokens_allowed": false, "user_token_import_allowed": false}})
			if s := org["settings"].(map[string]any); s["max_token_ttl_seconds"] != 3600.0 || s["api_token_max_lifetime_seconds"] != float64(month) ||
				s["public_tokens_allowed"] != false || s["user_token_import_allowed"] != false {
				t.Fatalf("settings after PATCH: %v", s)
			}

			// max_token_ttl_seconds, at its boundary.
			atCap := mustCall(201, "POST", "/service-accounts", map[string]any{"name": "at-cap", "role": "viewer", "token_ttl_seconds": 3600})["id"].(string)
			code, v := call("POST", "/service-accounts", map[string]any{"name": "over-cap", "role": "viewer", "token_ttl_seconds": 3601})
			wantPolicy(t, "a TTL a second over the cap", code, v, "max_token_ttl_seconds", "token_ttl_seconds")

			// api_token_max_lifetime_seconds: required, and bounded to the second.
			limit := time.Duration(month) * time.Second
			mustCall(201, "POST", "/tokens", map[string]any{"name": "at-limit", "service_account_id": long, "kind": "private", "expires_at": at(limit)})
			code, v = call("POST", "/tokens", map[string]any{"name": "over", "service_account_id": long, "kind": "private", "expires_at": at(limit + time.Second)})
			wantPolicy(t, "an expiry a second past the limit", code, v, "api_token_max_lifetime_seconds", "expires_at")
			code, v = call("POST", "/tokens", map[string]any{"name": "none", "service_account_id": long, "kind": "private"})
			wantPolicy(t, "no expiry", code, v, "api_token_max_lifetime_seconds", "expires_at")

			// public_tokens_allowed.
			code, v = call("POST", "/tokens", map[string]any{"name": "web2", "service_account_id": long, "kind": "public",
				"domains": []string{"https://app.example.com"}, "expires_at": at(day)})
			wantPolicy(t, "a public token", code, v, "public_tokens_allowed", "kind")

			// user_token_import_allowed.
			code, v = call("POST", "/tokens/import", map[string]any{"name": "legacy-new", "owner_user_id": me, "kind": "private",
				"token": "legacy-token-0123456789-new", "expires_at": at(day)})
			wantPolicy(t, "an import", code, v, "user_token_import_allowed", "owner_user_id")

			// Reassign: a member's token that meets the policy moves (that
			// is how imports are cleaned up); one that breaks it does not.
			mustCall(200, "POST", "/tokens/"+legacyOK+"/reassign", map[string]any{"service_account_id": long})
			code, v = call("POST", "/tokens/"+legacyForever+"/reassign", map[string]any{"service_account_id": long})
			wantPolicy(t, "reassigning a token that never expires", code, v, "api_token_max_lifetime_seconds", "expires_at")
			code, v = call("POST", "/tokens/"+public+"/reassign", map[string]any{"service_account_id": atCap})
			wantPolicy(t, "reassigning a public token", code, v, "public_tokens_allowed", "kind")

			// What broke the new policy before it was set is listed, and
			// still works: nothing is revoked silently.
			got := map[string][]string{}
			counts := map[string]float64{}
			for _, x := range mustCall(200, "GET", "/policy-violations", nil)["violations"].([]any) {
				v := x.(map[string]any)
				for _, c := range v["credentials"].([]any) {
					got[v["kind"].(string)] = append(got[v["kind"].(string)], c.(map[string]any)["id"].(string))
				}
				counts[v["kind"].(string)] = v["count"].(float64)
				if v["message"] == "" || v["policy"] == "" {
					t.Errorf("violation without message or policy: %v", v)
				}
			}
			want := map[string][]string{
				"service_account_ttl_above": {long},
				"token_no_expiry":           {forever, legacyForever},
				"token_expires_too_late":    {far},
				"token_public":              {public},
				"token_user_owned":          {legacyForever},
			}
			for k, ids := range want {
				slices.Sort(ids) // made at one clock time: ordered by ID
				if !slices.Equal(got[k], ids) || counts[k] != float64(len(ids)) {
					t.Errorf("violations %s: got %v (count %v), want %v", k, got[k], counts[k], ids)
				}
			}
			if len(got) != len(want) {
				t.Errorf("violations: %v", got)
			}
			for _, id := range []string{forever, public, far, legacyForever} {
				mustCall(200, "GET", "/tokens/"+id, nil)
			}

			// An expired token is no longer a violation of anything.
			env.clock.Add(8 * day)
			admin = consoleSession(t, h) // the session ended meanwhile
			for _, x := range mustCall(200, "GET", "/policy-violations", nil)["violations"].([]any) {
				if v := x.(map[string]any); v["kind"] == "token_public" {
					t.Errorf("an expired public token is still listed: %v", v)
				}
			}

			// The audit event says what changed, from and to.
			_, audit := asJSON(t, h, admin, "GET", "/api/v1/orgs/acme/audit-events?action=org.updated", nil)
			ev := audit["items"].([]any)[0].(map[string]any)["details"].(map[string]any)
			if c, ok := ev["settings.public_tokens_allowed"].(map[string]any); !ok || c["from"] != true || c["to"] != false {
				t.Errorf("audit details: %v", ev)
			}

			// Clearing the policy lifts it.
			mustCall(200, "PATCH", "", map[string]any{"settings": map[string]any{"max_token_ttl_seconds": 0,
				"api_token_max_lifetime_seconds": 0, "public_tokens_allowed": true, "user_token_import_allowed": true}})
			mustCall(201, "POST", "/service-accounts", map[string]any{"name": "over-cap", "role": "viewer", "token_ttl_seconds": 3601})
			mustCall(201, "POST", "/tokens", map[string]any{"name": "none", "service_account_id": long, "kind": "private"})
			if v := mustCall(200, "GET", "/policy-violations", nil); len(v["violations"].([]any)) != 0 {
				t.Errorf("violations after clearing the policy: %v", v)
			}
		})
	}
}

// TestOrgPolicyRoles: only a super admin of the org sees or sets its
// policy; an admin is refused, another org's super admin sees nothing,
// and a super admin demoted to admin loses it on the next request.
func TestOrgPolicyRoles(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			root := consoleSession(t, h)
			if code, v := asJSON(t, h, root, "POST", "/api/v1/orgs", map[string]any{"slug": "other", "name": "Other"}); code != 201 {
				t.Fatalf("create org: %d %v", code, v)
			}
			outsider := memberSession(t, h, root, "other", "boss@other.example", "super_admin")
			admin := memberSession(t, h, root, "acme", "admin@acme.example", "admin")
			demoted := memberSession(t, h, root, "acme", "demoted@acme.example", "super_admin")
			set := map[string]any{"settings": map[string]any{"public_tokens_allowed": false}}
			if code, v := asJSON(t, h, demoted, "PATCH", "/api/v1/orgs/acme", set); code != 200 {
				t.Fatalf("a super admin sets the policy: %d %v", code, v)
			}
			demotedID := adminID(t, h, demoted)
			if code, v := asJSON(t, h, root, "PATCH", "/api/v1/orgs/acme/members/"+demotedID, map[string]any{"role": "admin"}); code != 200 {
				t.Fatalf("demote: %d %v", code, v)
			}
			for who, c := range map[string]struct {
				cookie *http.Cookie
				status int
			}{"admin": {admin, 403}, "demoted": {demoted, 403}, "other org": {outsider, 404}} {
				for _, r := range []struct {
					method, path string
					body         any
				}{{"GET", "/api/v1/orgs/acme/policy-violations", nil}, {"PATCH", "/api/v1/orgs/acme", set}} {
					if code, v := asJSON(t, h, c.cookie, r.method, r.path, r.body); code != c.status {
						t.Errorf("%s: %s %s: %d %v", who, r.method, r.path, code, v)
					}
				}
			}
			// A cross-site PATCH is refused whoever sends it.
			code, _, _ := serveJSON(t, h, "PATCH", "/api/v1/orgs/acme", "application/json", `{"settings":{"public_tokens_allowed":true}}`,
				"Cookie", root.String(), "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
			if code != 403 {
				t.Errorf("cross-site PATCH: %d", code)
			}
			if _, v := asJSON(t, h, root, "GET", "/api/v1/orgs/acme", nil); v["settings"].(map[string]any)["public_tokens_allowed"] != false {
				t.Errorf("the policy moved: %v", v)
			}
		})
	}
}

// TestOrgPolicyInTheConsole sets the policy on the Settings page and meets
// it at its boundary in the console's own forms; the page lists what broke
// it before, linked.
func TestOrgPolicyInTheConsole(t *testing.T) {
	for name, env := range clockStores(t, authn.Limits{}) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			cookie := consoleSession(t, h)
			sa := env.Account.ID
			if rec := form(h, "/orgs/acme/tokens", url.Values{"name": {"old-web"}, "service_account_id": {sa}, "kind": {"public"},
				"domains": {"https://app.example.com"}}, cookie); rec.Code != 303 {
				t.Fatalf("a public token before the policy: %d %s", rec.Code, rec.Body)
			}
			page := get(h, "/orgs/acme/settings", cookie).Body.String()
			if !strings.Contains(page, "Every credential follows the policy.") || !strings.Contains(page, `id="org-public" name="public_tokens" value="on" checked`) {
				t.Fatalf("settings page before a policy: %s", page)
			}
			settings := url.Values{"policy": {"on"}, "name": {"Acme"}, "floor": {"0"}, "max_ttl": {"600"}, "max_lifetime": {"86400"}, "user_import": {"on"}}
			bad := func(field, value string) url.Values {
				v := url.Values{}
				for k, vs := range settings {
					v[k] = vs
				}
				v.Set(field, value)
				return v
			}
			for _, c := range []struct {
				values url.Values
				want   string
			}{
				{bad("max_ttl", "soon"), "whole number of seconds, or 0 for no limit"},
				{bad("max_ttl", "299"), "between 300 (5 minutes) and 2592000 (30 days)"},
				{bad("max_lifetime", "-5"), "at most 315360000 seconds"},
			} {
				rec := form(h, "/orgs/acme/settings", c.values, cookie)
				if rec.Code != 422 || !strings.Contains(rec.Body.String(), c.want) || !strings.Contains(rec.Body.String(), `aria-invalid="true"`) {
					t.Errorf("settings %v: %d, want %q", c.values, rec.Code, c.want)
				}
			}
			if rec := form(h, "/orgs/acme/settings", settings, cookie); rec.Code != http.StatusSeeOther {
				t.Fatalf("save the policy: %d %s", rec.Code, rec.Body)
			}
			page = get(h, "/orgs/acme/settings?notice=saved", cookie).Body.String()
			for _, want := range []string{`value="600"`, `value="86400"`, `id="org-public" name="public_tokens" value="on" >`,
				`name="user_import" value="on" checked`, "1 API token has no expiry.", "1 API token is public, which is no longer allowed.",
				`<a href="/orgs/acme/tokens?q=old-web">old-web</a>`} {
				if !strings.Contains(page, want) {
					t.Errorf("settings page lacks %q", want)
				}
			}
			// The console's forms meet the policy at its boundary.
			day := func(d time.Duration) string { return env.clock.Now().Add(d).Format("2006-01-02") }
			for _, c := range []struct {
				path   string
				values url.Values
				status int
				want   string
			}{
				{"/orgs/acme/service-accounts", url.Values{"name": {"at-cap"}, "role": {"viewer"}, "ttl": {"10"}, "ttl_unit": {"minutes"}}, 303, ""},
				{"/orgs/acme/service-accounts", url.Values{"name": {"over-cap"}, "role": {"viewer"}, "ttl": {"11"}, "ttl_unit": {"minutes"}}, 422, "at most 10 minutes"},
				{"/orgs/acme/tokens", url.Values{"name": {"none"}, "service_account_id": {sa}, "kind": {"private"}}, 422, "requires API tokens to expire, within 1 day"},
				{"/orgs/acme/tokens", url.Values{"name": {"late"}, "service_account_id": {sa}, "kind": {"private"}, "expires": {day(48 * time.Hour)}}, 422, "at most 1 day"},
				{"/orgs/acme/tokens", url.Values{"name": {"web"}, "service_account_id": {sa}, "kind": {"public"}, "domains": {"https://app.example.com"},
					"expires": {day(0)}}, 422, "does not allow public tokens"},
			} {
				rec := form(h, c.path, c.values, cookie)
				if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.want) {
					t.Errorf("%s %v: %d, want %d %q", c.path, c.values, rec.Code, c.status, c.want)
				}
			}
		})
	}
}
