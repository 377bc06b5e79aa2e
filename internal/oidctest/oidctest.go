// Package oidctest runs a real OpenID Connect issuer on 127.0.0.1 for
// tests: it serves a discovery document (OpenID Connect Discovery 1.0 §4)
// and a JWK Set (RFC 7517 §5), and signs GitHub Actions-shaped and
// Kubernetes-shaped tokens (RFC 7519 JWTs, compact RFC 7515 JWS) with an
// RSA-2048 RS256 key that has a kid, as GitHub's issuer does.
//
// Tokens are signed with github.com/go-jose/go-jose/v4, so they do not
// depend on Tollgate's own JOSE code. The issuer can misbehave on demand
// (slow answers, redirects, huge key sets, a wrong discovery document)
// and sign attacks (alg "none", an HS256 token keyed with the public key,
// an unpublished key), for tests of what trusts it.
package oidctest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Paths the issuer serves.
const (
	// DiscoveryPath is the discovery document, which SetRedirect can turn
	// into a redirect.
	DiscoveryPath = "/.well-known/openid-configuration"
	// DiscoveryAliasPath serves the same discovery document and is never
	// redirected: redirect to URL+DiscoveryAliasPath for a redirect on the
	// same host.
	DiscoveryAliasPath = "/openid-configuration"
	// JWKSPath is the JWK Set, the discovery document's jwks_uri.
	JWKSPath = "/.well-known/jwks"
)

// Issuer is a running test issuer. It is safe for concurrent use.
type Issuer struct {
	// URL is the issuer identifier and the server's base URL,
	// http://127.0.0.1:PORT, without a trailing slash.
	URL string

	mu          sync.Mutex
	keys        []signingKey // published; the last one signs
	unpublished *rsa.PrivateKey
	now         func() time.Time
	delay       time.Duration
	redirect    string
	padding     int
	discovery   map[string]any // overrides of the discovery document
	jwksN       int
	discoveryN  int
}

// signingKey is an RSA key and its kid.
type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
}

// New starts an issuer on 127.0.0.1 with one signing key; t.Cleanup
// stops it.
func New(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{now: time.Now}
	i.keys = []signingKey{{kid: randomID(), priv: newKey()}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DiscoveryPath, i.serveDiscovery(true))
	mux.HandleFunc("GET "+DiscoveryAliasPath, i.serveDiscovery(false))
	mux.HandleFunc("GET "+JWKSPath, i.serveJWKS)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	i.URL = srv.URL
	return i
}

// wait sleeps the configured delay, and reports false when the request
// was canceled meanwhile.
func (i *Issuer) wait(r *http.Request) bool {
	i.mu.Lock()
	d := i.delay
	i.mu.Unlock()
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// serveDiscovery answers the discovery document, or the redirect set by
// SetRedirect when redirectable.
func (i *Issuer) serveDiscovery(redirectable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		i.mu.Lock()
		i.discoveryN++
		location := i.redirect
		doc := map[string]any{
			"issuer":                                i.URL,
			"jwks_uri":                              i.URL + JWKSPath,
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public", "pairwise"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported":                      []string{"openid"},
			"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf"},
		}
		apply(doc, i.discovery)
		i.mu.Unlock()
		if !i.wait(r) {
			return
		}
		if redirectable && location != "" {
			http.Redirect(w, r, location, http.StatusFound)
			return
		}
		writeJSON(w, doc)
	}
}

// serveJWKS answers the published keys, padded as SetJWKSPadding says.
func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	i.jwksN++
	set := jose.JSONWebKeySet{}
	for _, k := range i.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.kid, Algorithm: string(jose.RS256), Use: "sig"})
	}
	padding := i.padding
	i.mu.Unlock()
	if !i.wait(r) {
		return
	}
	body, err := json.Marshal(set)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if _, err := w.Write(body); err != nil {
		return
	}
	// Trailing whitespace keeps the document valid JSON, of any size.
	filler := bytes.Repeat([]byte(" "), 32<<10)
	for padding > 0 {
		n := min(padding, len(filler))
		if _, err := w.Write(filler[:n]); err != nil {
			return // the client stopped reading
		}
		padding -= n
	}
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// Sign returns a compact JWS of claims with header {alg: RS256, kid,
// typ: JWT}, signed by the current key.
func (i *Issuer) Sign(claims map[string]any) string {
	return i.SignWith(string(jose.RS256), i.KeyID(), claims)
}

