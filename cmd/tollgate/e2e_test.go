package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate/tollgate/internal/josetest"
)

// TestLifecycle drives the foundation through the API as a person would:
// bootstrap → sign in → invite → accept → change role → remove, with the
// audit trail of each step, on SQLite and on PostgreSQL.
func TestLifecycle(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			ts := startServer(t, db(t), nil)
			admin := newClient(t, ts.URL)
			me := admin.signIn("admin@example.com", adminPassword)
			adminID := me["user"].(map[string]any)["id"].(string)
			if ms := me["memberships"].([]any); len(ms) != 1 || ms[0].(map[string]any)["org_slug"] != "acme" || ms[0].(map[string]any)["role"] != "super_admin" {
				t.Fatalf("bootstrap memberships: %v", ms)
			}
			admin.do("GET", "/api/v1/me", nil).want(t, 200)

			inv := admin.do("POST", "/api/v1/orgs/acme/invitations", map[string]string{"email": "Bob@Example.com", "role": "admin"}).want(t, 201).JSON()
			if inv["email"] != "bob@example.com" || !strings.HasPrefix(inv["accept_url"].(string), ts.URL+"/invitations/accept?token=") {
				t.Fatalf("invitation: %v", inv)
			}
			bob := newClient(t, ts.URL)
			accept := map[string]string{"token": inv["token"].(string), "name": "Bob", "password": "bob-password-123"}
			s := bob.do("POST", "/api/v1/invitations/accept", accept).want(t, 200).JSON()
			bobID := s["user"].(map[string]any)["id"].(string)
			// The link works once.
			newClient(t, ts.URL).do("POST", "/api/v1/invitations/accept", accept).want(t, 409, "conflict")
			newClient(t, ts.URL).do("POST", "/api/v1/invitations/accept", map[string]string{"token": "nope", "name": "x", "password": "y"}).want(t, 404, "not_found")

			bob.do("GET", "/api/v1/orgs/acme/members", nil).want(t, 200)
			m := admin.do("PATCH", "/api/v1/orgs/acme/members/"+bobID, map[string]string{"role": "viewer"}).want(t, 200).JSON()
			if m["role"] != "viewer" || m["email"] != "bob@example.com" || m["owned_token_count"] != float64(0) {
				t.Fatalf("member after role change: %v", m)
			}
			bob.do("GET", "/api/v1/orgs/acme/members", nil).want(t, 403, "forbidden")

			// The last super admin can be neither demoted nor removed.
			admin.do("PATCH", "/api/v1/orgs/acme/members/"+adminID, map[string]string{"role": "admin"}).want(t, 409, "conflict")
			admin.do("DELETE", "/api/v1/orgs/acme/members/"+adminID, nil).want(t, 409, "conflict")

			admin.do("DELETE", "/api/v1/orgs/acme/members/"+bobID, nil).want(t, 204)
			bob.do("GET", "/api/v1/orgs/acme", nil).want(t, 404, "not_found")
			admin.do("DELETE", "/api/v1/orgs/acme/members/"+bobID, nil).want(t, 404, "not_found")

			// Bob can be invited again, and as an existing user joins with
			// his own password, not a new one.
			inv2 := admin.do("POST", "/api/v1/orgs/acme/invitations", map[string]string{"email": "bob@example.com", "role": "member"}).want(t, 201).JSON()
			newClient(t, ts.URL).do("POST", "/api/v1/invitations/accept", map[string]string{"token": inv2["token"].(string), "password": "not-bobs-password"}).want(t, 401, "unauthenticated")
			bob2 := newClient(t, ts.URL)
			bob2.do("POST", "/api/v1/invitations/accept", map[string]string{"token": inv2["token"].(string), "password": "bob-password-123"}).want(t, 200)
			bob2.do("GET", "/api/v1/orgs/acme", nil).want(t, 200)

			evs := admin.do("GET", "/api/v1/orgs/acme/audit-events?limit=200", nil).want(t, 200).JSON()["items"].([]any)
			var actions []string
			for i := len(evs) - 1; i >= 0; i-- {
				actions = append(actions, evs[i].(map[string]any)["action"].(string))
			}
			want := "org.created session.created member.invited member.joined session.created member.role_changed member.removed member.invited member.joined session.created"
			if got := strings.Join(actions, " "); got != want {
				t.Fatalf("audit trail:\n got %s\nwant %s", got, want)
			}
			role := admin.do("GET", "/api/v1/orgs/acme/audit-events?action=member.role_changed", nil).want(t, 200).JSON()["items"].([]any)[0].(map[string]any)
			if d := role["details"].(map[string]any); d["from"] != "admin" || d["to"] != "viewer" || role["target"].(map[string]any)["id"] != bobID ||
				role["actor"].(map[string]any)["id"] != adminID || role["ip"] != "127.0.0.1" || role["user_agent"] == "" {
				t.Fatalf("role change event: %v", role)
			}
			for _, e := range evs {
				if strings.Contains(fmt.Sprint(e), "bob-password-123") || strings.Contains(fmt.Sprint(e), inv["token"].(string)) {
					t.Fatalf("a secret reached the audit log: %v", e)
				}
			}

			admin.do("DELETE", "/api/v1/session", nil).want(t, 204)
			admin.do("GET", "/api/v1/me", nil).want(t, 401, "unauthenticated")
			if strings.Contains(ts.stderr.String(), "bob-password-123") || strings.Contains(ts.stderr.String(), inv["token"].(string)) {
				t.Fatal("a secret reached the server log")
			}
		})
	}
}

