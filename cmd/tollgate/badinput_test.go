package main

import (
	"net/http"
	"strings"
	"testing"
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
		{"limit zero", "GET", "/api/v1/orgs/acme/members?limit=0", nil, 422, "limit", nil},
		{"limit too large", "GET", "/api/v1/orgs/acme/members?limit=201", nil, 422, "limit", nil},
		{"limit not a number", "GET", "/api/v1/orgs/acme/audit-events?limit=ten", nil, 422, "limit", nil},
		{"cursor forged", "GET", "/api/v1/orgs/acme/audit-events?cursor=abc", nil, 422, "cursor", nil},
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