// SignWith signs claims as an attacker (or a sloppy issuer) would:
//   - "RS256", "PS256" (or another RSA algorithm go-jose knows): with the
//     published key whose kid is kid, else, when kid is not published,
//     with a key the JWKS never publishes; kid "" signs with the current
//     key and leaves kid out of the header.
//   - "none": unsigned, with an empty signature part.
//   - "HS256": an HMAC keyed with the PEM encoding (PKIX "PUBLIC KEY") of
//     the RSA public key whose kid is kid (the current one when kid is ""
//     or not published): the algorithm confusion attack.
//
// The header has typ JWT, and kid unless kid is "". It panics on an
// algorithm it does not know.
func (i *Issuer) SignWith(alg string, kid string, claims map[string]any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(fmt.Sprintf("oidctest: claims: %v", err))
	}
	i.mu.Lock()
	key, published := i.key(kid)
	if !published && kid != "" && alg != "none" && alg != string(jose.HS256) {
		if i.unpublished == nil {
			i.unpublished = newKey()
		}
		key = i.unpublished
	}
	i.mu.Unlock()

	opts := (&jose.SignerOptions{}).WithType("JWT")
	var signingKey jose.SigningKey
	switch jose.SignatureAlgorithm(alg) {
	case "none":
		header := map[string]any{"alg": "none", "typ": "JWT"}
		if kid != "" {
			header["kid"] = kid
		}
		h, _ := json.Marshal(header)
		return b64(h) + "." + b64(payload) + "."
	case jose.HS256:
		if kid != "" {
			opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
		}
		signingKey = jose.SigningKey{Algorithm: jose.HS256, Key: publicPEM(&key.PublicKey)}
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		signingKey = jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}
		if kid != "" {
			signingKey.Key = jose.JSONWebKey{Key: key, KeyID: kid}
		}
	default:
		panic(fmt.Sprintf("oidctest: SignWith does not know the algorithm %q", alg))
	}
	signer, err := jose.NewSigner(signingKey, opts)
	if err != nil {
		panic(fmt.Sprintf("oidctest: signer: %v", err))
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(fmt.Sprintf("oidctest: sign: %v", err))
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		panic(fmt.Sprintf("oidctest: serialize: %v", err))
	}
	return token
}

// key returns the published key whose kid is kid and true, or the
// current key and false. i.mu is held.
func (i *Issuer) key(kid string) (*rsa.PrivateKey, bool) {
	for _, k := range i.keys {
		if k.kid == kid {
			return k.priv, true
		}
	}
	return i.keys[len(i.keys)-1].priv, false
}

// KeyID returns the kid of the key that signs now.
func (i *Issuer) KeyID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.keys[len(i.keys)-1].kid
}

// GitHub returns the claims of a GitHub Actions OIDC token for audience,
// from a job in the prod environment of octo-org/octo-repo on main,
// issued now (the issuer's clock) and valid for 5 minutes. over replaces
// claims, or deletes those whose value is nil.
func (i *Issuer) GitHub(audience string, over map[string]any) map[string]any {
	now := i.clock()
	claims := map[string]any{
		"iss":                   i.URL,
		"aud":                   audience,
		"sub":                   "repo:octo-org/octo-repo:environment:prod",
		"repository":            "octo-org/octo-repo",
		"repository_owner":      "octo-org",
		"repository_id":         "74",
		"repository_owner_id":   "65",
		"repository_visibility": "private",
		"ref":                   "refs/heads/main",
		"ref_type":              "branch",
		"sha":                   "e35ce7f9aebd6be9b1c5e4c6a3b0c2f0d8d1e2a4",
		"environment":           "prod",
		"workflow":              "deploy",
		"job_workflow_ref":      "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
		"run_id":                "7310241735",
		"run_number":            "42",
		"run_attempt":           "1",
		"actor":                 "octocat",
		"actor_id":              "583231",
		"event_name":            "push",
		"runner_environment":    "github-hosted",
		"jti":                   randomID(),
		"iat":                   now.Unix(),
		"nbf":                   now.Unix(),
		"exp":                   now.Add(5 * time.Minute).Unix(),
	}
	apply(claims, over)
	return claims
}

