package authn

import "go.opentelemetry.io/otel"

// tracer makes a span for each exported method: the global provider's, a
// no-op until telemetry is set up (internal/telemetry). Spans carry no
// attribute of their inputs, so no secret or token reaches a trace (C4).
var tracer = otel.Tracer("github.com/tollgate/tollgate/authn")
