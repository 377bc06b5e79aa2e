package main

import (
	"strings"
	"testing"
	"time"
)

// newSA creates a service account through the API and returns the creation
// response.
func newSA(t *testing.T, c *client, org, name string, ttl int, role string) map[string]any {
	t.Helper()
	return c.do("POST", "/api/v1/orgs/"+org+"/service-accounts", map[string]any{"name": name, "role": role, "token_ttl_seconds": ttl}).want(t, 201).JSON()
}

// TestServiceAccountRules checks S2–S6 at their boundaries through the API.
func TestServiceAccountRules(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	c := newClient(t, ts.URL)
	c.signIn("admin@example.com", adminPassword)
	create := func(body map[string]any) *response { return c.do("POST", "/api/v1/orgs/acme/service-accounts", body) }
	sa := func(name string, extra ...any) map[string]any {
		b := map[string]any{"name": name, "role": "viewer", "token_ttl_seconds": 300}
		for i := 0; i+1 < len(extra); i += 2 {
			b[extra[i].(string)] = extra[i+1]
		}
		return b
	}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		field  string
		detail string
	}{
		{"20 characters", sa(strings.Repeat("a", 20)), 201, "", ""},
		{"21 characters", sa(strings.Repeat("b", 21)), 422, "name", "at most 20 characters"},
		{"empty name", sa(""), 422, "name", "required"},
		{"space", sa("deploy bot"), 422, "name", "no spaces or other special characters"},
		{"special character", sa("deploy.bot"), 422, "name", "only letters, digits, '-' and '_'"},
		{"non-ASCII letter", sa("déploy"), 422, "name", "only letters"},
		{"dash and underscore", sa("Deploy-Bot_2"), 201, "", ""},
		{"same name other case", sa("deploy-BOT_2"), 409, "name", "ignoring case"},
		{"140 characters", sa("desc140", "description", strings.Repeat("é", 140)), 201, "", ""},
		{"141 characters", sa("desc141", "description", strings.Repeat("é", 141)), 422, "description", "at most 140 characters"},
		{"ttl 299", sa("ttl299", "token_ttl_seconds", 299), 422, "token_ttl_seconds", "between 300"},
		{"ttl 300", sa("ttl300", "token_ttl_seconds", 300), 201, "", ""},
		{"ttl 2592000", sa("ttl2592000", "token_ttl_seconds", 2592000), 201, "", ""},
		{"ttl 2592001", sa("ttl2592001", "token_ttl_seconds", 2592001), 422, "token_ttl_seconds", "2592000"},
		{"ttl missing", map[string]any{"name": "nottl", "role": "viewer"}, 422, "token_ttl_seconds", "required"},
		{"super_admin role", sa("boss", "role", "super_admin"), 422, "role", "cannot be super_admin"},
		{"unknown role", sa("boss", "role", "owner"), 422, "role", "admin, member, viewer"},
		{"ttl as string", sa("str", "token_ttl_seconds", "300"), 400, "token_ttl_seconds", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := create(tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r)
			}
			p := r.JSON()
			if tc.field != "" && p["field"] != tc.field {
				t.Fatalf("field %v, want %s", p["field"], tc.field)
			}
			if tc.detail != "" && !strings.Contains(p["detail"].(string), tc.detail) {
				t.Fatalf("detail %q does not say %q", p["detail"], tc.detail)
			}
		})
	}

	created := newSA(t, c, "acme", "CI-Runner", 3600, "member")
	id := created["id"].(string)
	if created["email"] != "ci-runner@acme.serviceaccounts.tollgate.local" || created["client_id"] != id ||
		created["token_endpoint"] != ts.URL+"/oauth2/token" || created["status"] != "active" || created["last_used_at"] != nil ||
		!strings.HasPrefix(created["client_secret"].(string), "tgs_") {
		t.Fatalf("created: %v", created)
	}
	got := c.do("GET", "/api/v1/orgs/acme/service-accounts/"+id, nil).want(t, 200).JSON()
	if _, ok := got["client_secret"]; ok {
		t.Fatal("GET shows the client secret")
	}
	list := c.do("GET", "/api/v1/orgs/acme/service-accounts?limit=200", nil).want(t, 200)
	if strings.Contains(string(list.Body), "tgs_") {
		t.Fatal("the list shows a client secret")
	}

	// S6: the lifetime and the name never change.
	r := c.do("PATCH", "/api/v1/orgs/acme/service-accounts/"+id, map[string]any{"token_ttl_seconds": 7200}).want(t, 422, "immutable")
	if p := r.JSON(); p["field"] != "token_ttl_seconds" || !strings.Contains(p["detail"].(string), "create a new service account") {
		t.Fatalf("immutable ttl: %s", r)
	}
	c.do("PATCH", "/api/v1/orgs/acme/service-accounts/"+id, map[string]any{"name": "Renamed"}).want(t, 422, "immutable")
	c.do("PATCH", "/api/v1/orgs/acme/service-accounts/"+id, map[string]any{"description": strings.Repeat("ß", 141)}).want(t, 422, "invalid")
	c.do("PATCH", "/api/v1/orgs/acme/service-accounts/"+id, map[string]any{"role": "super_admin"}).want(t, 422, "invalid")
	upd := c.do("PATCH", "/api/v1/orgs/acme/service-accounts/"+id, map[string]any{"description": "runs CI", "role": "admin", "token_ttl_seconds": 3600}).want(t, 200).JSON()
	if upd["description"] != "runs CI" || upd["role"] != "admin" || upd["token_ttl_seconds"] != float64(3600) {
		t.Fatalf("updated: %v", upd)
	}

	if s := c.do("POST", "/api/v1/orgs/acme/service-accounts/"+id+"/disable", nil).want(t, 200).JSON(); s["status"] != "disabled" {
		t.Fatalf("disable: %v", s)
	}
	if s := c.do("POST", "/api/v1/orgs/acme/service-accounts/"+id+"/enable", nil).want(t, 200).JSON(); s["status"] != "active" {
		t.Fatalf("enable: %v", s)
	}

	// C3: rotation with a grace period of 0 to 7 days.
	before := time.Now()
	rot := c.do("POST", "/api/v1/orgs/acme/service-accounts/"+id+"/secrets", map[string]any{"grace_period_seconds": 3600}).want(t, 201).JSON()
	prev, err := time.Parse(time.RFC3339Nano, rot["previous_secret_expires_at"].(string))
	if err != nil || prev.Before(before.Add(time.Hour-time.Second)) || prev.After(time.Now().Add(time.Hour)) {
		t.Fatalf("previous secret expires at %v (%v), want in an hour", prev, err)
	}
	if rot["client_secret"] == created["client_secret"] || !strings.HasPrefix(rot["client_secret"].(string), "tgs_") || rot["client_id"] != id {
		t.Fatalf("rotation: %v", rot)
	}
	c.do("POST", "/api/v1/orgs/acme/service-accounts/"+id+"/secrets", nil).want(t, 201) // default grace: 0
	c.do("POST", "/api/v1/orgs/acme/service-accounts/"+id+"/secrets", map[string]any{"grace_period_seconds": 604801}).want(t, 422, "invalid")
	c.do("POST", "/api/v1/orgs/acme/service-accounts/"+id+"/secrets", map[string]any{"grace_period_seconds": -1}).want(t, 422, "invalid")
	c.do("POST", "/api/v1/orgs/acme/service-accounts/"+id+"/secrets", map[string]any{"grace_period_seconds": 604800}).want(t, 201)

	c.do("DELETE", "/api/v1/orgs/acme/service-accounts/"+id, nil).want(t, 204)
	c.do("GET", "/api/v1/orgs/acme/service-accounts/"+id, nil).want(t, 404, "not_found")
	c.do("DELETE", "/api/v1/orgs/acme/service-accounts/"+id, nil).want(t, 404, "not_found")

	evs := c.do("GET", "/api/v1/orgs/acme/audit-events?target_id="+id+"&limit=200", nil).want(t, 200)
	var actions []string
	items := evs.JSON()["items"].([]any)
	for i := len(items) - 1; i >= 0; i-- {
		actions = append(actions, items[i].(map[string]any)["action"].(string))
	}
	want := "service_account.created service_account.updated service_account.disabled service_account.enabled " +
		"service_account.secret_rotated service_account.secret_rotated service_account.secret_rotated service_account.deleted"
	if got := strings.Join(actions, " "); got != want {
		t.Fatalf("audit:\n got %s\nwant %s", got, want)
	}
	if strings.Contains(string(evs.Body), "tgs_") || strings.Contains(ts.stderr.String(), "tgs_") {
		t.Fatal("a client secret reached the audit log or the server log")
	}
}

