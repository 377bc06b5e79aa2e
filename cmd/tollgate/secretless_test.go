package main

import (
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/tollgate/tollgate/internal/josetest"
	"github.com/tollgate/tollgate/oauth"
	"github.com/tollgate/tollgate/store/sqlite"
	"github.com/tollgate/tollgate/verify"
)

// formPost posts form to an OAuth endpoint with extra headers (name,
// value pairs), validates the answer against the OpenAPI document and
// returns it.
func formPost(t *testing.T, base, path string, form url.Values, headers ...string) *response {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	validate(t, req, r)
	if r.Status >= 500 {
		t.Fatalf("%s answered %s", path, r)
	}
	return r
}

// wantOAuth fails unless r has the status and, for an error, the OAuth
// error code and a description containing desc.
func (r *response) wantOAuth(t *testing.T, status int, code oauth.Code, desc string) map[string]any {
	t.Helper()
	m := r.JSON()
	if r.Status != status || (code != "" && m["error"] != string(code)) || !strings.Contains(fmtAny(m["error_description"]), desc) {
		t.Fatalf("answered %s, want %d %s saying %q", r, status, code, desc)
	}
	return m
}

func fmtAny(v any) string {
	s, _ := v.(string)
	return s
}

// assertionForm is a client credentials request authenticated with a
// client assertion.
func assertionForm(assertion string, extra ...string) url.Values {
	f := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {oauth.AssertionTypeJWT}, "client_assertion": {assertion}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

// addKey registers a public key (a JWK object or a PEM string) for an account.
func addKey(t *testing.T, admin *client, sa string, key any) map[string]any {
	t.Helper()
	return admin.do("POST", "/api/v1/orgs/acme/service-accounts/"+sa+"/keys", map[string]any{"public_key": key}).want(t, 201).JSON()
}

// TestPrivateKeyJWT checks K1 end to end, with a Go client that signs its
// assertions with go-jose: keys through the admin API, every claim rule
// at its boundary, single-use jtis, reuse (T2), introspection and
// revocation, the audit event and the key's last use.
func TestPrivateKeyJWT(t *testing.T) {
	ts, admin, sa, _ := withSA(t, 600, "member")
	tokenURL := ts.URL + "/oauth2/token"
	ed := josetest.NewKey("EdDSA", "ci-key", 0)
	es := josetest.NewKey("ES256", "", 0)
	ps := josetest.NewKey("PS256", "rsa-pss", 0)
	var edJWK map[string]any
	json.Unmarshal(ed.PublicJWK(), &edJWK)
	k := addKey(t, admin, sa, edJWK)
	if k["kid"] != "ci-key" || k["alg"] != "EdDSA" || k["thumbprint"] != ed.Thumbprint() || k["last_used_at"] != nil {
		t.Fatalf("registered key %v", k)
	}
	der, _ := x509.MarshalPKIXPublicKey(es.Private.Public())
	pemKey := addKey(t, admin, sa, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	if pemKey["kid"] != es.Thumbprint() || pemKey["alg"] != "ES256" {
		t.Fatalf("PEM key %v", pemKey)
	}
	addKey(t, admin, sa, string(ps.PublicJWK()))

	// Refusals of keys: 422 naming the rule, nothing stored.
	for name, key := range map[string]any{
		"private":    string(ed.PrivateJWK()),
		"weak RSA":   string(josetest.NewKey("RS256", "w", 1024).PublicJWK()),
		"symmetric":  map[string]any{"kty": "oct", "k": "c2VjcmV0c2VjcmV0"},
		"not a key":  "hello",
		"P-384":      string(josetest.NewKey("ES384", "", 0).PublicJWK()),
		"missing":    nil,
		"same again": edJWK,
	} {
		want, code := 422, "invalid"
		if name == "same again" {
			want, code = 409, "conflict"
		}
		if r := admin.do("POST", "/api/v1/orgs/acme/service-accounts/"+sa+"/keys", map[string]any{"public_key": key}); r.Status != want || r.JSON()["code"] != code {
			t.Errorf("%s key: %s", name, r)
		}
	}
	if n := len(admin.do("GET", "/api/v1/orgs/acme/service-accounts/"+sa+"/keys", nil).want(t, 200).JSON()["items"].([]any)); n != 3 {
		t.Fatalf("%d keys listed, want 3", n)
	}

	// Each algorithm gets a token; the account's current token is reused.
	now := time.Now()
	first := formPost(t, ts.URL, "/oauth2/token", assertionForm(ed.Assertion(sa, tokenURL, now, time.Minute, nil))).wantOAuth(t, 200, "", "")
	for _, key := range []*josetest.Key{es, ps} {
		got := formPost(t, ts.URL, "/oauth2/token", assertionForm(key.Assertion(sa, ts.URL, now, time.Minute, nil), "client_id", sa)).wantOAuth(t, 200, "", "")
		if got["access_token"] != first["access_token"] {
			t.Fatalf("%s: a second token while the first is valid (T2)", key.Alg)
		}
	}

	// Every rule of K1, at its boundary.
	other := newSA(t, admin, "acme", "other", 600, "viewer")["id"].(string)
	stranger := josetest.NewKey("EdDSA", "ci-key", 0) // the same kid, another key
	replayed := ed.Assertion(sa, tokenURL, now, time.Minute, nil)
	formPost(t, ts.URL, "/oauth2/token", assertionForm(replayed)).wantOAuth(t, 200, "", "")
	for _, tc := range []struct {
		name, assertion, desc string
		extra                 []string
	}{
		{"replayed jti", replayed, "jti was used already", nil},
		{"wrong aud", ed.Assertion(sa, "https://elsewhere.example/token", now, time.Minute, nil), "aud", nil},
		{"iss not the client", ed.Assertion(sa, tokenURL, now, time.Minute, map[string]any{"iss": other}), "iss", []string{"client_id", sa}},
		{"sub not the client", ed.Assertion(sa, tokenURL, now, time.Minute, map[string]any{"sub": other}), "sub", nil},
		{"expired", ed.Assertion(sa, tokenURL, now.Add(-2*time.Minute), time.Minute, nil), "expired", nil},
		{"exp too far ahead", ed.Assertion(sa, tokenURL, now, time.Hour, nil), "10m0s", nil},
		{"nbf in the future", ed.Assertion(sa, tokenURL, now, time.Minute, map[string]any{"nbf": now.Add(5 * time.Minute).Unix()}), "nbf", nil},
		{"no jti", ed.Assertion(sa, tokenURL, now, time.Minute, map[string]any{"jti": nil}), "jti", nil},
		{"another key with the same kid", stranger.Assertion(sa, tokenURL, now, time.Minute, nil), "signature", nil},
		{"a key of another account", ed.Assertion(other, tokenURL, now, time.Minute, nil), "signature", nil},
		{"unknown client", ed.Assertion("sa_01J00000000000000000000000", tokenURL, now, time.Minute, nil), "signature", nil},
		{"alg none", josetest.Unsigned(map[string]any{"iss": sa, "sub": sa, "aud": tokenURL, "exp": now.Add(time.Minute).Unix(), "jti": "x"}), `alg "none"`, nil},
		{"HMAC with the public key", josetest.HMAC(ed.PublicJWK(), "ci-key", map[string]any{"iss": sa, "sub": sa, "aud": tokenURL, "exp": now.Add(time.Minute).Unix(), "jti": "y"}), "HS256", nil},
		{"client_id not the iss", ed.Assertion(sa, tokenURL, now, time.Minute, nil), "client_id", []string{"client_id", other}},
	} {
		formPost(t, ts.URL, "/oauth2/token", assertionForm(tc.assertion, tc.extra...)).wantOAuth(t, 401, oauth.CodeInvalidClient, tc.desc)
	}

	// Introspection and revocation authenticate the same way.
	tok := first["access_token"].(string)
	in := formPost(t, ts.URL, "/oauth2/introspect", mergeForm(assertionForm(ed.Assertion(sa, tokenURL, time.Now(), time.Minute, nil)), "token", tok)).wantOAuth(t, 200, "", "")
	if in["active"] != true || in["sub"] != sa {
		t.Fatalf("introspection %v", in)
	}
	formPost(t, ts.URL, "/oauth2/revoke", mergeForm(assertionForm(es.Assertion(sa, ts.URL, time.Now(), time.Minute, nil)), "token", tok)).wantOAuth(t, 200, "", "")
	again := formPost(t, ts.URL, "/oauth2/token", assertionForm(ed.Assertion(sa, tokenURL, time.Now(), time.Minute, nil))).wantOAuth(t, 200, "", "")
	if again["access_token"] == tok {
		t.Fatal("the revoked token was handed out again")
	}

	// The audit log records the method and the key.
	events := admin.do("GET", "/api/v1/orgs/acme/audit-events?action=access_token.issued&target_id=", nil).want(t, 200).JSON()["items"].([]any)
	found := false
	for _, e := range events {
		d := e.(map[string]any)["details"].(map[string]any)
		if d["method"] == "private_key_jwt" && d["credential_id"] == k["id"] {
			found = true
		}
	}
	if !found {
		t.Fatalf("no access_token.issued event with method private_key_jwt and the key: %v", events)
	}

	// Deleting the key refuses its assertions at once; the others still
	// work, and do not get the token the deleted key may have obtained.
	admin.do("DELETE", "/api/v1/orgs/acme/service-accounts/"+sa+"/keys/"+k["id"].(string), nil).want(t, 204)
	formPost(t, ts.URL, "/oauth2/token", assertionForm(ed.Assertion(sa, tokenURL, time.Now(), time.Minute, nil))).wantOAuth(t, 401, oauth.CodeInvalidClient, "signature")
	after := formPost(t, ts.URL, "/oauth2/token", assertionForm(es.Assertion(sa, tokenURL, time.Now(), time.Minute, nil))).wantOAuth(t, 200, "", "")
	if after["access_token"] == again["access_token"] {
		t.Fatal("after a key's deletion, the token it obtained was handed out again")
	}
	admin.do("DELETE", "/api/v1/orgs/acme/service-accounts/"+sa+"/keys/"+k["id"].(string), nil).want(t, 404, "not_found")

	// A disabled account's assertions are refused.
	admin.do("POST", "/api/v1/orgs/acme/service-accounts/"+sa+"/disable", nil).want(t, 200)
	formPost(t, ts.URL, "/oauth2/token", assertionForm(es.Assertion(sa, tokenURL, time.Now(), time.Minute, nil))).wantOAuth(t, 401, oauth.CodeInvalidClient, "disabled")

	// The key's last use is visible within the flush interval (A8's 15 s).
	deadline := time.Now().Add(15 * time.Second)
	for {
		var used any
		for _, item := range admin.do("GET", "/api/v1/orgs/acme/service-accounts/"+sa+"/keys", nil).want(t, 200).JSON()["items"].([]any) {
			if item.(map[string]any)["kid"] == es.Thumbprint() {
				used = item.(map[string]any)["last_used_at"]
			}
		}
		if used != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the key's last use never showed")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func mergeForm(f url.Values, kv ...string) url.Values {
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// TestDPoP checks K3 end to end: require_dpop, binding at the token
// endpoint (cnf.jkt, token_type DPoP, reuse per key), and /check through
// a trusted gateway verifying each proof against the forwarded method and
// URI, once.
func TestDPoP(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), map[string]string{"TOLLGATE_TRUSTED_PROXIES": "127.0.0.1/32"})
	admin := loggedIn(t, ts)
	acct := newSA(t, admin, "acme", "dpop", 600, "member")
	sa, secret := acct["id"].(string), acct["client_secret"].(string)
	if acct["require_dpop"] != false {
		t.Fatalf("require_dpop defaults to %v", acct["require_dpop"])
	}
	plain := token(t, ts.URL, sa, secret)["access_token"].(string)
	wantCheck(t, check(t, ts.URL, "GET", plain), 200) // now cached
	upd := admin.do("PATCH", "/api/v1/orgs/acme/service-accounts/"+sa, map[string]any{"require_dpop": true}).want(t, 200).JSON()
	if upd["require_dpop"] != true {
		t.Fatalf("PATCH %v", upd)
	}
	// Requiring DPoP revoked the Bearer token already out, cached or not.
	wantCheck(t, check(t, ts.URL, "GET", plain), 401)

	tokenURL := ts.URL + "/oauth2/token"
	creds := url.Values{"grant_type": {"client_credentials"}, "client_id": {sa}, "client_secret": {secret}}
	formPost(t, ts.URL, "/oauth2/token", creds).wantOAuth(t, 400, oauth.CodeInvalidDPoPProof, "requires DPoP")

	key := josetest.NewKey("ES256", "", 0)
	now := time.Now()
	bound := formPost(t, ts.URL, "/oauth2/token", creds, "DPoP", key.Proof("POST", tokenURL, "", now, nil)).wantOAuth(t, 200, "", "")
	if bound["token_type"] != "DPoP" {
		t.Fatalf("token_type %v", bound["token_type"])
	}
	tok := bound["access_token"].(string)
	sig, _ := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	var claims struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	json.Unmarshal(sig.UnsafePayloadWithoutVerification(), &claims)
	if claims.Cnf.JKT != key.Thumbprint() {
		t.Fatalf("cnf.jkt %q, want the proof key's thumbprint %q", claims.Cnf.JKT, key.Thumbprint())
	}
	// Reuse is per key: the same key gets the same token, another key another.
	same := formPost(t, ts.URL, "/oauth2/token", creds, "DPoP", key.Proof("POST", tokenURL, "", time.Now(), nil)).wantOAuth(t, 200, "", "")
	if same["access_token"] != tok {
		t.Fatal("the same key got another token")
	}
	key2 := josetest.NewKey("EdDSA", "", 0)
	if other := formPost(t, ts.URL, "/oauth2/token", creds, "DPoP", key2.Proof("POST", tokenURL, "", time.Now(), nil)).wantOAuth(t, 200, "", ""); other["access_token"] == tok {
		t.Fatal("another key got the same token")
	}
	// Proofs at the token endpoint: for this URI and POST, once.
	proof := key.Proof("POST", tokenURL, "", time.Now(), nil)
	formPost(t, ts.URL, "/oauth2/token", creds, "DPoP", proof).wantOAuth(t, 200, "", "")
	formPost(t, ts.URL, "/oauth2/token", creds, "DPoP", proof).wantOAuth(t, 400, oauth.CodeInvalidDPoPProof, "used already")
	formPost(t, ts.URL, "/oauth2/token", creds, "DPoP", key.Proof("GET", tokenURL, "", time.Now(), nil)).wantOAuth(t, 400, oauth.CodeInvalidDPoPProof, "htm")
	formPost(t, ts.URL, "/oauth2/token", creds, "DPoP", key.Proof("POST", "https://elsewhere.example/token", "", time.Now(), nil)).wantOAuth(t, 400, oauth.CodeInvalidDPoPProof, "htu")
	formPost(t, ts.URL, "/oauth2/token", creds, "DPoP", "not-a-proof").wantOAuth(t, 400, oauth.CodeInvalidDPoPProof, "well-formed")

	// Introspection tells the binding (RFC 9449 §6.2).
	in := formPost(t, ts.URL, "/oauth2/introspect", url.Values{"token": {tok}, "client_id": {sa}, "client_secret": {secret}}).wantOAuth(t, 200, "", "")
	if in["active"] != true || in["token_type"] != "DPoP" || in["cnf"].(map[string]any)["jkt"] != key.Thumbprint() {
		t.Fatalf("introspection %v", in)
	}

	// /check behind a gateway that forwards the original method and URI.
	const api = "https://api.example/orders/7"
	gateway := func(proof string, extra ...string) []string {
		h := []string{"X-Forwarded-Method", "DELETE", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "api.example", "X-Forwarded-Uri", "/orders/7?force=1"}
		if proof != "" {
			h = append(h, "DPoP", proof)
		}
		return append(h, extra...)
	}
	dpopCheck := func(auth string, headers []string) *http.Response {
		return checkAuth(t, ts.URL, "GET", auth, headers...)
	}
	good := key.Proof("DELETE", api, tok, time.Now(), nil)
	r := dpopCheck("DPoP "+tok, gateway(good))
	wantCheck(t, r, 200)
	if r.Header.Get("X-Tollgate-Subject") != sa {
		t.Fatalf("identity %v", r.Header)
	}
	// The other family of forwarding headers is not read (--forwarded-target
	// is x-forwarded): a gateway that sets X-Forwarded-* passes a client's
	// X-Original-URL through, so its presence refuses the proof rather
	// than let the client name the URI its proof is checked against.
	spoofed := key.Proof("GET", "https://api.example/reports", tok, time.Now(), nil)
	wantCheck(t, dpopCheck("DPoP "+tok, gateway(spoofed, "X-Original-URL", "https://api.example/reports", "X-Original-Method", "GET")), 401)
	wantCheck(t, dpopCheck("DPoP "+tok, []string{"X-Original-Method", "GET", "X-Original-URL", api, "DPoP", key.Proof("GET", api, tok, time.Now(), nil)}), 401)
	for _, tc := range []struct {
		name, auth string
		headers    []string
	}{
		{"replayed proof", "DPoP " + tok, gateway(good)},
		{"no proof", "DPoP " + tok, gateway("")},
		{"as a plain Bearer", "Bearer " + tok, gateway(key.Proof("DELETE", api, tok, time.Now(), nil))},
		{"proof for another method", "DPoP " + tok, gateway(key.Proof("GET", api, tok, time.Now(), nil))},
		{"proof for another URI", "DPoP " + tok, gateway(key.Proof("DELETE", "https://api.example/orders/8", tok, time.Now(), nil))},
		{"proof of another key", "DPoP " + tok, gateway(key2.Proof("DELETE", api, tok, time.Now(), nil))},
		{"proof for another token", "DPoP " + tok, gateway(key.Proof("DELETE", api, plain, time.Now(), nil))},
		{"stale proof", "DPoP " + tok, gateway(key.Proof("DELETE", api, tok, time.Now().Add(-5*time.Minute), nil))},
		{"nothing forwarded", "DPoP " + tok, []string{"DPoP", key.Proof("DELETE", api, tok, time.Now(), nil)}},
	} {
		r := dpopCheck(tc.auth, tc.headers)
		if r.StatusCode != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "DPoP ") {
			t.Errorf("%s: /check answered %d %q, want 401 with a DPoP challenge", tc.name, r.StatusCode, r.Header.Get("WWW-Authenticate"))
		}
	}
	// Introspection with the proof the resource server received, forwarded
	// with its method and URI: checked, and a bad one answers inactive.
	introspectWith := func(proof string) map[string]any {
		return formPost(t, ts.URL, "/oauth2/introspect", url.Values{"token": {tok}, "client_id": {sa}, "client_secret": {secret}},
			"DPoP", proof, "X-Forwarded-Method", "GET", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "api.example",
			"X-Forwarded-Uri", "/orders/7").wantOAuth(t, 200, "", "")
	}
	if in := introspectWith(key.Proof("GET", api, tok, time.Now(), nil)); in["active"] != true {
		t.Fatalf("introspection with a valid forwarded proof: %v", in)
	}
	if in := introspectWith(key.Proof("POST", api, tok, time.Now(), nil)); in["active"] != false {
		t.Fatalf("introspection with a proof for another method: %v", in)
	}

	// The admin API checks the proof against the request at the issuer's URL.
	apiCall := func(auth, proof string) int {
		status, _ := getWithProof(t, ts.URL+"/api/v1/orgs/acme", auth, proof)
		return status
	}
	if got := apiCall("DPoP "+tok, key.Proof("GET", ts.URL+"/api/v1/orgs/acme", tok, time.Now(), nil)); got != 200 {
		t.Fatalf("admin API with a DPoP-bound token and its proof: %d", got)
	}
	if got := apiCall("Bearer "+tok, ""); got != 401 {
		t.Fatalf("admin API with a DPoP-bound token as Bearer: %d", got)
	}
	if got := apiCall("DPoP "+tok, key.Proof("GET", ts.URL+"/api/v1/orgs/other", tok, time.Now(), nil)); got != 401 {
		t.Fatalf("admin API with a proof for another URL: %d", got)
	}

	// Revocation reads no DPoP header (RFC 7009 has none): a client that
	// sends its proof there still revokes its token.
	key3 := josetest.NewKey("ES256", "", 0)
	revocable := formPost(t, ts.URL, "/oauth2/token", creds, "DPoP", key3.Proof("POST", tokenURL, "", time.Now(), nil)).wantOAuth(t, 200, "", "")["access_token"].(string)
	formPost(t, ts.URL, "/oauth2/revoke", url.Values{"token": {revocable}, "client_id": {sa}, "client_secret": {secret}},
		"DPoP", key3.Proof("POST", ts.URL+"/oauth2/revoke", "", time.Now(), nil)).wantOAuth(t, 200, "", "")
	if in := formPost(t, ts.URL, "/oauth2/introspect", url.Values{"token": {revocable}, "client_id": {sa}, "client_secret": {secret}}).wantOAuth(t, 200, "", ""); in["active"] != false {
		t.Fatalf("a DPoP-bound token revoked with a proof header is still active: %v", in)
	}

	// A Bearer token sent with the DPoP scheme is refused too.
	admin.do("PATCH", "/api/v1/orgs/acme/service-accounts/"+sa, map[string]any{"require_dpop": false}).want(t, 200)
	unbound := token(t, ts.URL, sa, secret)["access_token"].(string)
	wantCheck(t, dpopCheck("DPoP "+unbound, gateway(key.Proof("DELETE", api, unbound, time.Now(), nil))), 401)
	wantCheck(t, check(t, ts.URL, "GET", unbound), 200)
}

// TestDPoPReplayAndReuseAcrossReplicas: two processes on one PostgreSQL
// database. A client assertion and a DPoP proof used on one are refused on
// the other, and concurrent DPoP requests split between them get one token
// per key.
func TestDPoPReplayAndReuseAcrossReplicas(t *testing.T) {
	db := databases(t)["postgres"](t)
	const issuer = "http://tollgate.test"
	env := map[string]string{"TOLLGATE_KEY_FILE": newKeyFile(t), "TOLLGATE_ISSUER": issuer, "TOLLGATE_TRUSTED_PROXIES": "127.0.0.1/32"}
	a := startProcess(t, db, env)
	b := startProcess(t, db, env)
	admin := newClient(t, a.URL)
	admin.signIn("admin@example.com", adminPassword)
	sa := newSA(t, admin, "acme", "replicated", 900, "viewer")["id"].(string)
	signer := josetest.NewKey("ES256", "k", 0)
	addKey(t, admin, sa, string(signer.PublicJWK()))
	tokenURL := issuer + "/oauth2/token"

	assertion := signer.Assertion(sa, tokenURL, time.Now(), time.Minute, nil)
	formPost(t, a.URL, "/oauth2/token", assertionForm(assertion)).wantOAuth(t, 200, "", "")
	formPost(t, b.URL, "/oauth2/token", assertionForm(assertion)).wantOAuth(t, 401, oauth.CodeInvalidClient, "jti was used already")

	dpop := josetest.NewKey("EdDSA", "", 0)
	proof := dpop.Proof("POST", tokenURL, "", time.Now(), nil)
	formPost(t, a.URL, "/oauth2/token", assertionForm(signer.Assertion(sa, tokenURL, time.Now(), time.Minute, nil)), "DPoP", proof).wantOAuth(t, 200, "", "")
	formPost(t, b.URL, "/oauth2/token", assertionForm(signer.Assertion(sa, tokenURL, time.Now(), time.Minute, nil)), "DPoP", proof).
		wantOAuth(t, 400, oauth.CodeInvalidDPoPProof, "used already")

	// 32 concurrent requests for each of two keys, split between the
	// replicas: one token per key.
	keys := []*josetest.Key{josetest.NewKey("EdDSA", "", 0), josetest.NewKey("ES256", "", 0)}
	seen := make([]map[string]bool, len(keys))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range keys {
		seen[i] = map[string]bool{}
		for j := range 32 {
			wg.Go(func() {
				base := []string{a.URL, b.URL}[j%2]
				r := formPost(t, base, "/oauth2/token", assertionForm(signer.Assertion(sa, tokenURL, time.Now(), time.Minute, nil)),
					"DPoP", keys[i].Proof("POST", tokenURL, "", time.Now(), nil))
				if r.Status != 200 {
					t.Errorf("%s", r)
					return
				}
				mu.Lock()
				seen[i][r.JSON()["access_token"].(string)] = true
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if len(seen[0]) != 1 || len(seen[1]) != 1 {
		t.Fatalf("tokens per key: %d and %d, want 1 each", len(seen[0]), len(seen[1]))
	}
	for tok := range seen[0] {
		if seen[1][tok] {
			t.Fatal("two keys share a token")
		}
		// A proof used at /check on one replica is refused on the other.
		const api = "https://api.example/x"
		p := keys[0].Proof("GET", api, tok, time.Now(), nil)
		h := []string{"X-Forwarded-Method", "GET", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "api.example", "X-Forwarded-Uri", "/x", "DPoP", p}
		req := func(base string) int { return checkAuth(t, base, "GET", "DPoP "+tok, h...).StatusCode }
		if got := req(a.URL); got != 200 {
			t.Fatalf("first use of the proof: %d", got)
		}
		if got := req(b.URL); got != 401 {
			t.Fatalf("the proof replayed on the other replica: %d", got)
		}
	}
}

// TestVerifyPackageWithDPoP: the verify middleware in front of a resource
// server accepts a DPoP-bound token from the real Tollgate only with a
// fresh proof of its key for the request.
func TestVerifyPackageWithDPoP(t *testing.T) {
	ts, admin, sa, secret := withSA(t, 300, "member")
	admin.do("PATCH", "/api/v1/orgs/acme/service-accounts/"+sa, map[string]any{"require_dpop": true}).want(t, 200)
	key := josetest.NewKey("EdDSA", "", 0)
	creds := url.Values{"grant_type": {"client_credentials"}, "client_id": {sa}, "client_secret": {secret}}
	tok := formPost(t, ts.URL, "/oauth2/token", creds, "DPoP", key.Proof("POST", ts.URL+"/oauth2/token", "", time.Now(), nil)).wantOAuth(t, 200, "", "")["access_token"].(string)
	v, err := verify.New(verify.Config{Issuer: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	rs := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, _ := verify.FromContext(r.Context())
		io.WriteString(w, who.ServiceAccountID+" "+who.JKT)
	})))
	defer rs.Close()
	call := func(auth, proof string) (int, string) { return getWithProof(t, rs.URL+"/orders", auth, proof) }
	proof := key.Proof("GET", rs.URL+"/orders", tok, time.Now(), nil)
	if status, body := call("DPoP "+tok, proof); status != 200 || body != sa+" "+key.Thumbprint() {
		t.Fatalf("with a proof: %d %s", status, body)
	}
	for name, c := range map[string][2]string{
		"replayed":  {"DPoP " + tok, proof},
		"as Bearer": {"Bearer " + tok, ""},
		"no proof":  {"DPoP " + tok, ""},
		"other URL": {"DPoP " + tok, key.Proof("GET", rs.URL+"/admin", tok, time.Now(), nil)},
	} {
		if status, _ := call(c[0], c[1]); status != 401 {
			t.Errorf("%s: %d, want 401", name, status)
		}
	}
}

// TestDPoPWithOriginalURL: with --forwarded-target x-original (as
// ingress-nginx forwards), the proof is checked against X-Original-Method
// and the absolute X-Original-URL, and X-Forwarded-Method/-Uri are not
// read: their presence refuses the proof.
func TestDPoPWithOriginalURL(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), map[string]string{"TOLLGATE_FORWARDED_TARGET": "x-original"})
	admin := loggedIn(t, ts)
	acct := newSA(t, admin, "acme", "dpop", 600, "member")
	creds := url.Values{"grant_type": {"client_credentials"}, "client_id": {acct["id"].(string)}, "client_secret": {acct["client_secret"].(string)}}
	key := josetest.NewKey("ES256", "", 0)
	tok := formPost(t, ts.URL, "/oauth2/token", creds, "DPoP", key.Proof("POST", ts.URL+"/oauth2/token", "", time.Now(), nil)).wantOAuth(t, 200, "", "")["access_token"].(string)
	const api = "https://api.example/orders/7"
	call := func(headers ...string) int { return checkAuth(t, ts.URL, "GET", "DPoP "+tok, headers...).StatusCode }
	if got := call("X-Original-Method", "GET", "X-Original-URL", api, "DPoP", key.Proof("GET", api, tok, time.Now(), nil)); got != 200 {
		t.Fatalf("X-Original-URL: %d", got)
	}
	if got := call("X-Original-Method", "GET", "X-Original-URL", api, "X-Forwarded-Uri", "/x", "DPoP", key.Proof("GET", api, tok, time.Now(), nil)); got != 401 {
		t.Fatalf("with X-Forwarded-Uri as well: %d", got)
	}
	if got := call("X-Original-Method", "GET", "X-Original-URL", "/orders/7", "DPoP", key.Proof("GET", api, tok, time.Now(), nil)); got != 401 {
		t.Fatalf("a relative X-Original-URL: %d", got)
	}
}

// TestReplayLogIsPruned: serve's maintenance deletes the replay log's
// expired jtis (it runs at start, then every 10 minutes).
func TestReplayLogIsPruned(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tollgate.db")
	s, _, err := openStore(t.Context(), db, sqlite.Synchronous("FULL"))
	if err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-48 * time.Hour)
	for i := range 100 {
		if err := s.UseOnce(t.Context(), fmt.Sprintf("dpop:%064d", i), long, long.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.UseOnce(t.Context(), "dpop:live", time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	startServer(t, db, nil)
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := raw.QueryRow(`SELECT count(*) FROM used_once`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			return // the live one stays
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jtis in the replay log, want the 1 live one", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// getWithProof sends a GET with an Authorization header and, when proof is
// not "", a DPoP header; it returns the status and body.
func getWithProof(t *testing.T, url, authorization, proof string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", authorization)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAssertionFailuresAreLimited: failed client assertions count like
// failed secrets (R1): over the limit, 429 slow_down with Retry-After for
// that client ID and address, while a correct assertion from another
// address still passes (R2).
func TestAssertionFailuresAreLimited(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), map[string]string{"TOLLGATE_LIMIT_CLIENT": "3/1m"})
	admin := loggedIn(t, ts)
	sa := newSA(t, admin, "acme", "limited", 600, "viewer")["id"].(string)
	key := josetest.NewKey("EdDSA", "k", 0)
	addKey(t, admin, sa, string(key.PublicJWK()))
	stranger := josetest.NewKey("EdDSA", "k", 0)
	tokenURL := ts.URL + "/oauth2/token"
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} } // 127.0.0.1 is a trusted proxy
	for range 3 {
		formPost(t, ts.URL, "/oauth2/token", assertionForm(stranger.Assertion(sa, tokenURL, time.Now(), time.Minute, nil)), from("198.51.100.7")...).
			wantOAuth(t, 401, oauth.CodeInvalidClient, "signature")
	}
	r := formPost(t, ts.URL, "/oauth2/token", assertionForm(key.Assertion(sa, tokenURL, time.Now(), time.Minute, nil)), from("198.51.100.7")...)
	r.wantOAuth(t, 429, oauth.CodeSlowDown, "")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	formPost(t, ts.URL, "/oauth2/token", assertionForm(key.Assertion(sa, tokenURL, time.Now(), time.Minute, nil)), from("203.0.113.9")...).
		wantOAuth(t, 200, "", "")
}
