package main

import (
	"net/http"
	"testing"
)

// bearerClient calls the admin API with a bearer credential and no cookie.
func bearerClient(t *testing.T, ts *testServer, token string, headers ...string) func(method, path string, body any) *response {
	c := newClient(t, ts.URL)
	return func(method, path string, body any) *response {
		t.Helper()
		return c.do(method, path, body, append([]string{"Authorization", "Bearer " + token}, headers...)...)
	}
}

// TestAdminAPIWithBearerCredentials checks the contract's "machines call
// the admin API with a bearer access token or API token and act with that
// credential's role": within its own org only, never as super_admin.
func TestAdminAPIWithBearerCredentials(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	admin := loggedIn(t, ts)
	ops := newSA(t, admin, "acme", "ops", 300, "admin")
	opsID := ops["id"].(string)
	apiToken := newToken(t, admin, "acme", opsID, "private")

	call := bearerClient(t, ts, apiToken["token"].(string))
	call("GET", "/api/v1/orgs/acme", nil).want(t, 200)
	call("GET", "/api/v1/orgs/acme/members", nil).want(t, 200)
	call("GET", "/api/v1/orgs/acme/service-accounts", nil).want(t, 200)
	call("POST", "/api/v1/orgs/acme/invitations", map[string]string{"email": "new@example.com", "role": "viewer"}).want(t, 201)
	call("POST", "/api/v1/orgs/acme/invitations", map[string]string{"email": "boss@example.com", "role": "admin"}).want(t, 403, "forbidden")
	call("PATCH", "/api/v1/orgs/acme", map[string]any{"name": "x"}).want(t, 403, "forbidden")
	call("POST", "/api/v1/orgs/acme/service-accounts", map[string]any{"name": "x", "role": "viewer", "token_ttl_seconds": 300}).want(t, 403, "forbidden")
	call("POST", "/api/v1/orgs", map[string]string{"slug": "mine", "name": "Mine"}).want(t, 403, "forbidden")
	call("GET", "/api/v1/me", nil).want(t, 403, "forbidden")
	call("DELETE", "/api/v1/session", nil).want(t, 401, "unauthenticated")
	ev := admin.do("GET", "/api/v1/orgs/acme/audit-events?action=member.invited", nil).want(t, 200).JSON()["items"].([]any)[0].(map[string]any)
	if a := ev["actor"].(map[string]any); a["type"] != "service_account" || a["id"] != opsID || a["name"] != "ops" {
		t.Fatalf("the invitation's actor is %v", a)
	}

	// An access token acts with its account's role.
	member := newSA(t, admin, "acme", "reader", 300, "member")
	at := token(t, ts.URL, member["id"].(string), member["client_secret"].(string))["access_token"].(string)
	callAT := bearerClient(t, ts, at)
	callAT("GET", "/api/v1/orgs/acme", nil).want(t, 200)
	callAT("GET", "/api/v1/orgs/acme/members", nil).want(t, 403, "forbidden")

	// Another org's credential reaches nothing here.
	admin.do("POST", "/api/v1/orgs", map[string]string{"slug": "other", "name": "Other"}).want(t, 201)
	foreign := newSA(t, admin, "other", "foreign", 300, "admin")
	callF := bearerClient(t, ts, newToken(t, admin, "other", foreign["id"].(string), "private")["token"].(string))
	callF("GET", "/api/v1/orgs/acme", nil).want(t, 404, "not_found")
	callF("GET", "/api/v1/orgs/acme/service-accounts/"+opsID, nil).want(t, 404, "not_found")
	callF("GET", "/api/v1/orgs/other", nil).want(t, 200)

	// A public token works only from its origins, here too.
	pub := newToken(t, admin, "acme", opsID, "public", "https://console.example.com")["token"].(string)
	bearerClient(t, ts, pub, "Origin", "https://console.example.com")("GET", "/api/v1/orgs/acme", nil).want(t, 200)
	bearerClient(t, ts, pub, "Origin", "https://evil.example.com")("GET", "/api/v1/orgs/acme", nil).want(t, 403, "forbidden")
	bearerClient(t, ts, pub)("GET", "/api/v1/orgs/acme/members", nil).want(t, 403, "forbidden") // viewer, and no origin

	// Refused credentials.
	bearerClient(t, ts, "tgp_nope")("GET", "/api/v1/orgs/acme", nil).want(t, 401, "unauthenticated")
	admin.do("DELETE", "/api/v1/orgs/acme/tokens/"+apiToken["id"].(string), nil).want(t, 204)
	call("GET", "/api/v1/orgs/acme", nil).want(t, 401, "unauthenticated")
	newClient(t, ts.URL).do("GET", "/api/v1/orgs/acme", nil, "Authorization", "Basic Zm9vOmJhcg==").want(t, 401, "unauthenticated")
}

