package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/tollgate/tollgate/verify"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// oauthCall posts a form to an OAuth endpoint, authenticating with HTTP
// Basic when basic is set and in the body otherwise (no credentials when
// id is empty).
func oauthCall(t *testing.T, base, path, id, secret string, basic bool, form url.Values) (int, map[string]any, http.Header) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if id != "" && !basic {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" && basic {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	validate(t, req, &response{Status: resp.StatusCode, Header: resp.Header, Body: b})
	var m map[string]any
	json.Unmarshal(b, &m)
	if resp.StatusCode >= 500 {
		t.Fatalf("%s answered %d: %s", path, resp.StatusCode, b)
	}
	return resp.StatusCode, m, resp.Header
}

// token gets an access token with client_secret_post and fails the test on
// an error.
func token(t *testing.T, base, id, secret string) map[string]any {
	t.Helper()
	status, m, _ := oauthCall(t, base, "/oauth2/token", id, secret, false, url.Values{"grant_type": {"client_credentials"}})
	if status != 200 {
		t.Fatalf("token: %d %v", status, m)
	}
	return m
}

func introspect(t *testing.T, base, id, secret, tok string) map[string]any {
	t.Helper()
	status, m, _ := oauthCall(t, base, "/oauth2/introspect", id, secret, true, url.Values{"token": {tok}})
	if status != 200 {
		t.Fatalf("introspect: %d %v", status, m)
	}
	return m
}

// withSA starts a server, signs the admin in and creates a service account.
func withSA(t *testing.T, ttl int, role string) (*testServer, *client, string, string) {
	t.Helper()
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	admin := newClient(t, ts.URL)
	admin.signIn("admin@example.com", adminPassword)
	sa := newSA(t, admin, "acme", "robot", ttl, role)
	return ts, admin, sa["id"].(string), sa["client_secret"].(string)
}

// TestStockClientGetsAVerifiableToken uses golang.org/x/oauth2's
// clientcredentials with both client authentication methods, then checks
// the JWT with go-jose, independently of the JOSE library that signed it.
func TestStockClientGetsAVerifiableToken(t *testing.T) {
	ts, _, id, secret := withSA(t, 3600, "member")
	var tokens []string
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: ts.URL + "/oauth2/token", AuthStyle: style}
		tok, err := cfg.Token(context.Background())
		if err != nil {
			t.Fatalf("auth style %v: %v", style, err)
		}
		if tok.TokenType != "Bearer" || tok.Expiry.Before(time.Now().Add(59*time.Minute)) || tok.Extra("service_account") == nil {
			t.Fatalf("token %+v", tok)
		}
		tokens = append(tokens, tok.AccessToken)
	}
	if tokens[0] != tokens[1] {
		t.Fatal("the two authentication methods got different tokens: the token was not reused")
	}

	resp, err := http.Get(ts.URL + "/oauth2/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	sig, err := jose.ParseSignedCompact(tokens[0], []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	h := sig.Signatures[0].Header
	if h.Algorithm != "EdDSA" || h.ExtraHeaders["typ"] != "at+jwt" || len(set.Key(h.KeyID)) != 1 {
		t.Fatalf("header %+v not matched by the JWKS", h)
	}
	payload, err := sig.Verify(set.Key(h.KeyID)[0].Key)
	if err != nil {
		t.Fatalf("the JWT does not verify against /oauth2/jwks: %v", err)
	}
	var cl map[string]any
	json.Unmarshal(payload, &cl)
	if cl["iss"] != ts.URL || cl["aud"] != ts.URL || cl["sub"] != id || cl["client_id"] != id || cl["role"] != "member" ||
		cl["org_id"] == nil || cl["jti"] == nil || cl["exp"].(float64)-cl["iat"].(float64) != 3600 {
		t.Fatalf("claims %v", cl)
	}
	if d := time.Since(time.Unix(int64(cl["iat"].(float64)), 0)); d < -time.Second || d > time.Minute {
		t.Fatalf("iat is %v away from now", d)
	}

	md := newClient(t, ts.URL).do("GET", "/.well-known/oauth-authorization-server", nil).want(t, 200).JSON()
	if md["issuer"] != ts.URL || md["token_endpoint"] != ts.URL+"/oauth2/token" || md["jwks_uri"] != ts.URL+"/oauth2/jwks" ||
		md["introspection_endpoint"] != ts.URL+"/oauth2/introspect" || md["revocation_endpoint"] != ts.URL+"/oauth2/revoke" ||
		fmt.Sprint(md["grant_types_supported"]) != "[client_credentials urn:ietf:params:oauth:grant-type:token-exchange urn:ietf:params:oauth:grant-type:jwt-bearer urn:ietf:params:oauth:grant-type:device_code]" ||
		md["device_authorization_endpoint"] != ts.URL+"/oauth2/device_authorization" ||
		fmt.Sprint(md["token_endpoint_auth_methods_supported"]) != "[client_secret_basic client_secret_post private_key_jwt]" ||
		fmt.Sprint(md["token_endpoint_auth_signing_alg_values_supported"]) != "[EdDSA Ed25519 ES256 RS256 PS256]" ||
		fmt.Sprint(md["dpop_signing_alg_values_supported"]) != "[EdDSA Ed25519 ES256 RS256 PS256]" {
		t.Fatalf("metadata %v", md)
	}
	// The same document is served where OpenID clients and meshes look.
	if oidc := newClient(t, ts.URL).do("GET", "/.well-known/openid-configuration", nil).want(t, 200).JSON(); fmt.Sprint(oidc) != fmt.Sprint(md) {
		t.Fatalf("openid-configuration %v differs from %v", oidc, md)
	}
}

