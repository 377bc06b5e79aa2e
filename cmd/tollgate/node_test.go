package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/internal/testenv"
)

// nodeDir holds the JavaScript clients: package.json, its lockfile and
// clients.mjs.
const nodeDir = "testdata/node"

// nodeClients returns the node binary named by TOLLGATE_TEST_NODE, after
// installing testdata/node's locked dependencies with npm ci when
// node_modules is missing or older than the lockfile. It skips without
// the variable unless TOLLGATE_TEST_NODE_REQUIRED=1.
func nodeClients(t *testing.T) string {
	t.Helper()
	node := testenv.Require(t, "TOLLGATE_TEST_NODE", "a node binary, v20 or later (Debian: /usr/bin/node)")
	// oauth4webapi 3 and openid-client 6 need Node.js 20 (Debian 12 has 18).
	v, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", node, err)
	}
	var major int
	if _, err := fmt.Sscanf(string(v), "v%d.", &major); err != nil || major < 20 {
		t.Fatalf("%s is Node.js %s: the clients need v20 or later", node, bytes.TrimSpace(v))
	}
	lock, err := os.Stat(filepath.Join(nodeDir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if installed, err := os.Stat(filepath.Join(nodeDir, "node_modules", ".package-lock.json")); err == nil && !installed.ModTime().Before(lock.ModTime()) {
		return node
	}
	// npm is a node script beside node: put node first in its PATH.
	npm := filepath.Join(filepath.Dir(node), "npm")
	if _, err := os.Stat(npm); err != nil {
		if npm, err = exec.LookPath("npm"); err != nil {
			t.Fatalf("node_modules is missing in %s and there is no npm to install it: %v", nodeDir, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(node)+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", nodeDir, err, out)
	}
	return node
}

// runNode runs clients.mjs in mode with env added to the test's
// environment, decodes the JSON it prints into out, and fails the test,
// showing its stderr, if it exits non-zero or takes a minute.
func runNode(t *testing.T, node, mode string, env map[string]string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "clients.mjs", mode)
	cmd.Dir = nodeDir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node clients.mjs %s: %v\nstdout: %s\nstderr: %s", mode, err, stdout.Bytes(), stderr.Bytes())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("node clients.mjs %s printed %q: %v\nstderr: %s", mode, stdout.Bytes(), err, stderr.Bytes())
	}
}

// nodeKey is a key pair clients.mjs generated: its public and private
// JWKs as WebCrypto exports them, and its RFC 7638 thumbprint as
// oauth4webapi computes it.
type nodeKey struct {
	Public     map[string]any  `json:"public"`
	Private    json.RawMessage `json:"private"`
	Thumbprint string          `json:"thumbprint"`
}

// nodeToken is a token response as the clients parsed it, or their error.
type nodeToken struct {
	AccessToken string         `json:"access_token"`
	TokenType   string         `json:"token_type"`
	ExpiresIn   float64        `json:"expires_in"`
	Failed      map[string]any `json:"failed"`
}

// want fails unless tok is a token of type typ (compared without case,
// RFC 6749 §5.1: oauth4webapi lowercases it) and returns it.
func (tok nodeToken) want(t *testing.T, who, typ string) string {
	t.Helper()
	if tok.Failed != nil || tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, typ) || tok.ExpiresIn <= 0 {
		t.Fatalf("%s: %+v, want a %s token", who, tok, typ)
	}
	return tok.AccessToken
}

// nodeCall is a protected resource request as oauth4webapi saw it: a
// response, or the error it was refused with.
type nodeCall struct {
	Status     int               `json:"status"`
	Body       map[string]string `json:"body"`
	Refused    bool              `json:"refused"`
	Name       string            `json:"name"`
	Error      string            `json:"error"`
	Challenges []struct {
		Scheme     string            `json:"scheme"`
		Parameters map[string]string `json:"parameters"`
	} `json:"challenges"`
}

// nodeGateway is a gateway in front of a protected resource, as Traefik's
// forwardAuth would be: it asks Tollgate's /check about each request,
// forwarding its credentials, method and URI (X-Forwarded-Method,
// -Proto, -Host, -Uri), and answers with /check's refusal or with the
// identity the resource was given. It records each request's headers.
type nodeGateway struct {
	*httptest.Server
	tollgate string
	mu       sync.Mutex
	requests []*http.Request
}

