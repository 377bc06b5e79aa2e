package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/internal/stacktest"
)

// countingStore counts the look-ups that authenticating a credential
// costs, so that a test can tell what the caches answered.
type countingStore struct {
	tollgate.Store
	lookups atomic.Int64
}

func (s *countingStore) GetAPITokenByHash(ctx context.Context, hash []byte) (*tollgate.APITokenView, error) {
	s.lookups.Add(1)
	return s.Store.GetAPITokenByHash(ctx, hash)
}

func (s *countingStore) GetAccountTokenByHash(ctx context.Context, hash []byte) (*tollgate.AccountToken, error) {
	s.lookups.Add(1)
	return s.Store.GetAccountTokenByHash(ctx, hash)
}

func (s *countingStore) GetAccessToken(ctx context.Context, id string) (*tollgate.AccessToken, error) {
	s.lookups.Add(1)
	return s.Store.GetAccessToken(ctx, id)
}

func (s *countingStore) GetServiceAccountByID(ctx context.Context, id string) (*tollgate.ServiceAccount, error) {
	s.lookups.Add(1)
	return s.Store.GetServiceAccountByID(ctx, id)
}

func (s *countingStore) GetServiceAccountAndOrg(ctx context.Context, id string) (*tollgate.ServiceAccount, *tollgate.Org, error) {
	s.lookups.Add(1)
	return s.Store.GetServiceAccountAndOrg(ctx, id)
}

func (s *countingStore) GetUserByEmail(ctx context.Context, email string) (*tollgate.User, error) {
	s.lookups.Add(1)
	return s.Store.GetUserByEmail(ctx, email)
}

// from is stacktest.ClientFrom: a client leaving from ip.
var from = stacktest.ClientFrom

// call sends a request and returns its status, headers and body.
func call(t *testing.T, c *http.Client, method, u, contentType, body string, headers ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

const formType = "application/x-www-form-urlencoded"

func tokenForm(id, secret string) string {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}.Encode()
}

func signInBody(email, password string) string {
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	return string(b)
}