// TestRoleMatrix calls every admin route as each role, as anonymous, and as
// a super admin of another organization, and checks the exact status.
func TestRoleMatrix(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	clients := map[string]*client{"super_admin": newClient(t, ts.URL), "anonymous": newClient(t, ts.URL)}
	clients["super_admin"].signIn("admin@example.com", adminPassword)
	sa := clients["super_admin"]
	for _, role := range []string{"admin", "member", "viewer"} {
		clients[role], _ = invite(t, ts, sa, "acme", "role-"+role+"@example.com", role)
	}
	sa.do("POST", "/api/v1/orgs", map[string]string{"slug": "other", "name": "Other"}).want(t, 201)
	clients["other_org"], _ = invite(t, ts, sa, "other", "outsider@example.com", "super_admin")
	// Machines, as the boundary resolves them: API tokens of an admin and a
	// viewer account, of an admin account demoted to viewer since, and of
	// another org's admin account.
	machine := func(org, name, role string) *client {
		acct := newSA(t, sa, org, name, 300, role)["id"].(string)
		c := newClient(t, ts.URL)
		c.bearer = newToken(t, sa, org, acct, "private")["token"].(string)
		if name == "demoted" {
			sa.do("PATCH", "/api/v1/orgs/"+org+"/service-accounts/"+acct, map[string]string{"role": "viewer"}).want(t, 200)
		}
		return c
	}
	clients["admin_token"] = machine("acme", "admin-machine", "admin")
	clients["viewer_token"] = machine("acme", "viewer-machine", "viewer")
	clients["demoted_token"] = machine("acme", "demoted", "admin")
	clients["other_token"] = machine("other", "other-machine", "admin")
	roles := []string{"super_admin", "admin", "member", "viewer", "other_org", "anonymous", "admin_token", "viewer_token", "demoted_token", "other_token"}
	type row struct {
		method, path string
		body         func(role string) any
		want         map[string]int // by role
	}
	// Each role's write gets its own target so that one role's success does
	// not change what the next role sees.
	targets, saTargets, tokTargets := map[string]string{}, map[string]string{}, map[string]string{}
	keyTargets, fedTargets := map[string]string{}, map[string]string{}
	owner := newSA(t, sa, "acme", "token-owner", 300, "viewer")["id"].(string)
	for _, role := range roles {
		_, id := invite(t, ts, sa, "acme", "target-"+role+"@example.com", "viewer")
		targets[role] = id
		saTargets[role] = newSA(t, sa, "acme", "target-"+role, 300, "viewer")["id"].(string)
		tokTargets[role] = newToken(t, sa, "acme", owner, "private")["id"].(string)
		keyTargets[role] = addKey(t, sa, saTargets[role], string(josetest.NewKey("EdDSA", "", 0).PublicJWK()))["id"].(string)
		fedTargets[role] = federate(t, sa, saTargets[role], map[string]any{"name": "target", "issuer": "https://gitlab.com"})["id"].(string)
	}
	// all lists the people's answers; a machine answers as a person of its
	// role, except where a row says otherwise (machines), and another org's
	// machine gets the outsider's 404.
	all := func(sa, admin, member, viewer, other, anon int) map[string]int {
		return map[string]int{"super_admin": sa, "admin": admin, "member": member, "viewer": viewer, "other_org": other, "anonymous": anon,
			"admin_token": admin, "viewer_token": viewer, "demoted_token": viewer, "other_token": other}
	}
	machines := func(m map[string]int, status int) map[string]int {
		for _, r := range []string{"admin_token", "viewer_token", "demoted_token", "other_token"} {
			m[r] = status
		}
		return m
	}
	rows := []row{
		{"GET", "/api/v1/me", nil, machines(all(200, 200, 200, 200, 200, 401), 403)},
		{"POST", "/api/v1/orgs", func(role string) any {
			return map[string]string{"slug": "new-" + strings.ReplaceAll(role, "_", "-"), "name": "New"}
		}, all(201, 403, 403, 403, 403, 401)},
		{"GET", "/api/v1/orgs/acme", nil, all(200, 200, 200, 200, 404, 401)},
		{"GET", "/api/v1/orgs/no-such-org", nil, all(404, 404, 404, 404, 404, 401)},
		{"PATCH", "/api/v1/orgs/acme", func(string) any { return map[string]any{"name": "Acme"} }, all(200, 403, 403, 403, 404, 401)},
		{"GET", "/api/v1/orgs/acme/members", nil, all(200, 200, 403, 403, 404, 401)},
		{"POST", "/api/v1/orgs/acme/invitations", func(role string) any {
			return map[string]string{"email": "inv-viewer-" + role + "@example.com", "role": "viewer"}
		}, all(201, 201, 403, 403, 404, 401)},
		{"POST", "/api/v1/orgs/acme/invitations", func(role string) any {
			return map[string]string{"email": "inv-admin-" + role + "@example.com", "role": "admin"}
		}, all(201, 403, 403, 403, 404, 401)},
		{"PATCH", "/api/v1/orgs/acme/members/{target}", func(string) any { return map[string]string{"role": "member"} }, all(200, 403, 403, 403, 404, 401)},
		{"DELETE", "/api/v1/orgs/acme/members/{target}", nil, all(204, 403, 403, 403, 404, 401)},
		{"GET", "/api/v1/orgs/acme/service-accounts", nil, all(200, 200, 403, 403, 404, 401)},
		{"POST", "/api/v1/orgs/acme/service-accounts", func(role string) any {
			return map[string]any{"name": "new-" + role, "role": "viewer", "token_ttl_seconds": 300}
		}, all(201, 403, 403, 403, 404, 401)},
		{"GET", "/api/v1/orgs/acme/service-accounts/{sa}", nil, all(200, 200, 403, 403, 404, 401)},
		{"PATCH", "/api/v1/orgs/acme/service-accounts/{sa}", func(string) any { return map[string]any{"role": "member"} }, all(200, 403, 403, 403, 404, 401)},
		{"POST", "/api/v1/orgs/acme/service-accounts/{sa}/disable", nil, all(200, 403, 403, 403, 404, 401)},
		{"POST", "/api/v1/orgs/acme/service-accounts/{sa}/enable", nil, all(200, 403, 403, 403, 404, 401)},
		{"POST", "/api/v1/orgs/acme/service-accounts/{sa}/secrets", nil, all(201, 403, 403, 403, 404, 401)},
		{"GET", "/api/v1/orgs/acme/service-accounts/{sa}/keys", nil, all(200, 200, 403, 403, 404, 401)},
		{"POST", "/api/v1/orgs/acme/service-accounts/{sa}/keys", func(string) any {
			return map[string]any{"public_key": string(josetest.NewKey("ES256", "", 0).PublicJWK())}
		}, all(201, 403, 403, 403, 404, 401)},
		{"DELETE", "/api/v1/orgs/acme/service-accounts/{sa}/keys/{key}", nil, all(204, 403, 403, 403, 404, 401)},
		{"GET", "/api/v1/orgs/acme/service-accounts/{sa}/federated-credentials", nil, all(200, 200, 403, 403, 404, 401)},
		{"POST", "/api/v1/orgs/acme/service-accounts/{sa}/federated-credentials", func(string) any {
			return map[string]any{"name": "ci", "issuer": "https://token.actions.githubusercontent.com", "claims": map[string]string{"repository": "o/r"}}
		}, all(201, 403, 403, 403, 404, 401)},
		{"DELETE", "/api/v1/orgs/acme/service-accounts/{sa}/federated-credentials/{fed}", nil, all(204, 403, 403, 403, 404, 401)},
		{"PATCH", "/api/v1/orgs/acme/service-accounts/{sa}", func(string) any { return map[string]any{"require_dpop": true} }, all(200, 403, 403, 403, 404, 401)},
		{"DELETE", "/api/v1/orgs/acme/service-accounts/{sa}", nil, all(204, 403, 403, 403, 404, 401)},
		{"GET", "/api/v1/orgs/acme/tokens", nil, all(200, 200, 403, 403, 404, 401)},
		{"POST", "/api/v1/orgs/acme/tokens", func(string) any {
			return map[string]any{"name": "t", "service_account_id": owner, "kind": "private"}
		}, all(201, 403, 403, 403, 404, 401)},
		{"POST", "/api/v1/orgs/acme/tokens/import", func(role string) any {
			return map[string]any{"name": "t", "owner_user_id": targets["admin"], "token": "legacy-token-for-" + role, "kind": "private"}
		}, all(201, 403, 403, 403, 404, 401)},
		{"GET", "/api/v1/orgs/acme/tokens/{tok}", nil, all(200, 200, 403, 403, 404, 401)},
		{"PATCH", "/api/v1/orgs/acme/tokens/{tok}", func(string) any { return map[string]any{"name": "renamed"} }, all(200, 403, 403, 403, 404, 401)},
		{"POST", "/api/v1/orgs/acme/tokens/{tok}/reassign", func(string) any { return map[string]any{"service_account_id": owner} }, all(200, 403, 403, 403, 404, 401)},
		{"DELETE", "/api/v1/orgs/acme/tokens/{tok}", nil, all(204, 403, 403, 403, 404, 401)},
		{"GET", "/api/v1/orgs/acme/audit-events", nil, all(200, 200, 403, 403, 404, 401)},
		{"GET", "/api/v1/orgs/acme/audit-events/export", nil, all(200, 403, 403, 403, 404, 401)},
		{"DELETE", "/api/v1/session", nil, machines(all(204, 204, 204, 204, 204, 401), 401)},
	}
	for _, r := range rows {
		for _, role := range roles {
			path := strings.NewReplacer("{target}", targets[role], "{sa}", saTargets[role], "{tok}", tokTargets[role],
				"{key}", keyTargets[role], "{fed}", fedTargets[role]).Replace(r.path)
			var body any
			if r.body != nil {
				body = r.body(role)
			}
			got := clients[role].do(r.method, path, body)
			if want := r.want[role]; got.Status != want {
				t.Errorf("%s %s as %s: %d, want %d: %s", r.method, r.path, role, got.Status, want, got.Body)
			}
		}
	}
	// A super admin of acme cannot reach into another org's members either.
	other := newClient(t, ts.URL)
	other.signIn("outsider@example.com", "password-of-outsider@example.com")
	me := other.do("GET", "/api/v1/me", nil).want(t, 200).JSON()
	outsider := me["user"].(map[string]any)["id"].(string)
	admin := newClient(t, ts.URL)
	admin.signIn("admin@example.com", adminPassword)
	admin.do("PATCH", "/api/v1/orgs/acme/members/"+outsider, map[string]string{"role": "viewer"}).want(t, 404, "not_found")
	admin.do("DELETE", "/api/v1/orgs/acme/members/"+outsider, nil).want(t, 404, "not_found")
}

