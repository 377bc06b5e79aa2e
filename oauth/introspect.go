package oauth

import (
	"context"
	"strings"

	"github.com/tollgate/tollgate"
)

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
}

// Introspect answers RFC 7662 for a service account authenticated with
// its client credentials. A token is active only if it is an access token
// of this server that has not expired or been revoked, whose account
// exists and is enabled (S7, S8), and that belongs to the caller's
// organization (T7). It shares /check's cache of verified credentials.
func (s *Service) Introspect(ctx context.Context, caller ClientCredentials, token string) (*Introspection, error) {
	c, _, err := s.authenticate(ctx, caller)
	if err != nil {
		return nil, err
	}
	inactive := &Introspection{Active: false}
	e, owner, err := s.credential(ctx, token)
	if _, refused := IsCheckError(err); refused {
		return inactive, nil
	} else if err != nil {
		return nil, err
	}
	if e.claims == nil || owner == nil || owner.org.ID != c.org.ID {
		return inactive, nil // not an access token, or another org's
	}
	cl := e.claims
	// The role is the account's current one: a role change applies to the
	// tokens already out, wherever Tollgate answers.
	role := string(owner.sa.Role)
	return &Introspection{Active: true, Scope: role, ClientID: cl.ClientID, Username: owner.sa.Email, TokenType: "Bearer",
		Exp: cl.Expiry, Iat: cl.IssuedAt, Sub: cl.Subject, Aud: cl.Audience, Iss: cl.Issuer, Jti: cl.ID, OrgID: cl.OrgID, Role: role}, nil
}

// lookup verifies token and finds its record and its account; cl is nil
// when the token is not a live access token of an existing account.
func (s *Service) lookup(ctx context.Context, token string) (*Claims, *tollgate.AccessToken, *client, error) {
	cl, ok, err := s.verify(ctx, strings.TrimSpace(token))
	if err != nil || !ok {
		return nil, nil, nil, err
	}
	rec, err := s.store.GetAccessToken(ctx, cl.ID)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, nil, nil, nil
	} else if err != nil {
		return nil, nil, nil, err
	}
	owner, err := s.client(ctx, rec.ServiceAccountID)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, nil, nil, nil
	} else if err != nil {
		return nil, nil, nil, err
	}
	return cl, rec, owner, nil
}

// Revoke answers RFC 7009 for an authenticated service account: it revokes
// the access token if it was issued to the caller. Any other token, valid
// or not, is answered the same way (success) so that nothing is learnt.
// token_type_hint is not needed: this server has one kind of access token.
func (s *Service) Revoke(ctx context.Context, caller ClientCredentials, token string, from Caller) error {
	c, _, err := s.authenticate(ctx, caller)
	if err != nil {
		return err
	}
	cl, rec, owner, err := s.lookup(ctx, token)
	if err != nil || cl == nil || rec.RevokedAt != nil || rec.ServiceAccountID != c.sa.ID {
		return err
	}
	defer s.CredentialChanged(s.keyring.Hash(strings.TrimSpace(token)))
	err = s.store.InTx(ctx, func(q tollgate.Queries) error {
		now := tollgate.Timestamp(s.clock.Now())
		if err := q.RevokeAccessToken(ctx, rec.ID, now); err != nil {
			return err
		}
		return q.AppendAuditEvent(ctx, tollgate.NewAuditEvent(now, owner.org.ID, saPrincipal(&owner.sa), tollgate.ActionAccessTokenRevoked,
			tollgate.Principal{Type: "access_token", ID: rec.ID, Name: owner.sa.Name}, from.IP, from.UserAgent, nil))
	})
	s.ServiceAccountChanged(c.sa.ID)
	return err
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
}

// Metadata returns this server's RFC 8414 metadata.
func (s *Service) Metadata() Metadata {
	methods := []string{AuthBasic, AuthPost}
	return Metadata{
		Issuer:                            s.cfg.Issuer,
		TokenEndpoint:                     s.cfg.Issuer + "/oauth2/token",
		JWKSURI:                           s.cfg.Issuer + "/oauth2/jwks",
		IntrospectionEndpoint:             s.cfg.Issuer + "/oauth2/introspect",
		RevocationEndpoint:                s.cfg.Issuer + "/oauth2/revoke",
		GrantTypesSupported:               []string{"client_credentials"},
		ResponseTypesSupported:            []string{},
		ScopesSupported:                   []string{"admin", "member", "viewer"},
		TokenEndpointAuthMethodsSupported: methods,
		IntrospectionEndpointAuthMethodsSupported: methods,
		RevocationEndpointAuthMethodsSupported:    methods,
		AccessTokenSigningAlgValuesSupported:      []string{"EdDSA"},
	}
}

// JWKS returns the JWK Set document.
func (s *Service) JWKS(ctx context.Context) ([]byte, error) { return s.keys.JWKS(ctx) }
