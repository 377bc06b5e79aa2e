package oauth

import (
	"encoding/base64"
	"net/url"
	"strings"
)

// Client authentication methods (RFC 7591 names).
const (
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
)

// ClientCredentials are the credentials a client presented.
type ClientCredentials struct {
	ID     string
	Secret string
	Method string // AuthBasic or AuthPost
}

// TokenRequest is a parsed client credentials token request.
type TokenRequest struct {
	Client ClientCredentials
	Scope  string
}

// maxParamLen bounds every parameter: nothing legitimate is longer.
const maxParamLen = 4096

// ParseBasic decodes an "Authorization: Basic …" header value into a
// client ID and secret. Per RFC 6749 §2.3.1 both were form-urlencoded
// before being joined with ':', so both are decoded after the split.
func ParseBasic(header string) (id, secret string, ok bool) {
	scheme, b64, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return "", "", false
	}
	encID, encSecret, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false
	}
	if id, err = url.QueryUnescape(encID); err != nil {
		return "", "", false
	}
	if secret, err = url.QueryUnescape(encSecret); err != nil || id == "" {
		return "", "", false
	}
	return id, secret, true
}

// single returns the one value of a form parameter. A parameter sent twice
// is an error (RFC 6749 §3.2: parameters must not be repeated).
func single(form url.Values, name string) (string, *Error) {
	vs := form[name]
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", invalidRequest("the " + name + " parameter is repeated")
	case len(vs[0]) > maxParamLen:
		return "", invalidRequest("the " + name + " parameter is too long")
	}
	return vs[0], nil
}

// ParseClientCredentials reads the client's credentials from the
// Authorization header (client_secret_basic) or the form
// (client_secret_post). Using both at once is invalid_request; none, or a
// malformed Basic header, is invalid_client.
func ParseClientCredentials(authorization string, form url.Values) (ClientCredentials, *Error) {
	formID, err := single(form, "client_id")
	if err != nil {
		return ClientCredentials{}, err
	}
	formSecret, err := single(form, "client_secret")
	if err != nil {
		return ClientCredentials{}, err
	}
	if authorization != "" {
		id, secret, ok := ParseBasic(authorization)
		if !ok {
			return ClientCredentials{}, invalidClient("the Authorization header is not valid HTTP Basic client authentication", true)
		}
		if formSecret != "" {
			return ClientCredentials{}, invalidRequest("use one client authentication method: HTTP Basic or client_secret in the body, not both")
		}
		if formID != "" && formID != id {
			return ClientCredentials{}, invalidRequest("client_id in the body differs from the one in the Authorization header")
		}
		return ClientCredentials{ID: id, Secret: secret, Method: AuthBasic}, nil
	}
	if formID == "" || formSecret == "" {
		return ClientCredentials{}, invalidClient("client authentication is required: send client_id and client_secret (HTTP Basic or form body)", false)
	}
	return ClientCredentials{ID: formID, Secret: formSecret, Method: AuthPost}, nil
}

// ParseTokenRequest parses a token request (RFC 6749 §4.4.2): grant_type
// must be client_credentials; scope is optional; the client authenticates
// as ParseClientCredentials reads it.
func ParseTokenRequest(authorization string, form url.Values) (TokenRequest, *Error) {
	grant, err := single(form, "grant_type")
	if err != nil {
		return TokenRequest{}, err
	}
	switch grant {
	case "":
		return TokenRequest{}, invalidRequest("grant_type is required; this server supports client_credentials")
	case "client_credentials":
	default:
		return TokenRequest{}, &Error{Code: ErrUnsupportedGrantType, Status: 400,
			Description: "grant_type " + quote(grant) + " is not supported; use client_credentials"}
	}
	scope, err := single(form, "scope")
	if err != nil {
		return TokenRequest{}, err
	}
	creds, err := ParseClientCredentials(authorization, form)
	if err != nil {
		return TokenRequest{}, err
	}
	return TokenRequest{Client: creds, Scope: scope}, nil
}

// quote shows an untrusted value in a message, shortened and quoted.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(`"`+s+`"`, "?")
}
