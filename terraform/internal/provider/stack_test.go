package provider_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tollgate/tollgate/client"
	"github.com/tollgate/tollgate/internal/stacktest"
	"github.com/tollgate/tollgate/terraform/internal/provider"
)

// stack is a real Tollgate (internal/stacktest: the organization acme and
// its super admin) served on a loopback port.
type stack struct {
	url string
	env *stacktest.Env
	// admin acts as the super admin behind the provider's back, as a
	// person in the console would.
	admin *client.Admin
}

// eachStore runs f against a stack on SQLite and, when
// TOLLGATE_TEST_POSTGRES is set (CI requires it), one on PostgreSQL.
func eachStore(t *testing.T, f func(t *testing.T, s *stack)) {
	t.Helper()
	for name, env := range stacktest.Stores(t, options) {
		t.Run(name, func(t *testing.T) { f(t, serve(t, env)) })
	}
}

// options are the test stacks': usage (last_used_at) is written soon.
var options = stacktest.Options{UsageFlushEvery: 50 * time.Millisecond}

// serve serves env on a loopback port for t.
func serve(t *testing.T, env *stacktest.Env) *stack {
	t.Helper()
	srv := httptest.NewServer(env.Handler)
	t.Cleanup(srv.Close)
	s := &stack{url: srv.URL, env: env}
	c, err := client.New(srv.URL, "", client.WithHTTPClient(s.session(t)))
	if err != nil {
		t.Fatal(err)
	}
	s.admin = c
	return s
}

// session returns an HTTP client signed in as the super admin, its
// session in a cookie jar.
func (s *stack) session(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	c, err := client.New(s.url, "", client.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Decode[client.Session](c.SignIn(t.Context(), client.SignInJSONRequestBody{Email: "admin@example.com", Password: stacktest.AdminPassword})); err != nil {
		t.Fatal(err)
	}
	return hc
}

// providerSession makes the provider act through a session of the super
// admin of its own.
func providerSession(t *testing.T, s *stack) provider.Option {
	t.Helper()
	return provider.WithHTTPClient(s.session(t))
}

// superAdmin returns the provider configured for organization acme,
// acting as the super admin through a session of its own.
func (s *stack) superAdmin(t *testing.T) *tf {
	t.Helper()
	return configured(t, cfg{"server": s.url, "organization": "acme"}, providerSession(t, s))
}

// check calls /check with a bearer token and extra headers (name, value
// pairs), as a gateway would.
func (s *stack) check(t *testing.T, token string, headers ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.url+"/check", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// wantCheck calls /check and fails t unless it answers status (and, for
// 200, names subject).
func (s *stack) wantCheck(t *testing.T, token string, status int, subject string, headers ...string) {
	t.Helper()
	resp := s.check(t, token, headers...)
	if resp.StatusCode != status {
		t.Fatalf("/check answered %d, want %d", resp.StatusCode, status)
	}
	if status == 200 && resp.Header.Get("X-Tollgate-Subject") != subject {
		t.Fatalf("/check subject %q, want %q", resp.Header.Get("X-Tollgate-Subject"), subject)
	}
}

// account creates a service account behind the provider's back.
func (s *stack) account(t *testing.T, name string, role client.CredentialRole) *client.ServiceAccountWithSecret {
	t.Helper()
	sa, err := s.admin.CreateServiceAccount(t.Context(), "acme", client.NewServiceAccount{Name: name, Role: role, TokenTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return sa
}
