package server

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/oauth"
)

// statusOf maps each error code to its HTTP status: the one place this is
// decided.
var statusOf = map[string]int{
	tollgate.EInvalid:          http.StatusUnprocessableEntity,
	tollgate.EMalformed:        http.StatusBadRequest,
	tollgate.ETooLarge:         http.StatusRequestEntityTooLarge,
	tollgate.EUnsupportedMedia: http.StatusUnsupportedMediaType,
	tollgate.EUnauthenticated:  http.StatusUnauthorized,
	tollgate.EForbidden:        http.StatusForbidden,
	tollgate.ENotFound:         http.StatusNotFound,
	tollgate.EConflict:         http.StatusConflict,
	tollgate.EImmutable:        http.StatusUnprocessableEntity,
	tollgate.ERateLimited:      http.StatusTooManyRequests,
	tollgate.EPolicy:           http.StatusUnprocessableEntity,
	tollgate.EInternal:         http.StatusInternalServerError,
}

var titleOf = map[string]string{
	tollgate.EInvalid:         "Invalid request",
	tollgate.EUnauthenticated: "Authentication required",
	tollgate.EForbidden:       "Forbidden",
	tollgate.ENotFound:        "Not found",
	tollgate.EConflict:        "Conflict",
	tollgate.EImmutable:       "Field cannot be changed",
	tollgate.ERateLimited:     "Too many requests",
	tollgate.EPolicy:          "Breaks organization policy",
	tollgate.EInternal:        "Internal error",
}

// oauthErrorOf is the RFC 6749 §5.2 error the OAuth endpoints answer for a
// code, unless an oauth.Code in the error's chain names it more precisely
// (unsupported_grant_type, invalid_scope).
var oauthErrorOf = map[string]oauth.Code{
	tollgate.EUnauthenticated: oauth.CodeInvalidClient,
	tollgate.ERateLimited:     oauth.CodeSlowDown,
	tollgate.EInternal:        oauth.CodeServerError,
}

// fault is what every renderer needs of an error: its code, status, the
// client-safe message and field, and the wait of a rate limit. Errors that
// are not coded are logged in full and become "internal error".
type fault struct {
	code       string
	status     int
	message    string
	field      string
	policy     string
	retryAfter int // seconds; 0 for none
}

func (s *Server) fault(r *http.Request, err error) fault {
	f := fault{code: tollgate.ErrorCode(err), message: tollgate.ErrorMessage(err), field: tollgate.ErrorField(err), policy: tollgate.ErrorPolicy(err)}
	f.status = statusOf[f.code]
	noteError(r, f.code)
	if f.code == tollgate.EInternal {
		s.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "request_id", requestIDOf(r), "err", err)
	}
	var te *tollgate.Error
	if errors.As(err, &te) && te.RetryAfter > 0 {
		f.retryAfter = int(math.Ceil(te.RetryAfter.Seconds()))
	}
	return f
}

func (f fault) headers(w http.ResponseWriter) {
	if f.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
	}
}

// problem is an RFC 9457 problem details body with Tollgate's extensions.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Field  string `json:"field,omitempty"`
	Policy string `json:"policy,omitempty"` // the organization policy a policy_violation breaks
}

// challenge is the WWW-Authenticate header of a refused credential: the
// DPoP scheme with its error and algorithms when a DPoP proof was missing
// or bad (RFC 9449 §7.1), else Bearer with params.
func challenge(err error, params string) string {
	if oauth.CodeOf(err) == oauth.CodeInvalidDPoPProof {
		return `DPoP realm="tollgate", error="invalid_dpop_proof", algs="` + strings.Join(oauth.SigningAlgorithms, " ") + `"`
	}
	if params == "" {
		return `Bearer realm="tollgate"`
	}
	return `Bearer realm="tollgate", ` + params
}

// writeError renders err as problem+json, the admin API's format.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	f := s.fault(r, err)
	f.headers(w)
	if f.code == tollgate.EUnauthenticated {
		w.Header().Set("WWW-Authenticate", challenge(err, ""))
	}
	writeProblemOf(w, f)
}

func writeProblem(w http.ResponseWriter, status int, code, msg, field string) {
	writeProblemOf(w, fault{code: code, status: status, message: msg, field: field})
}

func writeProblemOf(w http.ResponseWriter, f fault) {
	code := tollgate.Public(f.code)
	writeJSONType(w, "application/problem+json", f.status, problem{
		Type:   "https://tollgate.dev/problems/" + code,
		Title:  titleOf[code],
		Status: f.status,
		Detail: f.message,
		Code:   code,
		Field:  f.field,
		Policy: f.policy,
	})
}

// writeOAuthError renders err as RFC 6749 §5.2 JSON, the format of the
// token, introspection and revocation endpoints: every refusal is 400
// except invalid_client (401, with WWW-Authenticate when the client tried
// HTTP Basic), a rate limit (429), a body too large (413) and an internal
// error (500).
func (s *Server) writeOAuthError(w http.ResponseWriter, r *http.Request, endpoint string, err error) {
	f := s.fault(r, err)
	code := oauth.CodeOf(err)
	if code == "" {
		code = oauthErrorOf[f.code]
	}
	if code == "" {
		code = oauth.CodeInvalidRequest
	}
	switch f.code {
	case tollgate.EUnauthenticated, tollgate.ERateLimited, tollgate.ETooLarge, tollgate.EInternal:
	default:
		f.status = http.StatusBadRequest
	}
	if f.code == tollgate.EInternal {
		f.message = "internal error"
	}
	s.metrics.oauthErrors.WithLabelValues(endpoint, string(code)).Inc()
	if endpoint == "introspect" {
		s.metrics.introspection.WithLabelValues(string(code)).Inc()
	}
	f.headers(w)
	if code == oauth.CodeInvalidClient && isBasic(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Basic realm="tollgate", charset="UTF-8"`)
	}
	oauthHeaders(w)
	writeJSON(w, f.status, oauthError{string(code), f.message})
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// checkErrorOf is the error string /check answers for a code.
var checkErrorOf = map[string]string{
	tollgate.EUnauthenticated: "invalid_token",
	tollgate.EForbidden:       "origin_not_allowed",
	tollgate.ERateLimited:     "rate_limited",
	tollgate.EInternal:        "temporarily_unavailable",
}

// writeCheckError renders err in /check's format (A10): 401 with
// WWW-Authenticate for an unusable credential, 403 for an origin a public
// token does not list, 429 over a failure limit, and 503 when Tollgate
// cannot decide, so that a gateway can tell "no" from "not now".
func (s *Server) writeCheckError(w http.ResponseWriter, r *http.Request, err error) {
	f := s.fault(r, err)
	name := checkErrorOf[f.code]
	switch f.code {
	case tollgate.EUnauthenticated:
		w.Header().Set("WWW-Authenticate", challenge(err, `error="invalid_token"`))
		if oauth.CodeOf(err) == oauth.CodeInvalidDPoPProof {
			name = string(oauth.CodeInvalidDPoPProof)
		}
	case tollgate.EInternal:
		f.status, f.message = http.StatusServiceUnavailable, "cannot check credentials right now"
	case tollgate.EForbidden, tollgate.ERateLimited:
	default:
		name, f.status = "invalid_request", http.StatusBadRequest
	}
	s.metrics.check.WithLabelValues(name).Inc()
	f.headers(w)
	writeJSON(w, f.status, oauthError{name, f.message})
}
