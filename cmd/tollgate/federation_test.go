package main

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/internal/oidctest"
	"github.com/tollgate/tollgate/oauth"
)

// exchange is an RFC 8693 token exchange of a workload's JWT for sa's token.
func exchange(sa, jwt string) url.Values {
	return url.Values{"grant_type": {oauth.GrantTokenExchange}, "client_id": {sa}, "subject_token": {jwt},
		"subject_token_type": {oauth.TokenTypeJWT}}
}

// jwtBearer is the RFC 7523 §2.1 grant with the same JWT.
func jwtBearer(sa, jwt string) url.Values {
	return url.Values{"grant_type": {oauth.GrantJWTBearer}, "client_id": {sa}, "assertion": {jwt}}
}

// federate creates a federated credential on sa and returns it.
func federate(t *testing.T, admin *client, sa string, body map[string]any) map[string]any {
	t.Helper()
	return admin.do("POST", "/api/v1/orgs/acme/service-accounts/"+sa+"/federated-credentials", body).want(t, 201).JSON()
}

// TestWorkloadIdentityFederation checks K2 end to end against real OIDC
// issuers on 127.0.0.1: a GitHub Actions-shaped and a Kubernetes-shaped
// workload get their accounts' tokens with no secret anywhere, reuse
// holds, the audit log records the method and the external iss and sub,
// and every condition is refused at its boundary with invalid_grant
// naming it.
func TestWorkloadIdentityFederation(t *testing.T) {
	gh, k8s, slow, redirecting, huge := oidctest.New(t), oidctest.New(t), oidctest.New(t), oidctest.New(t), oidctest.New(t)
	slow.SetDelay(8 * time.Second)
	redirecting.SetRedirect(gh.URL + oidctest.DiscoveryPath) // another host: another port
	huge.SetJWKSPadding(10 << 20)
	insecure := strings.Join([]string{gh.URL, k8s.URL, slow.URL, redirecting.URL, huge.URL}, ",")
	ts := startServer(t, databases(t)["sqlite"](t), map[string]string{"TOLLGATE_FEDERATION_INSECURE_ISSUERS": insecure})
	admin := loggedIn(t, ts)
	deploy := newSA(t, admin, "acme", "deploy", 900, "member")["id"].(string)
	pods := newSA(t, admin, "acme", "pods", 600, "viewer")["id"].(string)

	fc := federate(t, admin, deploy, map[string]any{"name": "GitHub main", "issuer": gh.URL, "subject": "repo:octo-org/octo-repo:environment:prod",
		"claims": map[string]string{"repository": "octo-org/octo-repo", "ref": "refs/heads/main", "environment": "prod"}})
	if fc["audience"] != ts.URL || fc["claims"].(map[string]any)["repository"] != "octo-org/octo-repo" || fc["last_used_at"] != nil {
		t.Fatalf("federated credential %v", fc)
	}
	federate(t, admin, pods, map[string]any{"name": "cluster", "issuer": k8s.URL, "audience": "tollgate",
		"subject": "system:serviceaccount:shop:checkout"})

	// The GitHub workload: token exchange, then the JWT bearer grant; one token.
	r := formPost(t, ts.URL, "/oauth2/token", exchange(deploy, gh.Sign(gh.GitHub(ts.URL, nil)))).wantOAuth(t, 200, "", "")
	if r["issued_token_type"] != oauth.TokenTypeAccessToken || r["token_type"] != "Bearer" || r["service_account"].(map[string]any)["id"] != deploy {
		t.Fatalf("exchange answered %v", r)
	}
	again := formPost(t, ts.URL, "/oauth2/token", jwtBearer(deploy, gh.Sign(gh.GitHub(ts.URL, nil)))).wantOAuth(t, 200, "", "")
	if again["access_token"] != r["access_token"] || again["issued_token_type"] != nil {
		t.Fatalf("the JWT bearer grant answered %v; want the same token, without issued_token_type", again)
	}
	wantCheck(t, check(t, ts.URL, "GET", r["access_token"].(string)), 200)

	// The Kubernetes workload: a projected service account token.
	kr := formPost(t, ts.URL, "/oauth2/token", exchange(pods, k8s.Sign(k8s.Kubernetes("tollgate", "shop", "checkout", nil)))).wantOAuth(t, 200, "", "")
	if kr["service_account"].(map[string]any)["id"] != pods {
		t.Fatalf("k8s exchange %v", kr)
	}
	formPost(t, ts.URL, "/oauth2/token", exchange(pods, k8s.Sign(k8s.Kubernetes("tollgate", "shop", "admin", nil)))).wantOAuth(t, 400, oauth.CodeInvalidGrant, "sub")
	// A disabled account's workload is refused, though its account is cached.
	admin.do("POST", "/api/v1/orgs/acme/service-accounts/"+pods+"/disable", nil).want(t, 200)
	formPost(t, ts.URL, "/oauth2/token", exchange(pods, k8s.Sign(k8s.Kubernetes("tollgate", "shop", "checkout", nil)))).wantOAuth(t, 400, oauth.CodeInvalidGrant, "disabled")
	admin.do("POST", "/api/v1/orgs/acme/service-accounts/"+pods+"/enable", nil).want(t, 200)
	formPost(t, ts.URL, "/oauth2/token", exchange(pods, k8s.Sign(k8s.Kubernetes("tollgate", "shop", "checkout", nil)))).wantOAuth(t, 200, "", "")

	// The audit event names the method and the external identity.
	events := admin.do("GET", "/api/v1/orgs/acme/audit-events?action=access_token.issued&actor_id="+deploy, nil).want(t, 200).JSON()["items"].([]any)
	if len(events) != 1 {
		t.Fatalf("%d access_token.issued events for the reused token, want 1", len(events))
	}
	d := events[0].(map[string]any)["details"].(map[string]any)
	if d["method"] != "federated" || d["external_iss"] != gh.URL || d["external_sub"] != "repo:octo-org/octo-repo:environment:prod" || d["credential_id"] != fc["id"] {
		t.Fatalf("audit details %v", d)
	}

	// Every condition at its boundary.
	fetches := gh.JWKSFetches()
	other := oidctest.New(t) // an issuer no credential trusts
	for _, tc := range []struct {
		name, jwt, desc string
		sa              string
	}{
		{"wrong aud", gh.Sign(gh.GitHub("https://other.example", nil)), "aud", deploy},
		{"aud with a trailing slash", gh.Sign(gh.GitHub(ts.URL+"/", nil)), "aud", deploy},
		{"untrusted issuer", other.Sign(other.GitHub(ts.URL, nil)), "issuer", deploy},
		{"the trusted issuer's iss and kid, signed by another key", other.SignWith("RS256", gh.KeyID(), other.GitHub(ts.URL, map[string]any{"iss": gh.URL})), "signature", deploy},
		{"wrong sub", gh.Sign(gh.GitHub(ts.URL, map[string]any{"sub": "repo:octo-org/octo-repo:ref:refs/heads/dev"})), "sub", deploy},
		{"claim differing by case", gh.Sign(gh.GitHub(ts.URL, map[string]any{"repository": "Octo-Org/octo-repo"})), `"repository" claim`, deploy},
		{"claim with a trailing space", gh.Sign(gh.GitHub(ts.URL, map[string]any{"environment": "prod "})), `"environment" claim`, deploy},
		{"claim missing", gh.Sign(gh.GitHub(ts.URL, map[string]any{"ref": nil})), `"ref"`, deploy},
		{"expired", gh.Sign(gh.GitHub(ts.URL, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})), "expired", deploy},
		{"nbf in the future", gh.Sign(gh.GitHub(ts.URL, map[string]any{"nbf": time.Now().Add(10 * time.Minute).Unix()})), "nbf", deploy},
		{"alg none", gh.SignWith("none", gh.KeyID(), gh.GitHub(ts.URL, nil)), `alg "none"`, deploy},
		{"HMAC with the public key", gh.SignWith("HS256", gh.KeyID(), gh.GitHub(ts.URL, nil)), "HS256", deploy},
		{"another account's credential", gh.Sign(gh.GitHub(ts.URL, nil)), "issuer", pods},
		{"unknown client", gh.Sign(gh.GitHub(ts.URL, nil)), "issuer", "sa_01J00000000000000000000000"},
		{"slow issuer", slow.Sign(slow.GitHub(ts.URL, map[string]any{"iss": slow.URL})), "timed out", ""},
		{"redirect to another host", redirecting.Sign(redirecting.GitHub(ts.URL, map[string]any{"iss": redirecting.URL})), "another host", ""},
		{"a 10 MB JWKS", huge.Sign(huge.GitHub(ts.URL, map[string]any{"iss": huge.URL})), "larger than", ""},
	} {
		sa := tc.sa
		if sa == "" { // each misbehaving issuer gets an account that trusts it
			iss := map[string]*oidctest.Issuer{"slow issuer": slow, "redirect to another host": redirecting, "a 10 MB JWKS": huge}[tc.name]
			sa = newSA(t, admin, "acme", strings.Fields(tc.name)[1], 600, "viewer")["id"].(string)
			federate(t, admin, sa, map[string]any{"name": "x", "issuer": iss.URL})
		}
		start := time.Now()
		formPost(t, ts.URL, "/oauth2/token", exchange(sa, tc.jwt)).wantOAuth(t, 400, oauth.CodeInvalidGrant, tc.desc)
		if d := time.Since(start); d > 7*time.Second {
			t.Errorf("%s: took %v", tc.name, d)
		}
	}

	// An unknown kid refetches the issuer's keys at most once a minute: a
	// key rotated in after that refetch is not seen until the minute is up.
	if n := gh.JWKSFetches(); n != fetches {
		t.Fatalf("refusals before any unknown kid fetched the JWKS %d times", n-fetches)
	}
	before := gh.JWKSFetches()
	formPost(t, ts.URL, "/oauth2/token", exchange(deploy, gh.SignWith("RS256", "unpublished", gh.GitHub(ts.URL, nil)))).wantOAuth(t, 400, oauth.CodeInvalidGrant, "unpublished")
	formPost(t, ts.URL, "/oauth2/token", exchange(deploy, gh.SignWith("RS256", "unpublished-2", gh.GitHub(ts.URL, nil)))).wantOAuth(t, 400, oauth.CodeInvalidGrant, "once a minute")
	gh.Rotate()
	formPost(t, ts.URL, "/oauth2/token", exchange(deploy, gh.Sign(gh.GitHub(ts.URL, nil)))).wantOAuth(t, 400, oauth.CodeInvalidGrant, "once a minute")
	if n := gh.JWKSFetches() - before; n != 1 {
		t.Fatalf("unknown kids caused %d JWKS fetches within a minute, want 1", n)
	}

	// The JWT is the only credential: a Basic header with it is refused.
	formPost(t, ts.URL, "/oauth2/token", exchange(deploy, gh.Sign(gh.GitHub(ts.URL, nil))), "Authorization", "Basic c2E6c2VjcmV0").
		wantOAuth(t, 400, oauth.CodeInvalidRequest, "JWT alone")

	// Bad credentials are refused when created, naming the field.
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": "a", "issuer": "http://gitlab.example"}, "issuer"},
		{map[string]any{"name": "a", "issuer": "https://gitlab.com/"}, "issuer"},
		{map[string]any{"name": "a", "issuer": "https://gitlab.com", "subject": "project_path:group/*"}, "subject"},
		{map[string]any{"name": "a", "issuer": "https://gitlab.com", "claims": map[string]string{"ref": " main"}}, "claims.ref"},
		{map[string]any{"name": "a", "issuer": "https://gitlab.com", "claims": map[string]string{"aud": "x"}}, "claims.aud"},
		{map[string]any{"issuer": "https://gitlab.com"}, "name"},
		{map[string]any{"name": "GITHUB MAIN", "issuer": "https://gitlab.com"}, "name"},
	} {
		r := admin.do("POST", "/api/v1/orgs/acme/service-accounts/"+deploy+"/federated-credentials", tc.body)
		if (r.Status != 422 && r.Status != 409) || r.JSON()["field"] != tc.field {
			t.Errorf("%v: %s, want 422 naming %s", tc.body, r, tc.field)
		}
	}

	// Deleting the credential refuses its workload at once.
	admin.do("DELETE", "/api/v1/orgs/acme/service-accounts/"+deploy+"/federated-credentials/"+fc["id"].(string), nil).want(t, 204)
	formPost(t, ts.URL, "/oauth2/token", exchange(deploy, gh.Sign(gh.GitHub(ts.URL, nil)))).wantOAuth(t, 400, oauth.CodeInvalidGrant, "issuer")
}

