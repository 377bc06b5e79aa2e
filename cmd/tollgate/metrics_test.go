package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var adminListeningRE = regexp.MustCompile(`metrics: http://(127\.0\.0\.1:\d+)/metrics`)

// adminURL is the base URL of a test server's --admin-addr listener.
func adminURL(t *testing.T, ts *testServer) string {
	t.Helper()
	m := adminListeningRE.FindStringSubmatch(ts.stderr.String())
	if m == nil {
		t.Fatalf("the server printed no admin listener:\n%s", ts.stderr)
	}
	return "http://" + m[1]
}

// get is a GET's status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// scrape reads the Prometheus text exposition at url into its families.
func scrape(t *testing.T, url string) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	status, body := get(t, url)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %.300s", url, status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("scrape of %s does not parse: %v", url, err)
	}
	return fams, body
}

// sample is the value of the series of family name whose labels include
// want (a counter's or gauge's value, a histogram's count), and whether
// there is one.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	var sum float64
	found := false
series:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue series
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum, found
}

// TestMetrics: with --admin-addr, /metrics moves to the admin listener
// (the public one answers 404) and pprof is there only with --pprof. The
// scrape holds every family O5 names, with the route pattern (never the
// raw path) as the route label, outcome counters that count what the test
// did, the database pool of each store, and no secret or token.
func TestMetrics(t *testing.T) {
	for name, newDB := range databases(t) {
		t.Run(name, func(t *testing.T) {
			pprof := name == "sqlite" // one store with the profiler, one without
			env := map[string]string{"TOLLGATE_ADMIN_ADDR": "127.0.0.1:0"}
			if pprof {
				env["TOLLGATE_PPROF"] = "true"
			}
			ts := startServer(t, newDB(t), env)
			admin := adminURL(t, ts)
			if status, _ := get(t, ts.URL+"/metrics"); status != http.StatusNotFound {
				t.Fatalf("public /metrics with --admin-addr: %d, want 404", status)
			}
			if status, _ := get(t, ts.URL+"/debug/pprof/"); status != http.StatusNotFound {
				t.Fatalf("public /debug/pprof/: %d, want 404", status)
			}
			status, body := get(t, admin+"/debug/pprof/")
			if pprof && (status != http.StatusOK || !strings.Contains(body, "goroutine")) {
				t.Fatalf("admin /debug/pprof/ with --pprof: %d %.200s", status, body)
			}
			if !pprof && status != http.StatusNotFound {
				t.Fatalf("admin /debug/pprof/ without --pprof: %d, want 404", status)
			}
			if status, _ := get(t, admin+"/debug/pprof/cmdline"); status != http.StatusNotFound {
				t.Fatalf("admin /debug/pprof/cmdline: %d, want 404 (a --db URL may hold a password)", status)
			}
			if pprof {
				if status, body := get(t, admin+"/debug/pprof/goroutine?debug=1"); status != http.StatusOK || !strings.Contains(body, "goroutine profile") {
					t.Fatalf("admin goroutine profile: %d %.100s", status, body)
				}
			}

			c := loggedIn(t, ts)
			newClient(t, ts.URL).do("POST", "/api/v1/session", map[string]any{"email": "admin@example.com", "password": "wrong-password-000"}).want(t, 401)
			acct := newSA(t, c, "acme", "robot", 600, "viewer")
			id, secret := acct["id"].(string), acct["client_secret"].(string)
			c.do("GET", "/api/v1/orgs/acme/service-accounts/"+id, nil).want(t, 200)
			c.do("GET", "/api/v1/orgs/acme/no-such-thing", nil).want(t, 404)
			tok := token(t, ts.URL, id, secret)["access_token"].(string)
			token(t, ts.URL, id, secret)
			if got := introspect(t, ts.URL, id, secret, tok); got["active"] != true {
				t.Fatalf("introspection: %v", got)
			}
			introspect(t, ts.URL, id, secret, "not-a-token")
			wantCheck(t, check(t, ts.URL, "GET", tok), 200)
			wantCheck(t, check(t, ts.URL, "GET", tok+"x"), 401)

			fams, body := scrape(t, admin+"/metrics")
			for _, leak := range []string{secret, tok, "admin@example.com", adminPassword} {
				if strings.Contains(body, leak) {
					t.Fatalf("the scrape holds a secret, token or email %.12s…", leak)
				}
			}
			const hist = "tollgate_http_request_duration_seconds"
			for _, want := range []map[string]string{
				{"route": "/oauth2/token", "method": "POST", "code": "200"},
				{"route": "/api/v1/orgs/{org}/service-accounts/{id}", "method": "GET", "code": "200"},
				{"route": "/api/v1/session", "method": "POST", "code": "401"},
				{"route": "/check", "method": "GET", "code": "401"},
				{"route": "unmatched", "method": "GET", "code": "404"},
			} {
				if n, ok := sample(fams, hist, want); !ok || n < 1 {
					t.Errorf("%s%v: %v, want a count", hist, want, n)
				}
			}
			for _, m := range fams[hist].Metric {
				for _, l := range m.Label {
					if l.GetName() == "route" && (strings.Contains(l.GetValue(), "acme") || strings.Contains(l.GetValue(), "sa_") ||
						!(strings.HasPrefix(l.GetValue(), "/") || l.GetValue() == "unmatched")) {
						t.Errorf("route label %q is not a route pattern", l.GetValue())
					}
				}
			}
			for _, want := range []struct {
				name   string
				labels map[string]string
				min    float64
			}{
				{"tollgate_check_total", map[string]string{"outcome": "ok"}, 1},
				{"tollgate_check_total", map[string]string{"outcome": "invalid_token"}, 1},
				{"tollgate_introspection_total", map[string]string{"outcome": "active"}, 1},
				{"tollgate_introspection_total", map[string]string{"outcome": "inactive"}, 1},
				{"tollgate_sign_in_total", map[string]string{"door": "api", "outcome": "ok"}, 1},
				{"tollgate_sign_in_total", map[string]string{"door": "api", "outcome": "unauthenticated"}, 1},
				{"tollgate_token_mint_duration_seconds", nil, 1},
				{"tollgate_token_mint_batch_size", nil, 1},
				{"tollgate_token_memo_entries", nil, 1},
				{"tollgate_access_tokens_reused_total", nil, 1},
				{"tollgate_auth_credential_cache_lookups_total", map[string]string{"result": "hit"}, 1},
				{"tollgate_auth_credential_cache_lookups_total", map[string]string{"result": "miss"}, 1},
				{"tollgate_auth_cache_entries", map[string]string{"cache": "credentials"}, 1},
				{"tollgate_auth_cache_entries", map[string]string{"cache": "negative"}, 0},
				{"tollgate_auth_failures_total", nil, 1},
				{"tollgate_build_info", map[string]string{"version": "dev"}, 1},
				{"tollgate_signing_key_age_seconds", nil, 0},
				{"go_goroutines", nil, 1},
				{"process_resident_memory_bytes", nil, 1},
			} {
				if n, ok := sample(fams, want.name, want.labels); !ok || n < want.min {
					t.Errorf("%s%v = %v (present %v), want ≥ %v", want.name, want.labels, n, ok, want.min)
				}
			}
			if age, _ := sample(fams, "tollgate_signing_key_age_seconds", nil); age < 0 || age > float64(time.Hour/time.Second) {
				t.Errorf("signing key age %v s for a key made at start", age)
			}
			pool := map[string]string{"sqlite": "go_sql_open_connections", "postgres": "tollgate_pgxpool_total_conns"}[name]
			if n, ok := sample(fams, pool, nil); !ok || n < 1 {
				t.Errorf("%s: %v (present %v), want the pool's open connections", pool, n, ok)
			}
		})
	}
}