// Kubernetes returns the claims of a projected service account token for
// audience, of the service account name in namespace, mounted in a pod,
// issued now (the issuer's clock) and valid for an hour. The service
// account's and pod's uids are stable for a (namespace, name). over
// replaces claims, or deletes those whose value is nil.
func (i *Issuer) Kubernetes(audience, namespace, name string, over map[string]any) map[string]any {
	now := i.clock()
	pod := name + "-7d4b9c8f6-x2x9z"
	claims := map[string]any{
		"iss": i.URL,
		"aud": []string{audience},
		"sub": "system:serviceaccount:" + namespace + ":" + name,
		"kubernetes.io": map[string]any{
			"namespace":      namespace,
			"serviceaccount": map[string]any{"name": name, "uid": uid("serviceaccount", namespace, name)},
			"pod":            map[string]any{"name": pod, "uid": uid("pod", namespace, pod)},
		},
		"jti": randomID(),
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
	apply(claims, over)
	return claims
}

// Rotate adds a new key to the JWKS, signs with it from now on, and
// returns its kid. The older keys stay published.
func (i *Issuer) Rotate() string {
	k := signingKey{kid: randomID(), priv: newKey()}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys = append(i.keys, k)
	return k.kid
}

// JWKSFetches returns how many requests for the JWKS arrived.
func (i *Issuer) JWKSFetches() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.jwksN
}

// DiscoveryFetches returns how many requests for the discovery document
// arrived, at either path, redirected or not.
func (i *Issuer) DiscoveryFetches() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.discoveryN
}

// SetDelay makes every answer wait d first; a request canceled meanwhile
// gets no answer.
func (i *Issuer) SetDelay(d time.Duration) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.delay = d
}

// SetRedirect makes DiscoveryPath answer 302 Found to location ("" turns
// it off). DiscoveryAliasPath is never redirected.
func (i *Issuer) SetRedirect(location string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.redirect = location
}

// SetJWKSPadding makes the JWKS body n bytes longer with trailing
// whitespace, so that it stays valid JSON.
func (i *Issuer) SetJWKSPadding(n int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.padding = n
}

// SetDiscovery changes the discovery document: over replaces members (a
// wrong issuer, an http jwks_uri), or deletes those whose value is nil.
// Each call replaces the previous one's changes.
func (i *Issuer) SetDiscovery(over map[string]any) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.discovery = maps.Clone(over)
}

// SetClock sets the time claims are made at (default time.Now).
func (i *Issuer) SetClock(now func() time.Time) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.now = now
}

// clock returns the issuer's time.
func (i *Issuer) clock() time.Time {
	i.mu.Lock()
	now := i.now
	i.mu.Unlock()
	return now()
}

// apply replaces m's members with over's, deleting those over sets to nil.
func apply(m, over map[string]any) {
	for k, v := range over {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
}

// newKey generates an RSA-2048 key.
func newKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("oidctest: generating a key: %v", err))
	}
	return k
}

// publicPEM is the PEM "PUBLIC KEY" (PKIX) encoding of pub.
func publicPEM(pub *rsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(fmt.Sprintf("oidctest: encoding a public key: %v", err))
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// randomID is 16 random bytes in the form of a UUID.
func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return formatUUID(b)
}

// uid is a UUID-shaped identifier derived from parts.
func uid(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return formatUUID(h.Sum(nil)[:16])
}

// formatUUID writes 16 bytes as 8-4-4-4-12 hex digits.
func formatUUID(b []byte) string {
	s := hex.EncodeToString(b)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// b64 is base64url without padding (RFC 7515 §2).
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
