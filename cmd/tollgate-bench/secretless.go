package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/tollgate/tollgate/internal/josetest"
	"github.com/tollgate/tollgate/oauth"
)

// The scenarios of credentials without shared secrets (K1, K2): every
// request carries a JWT whose signature Tollgate must verify, which no
// cache can skip. The load generator signs nothing while it measures:
// client assertions (each needs its own jti) are signed beforehand, in a
// pool per worker, and the federated scenario sends one workload token
// (federation has no single-use rule: the same token is verified again at
// each request).

// assertionPool is a worker's supply of pre-signed client assertions.
type assertionPool struct {
	mu   sync.Mutex
	next [][]string // by worker
}

// assertionsPerWorker bounds what is signed before a measurement; a worker
// that runs out signs more on the fly (and the scenario's figure then
// includes that client-side cost).
const assertionsPerWorker = 6000

func newAssertionPool(key *josetest.Key, clientID, aud string, workers int) *assertionPool {
	p := &assertionPool{next: make([][]string, workers)}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			list := make([]string, assertionsPerWorker)
			for i := range list {
				list[i] = key.Assertion(clientID, aud, time.Now(), 9*time.Minute, nil)
			}
			p.next[w] = list
		})
	}
	wg.Wait()
	return p
}

func (p *assertionPool) take(worker int, key *josetest.Key, clientID, aud string) string {
	p.mu.Lock()
	list := p.next[worker]
	if len(list) == 0 {
		p.mu.Unlock()
		return key.Assertion(clientID, aud, time.Now(), 9*time.Minute, nil)
	}
	a := list[len(list)-1]
	p.next[worker] = list[:len(list)-1]
	p.mu.Unlock()
	return a
}

// issuerServer is a minimal OIDC issuer on 127.0.0.1 for the federated
// scenario: discovery and a JWKS with one RS256 key, as GitHub's.
type issuerServer struct {
	url string
	key *josetest.Key
}

func startIssuer() (*issuerServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	is := &issuerServer{url: "http://" + ln.Addr().String(), key: josetest.NewKey("RS256", "bench-issuer", 0)}
	var jwk map[string]any
	json.Unmarshal(is.key.PublicJWK(), &jwk)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": is.url, "jwks_uri": is.url + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{jwk}})
	})
	go http.Serve(ln, mux)
	return is, nil
}

// workloadToken is a GitHub Actions-shaped token for audience, valid for
// an hour.
func (is *issuerServer) workloadToken(audience string) string {
	now := time.Now()
	return is.key.Sign("JWT", map[string]any{"iss": is.url, "aud": audience, "sub": "repo:octo-org/octo-repo:environment:prod",
		"repository": "octo-org/octo-repo", "ref": "refs/heads/main", "environment": "prod", "jti": josetest.RandomID(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}, nil)
}

// setUpSecretless prepares an account with a registered Ed25519 key and
// one with a federated credential for the bench's issuer, on a Tollgate
// started with --federation-insecure-issuers is.url, and returns their
// scenarios.
func setUpSecretless(base string, is *issuerServer, maxConns int) ([]scenario, error) {
	a, err := signIn(base)
	if err != nil {
		return nil, err
	}
	keyed, err := a.newAccount("acme", "bench-pkjwt", 3600)
	if err != nil {
		return nil, err
	}
	key := josetest.NewKey("EdDSA", "bench", 0)
	var jwk map[string]any
	json.Unmarshal(key.PublicJWK(), &jwk)
	if err := a.call("POST", "/api/v1/orgs/acme/service-accounts/"+keyed.ID+"/keys", map[string]any{"public_key": jwk}, nil); err != nil {
		return nil, err
	}
	fed, err := a.newAccount("acme", "bench-federated", 3600)
	if err != nil {
		return nil, err
	}
	if err := a.call("POST", "/api/v1/orgs/acme/service-accounts/"+fed.ID+"/federated-credentials", map[string]any{"name": "bench",
		"issuer": is.url, "subject": "repo:octo-org/octo-repo:environment:prod", "claims": map[string]string{"repository": "octo-org/octo-repo"}}, nil); err != nil {
		return nil, err
	}
	tokenURL := base + "/oauth2/token"
	pool := newAssertionPool(key, keyed.ID, tokenURL, maxConns)
	exchange := url.Values{"grant_type": {oauth.GrantTokenExchange}, "client_id": {fed.ID}, "subject_token": {is.workloadToken(base)},
		"subject_token_type": {oauth.TokenTypeJWT}}.Encode()
	return []scenario{
		{name: "token endpoint, private_key_jwt", req: func(i int) request {
			f := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {oauth.AssertionTypeJWT},
				"client_assertion": {pool.take(i, key, keyed.ID, tokenURL)}}
			return request{method: "POST", url: tokenURL, body: f.Encode(), contentType: formType}
		}, each: true},
		{name: "token endpoint, token exchange", req: func(int) request {
			return request{method: "POST", url: tokenURL, body: exchange, contentType: formType}
		}},
	}, nil
}

// verifyCost measures, in this process, what one signature check of each
// secretless scenario costs: parsing the JWT and verifying it with the
// key, median of many runs. This is the work no cache can skip; the rest
// of a request's cost is what Tollgate adds.
func verifyCost(w io.Writer) map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, alg := range map[string]string{"token endpoint, private_key_jwt": "EdDSA", "token endpoint, token exchange": "RS256"} {
		k := josetest.NewKey(alg, "k", 0)
		pub, err := oauth.ParsePublicKey(k.PublicJWK())
		if err != nil {
			panic(err)
		}
		tok := k.Assertion("sa_x", "https://x", time.Now(), time.Minute, nil)
		runs := make([]time.Duration, 0, 2000)
		for range cap(runs) {
			start := time.Now()
			t, err := oauth.ParseJWT(tok, "x")
			if err == nil {
				err = t.Verify(pub)
			}
			if err != nil {
				panic(err)
			}
			runs = append(runs, time.Since(start))
		}
		slices.Sort(runs)
		out[name] = runs[len(runs)/2]
		fmt.Fprintf(w, "in-process cost of one %s signature check (%s): %s\n", alg, name, us(out[name]))
	}
	return out
}

func us(d time.Duration) string { return fmt.Sprintf("%.1fµs", float64(d.Nanoseconds())/1000) }

// extraCost is what a secretless request costs the machine beyond the
// client_secret reuse path and its one signature check: the CPU time per
// request (cores / requests per second, the machine being saturated)
// minus the reuse path's, minus the verification.
func extraCost(rps, reuseRPS float64, verify time.Duration) time.Duration {
	cores := float64(runtime.NumCPU())
	per := func(r float64) float64 { return cores / r }
	return time.Duration((per(rps)-per(reuseRPS))*float64(time.Second)) - verify
}
