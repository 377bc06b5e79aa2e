package tracing

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestStart: without a provider a span carries the caller's span context
// (its trace ID reaches the log) and records nothing; once a provider is
// installed, spans are recorded, children of their parents.
func TestStart(t *testing.T) {
	tr := New("test")
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	remote := trace.ContextWithRemoteSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, Remote: true}))
	ctx, span := tr.Start(remote, "off")
	if span.IsRecording() || trace.SpanContextFromContext(ctx).TraceID() != tid || span.SpanContext().SpanID() != sid {
		t.Fatalf("without a provider: recording %v, span context %v", span.IsRecording(), span.SpanContext())
	}
	span.End()
	if _, span := tr.Start(context.Background(), "none"); span.IsRecording() || span.SpanContext().IsValid() {
		t.Fatalf("without a provider or parent: %v", span.SpanContext())
	}

	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(unset) })
	ctx, parent := tr.Start(remote, "parent")
	_, child := tr.Start(ctx, "child")
	child.End()
	parent.End()
	ended := rec.Ended()
	if len(ended) != 2 || ended[0].Parent().SpanID() != parent.SpanContext().SpanID() || ended[1].Parent().SpanID() != sid {
		t.Fatalf("with a provider: %d spans ended", len(ended))
	}
}
