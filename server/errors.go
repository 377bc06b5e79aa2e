package server

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/tollgate/tollgate"
)

// statusOf maps each error code to its HTTP status: the one place this is
// decided.
var statusOf = map[string]int{
	tollgate.EInvalid:         http.StatusUnprocessableEntity,
	tollgate.EUnauthenticated: http.StatusUnauthorized,
	tollgate.EForbidden:       http.StatusForbidden,
	tollgate.ENotFound:        http.StatusNotFound,
	tollgate.EConflict:        http.StatusConflict,
	tollgate.EImmutable:       http.StatusUnprocessableEntity,
	tollgate.ERateLimited:     http.StatusTooManyRequests,
	tollgate.EInternal:        http.StatusInternalServerError,
}

var titleOf = map[string]string{
	tollgate.EInvalid:         "Invalid request",
	tollgate.EUnauthenticated: "Authentication required",
	tollgate.EForbidden:       "Forbidden",
	tollgate.ENotFound:        "Not found",
	tollgate.EConflict:        "Conflict",
	tollgate.EImmutable:       "Field cannot be changed",
	tollgate.ERateLimited:     "Too many requests",
	tollgate.EInternal:        "Internal error",
}

// requestError is an error in the request itself (not JSON, too large, wrong
// type), answered with its own status (400, 413, 415) and code invalid.
type requestError struct {
	status int
	err    *tollgate.Error
}

func (e *requestError) Error() string { return e.err.Error() }

// Unwrap exposes the coded error, so that its code, message and field render.
func (e *requestError) Unwrap() error { return e.err }

func newRequestError(status int, field, msg string) error {
	return &requestError{status: status, err: &tollgate.Error{Code: tollgate.EInvalid, Field: field, Message: msg}}
}

func badRequest(field, msg string) error { return newRequestError(http.StatusBadRequest, field, msg) }

// problem is an RFC 9457 problem details body with Tollgate's extensions.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Field  string `json:"field,omitempty"`
}

// writeError renders err as problem+json. Errors that are not coded become
// "internal error" for the client and are logged in full; coded errors
// carry only their client-safe message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg, field := 0, tollgate.ErrorCode(err), tollgate.ErrorMessage(err), tollgate.ErrorField(err)
	var re *requestError
	if errors.As(err, &re) {
		status = re.status
	} else {
		status = statusOf[code]
	}
	if code == tollgate.EInternal {
		s.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var te *tollgate.Error
	if errors.As(err, &te) && te.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(te.RetryAfter.Seconds()))))
	}
	if code == tollgate.EUnauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate"`)
	}
	writeProblem(w, status, code, msg, field)
}

func writeProblem(w http.ResponseWriter, status int, code, msg, field string) {
	writeJSONType(w, "application/problem+json", status, problem{
		Type:   "https://tollgate.dev/problems/" + code,
		Title:  titleOf[code],
		Status: status,
		Detail: msg,
		Code:   code,
		Field:  field,
	})
}
