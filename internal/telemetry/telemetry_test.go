package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestEnabled(t *testing.T) {
	for _, tc := range []struct {
		env  func(string) string
		want bool
	}{
		{env(), false},
		{env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"), true},
		{env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4318/v1/traces"), true},
		{env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318", "OTEL_SDK_DISABLED", "true"), false},
		{env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER", "none"), false},
	} {
		if got := Enabled(tc.env); got != tc.want {
			t.Errorf("Enabled = %v, want %v", got, tc.want)
		}
	}
}

// TestSetupRefuses: values Tollgate cannot use are configuration errors,
// and tracing stays off without an endpoint.
func TestSetupRefuses(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, e := range []func(string) string{
		env("OTEL_TRACES_EXPORTER", "zipkin"),
		env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
		env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift"),
	} {
		if _, err := Setup(t.Context(), e, "test", log); !errors.Is(err, ErrConfig) {
			t.Errorf("Setup: %v, want ErrConfig", err)
		}
	}
	shutdown, err := Setup(t.Context(), env(), "test", log)
	if err != nil || shutdown(t.Context()) != nil {
		t.Fatalf("Setup without an endpoint: %v", err)
	}
}

// TestLogHandler: a record logged with a span's context carries its trace
// and span IDs; one without carries neither.
func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	tid, _ := trace.TraceIDFromHex("0102030405060708090a0b0c0d0e0f10")
	sid, _ := trace.SpanIDFromHex("0102030405060708")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	log.InfoContext(ctx, "with")
	log.InfoContext(context.Background(), "without")
	dec := json.NewDecoder(&buf)
	var with, without map[string]any
	if err := dec.Decode(&with); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&without); err != nil {
		t.Fatal(err)
	}
	if with["trace_id"] != tid.String() || with["span_id"] != sid.String() || with["component"] != "test" {
		t.Fatalf("record with a span: %v", with)
	}
	if _, ok := without["trace_id"]; ok {
		t.Fatalf("record without a span: %v", without)
	}
}
