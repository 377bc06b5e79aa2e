package verify_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tollgate/tollgate/internal/josetest"
	"github.com/tollgate/tollgate/verify"
)

// TestDPoPBoundTokens checks RFC 9449 §7 in the middleware: a bound token
// needs the DPoP scheme and a fresh proof of its key for this request.
func TestDPoPBoundTokens(t *testing.T) {
	is := newIssuer(t)
	clock := now
	v := newVerifier(t, is, &clock)
	key := josetest.NewKey("ES256", "", 0)
	cl := claimsFor(is)
	cl["cnf"] = map[string]any{"jkt": key.Thumbprint()}
	bound := is.sign(t, "k1", "at+jwt", cl)
	plain := is.sign(t, "k1", "at+jwt", claimsFor(is))
	const url = "http://api.example/orders"
	req := func(method, auth, tok, proof string) *http.Request {
		r := httptest.NewRequest(method, url, nil)
		r.Header.Set("Authorization", auth+" "+tok)
		if proof != "" {
			r.Header.Set("DPoP", proof)
		}
		return r
	}
	good := key.Proof("GET", url, bound, now, nil)
	id, err := v.VerifyRequest(req("GET", "DPoP", bound, good))
	if err != nil || id.JKT != key.Thumbprint() || id.ServiceAccountID != "sa_1" {
		t.Fatalf("a valid proof: %+v, %v", id, err)
	}
	if _, err := v.VerifyRequest(req("GET", "Bearer", plain, "")); err != nil {
		t.Fatalf("a Bearer token: %v", err)
	}
	for _, tc := range []struct {
		name string
		r    *http.Request
	}{
		{"replayed proof", req("GET", "DPoP", bound, good)},
		{"bound token as Bearer", req("GET", "Bearer", bound, key.Proof("GET", url, bound, now, nil))},
		{"no proof", req("GET", "DPoP", bound, "")},
		{"another method", req("POST", "DPoP", bound, key.Proof("GET", url, bound, now, nil))},
		{"another URL", req("GET", "DPoP", bound, key.Proof("GET", "http://api.example/admin", bound, now, nil))},
		{"another key", req("GET", "DPoP", bound, josetest.NewKey("EdDSA", "", 0).Proof("GET", url, bound, now, nil))},
		{"another token's ath", req("GET", "DPoP", bound, key.Proof("GET", url, plain, now, nil))},
		{"stale proof", req("GET", "DPoP", bound, key.Proof("GET", url, bound, now.Add(-10*time.Minute), nil))},
		{"unbound token as DPoP", req("GET", "DPoP", plain, key.Proof("GET", url, plain, now, nil))},
	} {
		if _, err := v.VerifyRequest(tc.r); !errors.Is(err, verify.ErrInvalidProof) {
			t.Errorf("%s: %v, want ErrInvalidProof", tc.name, err)
		}
	}
	// The middleware answers 401 with a DPoP challenge.
	rec := httptest.NewRecorder()
	v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(rec, req("GET", "Bearer", bound, ""))
	if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") == "" || rec.Header().Get("WWW-Authenticate")[:5] != "DPoP " {
		t.Fatalf("middleware: %d %v", rec.Code, rec.Header())
	}
}