// distinct requests a token n times from goroutines spread over the given
// servers and returns the distinct access tokens seen.
func distinct(t *testing.T, bases []string, id, secret string, n int) map[string]bool {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			status, m, _ := oauthCall(t, bases[i%len(bases)], "/oauth2/token", id, secret, i%2 == 0, url.Values{"grant_type": {"client_credentials"}})
			if status != 200 {
				t.Errorf("request %d: %d %v", i, status, m)
				return
			}
			mu.Lock()
			seen[m["access_token"].(string)] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	return seen
}

func countIssued(t *testing.T, admin *client, id string) int {
	t.Helper()
	evs := admin.do("GET", "/api/v1/orgs/acme/audit-events?action=access_token.issued&actor_id="+id+"&limit=200", nil).want(t, 200).JSON()
	return len(evs["items"].([]any))
}

// TestTokenReuse: sequential requests, 64 concurrent ones, and requests
// after a restart all get one token, minted (and audited) once.
func TestTokenReuse(t *testing.T) {
	// One public URL across the restart, as a deployment has: a token is
	// reused only by the issuer it names.
	env := map[string]string{"TOLLGATE_ISSUER": "http://tollgate.test"}
	ts := startServer(t, databases(t)["sqlite"](t), env)
	admin := loggedIn(t, ts)
	acct := newSA(t, admin, "acme", "robot", 600, "viewer")
	id, secret := acct["id"].(string), acct["client_secret"].(string)
	seen := distinct(t, []string{ts.URL}, id, secret, 64)
	if len(seen) != 1 {
		t.Fatalf("64 concurrent requests got %d tokens", len(seen))
	}
	first := token(t, ts.URL, id, secret)
	if !seen[first["access_token"].(string)] {
		t.Fatal("a later request got another token")
	}
	last := first["expires_in"].(float64)
	if last > 600 || last < 590 {
		t.Fatalf("expires_in %v for a 600 s token", last)
	}
	time.Sleep(1100 * time.Millisecond)
	again := token(t, ts.URL, id, secret)
	if again["access_token"] != first["access_token"] || again["expires_in"].(float64) >= last {
		t.Fatalf("second request: expires_in %v after %v, same token %v", again["expires_in"], last, again["access_token"] == first["access_token"])
	}
	if n := countIssued(t, admin, id); n != 1 {
		t.Fatalf("%d access_token.issued events, want 1", n)
	}
	metrics := newClient(t, ts.URL).do("GET", "/metrics", nil).want(t, 200)
	if !strings.Contains(string(metrics.Body), "tollgate_access_tokens_issued_total 1\n") ||
		!strings.Contains(string(metrics.Body), "tollgate_access_tokens_reused_total 65\n") {
		t.Fatalf("metrics do not count one mint and 65 reuses:\n%s", grepLines(string(metrics.Body), "tollgate_access_tokens"))
	}

	if err := ts.stop(); err != nil {
		t.Fatal(err)
	}
	ts2 := startServer(t, ts.DB, env)
	if after := token(t, ts2.URL, id, secret); after["access_token"] != first["access_token"] {
		t.Fatal("the token changed across a restart")
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestTokenReuseAcrossReplicas runs two server processes on one PostgreSQL
// database and sends 64 concurrent requests split between them: one token.
func TestTokenReuseAcrossReplicas(t *testing.T) {
	db := databases(t)["postgres"](t)
	// Replicas share the key file and the public URL, as behind a load balancer.
	env := map[string]string{"TOLLGATE_KEY_FILE": newKeyFile(t), "TOLLGATE_ISSUER": "http://tollgate.test"}
	a := startProcess(t, db, env)
	b := startProcess(t, db, env)
	admin := newClient(t, a.URL)
	admin.signIn("admin@example.com", adminPassword)
	sa := newSA(t, admin, "acme", "replicated", 900, "viewer")
	id, secret := sa["id"].(string), sa["client_secret"].(string)
	seen := distinct(t, []string{a.URL, b.URL}, id, secret, 64)
	if len(seen) != 1 {
		t.Fatalf("two replicas minted %d tokens", len(seen))
	}
	if n := countIssued(t, admin, id); n != 1 {
		t.Fatalf("%d access_token.issued events, want 1", n)
	}
	// Both publish the same key, and each introspects the other's token.
	ja := newClient(t, a.URL).do("GET", "/oauth2/jwks", nil).want(t, 200).Body
	jb := newClient(t, b.URL).do("GET", "/oauth2/jwks", nil).want(t, 200).Body
	if string(ja) != string(jb) {
		t.Fatal("the replicas publish different keys")
	}
	for tok := range seen {
		if got := introspect(t, b.URL, id, secret, tok); got["active"] != true {
			t.Fatalf("replica b: %v", got)
		}
	}
}

// TestReuseFloor checks T2a: with a floor as long as the lifetime every
// request mints; with no floor the token is reused.
func TestReuseFloor(t *testing.T) {
	ts, admin, id, secret := withSA(t, 300, "viewer")
	admin.do("PATCH", "/api/v1/orgs/acme", map[string]any{"settings": map[string]any{"token_reuse_floor_seconds": 300}}).want(t, 200)
	a, b := token(t, ts.URL, id, secret), token(t, ts.URL, id, secret)
	if a["access_token"] == b["access_token"] {
		t.Fatal("a token with less time left than the floor was handed out again")
	}
	admin.do("PATCH", "/api/v1/orgs/acme", map[string]any{"settings": map[string]any{"token_reuse_floor_seconds": 0}}).want(t, 200)
	c, d := token(t, ts.URL, id, secret), token(t, ts.URL, id, secret)
	if c["access_token"] != d["access_token"] {
		t.Fatal("without a floor the token was not reused")
	}
}

// TestTokenEndpointErrors checks RFC 6749 §5.2 answers; never a 500.
func TestTokenEndpointErrors(t *testing.T) {
	ts, _, id, secret := withSA(t, 300, "member")
	cc := url.Values{"grant_type": {"client_credentials"}}
	tampered := secret[:len(secret)-1] + map[bool]string{true: "b", false: "a"}[strings.HasSuffix(secret, "a")]
	cases := []struct {
		name         string
		id, secret   string
		basic        bool
		form         url.Values
		status       int
		code         string
		wwwAuthenite bool
	}{
		{"no grant_type", id, secret, false, url.Values{}, 400, "invalid_request", false},
		{"password grant", id, secret, false, url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type", false},
		{"repeated grant_type", id, secret, false, url.Values{"grant_type": {"client_credentials", "client_credentials"}}, 400, "invalid_request", false},
		{"no credentials", "", "", false, cc, 401, "invalid_client", false},
		{"wrong secret (basic)", id, "tgs_" + strings.Repeat("0", 49), true, cc, 401, "invalid_client", true},
		{"checksum typo (basic)", id, tampered, true, cc, 401, "invalid_client", true},
		{"checksum typo (post)", id, tampered, false, cc, 401, "invalid_client", false},
		{"unknown client", "sa_06h0000000000000000000000", secret, false, cc, 401, "invalid_client", false},
		{"another scope", id, secret, false, url.Values{"grant_type": {"client_credentials"}, "scope": {"admin"}}, 400, "invalid_scope", false},
		{"two scopes", id, secret, false, url.Values{"grant_type": {"client_credentials"}, "scope": {"member admin"}}, 400, "invalid_scope", false},
		{"its role as scope", id, secret, false, url.Values{"grant_type": {"client_credentials"}, "scope": {"member"}}, 200, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, m, h := oauthCall(t, ts.URL, "/oauth2/token", tc.id, tc.secret, tc.basic, tc.form)
			if status != tc.status || (tc.code != "" && m["error"] != tc.code) {
				t.Fatalf("%d %v, want %d %s", status, m, tc.status, tc.code)
			}
			if tc.code != "" && m["error_description"] == "" {
				t.Fatal("no error_description")
			}
			if got := h.Get("WWW-Authenticate") != ""; got != tc.wwwAuthenite {
				t.Fatalf("WWW-Authenticate present = %v", got)
			}
			if h.Get("Cache-Control") != "no-store" {
				t.Fatal("no Cache-Control: no-store")
			}
		})
	}
	// Both methods at once, and secrets in the URL, are refused.
	form := url.Values{"grant_type": {"client_credentials"}, "client_secret": {secret}}
	if status, m, _ := oauthCall(t, ts.URL, "/oauth2/token", id, secret, true, form); status != 400 || m["error"] != "invalid_request" {
		t.Fatalf("basic and post together: %d %v", status, m)
	}
	if status, m, _ := oauthCall(t, ts.URL, "/oauth2/token?client_secret="+secret, id, secret, false, cc); status != 400 || m["error"] != "invalid_request" {
		t.Fatalf("secret in the URL: %d %v", status, m)
	}
	resp, err := http.Post(ts.URL+"/oauth2/token", "application/json", strings.NewReader(`{"grant_type":"client_credentials"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("a JSON body answered %d", resp.StatusCode)
	}
}

// TestAccountChangesAffectTokens checks disable, enable, rotation, role
// change and deletion against tokens already issued.
func TestAccountChangesAffectTokens(t *testing.T) {
	ts, admin, id, secret := withSA(t, 3600, "member")
	watcher := newSA(t, admin, "acme", "watcher", 300, "viewer")
	wid, wsecret := watcher["id"].(string), watcher["client_secret"].(string)
	path := "/api/v1/orgs/acme/service-accounts/" + id
	t1 := token(t, ts.URL, id, secret)["access_token"].(string)
	if introspect(t, ts.URL, wid, wsecret, t1)["active"] != true {
		t.Fatal("fresh token inactive")
	}

	// Role change: the token stays valid, introspection reports the new
	// role, and the next request mints a token carrying it.
	admin.do("PATCH", path, map[string]any{"role": "viewer"}).want(t, 200)
	if got := introspect(t, ts.URL, wid, wsecret, t1); got["active"] != true || got["role"] != "viewer" {
		t.Fatalf("after role change: %v", got)
	}
	t2 := token(t, ts.URL, id, secret)
	if t2["access_token"] == t1 || t2["scope"] != "viewer" {
		t.Fatalf("after role change the token was reused: %v", t2)
	}

	// Disable: tokens inactive at once, the secret refused.
	admin.do("POST", path+"/disable", nil).want(t, 200)
	if introspect(t, ts.URL, wid, wsecret, t2["access_token"].(string))["active"] != false {
		t.Fatal("a disabled account's token is active")
	}
	if status, m, _ := oauthCall(t, ts.URL, "/oauth2/token", id, secret, false, url.Values{"grant_type": {"client_credentials"}}); status != 401 || m["error"] != "invalid_client" {
		t.Fatalf("token while disabled: %d %v", status, m)
	}
	// Enable: old tokens stay dead; a new one is minted.
	admin.do("POST", path+"/enable", nil).want(t, 200)
	if introspect(t, ts.URL, wid, wsecret, t2["access_token"].(string))["active"] != false {
		t.Fatal("enabling brought a token back")
	}
	t3 := token(t, ts.URL, id, secret)["access_token"].(string)
	if t3 == t2["access_token"] || introspect(t, ts.URL, wid, wsecret, t3)["active"] != true {
		t.Fatal("after enabling no fresh, active token")
	}

	// Rotation with a grace period: both secrets work, the token issued
	// before is not handed out again but stays valid.
	rot := admin.do("POST", path+"/secrets", map[string]any{"grace_period_seconds": 60}).want(t, 201).JSON()
	newSecret := rot["client_secret"].(string)
	t4 := token(t, ts.URL, id, newSecret)["access_token"].(string)
	if t4 == t3 || token(t, ts.URL, id, secret)["access_token"] != t4 {
		t.Fatal("after rotation: old token reused, or the secrets got different tokens")
	}
	if introspect(t, ts.URL, wid, wsecret, t3)["active"] != true {
		t.Fatal("rotation killed a token issued before it")
	}
	// Rotation without grace: the previous secret stops at once.
	rot2 := admin.do("POST", path+"/secrets", map[string]any{"grace_period_seconds": 0}).want(t, 201).JSON()
	if status, _, _ := oauthCall(t, ts.URL, "/oauth2/token", id, newSecret, true, url.Values{"grant_type": {"client_credentials"}}); status != 401 {
		t.Fatal("a secret rotated out without grace still works")
	}
	if status, _, _ := oauthCall(t, ts.URL, "/oauth2/token", id, secret, true, url.Values{"grant_type": {"client_credentials"}}); status != 401 {
		t.Fatal("a third secret back still works: more than two live secrets")
	}
	token(t, ts.URL, id, rot2["client_secret"].(string))

	// Delete: everything stops at once.
	admin.do("DELETE", path, nil).want(t, 204)
	if introspect(t, ts.URL, wid, wsecret, t4)["active"] != false {
		t.Fatal("a deleted account's token is active")
	}
	if status, _, _ := oauthCall(t, ts.URL, "/oauth2/token", id, rot2["client_secret"].(string), false, url.Values{"grant_type": {"client_credentials"}}); status != 401 {
		t.Fatal("a deleted account got a token")
	}
}

// TestIntrospectionAndRevocation checks RFC 7662 and RFC 7009 behaviour,
// including another org's caller.
func TestIntrospectionAndRevocation(t *testing.T) {
	ts, admin, id, secret := withSA(t, 3600, "member")
	peer := newSA(t, admin, "acme", "peer", 300, "viewer")
	pid, psecret := peer["id"].(string), peer["client_secret"].(string)
	admin.do("POST", "/api/v1/orgs", map[string]string{"slug": "other", "name": "Other"}).want(t, 201)
	stranger := newSA(t, admin, "other", "stranger", 300, "admin")
	sid, ssecret := stranger["id"].(string), stranger["client_secret"].(string)
	tok := token(t, ts.URL, id, secret)["access_token"].(string)

	got := introspect(t, ts.URL, pid, psecret, tok)
	if got["active"] != true || got["sub"] != id || got["client_id"] != id || got["token_type"] != "Bearer" || got["iss"] != ts.URL || got["scope"] != "member" {
		t.Fatalf("same-org introspection: %v", got)
	}
	if got := introspect(t, ts.URL, sid, ssecret, tok); len(got) != 1 || got["active"] != false {
		t.Fatalf("another org's caller sees %v, want only active:false", got)
	}
	for _, bad := range []string{"garbage", tok[:len(tok)-2] + "xx", strings.Replace(tok, ".", "", 1), ""} {
		if bad == "" {
			continue
		}
		if got := introspect(t, ts.URL, pid, psecret, bad); got["active"] != false {
			t.Fatalf("introspecting %q: %v", bad, got)
		}
	}
	if status, m, h := oauthCall(t, ts.URL, "/oauth2/introspect", pid, "tgs_wrong", true, url.Values{"token": {tok}}); status != 401 || m["error"] != "invalid_client" || h.Get("WWW-Authenticate") == "" {
		t.Fatalf("introspection with bad credentials: %d %v", status, m)
	}
	if status, m, _ := oauthCall(t, ts.URL, "/oauth2/introspect", pid, psecret, true, nil); status != 400 || m["error"] != "invalid_request" {
		t.Fatalf("introspection without a token: %d %v", status, m)
	}

	// Only the owner can revoke; others get 200 and no effect.
	if status, _, _ := oauthCall(t, ts.URL, "/oauth2/revoke", pid, psecret, false, url.Values{"token": {tok}}); status != 200 {
		t.Fatal("revocation by a peer was not answered 200")
	}
	if introspect(t, ts.URL, pid, psecret, tok)["active"] != true {
		t.Fatal("a peer revoked another account's token")
	}
	if status, _, _ := oauthCall(t, ts.URL, "/oauth2/revoke", id, secret, true, url.Values{"token": {tok}, "token_type_hint": {"access_token"}}); status != 200 {
		t.Fatal("revocation failed")
	}
	if introspect(t, ts.URL, pid, psecret, tok)["active"] != false {
		t.Fatal("a revoked token is active")
	}
	if next := token(t, ts.URL, id, secret)["access_token"]; next == tok {
		t.Fatal("a revoked token was handed out again")
	}
	if status, _, _ := oauthCall(t, ts.URL, "/oauth2/revoke", id, secret, true, url.Values{"token": {"not-a-token"}}); status != 200 {
		t.Fatal("revoking an unknown token is not 200")
	}
	evs := admin.do("GET", "/api/v1/orgs/acme/audit-events?action=access_token.revoked", nil).want(t, 200).JSON()["items"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["actor"].(map[string]any)["id"] != id {
		t.Fatalf("revocation audit: %v", evs)
	}
}

// TestKeyRotationCommand rotates the signing key with the CLI: after it,
// new tokens are signed with the new key, the JWKS publishes both, and a
// token signed by the retired key still introspects active. (A running
// replica picks the new key up within a minute, or at once on sight of an
// unknown kid: see the keys package tests.)
func TestKeyRotationCommand(t *testing.T) {
	env := map[string]string{"TOLLGATE_ISSUER": "http://tollgate.test"} // stable across the restart
	ts := startServer(t, databases(t)["sqlite"](t), env)
	admin := loggedIn(t, ts)
	sa := newSA(t, admin, "acme", "robot", 300, "viewer")
	id, secret := sa["id"].(string), sa["client_secret"].(string)
	peer := newSA(t, admin, "acme", "peer", 300, "viewer")
	old := token(t, ts.URL, id, secret)["access_token"].(string)
	if err := ts.stop(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"keys", "rotate", "--db", ts.DB}, func(string) string { return "" }, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "rotated: new signing key key_") {
		t.Fatalf("keys rotate printed %q", out.String())
	}
	ts2 := startServer(t, ts.DB, env)
	var set jose.JSONWebKeySet
	json.Unmarshal(newClient(t, ts2.URL).do("GET", "/oauth2/jwks", nil).Body, &set)
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS has %d keys after rotation, want the new and the retired one", len(set.Keys))
	}
	fresh := newSA(t, loggedIn(t, ts2), "acme", "fresh", 300, "viewer")
	tok := token(t, ts2.URL, fresh["id"].(string), fresh["client_secret"].(string))["access_token"].(string)
	if kidOf(t, tok) == kidOf(t, old) || kidOf(t, tok) != strings.TrimPrefix(strings.TrimSpace(out.String()), "rotated: new signing key ") {
		t.Fatal("new tokens are not signed with the new key")
	}
	if introspect(t, ts2.URL, peer["id"].(string), peer["client_secret"].(string), old)["active"] != true {
		t.Fatal("a token signed by the retired key is no longer active")
	}
}

func loggedIn(t *testing.T, ts *testServer) *client {
	c := newClient(t, ts.URL)
	c.signIn("admin@example.com", adminPassword)
	return c
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	sig, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	return sig.Signatures[0].Header.KeyID
}

// TestVerifyPackageAgainstTollgate puts the verify middleware in front of a
// resource server and calls it with a token from the real Tollgate.
func TestVerifyPackageAgainstTollgate(t *testing.T) {
	ts, _, id, secret := withSA(t, 300, "member")
	v, err := verify.New(verify.Config{Issuer: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	rs := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, _ := verify.FromContext(r.Context())
		fmt.Fprintf(w, "%s %t %s", who.ServiceAccountID, who.OrgID != "", who.Role)
	})))
	defer rs.Close()
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: ts.URL + "/oauth2/token"}
	resp, err := cc.Client(context.Background()).Get(rs.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != id+" true member" {
		t.Fatalf("resource server answered %d %s", resp.StatusCode, body)
	}
	other, _ := verify.New(verify.Config{Issuer: ts.URL, Audience: "https://another-api.example"})
	tok := token(t, ts.URL, id, secret)["access_token"].(string)
	if _, err := other.Verify(context.Background(), tok); !errors.Is(err, verify.ErrInvalidToken) {
		t.Fatalf("a token for another audience verified: %v", err)
	}
}

// TestNothingStoredInPlainText reads the raw SQLite files (database and
// write-ahead log) after creating an account, rotating its secret and
// minting a token: no client secret and no access token is in them (C1,
// T3), nor in the server's log (C4).
func TestNothingStoredInPlainText(t *testing.T) {
	ts, admin, id, secret := withSA(t, 300, "viewer")
	rotated := admin.do("POST", "/api/v1/orgs/acme/service-accounts/"+id+"/secrets", map[string]any{"grace_period_seconds": 60}).want(t, 201).JSON()["client_secret"].(string)
	tok := token(t, ts.URL, id, rotated)["access_token"].(string)
	payload := tok[strings.Index(tok, ".")+1 : strings.LastIndex(tok, ".")]
	signature := tok[strings.LastIndex(tok, ".")+1:]
	var raw []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(ts.DB + suffix)
		if err != nil && suffix == "" {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	if len(raw) < 4096 {
		t.Fatal("read nothing of the database")
	}
	for name, s := range map[string]string{"first secret": secret, "rotated secret": rotated, "token payload": payload, "token signature": signature,
		"secret body": secret[4:], "admin password": adminPassword} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the %s is stored in plain text", name)
		}
		if strings.Contains(ts.stderr.String(), s) {
			t.Errorf("the %s is in the server log", name)
		}
	}
	if !bytes.Contains(raw, []byte(id)) {
		t.Fatal("sanity: the account ID should be readable in the file")
	}
}
