package oauth

import (
	"errors"

	"github.com/tollgate/tollgate"
)

// Code is an error code of RFC 6749 §5.2. It is an error value: a
// *tollgate.Error carries it in its chain when an OAuth answer needs a
// code more precise than the tollgate code says (Fail, CodeOf).
type Code string

// Error returns the code itself.
func (c Code) Error() string { return string(c) }

// The error codes Tollgate answers with.
const (
	CodeInvalidRequest       Code = "invalid_request"
	CodeInvalidClient        Code = "invalid_client"
	CodeUnsupportedGrantType Code = "unsupported_grant_type"
	CodeInvalidScope         Code = "invalid_scope"
	CodeInvalidGrant         Code = "invalid_grant"
	CodeInvalidTarget        Code = "invalid_target"
	CodeServerError          Code = "server_error"
	// CodeSlowDown is RFC 8628's: RFC 6749 has no code for a client that
	// must wait (a failure limit), and this one says so.
	CodeSlowDown Code = "slow_down"
	// The device grant's (RFC 8628 §3.5): the person has not answered
	// yet, said no, or let the code expire.
	CodeAuthorizationPending Code = "authorization_pending"
	CodeAccessDenied         Code = "access_denied"
	CodeExpiredToken         Code = "expired_token"
)

// Fail returns the coded error of an OAuth refusal: EUnauthenticated for
// invalid_client, EInvalid otherwise, with desc as the client-safe
// error_description and code in its chain.
func Fail(code Code, desc string) *tollgate.Error {
	c := tollgate.EInvalid
	if code == CodeInvalidClient {
		c = tollgate.EUnauthenticated
	}
	return &tollgate.Error{Code: c, Message: desc, Err: code}
}

// CodeOf returns the Code in err's chain, or "" when there is none.
func CodeOf(err error) Code {
	var c Code
	errors.As(err, &c)
	return c
}
