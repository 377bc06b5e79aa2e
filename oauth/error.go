package oauth

import "net/http"

// Error codes of RFC 6749 §5.2 and RFC 7009 §2.2.1.
const (
	ErrInvalidRequest       = "invalid_request"
	ErrInvalidClient        = "invalid_client"
	ErrUnsupportedGrantType = "unsupported_grant_type"
	ErrInvalidScope         = "invalid_scope"
	ErrServerError          = "server_error"
)

// Error is an OAuth error response. Basic is set when the client tried
// HTTP Basic authentication, so that a 401 carries WWW-Authenticate.
type Error struct {
	Code        string
	Description string
	Status      int
	Basic       bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func invalidRequest(desc string) *Error {
	return &Error{Code: ErrInvalidRequest, Description: desc, Status: http.StatusBadRequest}
}

func invalidClient(desc string, basic bool) *Error {
	return &Error{Code: ErrInvalidClient, Description: desc, Status: http.StatusUnauthorized, Basic: basic}
}
