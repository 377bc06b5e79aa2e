package main

import (
	"strings"
	"testing"
	"time"
)

// newToken creates an API token through the API and returns the response.
func newToken(t *testing.T, c *client, org, saID, kind string, domains ...string) map[string]any {
	t.Helper()
	body := map[string]any{"name": "token", "service_account_id": saID, "kind": kind}
	if len(domains) > 0 {
		body["domains"] = domains
	}
	return c.do("POST", "/api/v1/orgs/"+org+"/tokens", body).want(t, 201).JSON()
}

// TestAPITokenRules checks A1–A5 through the API, with their boundaries.
func TestAPITokenRules(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	c := loggedIn(t, ts)
	sa := newSA(t, c, "acme", "widget", 300, "member")["id"].(string)
	c.do("POST", "/api/v1/orgs", map[string]string{"slug": "other", "name": "Other"}).want(t, 201)
	foreign := newSA(t, c, "other", "foreign", 300, "admin")["id"].(string)
	me := adminMemberID(t, c)

	priv := newToken(t, c, "acme", sa, "private")
	if !strings.HasPrefix(priv["token"].(string), "tgp_") || priv["role"] != "member" || len(priv["domains"].([]any)) != 0 ||
		priv["owner"].(map[string]any)["name"] != "widget" || priv["last_used_at"] != nil {
		t.Fatalf("private token: %v", priv)
	}
	pub := newToken(t, c, "acme", sa, "public", "https://App.Example.com/", "https://app.example.com:443", "http://app.example.com", "https://xn--bcher-kva.example", "https://bücher.example")
	if !strings.HasPrefix(pub["token"].(string), "tgq_") || pub["role"] != "viewer" {
		t.Fatalf("public token: %v", pub)
	}
	if got := pub["domains"].([]any); len(got) != 3 || got[0] != "https://app.example.com" || got[1] != "http://app.example.com" || got[2] != "https://xn--bcher-kva.example" {
		t.Fatalf("domains not normalized and deduplicated: %v", got)
	}

	body := func(kv ...any) map[string]any {
		m := map[string]any{"name": "t", "service_account_id": sa, "kind": "public", "domains": []string{"https://a.example.com"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		field  string
		detail string
	}{
		{"no service account", body("service_account_id", nil), 422, "service_account_id", "owned by a service account"},
		{"a user as owner", body("service_account_id", me), 422, "service_account_id", "not by users"},
		{"another org's account", body("service_account_id", foreign), 404, "service_account_id", ""},
		{"unknown account", body("service_account_id", "sa_06h0000000000000000000000"), 404, "service_account_id", ""},
		{"wildcard", body("domains", []string{"https://*.example.com"}), 422, "domains", "list each subdomain"},
		{"path", body("domains", []string{"https://a.example.com/app"}), 422, "domains", "has a path"},
		{"query", body("domains", []string{"https://a.example.com?x=1"}), 422, "domains", "query"},
		{"userinfo", body("domains", []string{"https://u:p@a.example.com"}), 422, "domains", "user name or password"},
		{"other scheme", body("domains", []string{"ftp://a.example.com"}), 422, "domains", "http or https"},
		{"no scheme", body("domains", []string{"a.example.com"}), 422, "domains", "full origin"},
		{"second entry bad", body("domains", []string{"https://a.example.com", "null"}), 422, "domains", "Domain 2: "},
		{"public without domains", body("domains", []string{}), 422, "domains", "at least one domain"},
		{"private with domains", body("kind", "private"), 422, "domains", "only for public"},
		{"unknown kind", body("kind", "secret"), 422, "kind", "public"},
		{"role above owner", body("role", "admin"), 422, "role", "above its owner's role"},
		{"super_admin role", body("role", "super_admin"), 422, "role", "super_admin"},
		{"role equal to owner", body("role", "member"), 201, "", ""},
		{"expired", body("expires_at", time.Now().Add(-time.Minute).Format(time.RFC3339)), 422, "expires_at", "future"},
		{"expired private", body("kind", "private", "domains", nil, "expires_at", time.Now().Add(-time.Minute).Format(time.RFC3339)), 422, "expires_at", "future"},
		{"bad expiry", body("expires_at", "tomorrow"), 422, "expires_at", "RFC 3339"},
		{"empty name", body("name", ""), 422, "name", "required"},
		{"long description", body("description", strings.Repeat("ü", 141)), 422, "description", "140"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do("POST", "/api/v1/orgs/acme/tokens", tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r)
			}
			if p := r.JSON(); tc.field != "" && (p["field"] != tc.field || !strings.Contains(p["detail"].(string), tc.detail)) {
				t.Fatalf("got field %v detail %q; want %s, %q", p["field"], p["detail"], tc.field, tc.detail)
			}
		})
	}

	id := pub["id"].(string)
	got := c.do("GET", "/api/v1/orgs/acme/tokens/"+id, nil).want(t, 200)
	if strings.Contains(string(got.Body), pub["token"].(string)) || got.JSON()["token"] != nil {
		t.Fatal("GET shows the token")
	}
	list := c.do("GET", "/api/v1/orgs/acme/tokens?kind=public&owner_id="+sa, nil).want(t, 200).JSON()["items"].([]any)
	if len(list) != 2 { // the public one and "role equal to owner"
		t.Fatalf("filtered list: %d items", len(list))
	}
	c.do("GET", "/api/v1/orgs/acme/tokens?kind=secret", nil).want(t, 422, "invalid")

	upd := c.do("PATCH", "/api/v1/orgs/acme/tokens/"+id, map[string]any{"name": "site widget", "domains": []string{"https://shop.example.com/"}}).want(t, 200).JSON()
	if upd["name"] != "site widget" || len(upd["domains"].([]any)) != 1 || upd["domains"].([]any)[0] != "https://shop.example.com" {
		t.Fatalf("updated: %v", upd)
	}
	c.do("PATCH", "/api/v1/orgs/acme/tokens/"+id, map[string]any{"domains": []string{}}).want(t, 422, "invalid")
	c.do("PATCH", "/api/v1/orgs/acme/tokens/"+priv["id"].(string), map[string]any{"domains": []string{"https://a.example.com"}}).want(t, 422, "invalid")

	c.do("DELETE", "/api/v1/orgs/acme/tokens/"+id, nil).want(t, 204)
	c.do("GET", "/api/v1/orgs/acme/tokens/"+id, nil).want(t, 404, "not_found")
	evs := c.do("GET", "/api/v1/orgs/acme/audit-events?target_id="+id, nil).want(t, 200)
	var actions []string
	for _, e := range evs.JSON()["items"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	if strings.Join(actions, " ") != "token.revoked token.updated token.created" {
		t.Fatalf("audit: %v", actions)
	}
	if strings.Contains(string(evs.Body), "tgq_") || strings.Contains(ts.stderr.String(), "tgq_") || strings.Contains(ts.stderr.String(), "tgp_") {
		t.Fatal("a token reached the audit log or the server log")
	}
}

// TestReassignThenRemoveMember walks A6 and A7 end to end: a member's
// imported token blocks their removal until it is reassigned to a service
// account; cross-org attempts are not_found.
func TestReassignThenRemoveMember(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	admin := loggedIn(t, ts)
	_, bob := invite(t, ts, admin, "acme", "bob@example.com", "member")
	sa := newSA(t, admin, "acme", "integration", 300, "viewer")["id"].(string)
	legacy := "legacy-token-0123456789abcdef"
	imp := admin.do("POST", "/api/v1/orgs/acme/tokens/import", map[string]any{"name": "old CRM key", "owner_user_id": bob,
		"token": legacy, "kind": "private"}).want(t, 201).JSON()
	id := imp["id"].(string)
	if o := imp["owner"].(map[string]any); o["type"] != "user" || o["id"] != bob || o["name"] != "bob@example.com" || imp["role"] != "member" {
		t.Fatalf("imported: %v", imp)
	}
	admin.do("POST", "/api/v1/orgs/acme/tokens/import", map[string]any{"name": "again", "owner_user_id": bob, "token": legacy, "kind": "private"}).want(t, 409, "conflict")
	admin.do("POST", "/api/v1/orgs/acme/tokens/import", map[string]any{"name": "short", "owner_user_id": bob, "token": "too-short", "kind": "private"}).want(t, 422, "invalid")
	admin.do("POST", "/api/v1/orgs/acme/tokens/import", map[string]any{"name": "x", "owner_user_id": "usr_06h0000000000000000000000", "token": legacy + "x", "kind": "private"}).want(t, 404, "not_found")

	members := admin.do("GET", "/api/v1/orgs/acme/members", nil).want(t, 200).JSON()["items"].([]any)
	if members[1].(map[string]any)["owned_token_count"] != float64(1) {
		t.Fatalf("members: %v", members)
	}
	r := admin.do("DELETE", "/api/v1/orgs/acme/members/"+bob, nil).want(t, 409, "conflict")
	if d := r.JSON()["detail"].(string); !strings.Contains(d, "1 API token") || !strings.Contains(d, "reassign") {
		t.Fatalf("409 detail: %q", d)
	}
	blocked := admin.do("GET", "/api/v1/orgs/acme/audit-events?action=member.removal_blocked", nil).want(t, 200).JSON()["items"].([]any)
	if len(blocked) != 1 || blocked[0].(map[string]any)["details"].(map[string]any)["owned_token_count"] != float64(1) {
		t.Fatalf("member.removal_blocked: %v", blocked)
	}

	// Reassignment goes to a service account of the same org only.
	admin.do("POST", "/api/v1/orgs/acme/tokens/"+id+"/reassign", map[string]any{"service_account_id": adminMemberID(t, admin)}).want(t, 422, "invalid")
	admin.do("POST", "/api/v1/orgs", map[string]string{"slug": "other", "name": "Other"}).want(t, 201)
	foreign := newSA(t, admin, "other", "foreign", 300, "admin")["id"].(string)
	admin.do("POST", "/api/v1/orgs/acme/tokens/"+id+"/reassign", map[string]any{"service_account_id": foreign}).want(t, 404, "not_found")
	moved := admin.do("POST", "/api/v1/orgs/acme/tokens/"+id+"/reassign", map[string]any{"service_account_id": sa}).want(t, 200).JSON()
	if o := moved["owner"].(map[string]any); o["type"] != "service_account" || o["id"] != sa || moved["role"] != "viewer" {
		t.Fatalf("reassigned (role lowered to the new owner's): %v", moved)
	}
	admin.do("DELETE", "/api/v1/orgs/acme/members/"+bob, nil).want(t, 204)
	ev := admin.do("GET", "/api/v1/orgs/acme/audit-events?action=token.reassigned", nil).want(t, 200).JSON()["items"].([]any)[0].(map[string]any)
	if d := ev["details"].(map[string]any); d["from"].(map[string]any)["id"] != bob || d["to"].(map[string]any)["id"] != sa || d["role"] == nil {
		t.Fatalf("token.reassigned details: %v", d)
	}

	// Another org's super admin reaches none of acme's tokens.
	outsider, _ := invite(t, ts, admin, "other", "outsider@example.com", "super_admin")
	for _, call := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/orgs/other/tokens/" + id, nil},
		{"PATCH", "/api/v1/orgs/other/tokens/" + id, map[string]any{"name": "x"}},
		{"DELETE", "/api/v1/orgs/other/tokens/" + id, nil},
		{"POST", "/api/v1/orgs/other/tokens/" + id + "/reassign", map[string]any{"service_account_id": foreign}},
		{"GET", "/api/v1/orgs/acme/tokens", nil},
		{"POST", "/api/v1/orgs/other/tokens", map[string]any{"name": "x", "service_account_id": sa, "kind": "private"}},
	} {
		r := outsider.do(call.method, call.path, call.body)
		if r.Status != 404 || r.JSON()["code"] != "not_found" {
			t.Errorf("%s %s by another org: %s", call.method, call.path, r)
		}
	}
	if got := admin.do("GET", "/api/v1/orgs/acme/tokens/"+id, nil).want(t, 200).JSON(); got["name"] != "old CRM key" {
		t.Fatalf("acme's token changed: %v", got)
	}
}
