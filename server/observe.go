package server

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tollgate/tollgate/internal/tracing"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracer makes the HTTP layer's spans. It is the global provider's, a no-op
// that costs nothing until telemetry is set up (internal/telemetry).
var tracer = tracing.New("github.com/tollgate/tollgate/server")

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

// maxUserAgent bounds the user agent a span records.
const maxUserAgent = 256

// statusAborted is the status logged and counted for a request whose
// handler aborted (http.ErrAbortHandler) before answering; the client got
// no answer. It is nginx's "client closed request".
const statusAborted = 499

// observe gives every request its ID (X-Request-Id, read when it is
// well-formed or made, and echoed), a server span, one log line (method,
// path, status, duration, client address, request ID, caller, and the
// trace ID through the logger), and its observation in
// tollgate_http_request_duration_seconds; also when a handler aborts
// (http.ErrAbortHandler). Neither the span nor the metrics carry the raw
// path or the query, which may hold an invitation token (R4, C4): they
// name the route pattern.
//
// The span continues the caller's trace (traceparent) only from a trusted
// proxy (Config.TrustedProxies), as the client address is believed only
// from one: anyone else could hide its requests from a parent-based
// sampler, force sampling, or choose the trace ID in the logs. A caller
// elsewhere gets a new trace, linked to the one it named.
func (s *Server) observe(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{id: [1]string{r.Header.Get("X-Request-Id")}}
		if !validRequestID(info.id[0]) {
			info.id[0] = newRequestID()
		}
		info.ip, info.trusted = s.readClient(r)
		info.client = true
		w.Header()["X-Request-Id"] = info.id[:] // the name is canonical; Set would allocate a slice
		ctx, span := s.startSpan(r, info.trusted)
		r = r.WithContext(context.WithValue(ctx, keyRequestInfo, info))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			// Only http.ErrAbortHandler gets here (the recoverer below
			// answers every other panic): the answer was cut off.
			v := recover()
			if v != nil && sw.status == 0 {
				sw.status = statusAborted
			}
			s.finish(r, sw, info, span, time.Since(start))
			span.End()
			if v != nil {
				panic(v)
			}
		}()
		h.ServeHTTP(sw, r)
	})
}

// startSpan starts a request's server span: a child of the caller's span
// from a trusted proxy (trusted: the peer is one), else a new root linked
// to it.
func (s *Server) startSpan(r *http.Request, trusted bool) (context.Context, trace.Span) {
	ctx := r.Context()
	if _, ok := r.Header["Traceparent"]; !ok {
		return tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer))
	}
	remote := otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(r.Header))
	if trusted {
		return tracer.Start(remote, r.Method, trace.WithSpanKind(trace.SpanKindServer))
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer), trace.WithNewRoot()}
	if sc := trace.SpanContextFromContext(remote); sc.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
	}
	return tracer.Start(ctx, r.Method, opts...)
}

// finish records an answered request in its span, the metrics and the log.
func (s *Server) finish(r *http.Request, sw *statusWriter, info *requestInfo, span trace.Span, elapsed time.Duration) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	route, method := info.route, methodOf(r.Method)
	if route == "" {
		route = "unmatched"
	}
	ip := info.ip
	if span.IsRecording() {
		ua := r.UserAgent()
		if len(ua) > maxUserAgent {
			ua = strings.ToValidUTF8(ua[:maxUserAgent], "")
		}
		span.SetName(method + " " + route)
		attrs := []attribute.KeyValue{
			attribute.String("http.request.method", method),
			attribute.String("http.route", route),
			attribute.Int("http.response.status_code", sw.status),
			attribute.String("client.address", ip),
			attribute.String("user_agent.original", ua),
			attribute.String("tollgate.request_id", info.id[0]),
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
	if !s.log.Enabled(r.Context(), slog.LevelInfo) {
		return // the access log is off (--log-level warn or above): build no line
	}
	// Typed attributes, not key-value pairs: nothing is boxed. The line
	// reads the same.
	attrs := [...]slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.status),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000), slog.String("ip", ip), slog.String("request_id", info.id[0]),
		slog.String("caller", info.caller)}
	n := len(attrs)
	if info.caller == "" {
		n--
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "http", attrs[:n]...)
}

// noteError adds the code of the error a request is answered with to its
// span.
func noteError(r *http.Request, code string) {
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetAttributes(attribute.String("tollgate.error.code", code))
	}
}