// TestCrossOriginRequestsAreRefused checks CSRF protection of cookie
// requests: a browser's cross-site POST is refused, a same-origin one is
// not.
func TestCrossOriginRequestsAreRefused(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	c := newClient(t, ts.URL)
	c.signIn("admin@example.com", adminPassword)
	body := map[string]string{"email": "x@example.com", "role": "viewer"}
	c.do("POST", "/api/v1/orgs/acme/invitations", body, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example").want(t, 403, "forbidden")
	c.do("POST", "/api/v1/orgs/acme/invitations", body, "Origin", "https://evil.example").want(t, 403, "forbidden")
	c.do("POST", "/api/v1/orgs/acme/invitations", body, "Sec-Fetch-Site", "same-origin", "Origin", ts.URL).want(t, 201)
	evs := c.do("GET", "/api/v1/orgs/acme/audit-events?action=member.invited", nil).want(t, 200).JSON()["items"].([]any)
	if len(evs) != 1 {
		t.Fatalf("%d invitations recorded, want only the same-origin one", len(evs))
	}
}

// TestSignInRateLimit checks that failed sign-ins are limited per email,
// with the same answers whether or not the email exists.
func TestSignInRateLimit(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	c := newClient(t, ts.URL)
	try := func(email string) *response {
		return c.do("POST", "/api/v1/session", map[string]string{"email": email, "password": "wrong-password-1"})
	}
	for _, email := range []string{"admin@example.com", "nobody@example.com"} {
		var first *response
		for i := range 5 {
			r := try(email).want(t, 401, "unauthenticated")
			if i == 0 {
				first = r
			}
		}
		r := try(email).want(t, 429, "rate_limited")
		if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("429 without a Retry-After: %q", ra)
		}
		if email == "nobody@example.com" {
			continue
		}
		// The right password is refused too while the email is limited.
		c.do("POST", "/api/v1/session", map[string]string{"email": email, "password": adminPassword}).want(t, 429, "rate_limited")
		// And the answer for a known email equals the unknown one's.
		other := newClient(t, ts.URL).do("POST", "/api/v1/session", map[string]string{"email": "someone-else@example.com", "password": "x"})
		if other.Status != first.Status || string(other.Body) != string(first.Body) {
			t.Fatalf("known email answered %s, unknown %s", first, other)
		}
	}
}

