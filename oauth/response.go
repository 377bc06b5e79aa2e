package oauth

import (
	"time"

	"github.com/tollgate/tollgate"
)

// TokenResponse is the answer of the token endpoint (RFC 6749 §5.1, T4).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	// TokenType is Bearer, or DPoP for a token bound to a DPoP key.
	TokenType string `json:"token_type"`
	ExpiresIn int64  `json:"expires_in"`
	Scope     string `json:"scope"`
	// IssuedTokenType is set for token exchange (RFC 8693 §2.2.1).
	IssuedTokenType string                 `json:"issued_token_type,omitempty"`
	ServiceAccount  ServiceAccountIdentity `json:"service_account"`
}

// ServiceAccountIdentity describes the account a token was issued to.
type ServiceAccountIdentity struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	OrgID   string `json:"org_id"`
	OrgSlug string `json:"org_slug"`
	Role    string `json:"role"`
}

// NewTokenResponse answers with token, which expires at exp, for sa of org;
// expires_in counts down to exp from now (T2). A token bound to a DPoP key
// (jkt not "") is of type DPoP.
func NewTokenResponse(token, jkt string, exp, now time.Time, sa *tollgate.ServiceAccount, org *tollgate.Org) *TokenResponse {
	typ := "Bearer"
	if jkt != "" {
		typ = TokenTypeDPoP
	}
	return &TokenResponse{AccessToken: token, TokenType: typ, ExpiresIn: int64(exp.Sub(now) / time.Second), Scope: string(sa.Role),
		ServiceAccount: ServiceAccountIdentity{ID: sa.ID, Name: sa.Name, Email: sa.Email, OrgID: org.ID, OrgSlug: org.Slug, Role: string(sa.Role)}}
}

// Introspection is the RFC 7662 §2.2 answer. Only Active is set for a
// token that is not active for the caller.
type Introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Aud       string `json:"aud,omitempty"`
	Iss       string `json:"iss,omitempty"`
	Jti       string `json:"jti,omitempty"`
	OrgID     string `json:"org_id,omitempty"`
	Role      string `json:"role,omitempty"`
	// Cnf is the DPoP binding of a bound token (RFC 9449 §6.2).
	Cnf *Confirmation `json:"cnf,omitempty"`
}

// Inactive is the answer for any token that is not active for the caller:
// RFC 7662 §2.2 says nothing more.
var Inactive = Introspection{Active: false}

// Active answers for a live access token with claims cl, whose account is
// sa. scope and role are role, the account's current one, which may differ
// from the claims' if the account's role changed since.
func Active(cl *Claims, sa *tollgate.ServiceAccount, role tollgate.Role) Introspection {
	typ := "Bearer"
	if cl.JKT() != "" {
		typ = TokenTypeDPoP
	}
	return Introspection{Active: true, Scope: string(role), ClientID: cl.ClientID, Username: sa.Email, TokenType: typ,
		Exp: cl.Expiry, Iat: cl.IssuedAt, Sub: cl.Subject, Aud: cl.Audience, Iss: cl.Issuer, Jti: cl.ID, OrgID: cl.OrgID, Role: string(role),
		Cnf: cl.Confirmation}
}

// Metadata is the RFC 8414 authorization server metadata.
type Metadata struct {
	Issuer                                    string   `json:"issuer"`
	TokenEndpoint                             string   `json:"token_endpoint"`
	JWKSURI                                   string   `json:"jwks_uri"`
	IntrospectionEndpoint                     string   `json:"introspection_endpoint"`
	RevocationEndpoint                        string   `json:"revocation_endpoint"`
	GrantTypesSupported                       []string `json:"grant_types_supported"`
	ResponseTypesSupported                    []string `json:"response_types_supported"`
	ScopesSupported                           []string `json:"scopes_supported"`
	TokenEndpointAuthMethodsSupported         []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	AccessTokenSigningAlgValuesSupported      []string `json:"access_token_signing_alg_values_supported"`
	// The algorithms of private_key_jwt assertions (RFC 8414 §2) and of
	// DPoP proofs (RFC 9449 §5.1).
	TokenEndpointAuthSigningAlgValuesSupported         []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	IntrospectionEndpointAuthSigningAlgValuesSupported []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	RevocationEndpointAuthSigningAlgValuesSupported    []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	DPoPSigningAlgValuesSupported                      []string `json:"dpop_signing_alg_values_supported"`
	// DeviceAuthorizationEndpoint is RFC 8628 §4's: people at the command
	// line.
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint"`
}

// DeviceAuthorization is the answer of the device authorization endpoint
// (RFC 8628 §3.2).
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// SessionToken is the token endpoint's answer to the device grant (RFC
// 6749 §5.1): a tgc_ credential of a new CLI session, which acts as the
// person who approved it until the session expires or is revoked.
type SessionToken struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	// SessionID is the session's public ID, which revokes it.
	SessionID string       `json:"session_id"`
	User      UserIdentity `json:"user"`
}

// UserIdentity describes the person a session token acts for.
type UserIdentity struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// NewMetadata returns the metadata of a server whose issuer (base URL,
// without a trailing slash) is issuer.
func NewMetadata(issuer string) Metadata {
	methods := []string{AuthBasic, AuthPost, AuthPrivateKeyJWT}
	return Metadata{
		Issuer:                            issuer,
		TokenEndpoint:                     issuer + "/oauth2/token",
		JWKSURI:                           issuer + "/oauth2/jwks",
		IntrospectionEndpoint:             issuer + "/oauth2/introspect",
		RevocationEndpoint:                issuer + "/oauth2/revoke",
		GrantTypesSupported:               []string{GrantClientCredentials, GrantTokenExchange, GrantJWTBearer, GrantDeviceCode},
		ResponseTypesSupported:            []string{},
		ScopesSupported:                   []string{"admin", "member", "viewer"},
		TokenEndpointAuthMethodsSupported: methods,
		IntrospectionEndpointAuthMethodsSupported:          methods,
		RevocationEndpointAuthMethodsSupported:             methods,
		AccessTokenSigningAlgValuesSupported:               []string{Algorithm},
		TokenEndpointAuthSigningAlgValuesSupported:         SigningAlgorithms,
		IntrospectionEndpointAuthSigningAlgValuesSupported: SigningAlgorithms,
		RevocationEndpointAuthSigningAlgValuesSupported:    SigningAlgorithms,
		DPoPSigningAlgValuesSupported:                      SigningAlgorithms,
		DeviceAuthorizationEndpoint:                        issuer + "/oauth2/device_authorization",
	}
}