// TestAdminAPICORSForPublicTokens: a browser page on a listed origin can
// use a public token against Tollgate's own API: the preflight gets the
// exact origin, the answer carries it, and CSRF protection does not stand
// in the way of a header credential. Other origins get nothing.
func TestAdminAPICORSForPublicTokens(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	admin := loggedIn(t, ts)
	sa := newSA(t, admin, "acme", "browser", 300, "member")["id"].(string)
	pub := newToken(t, admin, "acme", sa, "public", "https://console.example.com")["token"].(string)

	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", ts.URL+"/api/v1/orgs/acme", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := preflight("https://console.example.com"); r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://console.example.com" ||
		r.Header.Get("Access-Control-Allow-Headers") != "authorization" {
		t.Fatalf("preflight from the listed origin: %d %v", r.StatusCode, r.Header)
	}
	if r := preflight("https://evil.example.com"); r.StatusCode != 403 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin: %d %v", r.StatusCode, r.Header)
	}
	r := bearerClient(t, ts, pub, "Origin", "https://console.example.com", "Sec-Fetch-Site", "cross-site")("GET", "/api/v1/orgs/acme", nil).want(t, 200)
	if r.Header.Get("Access-Control-Allow-Origin") != "https://console.example.com" {
		t.Fatalf("answer without the CORS origin: %v", r.Header)
	}
	// A cross-site write authenticated by a header credential is not CSRF.
	ops := newSA(t, admin, "acme", "ops", 300, "admin")["id"].(string)
	priv := newToken(t, admin, "acme", ops, "private")["token"].(string)
	bearerClient(t, ts, priv, "Origin", "https://tools.example.com", "Sec-Fetch-Site", "cross-site")("POST", "/api/v1/orgs/acme/invitations",
		map[string]string{"email": "y@example.com", "role": "viewer"}).want(t, 201)
	// A cross-site unsafe request with a cookie is still refused (CSRF).
	admin.do("POST", "/api/v1/orgs/acme/invitations", map[string]string{"email": "x@example.com", "role": "viewer"},
		"Origin", "https://evil.example.com", "Sec-Fetch-Site", "cross-site").want(t, 403, "forbidden")
}

// TestDemotedOwnerDemotesTokens: a credential's role is at most its
// owner's current role. A private token of an admin service account, and a
// legacy token of an admin user, act as admin until their owner becomes
// viewer; from then on /check says viewer and the admin API refuses what
// needs admin, at once; promoted again, they get their own role back.
func TestDemotedOwnerDemotesTokens(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			ts := startServer(t, db(t), nil)
			admin := newClient(t, ts.URL)
			admin.signIn("admin@example.com", adminPassword)
			sa := newSA(t, admin, "acme", "ops", 3600, "admin")
			saToken := newToken(t, admin, "acme", sa["id"].(string), "private")["token"].(string)
			_, bobID := invite(t, ts, admin, "acme", "bob@example.com", "admin")
			legacy := "legacy-token-of-bob-0000000001"
			admin.do("POST", "/api/v1/orgs/acme/tokens/import", map[string]any{"name": "old", "owner_user_id": bobID, "token": legacy, "kind": "private"}).want(t, 201)

			role := func(tok string) string {
				t.Helper()
				resp := check(t, ts.URL, "GET", tok)
				wantCheck(t, resp, 200)
				return resp.Header.Get("X-Tollgate-Role")
			}
			members := func(tok string) int {
				t.Helper()
				return bearerClient(t, ts, tok)("GET", "/api/v1/orgs/acme/members", nil).Status
			}
			for _, tok := range []string{saToken, legacy} {
				if r, st := role(tok), members(tok); r != "admin" || st != 200 {
					t.Fatalf("before: role %s, members %d", r, st)
				}
			}
			admin.do("PATCH", "/api/v1/orgs/acme/service-accounts/"+sa["id"].(string), map[string]string{"role": "viewer"}).want(t, 200)
			admin.do("PATCH", "/api/v1/orgs/acme/members/"+bobID, map[string]string{"role": "viewer"}).want(t, 200)
			for _, tok := range []string{saToken, legacy} {
				if r, st := role(tok), members(tok); r != "viewer" || st != 403 {
					t.Fatalf("after the owner became viewer: role %s, members %d", r, st)
				}
			}
			admin.do("PATCH", "/api/v1/orgs/acme/service-accounts/"+sa["id"].(string), map[string]string{"role": "admin"}).want(t, 200)
			admin.do("PATCH", "/api/v1/orgs/acme/members/"+bobID, map[string]string{"role": "super_admin"}).want(t, 200)
			for _, tok := range []string{saToken, legacy} {
				if r := role(tok); r != "admin" { // never super_admin
					t.Fatalf("promoted again: role %s", r)
				}
			}
		})
	}
}