// TestFederatedExchangesAcrossReplicas: two processes on one PostgreSQL
// database, 32 concurrent exchanges split between them mint one token.
func TestFederatedExchangesAcrossReplicas(t *testing.T) {
	db := databases(t)["postgres"](t)
	gh := oidctest.New(t)
	const issuer = "http://tollgate.test"
	env := map[string]string{"TOLLGATE_KEY_FILE": newKeyFile(t), "TOLLGATE_ISSUER": issuer, "TOLLGATE_FEDERATION_INSECURE_ISSUERS": gh.URL}
	a := startProcess(t, db, env)
	b := startProcess(t, db, env)
	admin := newClient(t, a.URL)
	admin.signIn("admin@example.com", adminPassword)
	sa := newSA(t, admin, "acme", "replicated", 900, "viewer")["id"].(string)
	federate(t, admin, sa, map[string]any{"name": "gh", "issuer": gh.URL, "claims": map[string]string{"repository": "octo-org/octo-repo"}})
	seen := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			r := formPost(t, []string{a.URL, b.URL}[i%2], "/oauth2/token", exchange(sa, gh.Sign(gh.GitHub(issuer, nil))))
			if r.Status != 200 {
				t.Errorf("%s", r)
				return
			}
			mu.Lock()
			seen[r.JSON()["access_token"].(string)] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != 1 {
		t.Fatalf("two replicas minted %d tokens for one account", len(seen))
	}
	if n := countIssued(t, admin, sa); n != 1 {
		t.Fatalf("%d access_token.issued events, want 1", n)
	}
	// A sub PostgreSQL could not store in the audit log is refused first.
	formPost(t, a.URL, "/oauth2/token", exchange(sa, gh.Sign(gh.GitHub(issuer, map[string]any{"sub": "repo:a\x00b"})))).
		wantOAuth(t, 400, oauth.CodeInvalidGrant, "plain text")
}
