// Package tracing gives Tollgate's packages their OpenTelemetry tracers:
// the global provider's (internal/telemetry installs one when tracing is
// on), with a Start that costs nothing while none is installed.
package tracing

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// unset is the global provider as it is before any is installed: a
// delegate whose spans record nothing.
var unset = otel.GetTracerProvider()

// Tracer makes spans with the global provider's tracer of its name.
type Tracer struct{ t trace.Tracer }

// New returns the tracer of the instrumentation scope name.
func New(name string) Tracer { return Tracer{t: otel.Tracer(name)} }

// Start is trace.Tracer's Start. While no provider is installed (tracing
// is off) and ctx carries no recording span, it returns ctx and the span
// ctx carries (a caller's remote span context, or none) as they are: what
// the unset provider's tracer would return, wrapped in a new span value
// and a new context at each call, two allocations a span on every hot
// path.
func (t Tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if otel.GetTracerProvider() == unset {
		if span := trace.SpanFromContext(ctx); !span.IsRecording() {
			return ctx, span
		}
	}
	return t.t.Start(ctx, name, opts...)
}
