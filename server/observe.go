package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracer makes the HTTP layer's spans. It is the global provider's, a no-op
// until telemetry is set up (internal/telemetry).
var tracer = otel.Tracer("github.com/tollgate/tollgate/server")

// metrics are the HTTP layer's Prometheus metrics (O5). Their labels are
// bounded: routes are the patterns of routes.go, methods the HTTP verbs,
// outcomes the error codes.
type metrics struct {
	duration      *prometheus.HistogramVec
	check         *prometheus.CounterVec
	introspection *prometheus.CounterVec
	signIn        *prometheus.CounterVec
	oauthErrors   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tollgate_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern (never the raw path), method and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route", "method", "code"}),
		check: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_check_total",
			Help: "Answers of /check, by outcome: ok, or the error the gateway was given."}, []string{"outcome"}),
		introspection: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_introspection_total",
			Help: "Answers of /oauth2/introspect, by outcome: active, inactive, or the OAuth error."}, []string{"outcome"}),
		signIn: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_sign_in_total",
			Help: "Password sign-ins, by door (api or console) and outcome: ok, or the error code."}, []string{"door", "outcome"}),
		oauthErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_oauth_errors_total",
			Help: "OAuth error responses, by endpoint and error code."}, []string{"endpoint", "error"}),
	}
	reg.MustRegister(m.duration, m.check, m.introspection, m.signIn, m.oauthErrors)
	return m
}

// outcome is "ok" for a nil error, else its code.
func outcome(code string, err error) string {
	if err == nil {
		return "ok"
	}
	return code
}

// statusWriter remembers the status for the log, the span and the metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// routed records, once mux has served r, the pattern that matched, in the
// request's info, unless a mux nested below (the admin API's) recorded a
// more precise one first. ServeMux sets r.Pattern on the request it was
// given, so the pattern is read there.
func routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { // also as a panic unwinds to the recoverer
			if info, ok := r.Context().Value(keyRequestInfo).(*requestInfo); ok && info.route == "" {
				info.route = routeOf(r.Pattern)
			}
		}()
		mux.ServeHTTP(w, r)
	})
}

// routeFinder returns the route that mux would serve a request with,
// looking into inner, the mux mounted at the subtree pattern prefix (the
// admin API's), for requests below it: what labels a request refused
// before routing (plainInput).
func routeFinder(mux *http.ServeMux, prefix string, inner *http.ServeMux) func(*http.Request) string {
	return func(r *http.Request) string {
		_, pattern := mux.Handler(r)
		if pattern == prefix {
			if _, pattern = inner.Handler(r); pattern == "" {
				return "unmatched"
			}
		}
		return routeOf(pattern)
	}
}

// routeOf is a ServeMux pattern without its method ("GET /orgs/{org}" →
// "/orgs/{org}"), "unmatched" for none.
func routeOf(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return strings.TrimLeft(pattern[i+1:], " \t")
	}
	return pattern
}

// methodOf bounds the method label to the standard verbs.
func methodOf(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// observe gives every request its ID (X-Request-Id, read when it is
// well-formed or made, and echoed), a server span (continuing the
// caller's trace from traceparent), one log line (method, path, status,
// duration, client address, request ID, caller, and the trace ID through
// the logger), and its observation in tollgate_http_request_duration_seconds.
// Neither the span nor the metrics carry the raw path or the query, which
// may hold an invitation token (R4, C4): they name the route pattern.
func (s *Server) observe(h http.Handler) http.Handler {
	propagator := otel.GetTextMapPropagator
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{id: r.Header.Get("X-Request-Id")}
		if !validRequestID(info.id) {
			info.id = newRequestID()
		}
		w.Header().Set("X-Request-Id", info.id)
		ctx := propagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		r = r.WithContext(context.WithValue(ctx, keyRequestInfo, info))
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		elapsed := time.Since(start)
		route, method := info.route, methodOf(r.Method)
		if route == "" {
			route = "unmatched"
		}
		if span.IsRecording() {
			span.SetName(method + " " + route)
			attrs := []attribute.KeyValue{
				attribute.String("http.request.method", method),
				attribute.String("http.route", route),
				attribute.Int("http.response.status_code", sw.status),
				attribute.String("client.address", s.clientIPOf(r)),
				attribute.String("user_agent.original", r.UserAgent()),
				attribute.String("tollgate.request_id", info.id),
			}
			if info.caller != "" {
				attrs = append(attrs, attribute.String("tollgate.caller", info.caller))
			}
			span.SetAttributes(attrs...)
			if sw.status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(sw.status))
			}
		}
		s.metrics.duration.WithLabelValues(route, method, strconv.Itoa(sw.status)).Observe(elapsed.Seconds())
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration_ms", float64(elapsed.Microseconds()) / 1000, "ip", s.clientIPOf(r), "request_id", info.id}
		if info.caller != "" {
			attrs = append(attrs, "caller", info.caller)
		}
		s.log.InfoContext(r.Context(), "http", attrs...)
	})
}

// noteError adds the code of the error a request is answered with to its
// span.
func noteError(r *http.Request, code string) {
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetAttributes(attribute.String("tollgate.error.code", code))
	}
}
