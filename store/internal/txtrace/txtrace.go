// Package txtrace gives the stores' transactions their spans: one span a
// transaction, named for the store, with the database system and the
// error it ended with. No query text or argument is recorded, so no
// secret or token hash can reach a trace (C4).
package txtrace

import (
	"context"
	"errors"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/internal/tracing"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

var tracer = tracing.New("github.com/tollgate/tollgate/store")

// Start begins the span of a transaction on system ("sqlite" or
// "postgresql", OpenTelemetry's db.system.name). end records err, and
// how many times the transaction ran when attempts > 1, and ends the span.
func Start(ctx context.Context, system string) (context.Context, func(err error, attempts int)) {
	ctx, span := tracer.Start(ctx, system+".transaction", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", system)))
	return ctx, func(err error, attempts int) {
		if attempts > 1 {
			span.SetAttributes(attribute.Int("tollgate.tx.attempts", attempts))
		}
		if err != nil {
			// A refusal (not_found, conflict…) rolls back as planned; only
			// a failure of the database or of the context is an error.
			kind := errorType(err)
			span.SetAttributes(attribute.String("error.type", kind))
			if kind == tollgate.EInternal || kind == "canceled" || kind == "deadline_exceeded" {
				span.SetStatus(codes.Error, "transaction failed")
			}
		}
		span.End()
	}
}

// errorType is a bounded description of err, never its text (which may
// quote values): the context's error, or the domain's error code
// ("internal" for a database error).
func errorType(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	}
	return tollgate.ErrorCode(err)
}
