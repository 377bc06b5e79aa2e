package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

// TestBadInput sends malformed, mistyped, oversized and rule-breaking
// requests. Each gets a 4xx problem naming the field where there is one,
// and nothing is written: the audit log, which records every change, is the
// same afterwards.
func TestBadInput(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	c := newClient(t, ts.URL)
	c.signIn("admin@example.com", adminPassword)
	_, bobID := invite(t, ts, c, "acme", "bob@example.com", "member")
	before := c.do("GET", "/api/v1/orgs/acme/audit-events?limit=200", nil).want(t, 200).JSON()["items"].([]any)

	long := func(n int) string { return strings.Repeat("é", n) } // multi-byte: limits count characters
	cases := []struct {
		name, method, path string
		body               any
		status             int
		field              string
		headers            []string
	}{
		{"malformed JSON", "POST", "/api/v1/orgs", `{"slug": "x",`, 400, "", nil},
		{"not an object", "POST", "/api/v1/orgs", `["slug"]`, 400, "", nil},
		{"trailing data", "POST", "/api/v1/orgs", `{"slug":"abc","name":"A"} {}`, 400, "", nil},
		{"empty body", "POST", "/api/v1/orgs", ``, 400, "", nil},
		{"unknown field", "POST", "/api/v1/orgs", `{"slug":"abc","name":"A","owner":"me"}`, 400, "owner", nil},
		{"wrong type", "POST", "/api/v1/orgs", `{"slug":42,"name":"A"}`, 400, "slug", nil},
		{"wrong nested type", "PATCH", "/api/v1/orgs/acme", `{"settings":{"token_reuse_floor_seconds":"30"}}`, 400, "settings.token_reuse_floor_seconds", nil},
		{"oversized body", "POST", "/api/v1/orgs", `{"slug":"abc","name":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "", nil},
		{"not JSON content type", "POST", "/api/v1/orgs", `{"slug":"abc","name":"A"}`, 415, "", []string{"Content-Type", "text/plain"}},
		{"slug too short", "POST", "/api/v1/orgs", map[string]string{"slug": "a", "name": "A"}, 422, "slug", nil},
		{"slug too long", "POST", "/api/v1/orgs", map[string]string{"slug": strings.Repeat("a", 40), "name": "A"}, 422, "slug", nil},
		{"slug uppercase", "POST", "/api/v1/orgs", map[string]string{"slug": "Acme2", "name": "A"}, 422, "slug", nil},
		{"slug leading dash", "POST", "/api/v1/orgs", map[string]string{"slug": "-acme", "name": "A"}, 422, "slug", nil},
		{"slug underscore", "POST", "/api/v1/orgs", map[string]string{"slug": "ac_me", "name": "A"}, 422, "slug", nil},
		{"slug taken", "POST", "/api/v1/orgs", map[string]string{"slug": "acme", "name": "A"}, 409, "slug", nil},
		{"name missing", "POST", "/api/v1/orgs", map[string]string{"slug": "abc"}, 422, "name", nil},
		{"name over-long", "POST", "/api/v1/orgs", map[string]string{"slug": "abc", "name": long(101)}, 422, "name", nil},
		{"org name over-long", "PATCH", "/api/v1/orgs/acme", map[string]string{"name": long(101)}, 422, "name", nil},
		{"floor negative", "PATCH", "/api/v1/orgs/acme", map[string]any{"settings": map[string]int{"token_reuse_floor_seconds": -1}}, 422, "settings.token_reuse_floor_seconds", nil},
		{"floor too large", "PATCH", "/api/v1/orgs/acme", map[string]any{"settings": map[string]int{"token_reuse_floor_seconds": 2_592_001}}, 422, "settings.token_reuse_floor_seconds", nil},
		{"invite bad email", "POST", "/api/v1/orgs/acme/invitations", map[string]string{"email": "not-an-email", "role": "viewer"}, 422, "email", nil},
		{"invite email with name", "POST", "/api/v1/orgs/acme/invitations", map[string]string{"email": "Bob <b@example.com>", "role": "viewer"}, 422, "email", nil},
		{"invite email over-long", "POST", "/api/v1/orgs/acme/invitations", map[string]string{"email": strings.Repeat("a", 250) + "@example.com", "role": "viewer"}, 422, "email", nil},
		{"invite bad role", "POST", "/api/v1/orgs/acme/invitations", map[string]string{"email": "x@example.com", "role": "owner"}, 422, "role", nil},
		{"invite member again", "POST", "/api/v1/orgs/acme/invitations", map[string]string{"email": "bob@example.com", "role": "viewer"}, 409, "email", nil},
		{"role missing", "PATCH", "/api/v1/orgs/acme/members/" + bobID, map[string]string{}, 422, "role", nil},
		{"role invalid", "PATCH", "/api/v1/orgs/acme/members/" + bobID, map[string]string{"role": "root"}, 422, "role", nil},
		{"accept unknown token", "POST", "/api/v1/invitations/accept", map[string]string{"token": "t", "name": "N", "password": "short"}, 404, "", nil},
		{"sign-in email missing", "POST", "/api/v1/session", map[string]string{"password": "x"}, 422, "email", nil},
		{"sign-in email over-long", "POST", "/api/v1/session", map[string]string{"email": strings.Repeat("a", 250) + "@example.com", "password": "x"}, 422, "email", nil},
		{"limit zero", "GET", "/api/v1/orgs/acme/members?limit=0", nil, 422, "limit", nil},
		{"limit too large", "GET", "/api/v1/orgs/acme/members?limit=201", nil, 422, "limit", nil},
		{"limit not a number", "GET", "/api/v1/orgs/acme/audit-events?limit=ten", nil, 422, "limit", nil},
		{"cursor forged", "GET", "/api/v1/orgs/acme/audit-events?cursor=abc", nil, 422, "cursor", nil},
		{"search over-long", "GET", "/api/v1/orgs/acme/service-accounts?q=" + long(101), nil, 422, "q", nil},
		{"search with NUL", "GET", "/api/v1/orgs/acme/tokens?q=a%00", nil, 400, "q", nil},
		{"search cursor without the search", "GET", "/api/v1/orgs/acme/members?cursor=" + tollgate.EncodeNameCursor("a", "usr_1"), nil, 422, "cursor", nil},
		{"list cursor for a search", "GET", "/api/v1/orgs/acme/service-accounts?q=a&cursor=" + tollgate.EncodeCursor(time.Unix(0, 0), "sa_1"), nil, 422, "cursor", nil},
		{"since not a time", "GET", "/api/v1/orgs/acme/audit-events?since=yesterday", nil, 422, "since", nil},
		{"action over-long", "GET", "/api/v1/orgs/acme/audit-events?action=" + strings.Repeat("a", 101), nil, 422, "action", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do(tc.method, tc.path, tc.body, tc.headers...)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.Status, tc.status, r.Body)
			}
			p := r.JSON()
			if tc.field != "" && p["field"] != tc.field {
				t.Fatalf("field %v, want %q: %s", p["field"], tc.field, r.Body)
			}
			if p["detail"] == "" || p["detail"] == "Internal error." {
				t.Fatalf("no useful detail: %s", r.Body)
			}
		})
	}
	// An invalid new-user password with a valid invitation names the field.
	inv := c.do("POST", "/api/v1/orgs/acme/invitations", map[string]string{"email": "new@example.com", "role": "viewer"}).want(t, 201).JSON()
	before = append([]any{nil}, before...) // the invitation is a change
	for _, tc := range []struct{ name, password, field string }{
		{"", "long-enough-password", "name"},
		{"New", "eleven-char", "password"},
		{"New", strings.Repeat("p", 257), "password"},
		{long(101), "long-enough-password", "name"},
	} {
		r := newClient(t, ts.URL).do("POST", "/api/v1/invitations/accept", map[string]string{"token": inv["token"].(string), "name": tc.name, "password": tc.password})
		if r.Status != http.StatusUnprocessableEntity || r.JSON()["field"] != tc.field {
			t.Errorf("accept with name %q password %q: %s, want 422 on %s", tc.name, tc.password, r, tc.field)
		}
	}

	after := c.do("GET", "/api/v1/orgs/acme/audit-events?limit=200", nil).want(t, 200).JSON()["items"].([]any)
	if len(after) != len(before) {
		t.Fatalf("bad requests wrote %d audit events", len(after)-len(before))
	}
	c.do("GET", "/api/v1/orgs/abc", nil).want(t, 404)
	org := c.do("GET", "/api/v1/orgs/acme", nil).want(t, 200).JSON()
	if org["name"] != "acme" || org["settings"].(map[string]any)["token_reuse_floor_seconds"] != float64(0) {
		t.Fatalf("org changed by rejected requests: %v", org)
	}
	members := c.do("GET", "/api/v1/orgs/acme/members", nil).want(t, 200).JSON()["items"].([]any)
	if len(members) != 2 || members[1].(map[string]any)["role"] != "member" {
		t.Fatalf("members changed by rejected requests: %v", members)
	}
}

// TestTextNeitherStoreTakes sends NUL characters and invalid UTF-8, which
// PostgreSQL refuses (SQLSTATE 22021) and SQLite would keep, everywhere
// input enters: JSON bodies, path IDs, list filters, forms, OAuth
// parameters. On both stores each is a 400 naming where it was, never a
// 500, and nothing is written.
func TestTextNeitherStoreTakes(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			ts := startServer(t, db(t), nil)
			c := newClient(t, ts.URL)
			c.signIn("admin@example.com", adminPassword)
			sa := newSA(t, c, "acme", "robot", 3600, "member")
			before := c.do("GET", "/api/v1/orgs/acme/audit-events?limit=200", nil).want(t, 200).JSON()["items"].([]any)
			for _, tc := range []struct {
				method, path, body, field string
			}{
				{"POST", "/api/v1/session", `{"email":"a\u0000@example.com","password":"x"}`, "email"},
				{"GET", "/api/v1/orgs/acme/service-accounts/%00", ``, "path"},
				{"GET", "/api/v1/orgs/acme/tokens/%ff", ``, "path"},
				{"DELETE", "/api/v1/orgs/acme/members/usr_%00", ``, "path"},
				{"GET", "/api/v1/orgs/ac%00me", ``, "path"},
				{"POST", "/api/v1/orgs/acme/service-accounts", `{"name":"a\u0000b","role":"viewer","token_ttl_seconds":300}`, "name"},
				{"POST", "/api/v1/orgs/acme/service-accounts", `{"name":"ab","description":"x\u0000","role":"viewer","token_ttl_seconds":300}`, "description"},
				{"PATCH", "/api/v1/orgs/acme/service-accounts/" + sa["id"].(string), `{"description":"\u0000"}`, "description"},
				{"PATCH", "/api/v1/orgs/acme", `{"name":"Acme\u0000"}`, "name"},
				{"POST", "/api/v1/orgs/acme/invitations", `{"email":"x\u0000@example.com","role":"viewer"}`, "email"},
				{"POST", "/api/v1/orgs/acme/tokens", `{"name":"t","service_account_id":"sa_\u0000","kind":"private"}`, "service_account_id"},
				{"POST", "/api/v1/orgs/acme/tokens", `{"name":"t","service_account_id":"` + sa["id"].(string) + `","kind":"public","domains":["https://a.example\u0000"]}`, "domains"},
				{"POST", "/api/v1/orgs/acme/tokens/import", `{"name":"t","owner_user_id":"usr_\u0000","token":"legacy-token-0000000001","kind":"private"}`, "owner_user_id"},
				{"GET", "/api/v1/orgs/acme/tokens?owner_id=%00", ``, "owner_id"},
				{"GET", "/api/v1/orgs/acme/tokens?kind=%ff", ``, "kind"},
				{"GET", "/api/v1/orgs/acme/audit-events?actor_id=%00", ``, "actor_id"},
				{"GET", "/api/v1/orgs/acme/audit-events?action=a%00", ``, "action"},
				{"GET", "/api/v1/orgs/acme/audit-events?target_id=%00", ``, "target_id"},
			} {
				var body any
				if tc.body != "" {
					body = tc.body
				}
				r := c.do(tc.method, tc.path, body)
				if r.Status != http.StatusBadRequest || r.JSON()["code"] != "invalid" || r.JSON()["field"] != tc.field {
					t.Errorf("%s %s %s: %s, want 400 invalid on %s", tc.method, tc.path, tc.body, r, tc.field)
				}
			}
			// The console's forms, the OAuth endpoints and /check refuse it too,
			// each in its own format.
			for _, tc := range []struct{ path, body, want string }{
				{"/oauth2/token", "grant_type=client_credentials&client_id=sa_%00&client_secret=x", `"error":"invalid_request"`},
				{"/oauth2/token", "grant_type=client_credentials&client_id=" + sa["id"].(string) + "&client_secret=%ff", `"error":"invalid_request"`},
				{"/oauth2/introspect", "token=%00&client_id=x&client_secret=y", `"error":"invalid_request"`},
				{"/signin", "email=a%00@example.com&password=x", "valid UTF-8"},
			} {
				resp, err := http.Post(ts.URL+tc.path, "application/x-www-form-urlencoded", strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), tc.want) {
					t.Errorf("POST %s %s: %d %.200s", tc.path, tc.body, resp.StatusCode, b)
				}
			}
			resp, err := http.Get(ts.URL + "/check?x=%00")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("/check with a NUL: %d", resp.StatusCode)
			}
			after := c.do("GET", "/api/v1/orgs/acme/audit-events?limit=200", nil).want(t, 200).JSON()["items"].([]any)
			if len(after) != len(before) {
				t.Fatalf("refused requests wrote %d audit events", len(after)-len(before))
			}
			// A User-Agent is the client's to choose, bytes that are not
			// UTF-8 included; audited, it is kept as plain text.
			ua := "agent \xff\xfe\x80/1.0"
			newClient(t, ts.URL).do("POST", "/api/v1/session", map[string]string{"email": "admin@example.com", "password": "wrong-password-1"}, "User-Agent", ua).want(t, 401)
			newClient(t, ts.URL).do("POST", "/api/v1/session", map[string]string{"email": "admin@example.com", "password": adminPassword}, "User-Agent", ua).want(t, 200)
			evs := c.do("GET", "/api/v1/orgs/acme/audit-events?limit=2", nil).want(t, 200).JSON()["items"].([]any)
			for i, action := range []string{"session.created", "session.failed"} {
				e := evs[i].(map[string]any)
				if e["action"] != action || !strings.HasPrefix(e["user_agent"].(string), "agent ") {
					t.Fatalf("event %d: %v", i, e)
				}
			}
		})
	}
}