func newNodeGateway(t *testing.T, tollgate string) *nodeGateway {
	g := &nodeGateway{tollgate: tollgate}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.requests = append(g.requests, r.Clone(context.Background()))
		g.mu.Unlock()
		resp, err := g.check(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if v := resp.Header.Get("WWW-Authenticate"); v != "" {
			w.Header().Set("WWW-Authenticate", v)
		}
		w.WriteHeader(resp.StatusCode)
		json.NewEncoder(w).Encode(map[string]string{"subject": resp.Header.Get("X-Tollgate-Subject"),
			"org": resp.Header.Get("X-Tollgate-Org"), "role": resp.Header.Get("X-Tollgate-Role"), "path": r.URL.Path})
	}))
	t.Cleanup(g.Close)
	return g
}

// check asks /check about r, as the gateway's auth request, and returns
// its answer with the OAuth error of its body, if any.
func (g *nodeGateway) check(r *http.Request) (*http.Response, error) {
	req, _ := http.NewRequest("GET", g.tollgate+"/check", nil)
	for _, h := range []string{"Authorization", "DPoP"} {
		for _, v := range r.Header.Values(h) {
			req.Header.Add(h, v)
		}
	}
	req.Header.Set("X-Forwarded-Method", r.Method)
	req.Header.Set("X-Forwarded-Proto", "http")
	req.Header.Set("X-Forwarded-Host", r.Host)
	req.Header.Set("X-Forwarded-Uri", r.URL.RequestURI())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, err
}

// jwtClaims decodes a JWT's claims without verifying it.
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%q is not a JWT", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("the claims of %q do not decode", tok)
	}
	return m
}

