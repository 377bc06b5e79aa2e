package authn

import "github.com/tollgate/tollgate/internal/tracing"

// tracer makes a span for each exported method: the global provider's, a
// no-op that costs nothing until telemetry is set up (internal/telemetry).
// Spans carry no attribute of their inputs, so no secret or token reaches
// a trace (C4).
var tracer = tracing.New("github.com/tollgate/tollgate/authn")
