package oauth

import (
	"encoding/base64"
	"net/url"
	"strings"
)

// Client authentication methods (RFC 7591 §2 names).
const (
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
)

// The grants of the token endpoint.
const (
	// GrantClientCredentials is RFC 6749 §4.4's.
	GrantClientCredentials = "client_credentials"
	// GrantTokenExchange is RFC 8693's: a federated workload's JWT is
	// traded for an access token (K2).
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	// GrantJWTBearer is RFC 7523 §2.1's: the same trade, with the JWT as
	// an authorization grant.
	GrantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// GrantDeviceCode is RFC 8628's: `tollgate login` trades the device
	// code a person approved for a credential of their CLI session.
	GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
)

// Token types of RFC 8693 §3.
const (
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

// ClientAuth is how a client authenticated at an OAuth endpoint (RFC 6749
// §2.3): its ID and, for the client_secret methods, its secret; for
// private_key_jwt, its assertion, decoded but not yet verified.
type ClientAuth struct {
	ID        string
	Secret    string
	Assertion *JWT
	Method    string // AuthBasic, AuthPost or AuthPrivateKeyJWT
}

// TokenRequest is a parsed token request (RFC 6749 §4.4.2, RFC 8693 §2.1,
// RFC 7523 §2.1).
type TokenRequest struct {
	GrantType string
	Scope     string
	// Federated is set for the two federated grants: the external JWT
	// (subject_token or assertion) and the client_id naming the service
	// account.
	Federated *FederatedGrant
}

// FederatedGrant is a token exchange or JWT bearer request: the service
// account's client ID and the workload's JWT, not yet decoded (Token).
type FederatedGrant struct {
	ClientID string
	Raw      string
}

// Token decodes the workload's JWT (ParseJWT); a refusal is invalid_grant.
func (g *FederatedGrant) Token() (*JWT, error) {
	t, err := ParseJWT(g.Raw, "the workload's token")
	if err != nil {
		return nil, Fail(CodeInvalidGrant, err.Error())
	}
	return t, nil
}

// Federated reports whether grant trades an external JWT (K2).
func Federated(grant string) bool { return grant == GrantTokenExchange || grant == GrantJWTBearer }

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
func single(form url.Values, name string) (string, error) {
	return singleMax(form, name, maxParamLen)
}

// singleMax is single for a parameter that may be up to max bytes long: a
// JWT.
func singleMax(form url.Values, name string, max int) (string, error) {
	vs := form[name]
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", Fail(CodeInvalidRequest, "the "+name+" parameter is repeated")
	case len(vs[0]) > max:
		return "", Fail(CodeInvalidRequest, "the "+name+" parameter is too long")
	}
	return vs[0], nil
}

// ParseClientAuth reads the client's credentials from the Authorization
// header (client_secret_basic) or the form (client_secret_post). Using
// both at once is invalid_request; none, a malformed Basic header, or
// another scheme is invalid_client.
func ParseClientAuth(authorization string, form url.Values) (ClientAuth, error) {
	formID, err := single(form, "client_id")
	if err != nil {
		return ClientAuth{}, err
	}
	formSecret, err := single(form, "client_secret")
	if err != nil {
		return ClientAuth{}, err
	}
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		if authorization != "" || formSecret != "" {
			return ClientAuth{}, Fail(CodeInvalidRequest, "use one client authentication method: a client assertion, HTTP Basic or client_secret, not several")
		}
		return parseAssertionAuth(formID, form)
	}
	if authorization != "" {
		id, secret, ok := ParseBasic(authorization)
		if !ok {
			return ClientAuth{}, Fail(CodeInvalidClient, "the Authorization header is not valid HTTP Basic client authentication")
		}
		if formSecret != "" {
			return ClientAuth{}, Fail(CodeInvalidRequest, "use one client authentication method: HTTP Basic or client_secret in the body, not both")
		}
		if formID != "" && formID != id {
			return ClientAuth{}, Fail(CodeInvalidRequest, "client_id in the body differs from the one in the Authorization header")
		}
		return ClientAuth{ID: id, Secret: secret, Method: AuthBasic}, nil
	}
	if formID == "" || formSecret == "" {
		return ClientAuth{}, Fail(CodeInvalidClient, "client authentication is required: send client_id and client_secret (HTTP Basic or form body)")
	}
	return ClientAuth{ID: formID, Secret: formSecret, Method: AuthPost}, nil
}

