package verify_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// startStandIn serves a JWK Set and a token endpoint that issues an
// access token shaped like Tollgate's, for the example.
func startStandIn() *httptest.Server {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	mux.HandleFunc("GET /oauth2/jwks", func(w http.ResponseWriter, r *http.Request) {
		k, _ := jwk.Import(priv.Public())
		k.Set(jwk.KeyIDKey, "key_example")
		set := jwk.NewSet()
		set.AddKey(k)
		json.NewEncoder(w).Encode(set)
	})
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		payload, _ := json.Marshal(map[string]any{"iss": srv.URL, "aud": srv.URL, "sub": "sa_example", "client_id": "sa_example",
			"org_id": "org_example", "role": "viewer", "scope": "viewer", "jti": "at_example", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
		h := jws.NewHeaders()
		h.Set(jws.KeyIDKey, "key_example")
		h.Set(jws.TypeKey, "at+jwt")
		tok, _ := jws.Sign(payload, jws.WithKey(jwa.EdDSA(), priv, jws.WithProtectedHeaders(h)))
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": string(tok), "token_type": "Bearer", "expires_in": 3600})
	})
	return srv
}
