package oauth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/internal/josetest"
	"github.com/tollgate/tollgate/oauth"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func TestParsePublicKey(t *testing.T) {
	ed := josetest.NewKey("EdDSA", "ed-1", 0)
	es := josetest.NewKey("ES256", "", 0)
	ps := josetest.NewKey("PS256", "ps", 0)
	weak := josetest.NewKey("RS256", "weak", 1024)
	p384 := josetest.NewKey("ES384", "", 0)
	der, _ := x509.MarshalPKIXPublicKey(es.Private.Public())
	pemPub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	privDER, _ := x509.MarshalECPrivateKey(es.Private.(*ecdsa.PrivateKey))
	pemPriv := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: privDER})
	for _, tc := range []struct {
		name, data, alg, kid, refusal string
	}{
		{"Ed25519 JWK", string(ed.PublicJWK()), "EdDSA", "ed-1", ""},
		{"Ed25519 JWK with RFC 9864's alg", strings.Replace(string(ed.PublicJWK()), `"EdDSA"`, `"Ed25519"`, 1), "EdDSA", "ed-1", ""},
		{"P-256 JWK without kid", string(es.PublicJWK()), "ES256", es.Thumbprint(), ""},
		{"RSA JWK with alg PS256", string(ps.PublicJWK()), "PS256", "ps", ""},
		{"PEM public key", string(pemPub), "ES256", es.Thumbprint(), ""},
		{"RSA under 2048 bits", string(weak.PublicJWK()), "", "", "2048"},
		{"private JWK", string(ed.PrivateJWK()), "", "", "private key"},
		{"private PEM", string(pemPriv), "", "", "private key"},
		{"symmetric key", `{"kty":"oct","k":"c2VjcmV0"}`, "", "", "symmetric"},
		{"P-384", string(p384.PublicJWK()), "", "", "P-256"},
		{"alg that does not fit", strings.Replace(string(ed.PublicJWK()), `"EdDSA"`, `"RS256"`, 1), "", "", "not accepted"},
		{"Ed25519 alg on a P-256 key", strings.Replace(string(es.PublicJWK()), `"ES256"`, `"Ed25519"`, 1), "", "", "not accepted"},
		{"not a key", `{"kty":"RSA"}`, "", "", "not a valid key"},
		{"not JSON", `hello`, "", "", "JWK"},
		{"empty", ``, "", "", "required"},
	} {
		k, err := oauth.ParsePublicKey([]byte(tc.data))
		if tc.refusal != "" {
			if err == nil || !strings.Contains(tollgate.ErrorMessage(err), tc.refusal) || tollgate.ErrorCode(err) != tollgate.EInvalid {
				t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.refusal)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if k.Alg != tc.alg || k.KeyID != tc.kid {
			t.Errorf("%s: alg %s kid %s, want %s %s", tc.name, k.Alg, k.KeyID, tc.alg, tc.kid)
		}
		var members map[string]any
		if err := json.Unmarshal(k.JWK, &members); err != nil || members["d"] != nil || members["use"] != nil || members["kid"] != k.KeyID {
			t.Errorf("%s: stored JWK %s", tc.name, k.JWK)
		}
	}
	// The thumbprint is RFC 7638's, as another library computes it.
	if k, _ := oauth.ParsePublicKey(ed.PublicJWK()); k.Thumbprint != ed.Thumbprint() {
		t.Errorf("thumbprint %s, want %s", k.Thumbprint, ed.Thumbprint())
	}
}

