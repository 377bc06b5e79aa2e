package server_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/tollgate/tollgate/internal/stacktest"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
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

// TestTraceparentTrust: a request's span continues the caller's
// traceparent only from a trusted proxy (loopback by default); from any
// other peer it starts a new trace linked to the one named, so that a
// client can neither hide its requests from a parent-based sampler nor
// choose the trace ID.
func TestTraceparentTrust(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	otel.SetTextMapPropagator(propagation.TraceContext{})
	env := stacktest.New(t, stacktest.Options{})
	const traceID, spanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	for _, tc := range []struct {
		peer string
		cont bool
	}{{"127.0.0.1:40000", true}, {"192.0.2.7:40000", false}} {
		before := len(rec.Ended())
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.RemoteAddr = tc.peer
		req.Header.Set("traceparent", "00-"+traceID+"-"+spanID+"-00") // not sampled
		env.Handler.ServeHTTP(httptest.NewRecorder(), req)
		var got sdktrace.ReadOnlySpan
		for _, s := range rec.Ended()[before:] {
			if s.Name() == "GET /healthz" {
				got = s
			}
		}
		switch {
		case tc.cont && got != nil:
			t.Fatalf("from %s: a span was recorded for a caller that asked not to sample", tc.peer)
		case tc.cont:
		case got == nil:
			t.Fatalf("from %s: no span recorded: the untrusted caller's not-sampled flag was obeyed", tc.peer)
		case got.SpanContext().TraceID().String() == traceID || got.Parent().IsValid():
			t.Fatalf("from %s: the span continues the caller's trace", tc.peer)
		case len(got.Links()) != 1 || got.Links()[0].SpanContext.TraceID().String() != traceID:
			t.Fatalf("from %s: links %v, want one to the named trace", tc.peer, got.Links())
		}
	}
	// A trusted caller's sampled trace is continued.
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("traceparent", "00-"+traceID+"-"+spanID+"-01")
	env.Handler.ServeHTTP(httptest.NewRecorder(), req)
	ended := rec.Ended()
	last := ended[len(ended)-1]
	if last.SpanContext().TraceID().String() != traceID || last.Parent().SpanID().String() != spanID {
		t.Fatalf("trusted caller: span in trace %s with parent %s", last.SpanContext().TraceID(), last.Parent().SpanID())
	}
}
