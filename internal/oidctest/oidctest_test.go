package oidctest

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// get fetches url and decodes its JSON body into v.
func get(t *testing.T, url string, v any) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return resp
}

// jwks fetches the issuer's JWK Set through its discovery document.
func jwks(t *testing.T, i *Issuer) jose.JSONWebKeySet {
	t.Helper()
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	get(t, i.URL+DiscoveryPath, &doc)
	if doc.Issuer != i.URL || doc.JWKSURI != i.URL+JWKSPath {
		t.Fatalf("discovery document: issuer %q, jwks_uri %q", doc.Issuer, doc.JWKSURI)
	}
	var set jose.JSONWebKeySet
	get(t, doc.JWKSURI, &set)
	return set
}

// verify checks token against set as a careful verifier would (RS256
// only, the key its kid names) and returns its claims.
func verify(t *testing.T, set jose.JSONWebKeySet, token string) (map[string]any, error) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		return nil, errors.New("no key with that kid")
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, err
	}
	return claims, nil
}

func TestTokensVerifyAgainstTheJWKS(t *testing.T) {
	i := New(t)
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	i.SetClock(func() time.Time { return now })
	set := jwks(t, i)
	if len(set.Keys) != 1 || set.Keys[0].KeyID != i.KeyID() || set.Keys[0].Algorithm != "RS256" || set.Keys[0].Use != "sig" {
		t.Fatalf("JWKS = %+v", set.Keys)
	}
	if pub, ok := set.Keys[0].Key.(*rsa.PublicKey); !ok || pub.N.BitLen() != 2048 {
		t.Fatalf("key is %T, want an RSA-2048 public key", set.Keys[0].Key)
	}

	tests := []struct {
		name   string
		claims map[string]any
		check  map[string]any
	}{
		{"github", i.GitHub("https://tollgate.test", nil), map[string]any{
			"iss": i.URL, "aud": "https://tollgate.test", "sub": "repo:octo-org/octo-repo:environment:prod",
			"repository": "octo-org/octo-repo", "ref": "refs/heads/main", "environment": "prod",
			"iat": float64(now.Unix()), "nbf": float64(now.Unix()), "exp": float64(now.Add(5 * time.Minute).Unix()),
		}},
		{"github with changes", i.GitHub("aud", map[string]any{"environment": nil, "ref": "refs/heads/dev"}), map[string]any{
			"environment": nil, "ref": "refs/heads/dev",
		}},
		{"kubernetes", i.Kubernetes("tollgate", "prod", "deployer", nil), map[string]any{
			"iss": i.URL, "sub": "system:serviceaccount:prod:deployer", "exp": float64(now.Add(time.Hour).Unix()),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := i.Sign(tt.claims)
			header, _, _ := strings.Cut(token, ".")
			jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
			if err != nil {
				t.Fatal(err)
			}
			h := jws.Signatures[0].Protected
			if h.Algorithm != "RS256" || h.KeyID != i.KeyID() || h.ExtraHeaders["typ"] != "JWT" {
				t.Fatalf("header %s = %+v", header, h)
			}
			claims, err := verify(t, set, token)
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.check {
				if got, ok := claims[k]; want == nil && ok || want != nil && got != want {
					t.Errorf("claim %s = %v, want %v", k, got, want)
				}
			}
			if jti, _ := claims["jti"].(string); jti == "" {
				t.Error("no jti")
			}
		})
	}

	k8s := i.Kubernetes("tollgate", "prod", "deployer", nil)
	if aud, ok := k8s["aud"].([]string); !ok || len(aud) != 1 || aud[0] != "tollgate" {
		t.Errorf("kubernetes aud = %v", k8s["aud"])
	}
	ns := k8s["kubernetes.io"].(map[string]any)
	if ns["namespace"] != "prod" || ns["serviceaccount"].(map[string]any)["name"] != "deployer" {
		t.Errorf("kubernetes.io = %v", ns)
	}
	if a, b := i.GitHub("a", nil)["jti"], i.GitHub("a", nil)["jti"]; a == b {
		t.Errorf("jti %v repeats", a)
	}
}

func TestAttacksDoNotVerify(t *testing.T) {
	i := New(t)
	set := jwks(t, i)
	claims := i.GitHub("aud", nil)
	tests := []struct {
		name, alg, kid string
		sigEmpty       bool
	}{
		{"alg none", "none", i.KeyID(), true},
		{"HS256 keyed with the public key", "HS256", i.KeyID(), false},
		{"unpublished key", "RS256", "not-published", false},
		{"published kid, no kid header", "RS256", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := i.SignWith(tt.alg, tt.kid, claims)
			parts := strings.Split(token, ".")
			if len(parts) != 3 || (parts[2] == "") != tt.sigEmpty {
				t.Fatalf("token %q: want 3 parts, empty signature %v", token, tt.sigEmpty)
			}
			if _, err := verify(t, set, token); err == nil {
				t.Fatal("the attack verified")
			}
		})
	}

	// The HS256 token is what the confusion attack needs: an HMAC keyed
	// with the published key's PEM.
	token := i.SignWith("HS256", i.KeyID(), claims)
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatal(err)
	}
	pub := set.Keys[0].Key.(*rsa.PublicKey)
	if _, err := jws.Verify(publicPEM(pub)); err != nil {
		t.Fatalf("HS256 token does not verify with the public key's PEM: %v", err)
	}
}

func TestRotate(t *testing.T) {
	i := New(t)
	old := i.KeyID()
	oldToken := i.Sign(i.GitHub("aud", nil))
	kid := i.Rotate()
	if kid == old || i.KeyID() != kid {
		t.Fatalf("Rotate = %q, KeyID = %q, old %q", kid, i.KeyID(), old)
	}
	set := jwks(t, i)
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want 2", len(set.Keys))
	}
	for _, token := range []string{oldToken, i.Sign(i.GitHub("aud", nil))} {
		if _, err := verify(t, set, token); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := i.JWKSFetches(), 1; got != want {
		t.Errorf("JWKSFetches = %d, want %d", got, want)
	}
	if got, want := i.DiscoveryFetches(), 1; got != want {
		t.Errorf("DiscoveryFetches = %d, want %d", got, want)
	}
}

func TestMisbehaviour(t *testing.T) {
	i := New(t)

	i.SetRedirect("https://elsewhere.example/x")
	resp := get(t, i.URL+DiscoveryPath, nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://elsewhere.example/x" {
		t.Errorf("redirect: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var doc map[string]any
	get(t, i.URL+DiscoveryAliasPath, &doc)
	if doc["issuer"] != i.URL {
		t.Errorf("alias document = %v", doc)
	}
	i.SetRedirect("")

	i.SetDiscovery(map[string]any{"issuer": "https://other.example", "jwks_uri": nil})
	doc = nil
	get(t, i.URL+DiscoveryPath, &doc)
	if _, ok := doc["jwks_uri"]; doc["issuer"] != "https://other.example" || ok {
		t.Errorf("changed document = %v", doc)
	}

	i.SetJWKSPadding(1 << 20)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, i.URL+JWKSPath, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	var set jose.JSONWebKeySet
	if err != nil || len(body) < 1<<20 || json.Unmarshal(body, &set) != nil || len(set.Keys) != 1 {
		t.Errorf("padded JWKS: %d bytes, %v, %d keys", len(body), err, len(set.Keys))
	}

	i.SetDelay(10 * time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, i.URL+JWKSPath, nil)
	start := time.Now()
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a delayed answer came before the deadline")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("canceled request took %v", d)
	}
}
