package verify_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/tollgate/tollgate/verify"
)

// issuer is a stand-in for Tollgate: it publishes its keys and signs.
type issuer struct {
	mu      sync.Mutex
	keys    map[string]ed25519.PrivateKey
	fetches atomic.Int32
	srv     *httptest.Server
}

func newIssuer(t *testing.T) *issuer {
	is := &issuer{keys: map[string]ed25519.PrivateKey{}}
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		is.fetches.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		set := jwk.NewSet()
		for kid, priv := range is.keys {
			k, _ := jwk.Import(priv.Public())
			k.Set(jwk.KeyIDKey, kid)
			k.Set(jwk.AlgorithmKey, jwa.EdDSA())
			set.AddKey(k)
		}
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(is.srv.Close)
	is.addKey("k1")
	return is
}

func (is *issuer) addKey(kid string) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	is.mu.Lock()
	is.keys[kid] = priv
	is.mu.Unlock()
}

func (is *issuer) sign(t *testing.T, kid, typ string, claims map[string]any) string {
	t.Helper()
	is.mu.Lock()
	priv := is.keys[kid]
	is.mu.Unlock()
	if priv == nil {
		_, priv, _ = ed25519.GenerateKey(rand.Reader)
	}
	payload, _ := json.Marshal(claims)
	h := jws.NewHeaders()
	h.Set(jws.KeyIDKey, kid)
	h.Set(jws.TypeKey, typ)
	tok, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA(), priv, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func claimsFor(is *issuer) map[string]any {
	return map[string]any{"iss": is.srv.URL, "aud": is.srv.URL, "sub": "sa_1", "client_id": "sa_1", "org_id": "org_1",
		"role": "viewer", "scope": "viewer", "jti": "at_1", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
}

func newVerifier(t *testing.T, is *issuer, clock *time.Time) *verify.Verifier {
	v, err := verify.New(verify.Config{Issuer: is.srv.URL, Now: func() time.Time { return *clock }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerify(t *testing.T) {
	is := newIssuer(t)
	clock := now
	v := newVerifier(t, is, &clock)
	with := func(k string, val any) map[string]any {
		c := claimsFor(is)
		if val == nil {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	id, err := v.Verify(t.Context(), is.sign(t, "k1", "at+jwt", claimsFor(is)))
	if err != nil || id.ServiceAccountID != "sa_1" || id.OrgID != "org_1" || id.Role != "viewer" || id.TokenID != "at_1" || !id.ExpiresAt.Equal(now.Add(5*time.Minute)) {
		t.Fatalf("Verify = %+v, %v", id, err)
	}
	for name, tok := range map[string]string{
		"other issuer":     is.sign(t, "k1", "at+jwt", with("iss", "https://evil.example")),
		"other audience":   is.sign(t, "k1", "at+jwt", with("aud", "https://other.example")),
		"no audience":      is.sign(t, "k1", "at+jwt", with("aud", nil)),
		"typ JWT":          is.sign(t, "k1", "JWT", claimsFor(is)),
		"expired":          is.sign(t, "k1", "at+jwt", with("exp", now.Add(-31*time.Second).Unix())),
		"from the future":  is.sign(t, "k1", "at+jwt", with("iat", now.Add(time.Minute).Unix())),
		"not yet valid":    is.sign(t, "k1", "at+jwt", with("nbf", now.Add(time.Minute).Unix())),
		"no subject":       is.sign(t, "k1", "at+jwt", with("sub", nil)),
		"unknown key":      is.sign(t, "k9", "at+jwt", claimsFor(is)),
		"garbage":          "not.a.token",
		"tampered payload": tamper(is.sign(t, "k1", "at+jwt", claimsFor(is))),
	} {
		if _, err := v.Verify(t.Context(), tok); !errors.Is(err, verify.ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrInvalidToken", name, err)
		}
	}
	// Within the leeway an expired token still passes; an array aud works.
	if _, err := v.Verify(t.Context(), is.sign(t, "k1", "at+jwt", with("exp", now.Add(-29*time.Second).Unix()))); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	if _, err := v.Verify(t.Context(), is.sign(t, "k1", "at+jwt", with("aud", []string{"x", is.srv.URL}))); err != nil {
		t.Fatalf("aud array: %v", err)
	}
}

func tamper(tok string) string {
	b := []byte(tok)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestKeyRotationAndBoundedRefresh: a new kid makes the verifier fetch the
// JWK Set again, but unknown kids cannot make it fetch more than once per
// MinRefreshInterval.
func TestKeyRotationAndBoundedRefresh(t *testing.T) {
	is := newIssuer(t)
	clock := now
	v := newVerifier(t, is, &clock)
	if _, err := v.Verify(t.Context(), is.sign(t, "k1", "at+jwt", claimsFor(is))); err != nil {
		t.Fatal(err)
	}
	if n := is.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches after the first token", n)
	}
	// Just after a fetch, unknown kids cause none; once the interval has
	// passed, fifty of them cause exactly one.
	for range 50 {
		v.Verify(t.Context(), is.sign(t, "made-up", "at+jwt", claimsFor(is)))
	}
	if n := is.fetches.Load(); n != 1 {
		t.Fatalf("unknown kids right after a fetch caused %d more", n-1)
	}
	clock = clock.Add(11 * time.Second)
	for range 50 {
		v.Verify(t.Context(), is.sign(t, "made-up", "at+jwt", claimsFor(is)))
	}
	if n := is.fetches.Load(); n != 2 {
		t.Fatalf("50 tokens with an unknown kid caused %d fetches, want 1 more", n-1)
	}
	is.addKey("k2") // Tollgate rotates
	clock = clock.Add(11 * time.Second)
	if _, err := v.Verify(t.Context(), is.sign(t, "k2", "at+jwt", claimsFor(is))); err != nil {
		t.Fatalf("token of the rotated key: %v", err)
	}
	if n := is.fetches.Load(); n != 3 {
		t.Fatalf("%d fetches", n)
	}
	// Known keys are served from the cache until CacheTTL.
	for range 20 {
		v.Verify(t.Context(), is.sign(t, "k1", "at+jwt", claimsFor(is)))
	}
	if n := is.fetches.Load(); n != 3 {
		t.Fatalf("known keys caused fetches: %d", n)
	}
}

func TestMiddleware(t *testing.T) {
	is := newIssuer(t)
	clock := now
	v := newVerifier(t, is, &clock)
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := verify.FromContext(r.Context())
		w.Write([]byte(id.ServiceAccountID + " " + id.Role))
	}))
	call := func(auth string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := call("Bearer " + is.sign(t, "k1", "at+jwt", claimsFor(is))); rec.Code != 200 || rec.Body.String() != "sa_1 viewer" {
		t.Fatalf("valid token: %d %s", rec.Code, rec.Body)
	}
	if rec := call(""); rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != `Bearer realm="api"` {
		t.Fatalf("no token: %d %v", rec.Code, rec.Header())
	}
	if rec := call("Bearer nope"); rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != `Bearer realm="api", error="invalid_token"` {
		t.Fatalf("bad token: %d %v", rec.Code, rec.Header())
	}
	// Tollgate unreachable before any key was fetched: 503, not 401.
	down, _ := verify.New(verify.Config{Issuer: "http://127.0.0.1:1", Now: func() time.Time { return now }})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+is.sign(t, "k1", "at+jwt", claimsFor(is)))
	down.Middleware(h).ServeHTTP(rec, req)
	if rec.Code != 503 {
		t.Fatalf("issuer down: %d", rec.Code)
	}
}
