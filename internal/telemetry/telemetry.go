// Package telemetry sets up OpenTelemetry tracing for serve (O5), from the
// standard OTEL_* variables, and the logger's link to it.
//
// Tracing is off unless an OTLP endpoint is set
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and
// off when OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. The
// protocol is OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf (the default) or grpc. The
// exporters read the rest of their OTEL_EXPORTER_OTLP_* settings
// (headers, timeout, compression, certificates) and the SDK its sampler
// (OTEL_TRACES_SAMPLER) and batching (OTEL_BSP_*) from the process
// environment themselves. The resource is service.name "tollgate" and
// service.version, overridden by OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES.
//
// W3C trace context (traceparent) is read whether or not tracing is on,
// so that log lines carry the trace ID of a caller the server trusts.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Protocols are the OTLP protocols Tollgate exports with.
var Protocols = []string{"http/protobuf", "grpc"}

// ErrConfig marks an OTEL_* variable with a value Tollgate cannot use.
var ErrConfig = errors.New("telemetry")

// Enabled reports whether the variables ask for traces to be exported.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")), "none") {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs the propagators and, when Enabled, a tracer provider that
// batches spans to the OTLP endpoint; the global provider stays a no-op
// otherwise. Errors of the exporter are logged to log. shutdown flushes
// the spans still queued and stops the exporter; it is a no-op when
// tracing is off. A variable with a value Tollgate cannot use is an
// error wrapping ErrConfig.
func Setup(ctx context.Context, getenv func(string) string, version string, log *slog.Logger) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(propagation.TraceContext{}) // baggage is not used: none is parsed
	noop := func(context.Context) error { return nil }
	if exp := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); exp != "" && !strings.EqualFold(exp, "otlp") && !strings.EqualFold(exp, "none") {
		return noop, fmt.Errorf("%w: OTEL_TRACES_EXPORTER=%q: Tollgate exports traces with otlp (or none)", ErrConfig, exp)
	}
	if !Enabled(getenv) {
		return noop, nil
	}
	protocol, name := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	if protocol == "" {
		protocol, name = getenv("OTEL_EXPORTER_OTLP_PROTOCOL"), "OTEL_EXPORTER_OTLP_PROTOCOL"
	}
	var client otlptrace.Client
	switch protocol {
	case "", "http/protobuf":
		client = otlptracehttp.NewClient()
	case "grpc":
		client = otlptracegrpc.NewClient()
	default:
		return noop, fmt.Errorf("%w: %s=%q: use one of %s", ErrConfig, name, protocol, strings.Join(Protocols, ", "))
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "tollgate"), attribute.String("service.version", version)),
		resource.WithTelemetrySDK(), resource.WithHost(), resource.WithFromEnv())
	if err != nil {
		// A malformed OTEL_RESOURCE_ATTRIBUTES yields a partial resource
		// and an error: keep what parsed, and say so.
		log.Warn("opentelemetry resource", "err", err)
	}
	exp, err := otlptrace.New(ctx, client)
	if err != nil {
		return noop, fmt.Errorf("%w: the OTLP exporter: %v", ErrConfig, err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("opentelemetry", "err", err) }))
	if protocol == "" {
		protocol = Protocols[0]
	}
	log.Info("exporting traces over OTLP", "protocol", protocol, "service", serviceName(res))
	return tp.Shutdown, nil
}

// serviceName is the resource's service.name.
func serviceName(res *resource.Resource) string {
	if v, ok := res.Set().Value("service.name"); ok {
		return v.AsString()
	}
	return ""
}

// LogHandler wraps h so that each record logged with a context that
// carries a span gets its trace_id and span_id.
func LogHandler(h slog.Handler) slog.Handler { return &logHandler{h} }

type logHandler struct{ slog.Handler }

func (l *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return l.Handler.Handle(ctx, r)
}

func (l *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{l.Handler.WithAttrs(attrs)}
}

func (l *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{l.Handler.WithGroup(name)}
}