// auditCount counts the acme events with action whose target has id or name.
func auditCount(t *testing.T, env *stacktest.Env, action, target string) (n, suppressed int) {
	t.Helper()
	org, err := env.Raw.GetOrgBySlug(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := env.Raw.ListAuditEvents(t.Context(), org.ID, tollgate.AuditFilter{Action: action}, tollgate.Page{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Target.ID == target || e.Target.Name == target {
			n++
			s, _ := e.Details["suppressed"].(float64)
			suppressed += int(s)
		}
	}
	return n, suppressed
}

// TestBruteForce hammers the token endpoint with 2,000 wrong secrets for
// one client ID, then sign-in with 500 wrong passwords for one email, from
// one address (R1, R2, R3, R6). The limits engage with 429 and
// Retry-After, while the real client and the real user, from another
// address, still get in; limit hits show in /metrics and, sampled, in the
// audit log; and unknown credentials stop reaching the store.
func TestBruteForce(t *testing.T) {
	counter := &countingStore{}
	env := stacktest.New(t, stacktest.Options{Wrap: func(s tollgate.Store) tollgate.Store { counter.Store = s; return counter }})
	srv := httptest.NewServer(env.Handler)
	defer srv.Close()
	attacker, real := from("127.0.0.1"), from("127.0.0.2")
	id := env.Account.ID

	start := time.Now()
	codes := map[int]int{}
	for i := range 2000 {
		st, h, body := call(t, attacker, "POST", srv.URL+"/oauth2/token", formType, tokenForm(id, credential.NewCredential(credential.PrefixClientSecret)))
		codes[st]++
		switch st {
		case http.StatusUnauthorized:
			if !strings.Contains(body, `"error":"invalid_client"`) {
				t.Fatalf("attempt %d: %s", i, body)
			}
		case http.StatusTooManyRequests:
			if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 1 || !strings.Contains(body, `"error":"slow_down"`) {
				t.Fatalf("429 with Retry-After %q: %s", h.Get("Retry-After"), body)
			}
		default:
			t.Fatalf("attempt %d answered %d: %s", i, st, body)
		}
	}
	// 20 failures per client and address a minute: a burst of 20, then one
	// every 3 seconds.
	if allowed := 20 + int(time.Since(start)/(3*time.Second)) + 1; codes[401] < 20 || codes[401] > allowed {
		t.Fatalf("%d of 2,000 wrong secrets were tried (want 20 to %d); answers %v", codes[401], allowed, codes)
	}
	if st, _, body := call(t, real, "POST", srv.URL+"/oauth2/token", formType, tokenForm(id, env.Secret)); st != http.StatusOK {
		t.Fatalf("the real client from a clean address: %d %s", st, body)
	}

	codes = map[int]int{}
	for range 500 {
		st, h, body := call(t, attacker, "POST", srv.URL+"/api/v1/session", "application/json", signInBody("admin@example.com", "wrong-password-123"))
		codes[st]++
		if st == http.StatusTooManyRequests && (h.Get("Retry-After") == "" || !strings.Contains(body, `"code":"rate_limited"`)) {
			t.Fatalf("429 without Retry-After or code: %v %s", h, body)
		}
	}
	if codes[401] != 5 || codes[429] != 495 {
		t.Fatalf("500 wrong passwords: %v, want 5 tried and 495 refused", codes)
	}
	if st, _, body := call(t, real, "POST", srv.URL+"/api/v1/session", "application/json", signInBody("admin@example.com", stacktest.AdminPassword)); st != http.StatusOK {
		t.Fatalf("the real user from a clean address: %d %s", st, body)
	}

	// Sampled: one event for each identifier, counting the hits left out.
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, sc := auditCount(t, env, tollgate.ActionAuthRateLimited, id)
		ne, _ := auditCount(t, env, tollgate.ActionAuthRateLimited, "admin@example.com")
		if nc == 1 && ne == 1 && sc == 0 {
			break
		}
		if time.Now().After(deadline) || nc > 1 || ne > 1 {
			t.Fatalf("auth.rate_limited events: %d for the client, %d for the email", nc, ne)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, _, metrics := call(t, real, "GET", srv.URL+"/metrics", "", "")
	for _, want := range []string{`tollgate_auth_rate_limited_total{count="pair",credential="client",door="token"}`,
		`tollgate_auth_rate_limited_total{count="pair",credential="password",door="api"} 495`,
		`tollgate_auth_failures_total{credential="password",door="api"} 5`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Repeated unknown credentials cost one look-up, then none: an API
	// token at /check, and a client ID at the token endpoint.
	unknownToken, unknownClient := stacktest.UnknownAPIToken(), stacktest.UnknownClientID()
	for _, tc := range []struct {
		name string
		try  func() int
	}{
		{"unknown API token at /check", func() int {
			st, _, _ := call(t, real, "GET", srv.URL+"/check", "", "", "Authorization", "Bearer "+unknownToken)
			return st
		}},
		{"unknown client ID", func() int {
			st, _, _ := call(t, from("127.0.0.3"), "POST", srv.URL+"/oauth2/token", formType, tokenForm(unknownClient, env.Secret))
			return st
		}},
	} {
		before := counter.lookups.Load()
		if st := tc.try(); st != http.StatusUnauthorized {
			t.Fatalf("%s: %d", tc.name, st)
		}
		first := counter.lookups.Load() - before
		if first == 0 {
			t.Fatalf("%s: the first try cost no store look-up", tc.name)
		}
		for range 9 {
			if st := tc.try(); st != http.StatusUnauthorized {
				t.Fatalf("%s: %d", tc.name, st)
			}
		}
		if n := counter.lookups.Load() - before; n != first {
			t.Errorf("%s: 10 tries cost %d store look-ups, want the first's %d", tc.name, n, first)
		}
	}
}

// TestLockoutSparesCleanAddresses: once an email has failed from many
// addresses (over its limit over all addresses), every address that has
// failed is refused, even with the right password, but one that has not
// still signs in (R2).
func TestLockoutSparesCleanAddresses(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	srv := httptest.NewServer(env.Handler)
	defer srv.Close()
	for i := range 11 { // 11 addresses × 5 failures > 50, the email's limit
		c := from(fmt.Sprintf("127.0.0.%d", 10+i))
		for range 5 {
			if st, _, body := call(t, c, "POST", srv.URL+"/api/v1/session", "application/json", signInBody("admin@example.com", "wrong-password-123")); st != 401 && st != 429 {
				t.Fatalf("%d %s", st, body)
			}
		}
	}
	// A dirty address other than the last: its own pair is full too, so
	// try the email's count from one that failed less: 127.0.0.30 fails once.
	dirty := from("127.0.0.30")
	call(t, dirty, "POST", srv.URL+"/api/v1/session", "application/json", signInBody("admin@example.com", "wrong-password-123"))
	if st, h, body := call(t, dirty, "POST", srv.URL+"/api/v1/session", "application/json", signInBody("admin@example.com", stacktest.AdminPassword)); st != 429 || h.Get("Retry-After") == "" {
		t.Fatalf("an address that failed, with the right password, while the email is over its limit: %d %s", st, body)
	}
	if st, _, body := call(t, from("127.0.0.2"), "POST", srv.URL+"/api/v1/session", "application/json", signInBody("admin@example.com", stacktest.AdminPassword)); st != 200 {
		t.Fatalf("a clean address with the right password: %d %s", st, body)
	}
}

// TestTrustedProxy: behind a trusted proxy (127.0.0.2 here), the limits,
// the audit log and the access log use the client address the proxy
// forwards in the header the operator chose; the other forwarding header,
// which the proxy passes on as the client sent it, counts for nothing, and
// from an untrusted peer neither does (R4).
func TestTrustedProxy(t *testing.T) {
	for _, header := range []string{"X-Forwarded-For", "Forwarded"} {
		t.Run(header, func(t *testing.T) {
			logs := &stacktest.SyncBuffer{}
			env := stacktest.New(t, stacktest.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")},
				ForwardedHeader: header, Log: slog.New(slog.NewTextHandler(logs, nil))})
			srv := httptest.NewServer(env.Handler)
			defer srv.Close()
			proxy, direct := from("127.0.0.2"), from("127.0.0.1")
			// forward is what the proxy records of its client, in its header;
			// spoof is what a client puts in the other one.
			forward := func(ip string) []string {
				if header == "Forwarded" {
					return []string{"Forwarded", `for="` + ip + `";proto=https`}
				}
				return []string{"X-Forwarded-For", ip}
			}
			spoof := func(ip string) []string {
				if header == "Forwarded" {
					return []string{"X-Forwarded-For", ip}
				}
				return []string{"Forwarded", "for=" + ip}
			}
			fail := func(c *http.Client, headers ...string) int {
				st, _, _ := call(t, c, "POST", srv.URL+"/api/v1/session", "application/json", signInBody("admin@example.com", "wrong-password-123"), headers...)
				return st
			}
			// Five failures of 203.0.113.9 through the proxy fill its budget...
			for range 5 {
				if st := fail(proxy, forward("203.0.113.9")...); st != 401 {
					t.Fatalf("failure through the proxy: %d", st)
				}
			}
			if st := fail(proxy, forward("203.0.113.9")...); st != 429 {
				t.Fatalf("the forwarded client over its limit: %d", st)
			}
			// ...not another forwarded client's (an IPv6 one here)...
			if st := fail(proxy, forward("[2001:db8::7]:4711")...); st != 401 {
				t.Fatalf("another client through the proxy: %d", st)
			}
			// ...and the other header cannot name the limited client: the
			// proxy's own record of 198.51.100.1 wins.
			if st := fail(proxy, append(forward("198.51.100.1"), spoof("203.0.113.9")...)...); st != 401 {
				t.Fatalf("a client naming the limited address in the other header: %d", st)
			}
			// From an untrusted peer the header counts for nothing: it is 127.0.0.1.
			if st := fail(direct, forward("203.0.113.9")...); st != 401 {
				t.Fatalf("an untrusted peer naming the limited client: %d", st)
			}
			org, err := env.Raw.GetOrgBySlug(t.Context(), "acme")
			if err != nil {
				t.Fatal(err)
			}
			evs, _, err := env.Raw.ListAuditEvents(t.Context(), org.ID, tollgate.AuditFilter{Action: tollgate.ActionSessionFailed}, tollgate.Page{Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			ips := map[string]int{}
			for _, e := range evs {
				ips[e.IP]++
			}
			if ips["203.0.113.9"] != 5 || ips["2001:db8::7"] != 1 || ips["198.51.100.1"] != 1 || ips["127.0.0.1"] != 1 || len(ips) != 4 {
				t.Fatalf("audit addresses: %v", ips)
			}
			for _, ip := range []string{"ip=203.0.113.9", "ip=2001:db8::7", "ip=198.51.100.1", "ip=127.0.0.1"} {
				if !strings.Contains(logs.String(), ip) {
					t.Errorf("the access log lacks %s", ip)
				}
			}
			if strings.Contains(logs.String(), "ip=127.0.0.2") {
				t.Error("the access log names the proxy instead of its client")
			}
		})
	}
}

// TestColdCheckIsOneRead: the first /check of a service account's API
// token reads the token, its account and their org in one store look-up,
// and the next ones, from the cache, none. With a cache that trusts
// nothing (--cache-ttl 1ns), every /check is that one look-up: the
// account read with the token is used, not read again.
func TestColdCheckIsOneRead(t *testing.T) {
	for _, tc := range []struct {
		ttl     time.Duration
		perCall int64
	}{{time.Minute, 0}, {time.Nanosecond, 1}} {
		counter := &countingStore{}
		env := stacktest.New(t, stacktest.Options{CacheTTL: tc.ttl, Wrap: func(s tollgate.Store) tollgate.Store { counter.Store = s; return counter }})
		srv := httptest.NewServer(env.Handler)
		// A new account, which nothing has authenticated yet.
		sa, _, err := env.App.CreateServiceAccount(t.Context(), env.Admin, "acme", app.ServiceAccountInput{Name: "gateway-client", Role: tollgate.RoleViewer, TokenTTLSeconds: 3600})
		if err != nil {
			t.Fatal(err)
		}
		_, plain, err := env.App.CreateAPIToken(t.Context(), env.Admin, "acme", app.APITokenInput{Name: "gateway", ServiceAccountID: sa.ID, Kind: tollgate.KindPrivate})
		if err != nil {
			t.Fatal(err)
		}
		before := counter.lookups.Load()
		for i := range 3 {
			if st, _, body := call(t, from("127.0.0.1"), "GET", srv.URL+"/check", "", "", "Authorization", "Bearer "+plain); st != http.StatusOK {
				t.Fatalf("TTL %v, check %d: %d %s", tc.ttl, i, st, body)
			}
			if n, want := counter.lookups.Load()-before, 1+int64(i)*tc.perCall; n != want {
				t.Fatalf("TTL %v, after %d checks: %d store look-ups, want %d", tc.ttl, i+1, n, want)
			}
		}
		srv.Close()
	}
}