func TestParseJWTRefusesWhatCannotVerify(t *testing.T) {
	claims := map[string]any{"iss": "sa_1", "sub": "sa_1"}
	ed := josetest.NewKey("EdDSA", "k", 0)
	for _, tc := range []struct{ name, token, refusal string }{
		{"alg none", josetest.Unsigned(claims), `alg "none"`},
		{"HMAC", josetest.HMAC([]byte("0123456789abcdef0123456789abcdef"), "k", claims), `alg "HS256"`},
		{"crit", ed.Sign("", claims, map[string]any{"crit": []string{"exp"}, "exp": 1}), "crit"},
		{"two parts", "a.b", "well-formed"},
		{"four parts", "a.b.c.d", "well-formed"},
		{"header not JSON", "bm90LWpzb24.e30.c2ln", "not a JSON object"},
		{"claims not an object", ed.Sign("", nil, nil), "not a JSON object"},
	} {
		_, err := oauth.ParseJWT(tc.token, "the client assertion")
		if err == nil || !strings.Contains(err.Error(), tc.refusal) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.refusal)
		}
	}
	for name, over := range map[string]map[string]any{
		"exp a string": {"exp": "soon"}, "aud a number": {"aud": 5}, "iss an object": {"iss": map[string]any{}},
	} {
		if _, err := oauth.ParseJWT(ed.Sign("", mergeClaims(claims, over), nil), "the token"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func mergeClaims(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// TestClientAssertionRules checks every rule of K1 at its boundary.
func TestClientAssertionRules(t *testing.T) {
	const client, tokenURL, issuer = "sa_1", "https://tg.example/oauth2/token", "https://tg.example"
	key := josetest.NewKey("ES256", "k1", 0)
	auds := []string{tokenURL, issuer}
	for _, tc := range []struct {
		name    string
		over    map[string]any
		life    time.Duration
		refusal string
	}{
		{"valid", nil, time.Minute, ""},
		{"aud the issuer", map[string]any{"aud": issuer}, time.Minute, ""},
		{"aud an array", map[string]any{"aud": []string{"x", tokenURL}}, time.Minute, ""},
		{"exp exactly 10 minutes ahead", nil, 10 * time.Minute, ""},
		{"wrong iss", map[string]any{"iss": "sa_2"}, time.Minute, "iss"},
		{"wrong sub", map[string]any{"sub": "sa_2"}, time.Minute, "sub"},
		{"wrong aud", map[string]any{"aud": "https://other.example/token"}, time.Minute, "aud"},
		{"aud with a trailing slash", map[string]any{"aud": issuer + "/"}, time.Minute, "aud"},
		{"no aud", map[string]any{"aud": nil}, time.Minute, "aud"},
		{"no jti", map[string]any{"jti": nil}, time.Minute, "jti"},
		{"no exp", map[string]any{"exp": nil}, time.Minute, "no exp"},
		{"expired", map[string]any{"exp": now.Add(-time.Second).Unix()}, time.Minute, "expired"},
		{"exp too far ahead", nil, 11 * time.Minute, "more than 10m0s ahead"},
		{"nbf in the future", map[string]any{"nbf": now.Add(2 * time.Minute).Unix()}, time.Minute, "nbf"},
		{"iat in the future", map[string]any{"iat": now.Add(2 * time.Minute).Unix()}, time.Minute, "iat"},
	} {
		tok, err := oauth.ParseJWT(key.Assertion(client, tokenURL, now, tc.life, tc.over), "the client assertion")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = oauth.CheckClientAssertion(tok, client, auds, now)
		switch {
		case tc.refusal == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.refusal != "" && (err == nil || !strings.Contains(tollgate.ErrorMessage(err), tc.refusal) || oauth.CodeOf(err) != oauth.CodeInvalidClient):
			t.Errorf("%s: %v, want invalid_client saying %q", tc.name, err, tc.refusal)
		}
	}
	// The signature verifies with the key, and only with it.
	tok, _ := oauth.ParseJWT(key.Assertion(client, tokenURL, now, time.Minute, nil), "x")
	pub, _ := oauth.ParsePublicKey(key.PublicJWK())
	if err := tok.Verify(pub); err != nil {
		t.Fatal(err)
	}
	other, _ := oauth.ParsePublicKey(josetest.NewKey("ES256", "k1", 0).PublicJWK())
	if tok.Verify(other) == nil {
		t.Fatal("verified with another key")
	}
	rsa, _ := oauth.ParsePublicKey(josetest.NewKey("RS256", "k1", 0).PublicJWK())
	if tok.Verify(rsa) == nil {
		t.Fatal("verified with a key of another algorithm")
	}
	// A tampered payload does not verify.
	parts := strings.Split(key.Assertion(client, tokenURL, now, time.Minute, nil), ".")
	evil := key.Assertion("sa_2", tokenURL, now, time.Minute, nil)
	forged, _ := oauth.ParseJWT(parts[0]+"."+strings.Split(evil, ".")[1]+"."+parts[2], "x")
	if forged.Verify(pub) == nil {
		t.Fatal("a forged payload verified")
	}
}

func TestParseClientAuthWithAssertion(t *testing.T) {
	key := josetest.NewKey("EdDSA", "k", 0)
	a := key.Assertion("sa_1", "https://x", now, time.Minute, nil)
	form := url.Values{"client_assertion_type": {oauth.AssertionTypeJWT}, "client_assertion": {a}}
	auth, err := oauth.ParseClientAuth("", form)
	if err != nil || auth.ID != "sa_1" || auth.Method != oauth.AuthPrivateKeyJWT || auth.Assertion == nil {
		t.Fatalf("%+v, %v", auth, err)
	}
	form.Set("client_id", "sa_2")
	if _, err := oauth.ParseClientAuth("", form); oauth.CodeOf(err) != oauth.CodeInvalidClient {
		t.Fatalf("client_id other than iss: %v", err)
	}
	form.Set("client_id", "sa_1")
	if _, err := oauth.ParseClientAuth(basicAuth("sa_1", "s"), form); oauth.CodeOf(err) != oauth.CodeInvalidRequest {
		t.Fatalf("assertion and Basic: %v", err)
	}
}

func basicAuth(id, secret string) string { return basic(id, secret) }

// TestDPoPProofRules checks RFC 9449 §4.3 at each boundary (K3).
func TestDPoPProofRules(t *testing.T) {
	const uri = "https://api.example/orders"
	key := josetest.NewKey("ES256", "", 0)
	token := "the-access-token"
	for _, tc := range []struct {
		name, method, uri, token string
		proof                    string
		refusal                  string
	}{
		{"valid", "GET", uri, token, key.Proof("GET", uri, token, now, nil), ""},
		{"query and fragment ignored", "GET", uri + "?a=1#x", token, key.Proof("GET", uri, token, now, nil), ""},
		{"default port and case", "GET", "HTTPS://API.example:443/orders", token, key.Proof("GET", uri, token, now, nil), ""},
		{"token endpoint: no ath", "POST", uri, "", key.Proof("POST", uri, "", now, nil), ""},
		{"another method", "POST", uri, token, key.Proof("GET", uri, token, now, nil), "htm"},
		{"another URI", "GET", "https://api.example/admin", token, key.Proof("GET", uri, token, now, nil), "htu"},
		{"another host", "GET", uri, token, key.Proof("GET", "https://evil.example/orders", token, now, nil), "htu"},
		{"old iat", "GET", uri, token, key.Proof("GET", uri, token, now.Add(-2*time.Minute), nil), "iat"},
		{"future iat", "GET", uri, token, key.Proof("GET", uri, token, now.Add(2*time.Minute), nil), "iat"},
		{"ath of another token", "GET", uri, token, key.Proof("GET", uri, "other-token", now, nil), "ath"},
		{"no ath", "GET", uri, token, key.Proof("GET", uri, "", now, nil), "ath"},
		{"no jti", "GET", uri, token, key.Proof("GET", uri, token, now, map[string]any{"jti": nil}), "jti"},
		{"no iat", "GET", uri, token, key.Proof("GET", uri, token, now, map[string]any{"iat": nil}), "iat"},
		{"unknown URI", "GET", "", token, key.Proof("GET", uri, token, now, nil), "gateway must forward"},
		{"not a proof type", "GET", uri, token, key.Sign("JWT", map[string]any{"jti": "x", "htm": "GET", "htu": uri, "iat": now.Unix()}, nil), "typ"},
		{"no jwk", "GET", uri, token, key.Sign("dpop+jwt", map[string]any{"jti": "x", "htm": "GET", "htu": uri, "iat": now.Unix()}, nil), "jwk"},
		{"private jwk", "GET", uri, token, key.Sign("dpop+jwt", map[string]any{"jti": "x", "htm": "GET", "htu": uri, "iat": now.Unix()},
			map[string]any{"jwk": json.RawMessage(key.PrivateJWK())}), "private"},
		{"missing", "GET", uri, token, "", "required"},
	} {
		p, err := oauth.ParseProof(tc.proof)
		if err == nil {
			err = p.Check(tc.method, tc.uri, tc.token, now)
		}
		switch {
		case tc.refusal == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.refusal != "" && (err == nil || !strings.Contains(tollgate.ErrorMessage(err), tc.refusal) || oauth.CodeOf(err) != oauth.CodeInvalidDPoPProof):
			t.Errorf("%s: %v, want invalid_dpop_proof saying %q", tc.name, err, tc.refusal)
		}
		if tc.refusal == "" && p.JKT() != key.Thumbprint() {
			t.Errorf("%s: jkt %s, want %s", tc.name, p.JKT(), key.Thumbprint())
		}
	}
	// A proof whose jwk is not the key that signed it fails.
	other := josetest.NewKey("ES256", "", 0)
	good := key.Proof("GET", uri, token, now, nil)
	swapped := other.Proof("GET", uri, token, now, nil)
	g, s := strings.Split(good, "."), strings.Split(swapped, ".")
	if _, err := oauth.ParseProof(s[0] + "." + g[1] + "." + g[2]); err == nil {
		t.Fatal("a proof verified with a key that did not sign it")
	}
}

// TestFederatedConditions checks K2's exact comparisons.
func TestFederatedConditions(t *testing.T) {
	key := josetest.NewKey("RS256", "gh", 0)
	fc := &tollgate.FederatedCredential{Issuer: "https://token.actions.githubusercontent.com", Audience: "https://tg.example",
		Subject: "repo:octo/app:environment:prod", Claims: map[string]string{"repository": "octo/app", "ref": "refs/heads/main"}}
	base := map[string]any{"iss": fc.Issuer, "aud": fc.Audience, "sub": fc.Subject, "repository": "octo/app", "ref": "refs/heads/main",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	for _, tc := range []struct {
		name    string
		over    map[string]any
		refusal string
	}{
		{"valid", nil, ""},
		{"aud in an array", map[string]any{"aud": []string{"x", fc.Audience}}, ""},
		{"other iss", map[string]any{"iss": "https://gitlab.com"}, "iss"},
		{"other aud", map[string]any{"aud": "https://other.example"}, "aud"},
		{"other sub", map[string]any{"sub": "repo:octo/app:ref:refs/heads/dev"}, "sub"},
		{"claim differing by case", map[string]any{"repository": "Octo/App"}, `"repository" claim does not match`},
		{"claim with a trailing space", map[string]any{"ref": "refs/heads/main "}, `"ref" claim does not match`},
		{"claim missing", map[string]any{"repository": nil}, `no string claim "repository"`},
		{"claim not a string", map[string]any{"repository": []string{"octo/app"}}, `no string claim "repository"`},
		{"expired", map[string]any{"exp": now.Add(-time.Second).Unix()}, "expired"},
		{"nbf in the future", map[string]any{"nbf": now.Add(time.Hour).Unix()}, "nbf"},
		{"no exp", map[string]any{"exp": nil}, "no exp"},
	} {
		tok, err := oauth.ParseJWT(key.Sign("JWT", mergeClaims(base, tc.over), nil), "the workload's token")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = oauth.CheckFederated(tok, fc, now)
		switch {
		case tc.refusal == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.refusal != "" && (err == nil || !strings.Contains(tollgate.ErrorMessage(err), tc.refusal) || oauth.CodeOf(err) != oauth.CodeInvalidGrant):
			t.Errorf("%s: %v, want invalid_grant saying %q", tc.name, err, tc.refusal)
		}
		if err != nil && strings.Contains(tollgate.ErrorMessage(err), "octo/app") {
			t.Errorf("%s: the description reveals the expected value: %v", tc.name, err)
		}
	}
}

func TestParseFederatedGrants(t *testing.T) {
	tok := josetest.NewKey("RS256", "gh", 0).Sign("JWT", map[string]any{"iss": "https://x"}, nil)
	ok := []url.Values{
		{"grant_type": {oauth.GrantTokenExchange}, "client_id": {"sa_1"}, "subject_token": {tok}, "subject_token_type": {oauth.TokenTypeJWT}},
		{"grant_type": {oauth.GrantTokenExchange}, "client_id": {"sa_1"}, "subject_token": {tok}, "subject_token_type": {oauth.TokenTypeIDToken},
			"requested_token_type": {oauth.TokenTypeAccessToken}},
		{"grant_type": {oauth.GrantJWTBearer}, "client_id": {"sa_1"}, "assertion": {tok}},
	}
	for _, f := range ok {
		req, err := oauth.ParseTokenRequest(f)
		if err != nil || req.Federated == nil || req.Federated.ClientID != "sa_1" {
			t.Errorf("%v: %+v, %v", f, req, err)
			continue
		}
		if tok, err := req.Federated.Token(); err != nil || tok.Claims.Issuer != "https://x" {
			t.Errorf("%v: token %+v, %v", f, tok, err)
		}
	}
	for _, tc := range []struct {
		name string
		form url.Values
		code oauth.Code
	}{
		{"no client_id", url.Values{"grant_type": {oauth.GrantJWTBearer}, "assertion": {tok}}, oauth.CodeInvalidRequest},
		{"no assertion", url.Values{"grant_type": {oauth.GrantJWTBearer}, "client_id": {"sa_1"}}, oauth.CodeInvalidRequest},
		{"assertion not a JWT", url.Values{"grant_type": {oauth.GrantJWTBearer}, "client_id": {"sa_1"}, "assertion": {"x"}}, oauth.CodeInvalidGrant},
		{"unsigned", url.Values{"grant_type": {oauth.GrantJWTBearer}, "client_id": {"sa_1"}, "assertion": {josetest.Unsigned(map[string]any{"iss": "x"})}}, oauth.CodeInvalidGrant},
		{"wrong subject_token_type", url.Values{"grant_type": {oauth.GrantTokenExchange}, "client_id": {"sa_1"}, "subject_token": {tok},
			"subject_token_type": {oauth.TokenTypeAccessToken}}, oauth.CodeInvalidRequest},
		{"actor token", url.Values{"grant_type": {oauth.GrantTokenExchange}, "client_id": {"sa_1"}, "subject_token": {tok},
			"subject_token_type": {oauth.TokenTypeJWT}, "actor_token": {tok}}, oauth.CodeInvalidRequest},
		{"another audience", url.Values{"grant_type": {oauth.GrantTokenExchange}, "client_id": {"sa_1"}, "subject_token": {tok},
			"subject_token_type": {oauth.TokenTypeJWT}, "audience": {"x"}}, oauth.CodeInvalidTarget},
		{"with a secret too", url.Values{"grant_type": {oauth.GrantJWTBearer}, "client_id": {"sa_1"}, "assertion": {tok}, "client_secret": {"s"}}, oauth.CodeInvalidRequest},
	} {
		req, err := oauth.ParseTokenRequest(tc.form)
		if err == nil && req.Federated != nil {
			_, err = req.Federated.Token()
		}
		if oauth.CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
}

// FuzzParseJWT: the decoders of presented JWTs never panic, and refuse
// with described errors.
func FuzzParseJWT(f *testing.F) {
	key := josetest.NewKey("EdDSA", "k", 0)
	f.Add(key.Assertion("sa_1", "https://x", now, time.Minute, nil))
	f.Add(key.Proof("GET", "https://x/y", "tok", now, nil))
	f.Add(josetest.Unsigned(map[string]any{"iss": "x"}))
	f.Add("eyJhbGciOiJFZERTQSJ9.eyJhdWQiOlsxXX0.c2ln")
	f.Add("..")
	f.Fuzz(func(t *testing.T, s string) {
		if tok, err := oauth.ParseJWT(s, "the token"); err == nil {
			_ = oauth.CheckClientAssertion(tok, "sa_1", []string{"https://x"}, now)
			_ = oauth.CheckFederated(tok, &tollgate.FederatedCredential{Issuer: "https://x", Audience: "a", Claims: map[string]string{"c": "d"}}, now)
		} else if err.Error() == "" {
			t.Fatal("an error without a description")
		}
		if p, err := oauth.ParseProof(s); err == nil {
			_ = p.Check("GET", "https://x/y", "tok", now)
		} else if tollgate.ErrorMessage(err) == "" || oauth.CodeOf(err) != oauth.CodeInvalidDPoPProof {
			t.Fatalf("proof refusal %v", err)
		}
		form := url.Values{"client_assertion_type": {oauth.AssertionTypeJWT}, "client_assertion": {s}}
		if _, err := oauth.ParseClientAuth("", form); err != nil && oauth.CodeOf(err) == "" {
			t.Fatalf("uncoded %v", err)
		}
	})
}

// FuzzParsePublicKey: never a panic; what is accepted is a public key of
// an accepted algorithm whose stored JWK parses to the same thumbprint.
func FuzzParsePublicKey(f *testing.F) {
	f.Add(josetest.NewKey("EdDSA", "a", 0).PublicJWK())
	f.Add(josetest.NewKey("ES256", "", 0).PublicJWK())
	f.Add([]byte(`{"kty":"oct","k":"AA"}`))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := oauth.ParsePublicKey(data)
		if err != nil {
			if tollgate.ErrorCode(err) != tollgate.EInvalid || tollgate.ErrorMessage(err) == "" {
				t.Fatalf("refusal %v", err)
			}
			return
		}
		again, err := oauth.ParsePublicKey(k.JWK)
		if err != nil || again.Thumbprint != k.Thumbprint || again.Alg != k.Alg {
			t.Fatalf("stored JWK %s does not round-trip: %v", k.JWK, err)
		}
	})
}

// signEd25519 signs claims as a compact JWS with alg Ed25519, the
// fully-specified name of RFC 9864 §2.2, as WebCrypto-based clients do
// (go-jose, which josetest uses, signs only as EdDSA).
func signEd25519(t *testing.T, priv ed25519.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(mergeClaims(map[string]any{"alg": "Ed25519"}, header))
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte(input)))
}

// TestEd25519AlgorithmName: assertions and DPoP proofs signed with alg
// Ed25519 (RFC 9864) verify with Ed25519 keys, as EdDSA ones do, and with
// no other key.
func TestEd25519AlgorithmName(t *testing.T) {
	ed := josetest.NewKey("EdDSA", "", 0)
	priv := ed.Private.(ed25519.PrivateKey)
	pub, err := oauth.ParsePublicKey(ed.PublicJWK())
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"iss": "sa_1", "sub": "sa_1", "aud": "https://tg.example", "exp": now.Add(time.Minute).Unix(), "jti": "j"}
	a, err := oauth.ParseJWT(signEd25519(t, priv, nil, claims), "the client assertion")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(pub); err != nil {
		t.Fatalf("an Ed25519 assertion with the key that signed it: %v", err)
	}
	other, _ := oauth.ParsePublicKey(josetest.NewKey("EdDSA", "", 0).PublicJWK())
	es, _ := oauth.ParsePublicKey(josetest.NewKey("ES256", "", 0).PublicJWK())
	for name, k := range map[string]*oauth.PublicKey{"another Ed25519 key": other, "a P-256 key": es} {
		if a.Verify(k) == nil {
			t.Errorf("an Ed25519 assertion verified with %s", name)
		}
	}
	// A DPoP proof, its jwk as WebCrypto exports it (with alg Ed25519).
	var jwk map[string]any
	json.Unmarshal(ed.PublicJWK(), &jwk)
	delete(jwk, "use")
	jwk["alg"] = "Ed25519"
	const uri = "https://api.example/orders"
	p, err := oauth.ParseProof(signEd25519(t, priv, map[string]any{"typ": "dpop+jwt", "jwk": jwk},
		map[string]any{"jti": "x", "htm": "GET", "htu": uri, "iat": now.Unix()}))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check("GET", uri, "", now); err != nil || p.JKT() != ed.Thumbprint() {
		t.Fatalf("an Ed25519 DPoP proof: %v, jkt %s want %s", err, p.JKT(), ed.Thumbprint())
	}
}