// TestRestartKeepsEverything stops the server and starts it again on the
// same SQLite file: nothing is lost and nothing is bootstrapped again.
func TestRestartKeepsEverything(t *testing.T) {
	db := databases(t)["sqlite"](t)
	ts := startServer(t, db, nil)
	admin := newClient(t, ts.URL)
	admin.signIn("admin@example.com", adminPassword)
	_, bobID := invite(t, ts, admin, "acme", "bob@example.com", "member")
	admin.do("PATCH", "/api/v1/orgs/acme", map[string]any{"name": "Acme Inc", "settings": map[string]any{"token_reuse_floor_seconds": 30}}).want(t, 200)
	before := admin.do("GET", "/api/v1/orgs/acme/audit-events?limit=200", nil).want(t, 200).JSON()["items"].([]any)
	if err := ts.stop(); err != nil {
		t.Fatal(err)
	}

	ts2 := startServer(t, db, map[string]string{"TOLLGATE_BOOTSTRAP_PASSWORD": "a-different-password"})
	if strings.Contains(ts2.stderr.String(), "First start") {
		t.Fatal("the restarted server bootstrapped again")
	}
	admin2 := newClient(t, ts2.URL)
	admin2.signIn("admin@example.com", adminPassword)
	org := admin2.do("GET", "/api/v1/orgs/acme", nil).want(t, 200).JSON()
	if org["name"] != "Acme Inc" || org["settings"].(map[string]any)["token_reuse_floor_seconds"] != float64(30) {
		t.Fatalf("org after restart: %v", org)
	}
	members := admin2.do("GET", "/api/v1/orgs/acme/members", nil).want(t, 200).JSON()["items"].([]any)
	if len(members) != 2 || members[1].(map[string]any)["user_id"] != bobID {
		t.Fatalf("members after restart: %v", members)
	}
	bob := newClient(t, ts2.URL)
	bob.signIn("bob@example.com", "password-of-bob@example.com")
	after := admin2.do("GET", "/api/v1/orgs/acme/audit-events?limit=200", nil).want(t, 200).JSON()["items"].([]any)
	if len(after) != len(before)+2 { // two more sign-ins
		t.Fatalf("audit events: %d before restart, %d after two sign-ins", len(before), len(after))
	}
}