// parseAssertionAuth reads private_key_jwt client authentication (RFC 7523
// §2.2): client_assertion_type and client_assertion, and client_id, which
// is optional but must then be the assertion's iss.
func parseAssertionAuth(formID string, form url.Values) (ClientAuth, error) {
	typ, err := single(form, "client_assertion_type")
	if err != nil {
		return ClientAuth{}, err
	}
	raw, err := singleMax(form, "client_assertion", MaxTokenLength)
	if err != nil {
		return ClientAuth{}, err
	}
	switch {
	case typ == "" || raw == "":
		return ClientAuth{}, Fail(CodeInvalidRequest, "send both client_assertion_type and client_assertion")
	case typ != AssertionTypeJWT:
		return ClientAuth{}, Fail(CodeInvalidClient, "client_assertion_type must be "+AssertionTypeJWT)
	}
	t, err := ParseJWT(raw, "the client assertion")
	if err != nil {
		return ClientAuth{}, Fail(CodeInvalidClient, err.Error())
	}
	if formID != "" && formID != t.Claims.Issuer {
		return ClientAuth{}, Fail(CodeInvalidClient, "the client assertion's iss must be the client_id")
	}
	if t.Claims.Issuer == "" {
		return ClientAuth{}, Fail(CodeInvalidClient, "the client assertion's iss must be the client ID")
	}
	return ClientAuth{ID: t.Claims.Issuer, Assertion: t, Method: AuthPrivateKeyJWT}, nil
}

// ParseTokenRequest parses a token request's grant: client_credentials
// (RFC 6749 §4.4.2), whose client authentication is ParseClientAuth's, or
// one of the federated grants (parseFederated); scope is optional.
func ParseTokenRequest(form url.Values) (TokenRequest, error) {
	grant, err := single(form, "grant_type")
	if err != nil {
		return TokenRequest{}, err
	}
	const supported = "client_credentials, " + GrantTokenExchange + ", " + GrantJWTBearer + " or " + GrantDeviceCode
	switch grant {
	case "":
		return TokenRequest{}, Fail(CodeInvalidRequest, "grant_type is required; this server supports "+supported)
	case GrantClientCredentials, GrantTokenExchange, GrantJWTBearer:
	default:
		return TokenRequest{}, Fail(CodeUnsupportedGrantType, "grant_type "+quote(grant)+" is not supported; use "+supported)
	}
	scope, err := single(form, "scope")
	if err != nil {
		return TokenRequest{}, err
	}
	req := TokenRequest{GrantType: grant, Scope: scope}
	if Federated(grant) {
		if req.Federated, err = parseFederated(grant, form); err != nil {
			return TokenRequest{}, err
		}
	}
	return req, nil
}