// TestServiceAccountsAcrossOrgs checks that another org's service accounts
// are not_found on every route, even for a super admin.
func TestServiceAccountsAcrossOrgs(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	admin := newClient(t, ts.URL)
	admin.signIn("admin@example.com", adminPassword)
	admin.do("POST", "/api/v1/orgs", map[string]string{"slug": "other", "name": "Other"}).want(t, 201)
	outsider, _ := invite(t, ts, admin, "other", "outsider@example.com", "super_admin")
	admin.do("DELETE", "/api/v1/orgs/other/members/"+adminMemberID(t, admin), nil).want(t, 204)
	theirs := newSA(t, outsider, "other", "theirs", 300, "viewer")["id"].(string)
	ours := newSA(t, admin, "acme", "ours", 300, "viewer")["id"].(string)
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v1/orgs/acme/service-accounts/" + theirs},
		{"PATCH", "/api/v1/orgs/acme/service-accounts/" + theirs},
		{"DELETE", "/api/v1/orgs/acme/service-accounts/" + theirs},
		{"POST", "/api/v1/orgs/acme/service-accounts/" + theirs + "/disable"},
		{"POST", "/api/v1/orgs/acme/service-accounts/" + theirs + "/enable"},
		{"POST", "/api/v1/orgs/acme/service-accounts/" + theirs + "/secrets"},
		{"GET", "/api/v1/orgs/other/service-accounts/" + theirs},
		{"GET", "/api/v1/orgs/other/service-accounts"},
	} {
		var body any
		if r.method == "PATCH" {
			body = map[string]any{"role": "admin"}
		}
		admin.do(r.method, r.path, body).want(t, 404, "not_found")
		outsider.do(r.method, strings.Replace(strings.Replace(r.path, theirs, ours, 1), "/other/", "/acme/", 1), body).want(t, 404, "not_found")
	}
	if s := outsider.do("GET", "/api/v1/orgs/other/service-accounts/"+theirs, nil).want(t, 200).JSON(); s["role"] != "viewer" || s["status"] != "active" {
		t.Fatalf("the other org's account was changed: %v", s)
	}
}

// adminMemberID returns the signed-in client's user ID.
func adminMemberID(t *testing.T, c *client) string {
	t.Helper()
	return c.do("GET", "/api/v1/me", nil).want(t, 200).JSON()["user"].(map[string]any)["id"].(string)
}