// TestHealth checks liveness, readiness and the served OpenAPI document.
func TestHealth(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	c := newClient(t, ts.URL)
	c.do("GET", "/healthz", nil).want(t, 200)
	c.do("GET", "/readyz", nil).want(t, 200)
	doc := c.do("GET", "/openapi.json", nil).want(t, 200).JSON()
	if doc["openapi"] != "3.1.0" || doc["paths"].(map[string]any)["/api/v1/orgs/{org}/members/{user_id}"] == nil {
		t.Fatalf("openapi.json: %.200v", doc)
	}
	c.do("GET", "/api/v1/nothing-here", nil).want(t, http.StatusNotFound, "not_found")
	r := c.do("PUT", "/api/v1/me", nil).want(t, http.StatusMethodNotAllowed, "invalid")
	if r.Header.Get("Allow") == "" {
		t.Fatal("405 without Allow")
	}
}

// TestGracefulShutdown stops the server while a request is in flight: the
// request still gets its full answer, new connections are refused, and
// run returns nil.
func TestGracefulShutdown(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"email":"admin@example.com","password":"` + adminPassword + `"}`
	half := len(body) / 2
	fmt.Fprintf(conn, "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:half])
	time.Sleep(200 * time.Millisecond) // the server is now reading the body

	stopped := make(chan error, 1)
	go func() { stopped <- ts.stop() }()
	time.Sleep(200 * time.Millisecond) // shutdown has begun and waits for us
	if _, err := http.Get(ts.URL + "/healthz"); err == nil {
		t.Fatal("a new connection was accepted during shutdown")
	}
	select {
	case err := <-stopped:
		t.Fatalf("run returned (%v) before the in-flight request finished", err)
	default:
	}
	if _, err := io.WriteString(conn, body[half:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request lost: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("in-flight sign-in answered %d", resp.StatusCode)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("run returned %v", err)
	}
}

// TestHealthcheck: "tollgate healthcheck" exits 0 while a server is ready
// and 1 when none answers or it is not ready.
func TestHealthcheck(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	addr := strings.TrimPrefix(ts.URL, "http://")
	hc := func(env map[string]string, args ...string) int {
		var out strings.Builder
		err := run(t.Context(), append([]string{"healthcheck"}, args...), func(k string) string { return env[k] }, strings.NewReader(""), &out, io.Discard)
		return exitCode(err, io.Discard)
	}
	if got := hc(map[string]string{"TOLLGATE_ADDR": addr}); got != 0 {
		t.Fatalf("healthcheck of a ready server (TOLLGATE_ADDR): exit %d", got)
	}
	if got := hc(nil, "--url", ts.URL+"/readyz"); got != 0 {
		t.Fatalf("healthcheck --url: exit %d", got)
	}
	if got := hc(nil, "--url", ts.URL+"/no-such-page"); got != 1 {
		t.Fatalf("healthcheck of a URL that is not 200: exit %d", got)
	}
	if got := hc(nil, "--addr", "127.0.0.1:1", "--timeout", "2s"); got != 1 {
		t.Fatalf("healthcheck with no server: exit %d", got)
	}
	if got := hc(nil, "--url", "::bad"); got != 2 {
		t.Fatalf("healthcheck with a bad URL: exit %d", got)
	}
}

// TestRequestIDAndJSONLogs: with --log-format json every request is one
// JSON line with its X-Request-Id (the client's, when well formed, else a
// new one, echoed in the answer) and who called; no credential is logged.
func TestRequestIDAndJSONLogs(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), map[string]string{"TOLLGATE_LOG_FORMAT": "json"})
	admin := loggedIn(t, ts)
	sa := newSA(t, admin, "acme", "logged", 300, "viewer")["id"].(string)
	tok := newToken(t, admin, "acme", sa, "private")["token"].(string)
	r := check(t, ts.URL, "GET", tok, "X-Request-Id", "gw-123.a:b_c")
	if got := r.Header.Get("X-Request-Id"); got != "gw-123.a:b_c" {
		t.Fatalf("X-Request-Id echoed as %q", got)
	}
	forged := check(t, ts.URL, "GET", tok, "X-Request-Id", "x\" level=ERROR msg=forged")
	made := forged.Header.Get("X-Request-Id")
	if len(made) != 32 || strings.Contains(made, "forged") {
		t.Fatalf("a malformed X-Request-Id was kept: %q", made)
	}
	deadline := time.Now().Add(5 * time.Second)
	var line map[string]any
	for line == nil && time.Now().Before(deadline) {
		for _, l := range strings.Split(ts.stderr.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["request_id"] == "gw-123.a:b_c" {
				line = m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if line == nil || line["msg"] != "http" || line["path"] != "/check" || line["status"] != float64(200) || line["caller"] != "service_account:"+sa {
		t.Fatalf("access log line %v", line)
	}
	if strings.Contains(ts.stderr.String(), tok) {
		t.Fatal("the API token is in the log")
	}
	if !strings.Contains(ts.stderr.String(), `"request_id":"`+made+`"`) {
		t.Fatal("the generated request ID is not logged")
	}
}

// TestGracefulShutdownUnderLoad: 16 clients keep asking for tokens while
// the server process gets SIGINT, and stop sending when /readyz turns 503,
// as a load balancer does. Every request sent until then, during the drain
// included, gets its full 200 answer: zero failed in-flight requests.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	ts := startProcess(t, databases(t)["sqlite"](t), map[string]string{"TOLLGATE_SHUTDOWN_DRAIN": "1s"})
	admin := loggedIn(t, ts)
	acct := newSA(t, admin, "acme", "busy", 3600, "viewer")
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {acct["id"].(string)}, "client_secret": {acct["client_secret"].(string)}}.Encode()
	var ok, failed, duringDrain atomic.Int64
	var firstFailure atomic.Value
	draining := make(chan struct{}) // /readyz said 503: the balancer stops sending
	go func() {
		for {
			resp, err := http.Get(ts.URL + "/readyz")
			if err == nil {
				resp.Body.Close()
			}
			if err != nil || resp.StatusCode == http.StatusServiceUnavailable {
				close(draining)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			for {
				select {
				case <-draining:
					return
				default:
				}
				resp, err := client.Post(ts.URL+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form))
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
					continue
				}
				ok.Add(1)
				select {
				case <-draining:
					duringDrain.Add(1)
				default:
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	before := ok.Load()
	if err := ts.stop(); err != nil {
		t.Fatalf("the server did not stop cleanly: %v", err)
	}
	wg.Wait()
	t.Logf("%d answered before SIGINT, %d in all (%d finished after /readyz said 503); %d failed", before, ok.Load(), duringDrain.Load(), failed.Load())
	if failed.Load() > 0 {
		t.Fatalf("%d in-flight requests failed during the shutdown; first: %v", failed.Load(), firstFailure.Load())
	}
	if ok.Load() <= before {
		t.Fatalf("the load did not span the shutdown: %d answered (%d before SIGINT)", ok.Load(), before)
	}
}

// TestKillDurability kills the server process with SIGKILL at random
// moments under a write load (once it is under way), three times, on each
// store. A ledger keeps
// every write the server acknowledged (a created service account); after
// each restart every one of them is there, and the account whose token is
// reused gets the same token back.
func TestKillDurability(t *testing.T) {
	for name, newDB := range databases(t) {
		t.Run(name, func(t *testing.T) {
			db := newDB(t)
			env := map[string]string{"TOLLGATE_ISSUER": "http://tollgate.test"}
			if isPostgres(db) {
				env["TOLLGATE_KEY_FILE"] = newKeyFile(t)
			}
			ts := startProcess(t, db, env)
			admin := loggedIn(t, ts)
			acct := newSA(t, admin, "acme", "durable", 3600, "viewer")
			id, secret := acct["id"].(string), acct["client_secret"].(string)
			reused := token(t, ts.URL, id, secret)["access_token"].(string)
			var ledger []string
			var mu sync.Mutex
			total := 0
			for round := range 3 {
				stop := make(chan struct{})
				var wg sync.WaitGroup
				c := admin // signed in before the load: one session for the four writers
				c.http.Timeout = 5 * time.Second
				for w := range 4 {
					wg.Go(func() {
						for i := 0; ; i++ {
							select {
							case <-stop:
								return
							default:
							}
							body, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("r%dw%di%d", round, w, i), "role": "viewer", "token_ttl_seconds": 300})
							req, _ := http.NewRequest("POST", ts.URL+"/api/v1/orgs/acme/service-accounts", bytes.NewReader(body))
							req.Header.Set("Content-Type", "application/json")
							resp, err := c.http.Do(req)
							if err != nil {
								return // killed: this write was never acknowledged
							}
							var out map[string]any
							json.NewDecoder(resp.Body).Decode(&out)
							resp.Body.Close()
							if resp.StatusCode == 201 {
								mu.Lock()
								ledger = append(ledger, out["id"].(string))
								mu.Unlock()
							}
						}
					})
				}
				// Kill at a random moment once the load is under way.
				mu.Lock()
				start := len(ledger)
				mu.Unlock()
				for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
					mu.Lock()
					n := len(ledger)
					mu.Unlock()
					if n > start {
						break
					}
				}
				time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
				ts.kill()
				close(stop)
				wg.Wait()
				ts = startProcess(t, db, env)
				admin = loggedIn(t, ts)
				mu.Lock()
				acked := append([]string(nil), ledger...)
				mu.Unlock()
				for _, sa := range acked {
					admin.do("GET", "/api/v1/orgs/acme/service-accounts/"+sa, nil).want(t, 200)
				}
				if got := token(t, ts.URL, id, secret)["access_token"].(string); got != reused {
					t.Fatalf("round %d: the reused token did not survive the kill", round)
				}
				t.Logf("round %d: %d acknowledged writes so far, all present after SIGKILL and restart", round, len(acked))
				total = len(acked)
			}
			if total == 0 {
				t.Fatal("no write was acknowledged: the load did not run")
			}
		})
	}
}
