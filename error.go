package tollgate

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. They are part of the admin API contract: clients switch on
// them, so they never change meaning.
const (
	EInvalid         = "invalid"
	EUnauthenticated = "unauthenticated"
	EForbidden       = "forbidden"
	ENotFound        = "not_found"
	EConflict        = "conflict"
	EImmutable       = "immutable"
	ERateLimited     = "rate_limited"
	// EPolicy: the request is well formed but breaks a rule the
	// organization set (P1); Error.Policy names it.
	EPolicy   = "policy_violation"
	EInternal = "internal"
)

// Codes of a request that cannot be read at all, as opposed to one whose
// values break a rule (EInvalid). Clients see them as EInvalid (Public);
// they differ in their HTTP status only.
const (
	EMalformed        = "malformed"         // not the syntax or shape the endpoint takes
	ETooLarge         = "too_large"         // a body over the endpoint's limit
	EUnsupportedMedia = "unsupported_media" // a body of a content type the endpoint does not take
)

// Public returns the code clients see for code: EInvalid for the codes of
// unreadable requests, code itself otherwise.
func Public(code string) string {
	switch code {
	case EMalformed, ETooLarge, EUnsupportedMedia:
		return EInvalid
	}
	return code
}

// Error is the one error type of the domain. Code is one of the E* constants;
// Message is safe to show to the client; Field names the input that broke a
// rule, when there is one; Policy names the organization policy an EPolicy
// error breaks; RetryAfter says when an ERateLimited request may be tried
// again; Err is an underlying cause for the log only.
type Error struct {
	Code       string
	Message    string
	Field      string
	Policy     string
	RetryAfter time.Duration
	Err        error
}

// Error implements the error interface. It never includes Err's text in a way
// that would reach a client: callers render Message.
func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.Field != "" {
		s = e.Code + ": " + e.Field + ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns an EInvalid *Error naming field.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	} else if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of the first *Error in err's
// chain, and "Internal error." for any other error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	} else if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "Internal error."
}

// ErrorPolicy returns the policy of the first *Error in err's chain, or "".
func ErrorPolicy(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Policy
	}
	return ""
}

// ErrorField returns the field of the first *Error in err's chain, or "".
func ErrorField(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Field
	}
	return ""
}