// TestNodeClients runs real, unmodified third-party JavaScript clients —
// oauth4webapi and openid-client, at the versions testdata/node locks —
// against Tollgate (K1, K3). clients.mjs generates the key pairs; the test
// registers their public JWKs, then the clients discover the server
// (RFC 8414 and OpenID discovery), authenticate with private_key_jwt
// (Ed25519 and ES256) for tokens, introspection and revocation, and get a
// DPoP-bound token which oauth4webapi presents, with its own proof, to a
// resource behind a gateway that asks /check. The test checks what the
// clients got against the server's state: one reused token, the audit
// events' method and key, the binding's thumbprint, and that a replayed
// proof is refused.
func TestNodeClients(t *testing.T) {
	node := nodeClients(t)
	ts := startServer(t, databases(t)["sqlite"](t), nil)
	admin := loggedIn(t, ts)

	var keys map[string]nodeKey
	runNode(t, node, "keys", nil, &keys)
	for _, name := range []string{"ed25519", "es256", "dpop_client"} {
		if keys[name].Thumbprint == "" || len(keys[name].Private) == 0 {
			t.Fatalf("clients.mjs keys: %s missing in %v", name, keys)
		}
	}
	sa := newSA(t, admin, "acme", "node-client", 600, "member")["id"].(string)
	registered := map[string]map[string]any{}
	for _, name := range []string{"ed25519", "es256"} {
		k := addKey(t, admin, sa, keys[name].Public)
		if k["thumbprint"] != keys[name].Thumbprint {
			t.Fatalf("%s key: Tollgate's thumbprint %v, oauth4webapi's %s", name, k["thumbprint"], keys[name].Thumbprint)
		}
		registered[name] = k
	}
	if registered["ed25519"]["alg"] != "EdDSA" || registered["es256"]["alg"] != "ES256" {
		t.Fatalf("registered algorithms: %v and %v", registered["ed25519"]["alg"], registered["es256"]["alg"])
	}
	dpopAcct := newSA(t, admin, "acme", "node-dpop", 600, "viewer")
	dsa, dsecret := dpopAcct["id"].(string), dpopAcct["client_secret"].(string)
	admin.do("PATCH", "/api/v1/orgs/acme/service-accounts/"+dsa, map[string]any{"require_dpop": true}).want(t, 200)
	dkey := addKey(t, admin, dsa, keys["dpop_client"].Public)

	gw := newNodeGateway(t, ts.URL)
	var out struct {
		Metadata     map[string]any `json:"metadata"`
		OAuth4WebAPI struct {
			Ed25519              nodeToken      `json:"ed25519"`
			ES256                nodeToken      `json:"es256"`
			Introspection        map[string]any `json:"introspection"`
			Revoked              bool           `json:"revoked"`
			IntrospectionRevoked map[string]any `json:"introspection_after_revocation"`
		} `json:"oauth4webapi"`
		OpenIDClient struct {
			nodeToken
			Issuer string    `json:"issuer"`
			ES256  nodeToken `json:"es256"`
		} `json:"openid_client"`
		DPoP struct {
			nodeToken
			JKT          string         `json:"jkt"`
			WithoutProof map[string]any `json:"without_proof"`
			Resource     nodeCall       `json:"resource"`
			Again        nodeCall       `json:"resource_again"`
			AsBearer     nodeCall       `json:"as_bearer"`
		} `json:"dpop"`
	}
	runNode(t, node, "run", map[string]string{
		"TOLLGATE_ISSUER":          ts.URL,
		"TOLLGATE_CLIENT_ID":       sa,
		"TOLLGATE_ED25519_JWK":     string(keys["ed25519"].Private),
		"TOLLGATE_ES256_JWK":       string(keys["es256"].Private),
		"TOLLGATE_ES256_KID":       registered["es256"]["kid"].(string),
		"TOLLGATE_DPOP_CLIENT_ID":  dsa,
		"TOLLGATE_DPOP_CLIENT_JWK": string(keys["dpop_client"].Private),
		"TOLLGATE_RESOURCE_URL":    gw.URL + "/orders/7?expand=lines",
	}, &out)

	// Discovery: the document the clients accepted.
	md := out.Metadata
	if md["issuer"] != ts.URL || md["token_endpoint"] != ts.URL+"/oauth2/token" || !strings.Contains(fmtJSON(md["token_endpoint_auth_methods_supported"]), `"private_key_jwt"`) ||
		md["dpop_signing_alg_values_supported"] == nil || out.OpenIDClient.Issuer != ts.URL {
		t.Fatalf("discovered metadata %v, openid-client's issuer %q", md, out.OpenIDClient.Issuer)
	}

	// (a) oauth4webapi, private_key_jwt with each key: one reused token.
	tok := out.OAuth4WebAPI.Ed25519.want(t, "oauth4webapi with the Ed25519 key", "Bearer")
	if got := out.OAuth4WebAPI.ES256.want(t, "oauth4webapi with the ES256 key", "Bearer"); got != tok {
		t.Fatal("the ES256 assertion got another token while the first was live (T2)")
	}
	if c := jwtClaims(t, tok); c["sub"] != sa || c["iss"] != ts.URL || c["cnf"] != nil {
		t.Fatalf("token claims %v", c)
	}
	in := out.OAuth4WebAPI.Introspection
	if in["active"] != true || in["sub"] != sa || in["client_id"] != sa || in["token_type"] != "Bearer" {
		t.Fatalf("introspection through oauth4webapi: %v", in)
	}
	// (c) openid-client, with each key: the same token again.
	if got := out.OpenIDClient.want(t, "openid-client with the Ed25519 key", "Bearer"); got != tok {
		t.Fatal("openid-client got another token while the first was live (T2)")
	}
	if got := out.OpenIDClient.ES256.want(t, "openid-client with the ES256 key", "Bearer"); got != tok {
		t.Fatal("openid-client's ES256 assertion got another token while the first was live (T2)")
	}
	// Revocation through oauth4webapi took effect.
	if !out.OAuth4WebAPI.Revoked || out.OAuth4WebAPI.IntrospectionRevoked["active"] != false {
		t.Fatalf("after revocation: %v", out.OAuth4WebAPI.IntrospectionRevoked)
	}
	wantCheck(t, check(t, ts.URL, "GET", tok), 401)

	// The server's record: the token was issued for private_key_jwt with
	// the Ed25519 key, and each key's use is recorded.
	events := admin.do("GET", "/api/v1/orgs/acme/audit-events?action=access_token.issued&actor_id="+sa, nil).want(t, 200).JSON()["items"].([]any)
	if len(events) != 1 {
		t.Fatalf("%d access_token.issued events for %s, want 1 (one token, reused): %v", len(events), sa, events)
	}
	if d := events[0].(map[string]any)["details"].(map[string]any); d["method"] != "private_key_jwt" || d["credential_id"] != registered["ed25519"]["id"] {
		t.Fatalf("access_token.issued details %v, want method private_key_jwt and the Ed25519 key %v", d, registered["ed25519"]["id"])
	}
	waitKeysUsed(t, admin, sa, registered["ed25519"]["id"], registered["es256"]["id"])

	// (b) oauth4webapi's DPoP: a bound token for the account that requires it.
	bound := out.DPoP.want(t, "oauth4webapi with DPoP", "DPoP")
	if c := jwtClaims(t, bound); c["sub"] != dsa || c["cnf"].(map[string]any)["jkt"] != out.DPoP.JKT {
		t.Fatalf("bound token claims %v, want cnf.jkt %s", c, out.DPoP.JKT)
	}
	if in := introspect(t, ts.URL, dsa, dsecret, bound); in["active"] != true || in["token_type"] != "DPoP" || in["cnf"].(map[string]any)["jkt"] != out.DPoP.JKT {
		t.Fatalf("introspection of the bound token: %v", in)
	}
	if w := out.DPoP.WithoutProof; w["refused"] != true || w["error"] != "invalid_dpop_proof" {
		t.Fatalf("a token request without a proof, for an account that requires DPoP: %v", w)
	}
	events = admin.do("GET", "/api/v1/orgs/acme/audit-events?action=access_token.issued&actor_id="+dsa, nil).want(t, 200).JSON()["items"].([]any)
	if len(events) != 1 {
		t.Fatalf("%d access_token.issued events for %s, want 1: %v", len(events), dsa, events)
	}
	if d := events[0].(map[string]any)["details"].(map[string]any); d["method"] != "private_key_jwt" || d["credential_id"] != dkey["id"] || d["jkt"] != out.DPoP.JKT {
		t.Fatalf("access_token.issued details %v, want private_key_jwt, key %v and jkt %s", d, dkey["id"], out.DPoP.JKT)
	}
	// The resource, with oauth4webapi's proofs for its method and URL.
	for name, c := range map[string]nodeCall{"first call": out.DPoP.Resource, "second call": out.DPoP.Again} {
		if c.Refused || c.Status != 200 || c.Body["subject"] != dsa || c.Body["path"] != "/orders/7" {
			t.Fatalf("%s to the resource through /check: %+v", name, c)
		}
	}
	// The downgrade to Bearer is refused with a DPoP challenge.
	if b := out.DPoP.AsBearer; !b.Refused || b.Status != 401 || len(b.Challenges) == 0 || b.Challenges[0].Scheme != "dpop" {
		t.Fatalf("the bound token as a Bearer: %+v, want a 401 with a DPoP challenge", b)
	}
	// The gateway saw what oauth4webapi sent: the DPoP scheme and a proof
	// for GET and the resource's URL without its query (RFC 9449 §4.2).
	// Sent again, as an attacker who captured it would, it is refused.
	gw.mu.Lock()
	first := gw.requests[0]
	n := len(gw.requests)
	gw.mu.Unlock()
	if n != 3 || first.Header.Get("Authorization") != "DPoP "+bound {
		t.Fatalf("the gateway saw %d requests, the first with Authorization %q", n, first.Header.Get("Authorization"))
	}
	proof := jwtClaims(t, first.Header.Get("DPoP"))
	if proof["htm"] != "GET" || proof["htu"] != gw.URL+"/orders/7" || proof["ath"] == nil {
		t.Fatalf("oauth4webapi's proof %v", proof)
	}
	replay, err := gw.check(first)
	if err != nil {
		t.Fatal(err)
	}
	var refusal map[string]string
	json.NewDecoder(replay.Body).Decode(&refusal)
	if replay.StatusCode != 401 || !strings.HasPrefix(replay.Header.Get("WWW-Authenticate"), "DPoP ") ||
		refusal["error"] != "invalid_dpop_proof" || !strings.Contains(refusal["error_description"], "used already") {
		t.Fatalf("the captured request replayed: %d %q %v, want 401 saying the proof was used already",
			replay.StatusCode, replay.Header.Get("WWW-Authenticate"), refusal)
	}
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// waitKeysUsed waits, within the flush interval, until each of the keys
// of sa named by ids shows a last use.
func waitKeysUsed(t *testing.T, admin *client, sa string, ids ...any) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		used := map[any]bool{}
		for _, item := range admin.do("GET", "/api/v1/orgs/acme/service-accounts/"+sa+"/keys", nil).want(t, 200).JSON()["items"].([]any) {
			k := item.(map[string]any)
			used[k["id"]] = k["last_used_at"] != nil
		}
		all := true
		for _, id := range ids {
			all = all && used[id]
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("keys' last use: %v", used)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