// parseFederated reads a token exchange (RFC 8693 §2.1: subject_token,
// subject_token_type jwt or id_token, no actor token, no other audience)
// or a JWT bearer grant (RFC 7523 §2.1: assertion). Both name the service
// account with client_id and carry no other client authentication: the
// external JWT is the credential.
func parseFederated(grant string, form url.Values) (*FederatedGrant, error) {
	for _, p := range []string{"client_secret", "client_assertion", "client_assertion_type"} {
		if form.Has(p) {
			return nil, Fail(CodeInvalidRequest, "a federated grant authenticates with its JWT alone: leave out "+p)
		}
	}
	clientID, err := single(form, "client_id")
	if err != nil {
		return nil, err
	}
	if clientID == "" {
		return nil, Fail(CodeInvalidRequest, "client_id is required: the ID of the service account to get a token for")
	}
	var raw string
	if grant == GrantTokenExchange {
		typ, err := single(form, "subject_token_type")
		if err != nil {
			return nil, err
		}
		if typ != TokenTypeJWT && typ != TokenTypeIDToken {
			return nil, Fail(CodeInvalidRequest, "subject_token_type must be "+TokenTypeJWT+" or "+TokenTypeIDToken)
		}
		if raw, err = singleMax(form, "subject_token", MaxTokenLength); err != nil {
			return nil, err
		}
		if form.Has("actor_token") || form.Has("actor_token_type") {
			return nil, Fail(CodeInvalidRequest, "delegation (actor_token) is not supported")
		}
		if req, err := single(form, "requested_token_type"); err != nil {
			return nil, err
		} else if req != "" && req != TokenTypeAccessToken {
			return nil, Fail(CodeInvalidRequest, "requested_token_type must be "+TokenTypeAccessToken)
		}
		if form.Has("audience") || form.Has("resource") {
			return nil, Fail(CodeInvalidTarget, "tokens are issued for this server's one audience: leave out audience and resource")
		}
		if raw == "" {
			return nil, Fail(CodeInvalidRequest, "subject_token is required: the workload's JWT")
		}
	} else {
		if raw, err = singleMax(form, "assertion", MaxTokenLength); err != nil {
			return nil, err
		}
		if raw == "" {
			return nil, Fail(CodeInvalidRequest, "assertion is required: the workload's JWT")
		}
	}
	return &FederatedGrant{ClientID: clientID, Raw: raw}, nil
}

// ParseTokenParam reads the token parameter of an introspection (RFC 7662
// §2.1) or revocation (RFC 7009 §2.1) request: exactly one, not blank.
func ParseTokenParam(form url.Values) (string, error) {
	if len(form["token"]) != 1 || strings.TrimSpace(form.Get("token")) == "" {
		return "", Fail(CodeInvalidRequest, "send exactly one token parameter")
	}
	return form.Get("token"), nil
}

// quote shows an untrusted value in a message, shortened and quoted.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(`"`+s+`"`, "?")
}

// ParseDeviceAuthorizationRequest reads a device authorization request
// (RFC 8628 §3.1): client_id, required, and no scope (a CLI session acts
// with the person's own roles; there is nothing to narrow).
func ParseDeviceAuthorizationRequest(form url.Values) (clientID string, err error) {
	if clientID, err = single(form, "client_id"); err != nil {
		return "", err
	}
	if clientID == "" {
		return "", Fail(CodeInvalidRequest, "client_id is required")
	}
	if scope, err := single(form, "scope"); err != nil {
		return "", err
	} else if scope != "" {
		return "", Fail(CodeInvalidScope, "a command-line session acts with your own roles: leave out scope")
	}
	return clientID, nil
}

// DeviceCodeRequest is a token request of the device grant (RFC 8628
// §3.4): a public client's ID and the device code it was given.
type DeviceCodeRequest struct {
	ClientID   string
	DeviceCode string
}

// ParseDeviceCodeRequest reads a token request of the device grant.
// client_id and device_code are required; the client is public, so a
// client secret or assertion is refused rather than ignored.
func ParseDeviceCodeRequest(form url.Values, authorization string) (DeviceCodeRequest, error) {
	if authorization != "" || form.Has("client_secret") || form.Has("client_assertion") {
		return DeviceCodeRequest{}, Fail(CodeInvalidClient, "the device grant's client is public: send client_id alone, no secret or assertion")
	}
	var req DeviceCodeRequest
	var err error
	if req.ClientID, err = single(form, "client_id"); err != nil {
		return req, err
	}
	if req.DeviceCode, err = single(form, "device_code"); err != nil {
		return req, err
	}
	switch {
	case req.ClientID == "":
		return req, Fail(CodeInvalidRequest, "client_id is required")
	case req.DeviceCode == "":
		return req, Fail(CodeInvalidRequest, "device_code is required")
	}
	return req, nil
}
