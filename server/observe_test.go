package server_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/tollgate/tollgate/internal/stacktest"
)

// series returns the label sets (name=value, comma-joined, sorted as the
// registry sorts them) of family name in reg, with each one's count.
func series(t *testing.T, reg prometheus.Gatherer, name string) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.Metric {
			var ls []string
			for _, l := range m.Label {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			got[strings.Join(ls, ",")] += value(m)
		}
	}
	return got
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return m.GetGauge().GetValue()
}

// TestRouteOfRefusedInput: a request that plainInput refuses before
// routing is labelled with the route it was sent to, not "unmatched"
// (which means no route matched), and /oauth2/introspect's refusal is an
// introspection outcome.
func TestRouteOfRefusedInput(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	for _, tc := range []struct{ method, target, route string }{
		{"POST", "/oauth2/token?x=%00", "/oauth2/token"},
		{"POST", "/oauth2/introspect?x=%00", "/oauth2/introspect"},
		{"GET", "/api/v1/orgs/a%00b", "/api/v1/orgs/{org}"},
		{"GET", "/api/v1/nothing%00", "unmatched"},
		{"GET", "/check?x=%ff", "/check"},
		{"GET", "/orgs/a%00/members", "/orgs/{org}/members"},
		{"GET", "/nothing?x=%00", "unmatched"},
	} {
		rec := httptest.NewRecorder()
		env.Handler.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
		if rec.Code != 400 {
			t.Fatalf("%s %s: %d, want 400", tc.method, tc.target, rec.Code)
		}
		want := "code=400,method=" + tc.method + ",route=" + tc.route
		if got := series(t, env.Registry, "tollgate_http_request_duration_seconds"); got[want] < 1 {
			t.Errorf("%s %s: no series %s among %v", tc.method, tc.target, want, got)
		}
	}
	if got := series(t, env.Registry, "tollgate_introspection_total"); got["outcome=invalid_request"] != 1 {
		t.Errorf("tollgate_introspection_total: %v, want the refused introspection's invalid_request", got)
	}
}
