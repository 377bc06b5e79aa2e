package oauth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/tollgate/tollgate"
)

// TokenType is the JWT typ of access tokens (RFC 9068 §2.1).
const TokenType = "at+jwt"

// Algorithm is the JWS algorithm access tokens are signed with (RFC 8037).
const Algorithm = "EdDSA"

// MaxTokenLength bounds a presented token: nothing legitimate is longer.
const MaxTokenLength = 8192

// Claims are the claims of an access token (RFC 9068 §2.2), in a fixed
// order so that their JSON is the same on every replica.
type Claims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	ClientID string `json:"client_id"`
	OrgID    string `json:"org_id"`
	Role     string `json:"role"`
	Scope    string `json:"scope"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	ID       string `json:"jti"`
	// Confirmation binds the token to a DPoP key (RFC 9449 §6.1); nil
	// for a plain Bearer token.
	Confirmation *Confirmation `json:"cnf,omitempty"`
}

// Confirmation is the cnf claim of a DPoP-bound token.
type Confirmation struct {
	JKT string `json:"jkt"`
}

// JKT is the thumbprint of the DPoP key the token is bound to, "" for none.
func (c *Claims) JKT() string {
	if c.Confirmation == nil {
		return ""
	}
	return c.Confirmation.JKT
}

// NewClaims returns the claims of a token for sa issued at iat: its subject
// and client are the account, its scope and role the account's role, and it
// lives for the account's token lifetime (S6). A jkt binds it to that DPoP
// key ("" for a Bearer token).
func NewClaims(issuer, audience string, sa *tollgate.ServiceAccount, iat time.Time, jti, jkt string) Claims {
	c := Claims{Issuer: issuer, Subject: sa.ID, Audience: audience, ClientID: sa.ID, OrgID: sa.OrgID,
		Role: string(sa.Role), Scope: string(sa.Role), IssuedAt: iat.Unix(), Expiry: iat.Unix() + int64(sa.TokenTTLSeconds), ID: jti}
	if jkt != "" {
		c.Confirmation = &Confirmation{JKT: jkt}
	}
	return c
}

// Matches reports whether the claims were made for sa as it is now: the
// same role and lifetime. A token prepared from a stale view is signed again.
func (c *Claims) Matches(sa *tollgate.ServiceAccount) bool {
	return c.Role == string(sa.Role) && c.Expiry-c.IssuedAt == int64(sa.TokenTTLSeconds)
}

// ExpiresAt is the claims' exp as a time.
func (c *Claims) ExpiresAt() time.Time { return time.Unix(c.Expiry, 0).UTC() }

// Marshal returns the claims' JSON.
func (c *Claims) Marshal() ([]byte, error) { return json.Marshal(c) }

// Errors of VerifyAccessToken.
var (
	// ErrNotAccessToken: the string is not a valid, unexpired access token
	// of this issuer, and never will be.
	ErrNotAccessToken = errors.New("oauth: not an access token of this server")
	// ErrUnknownKey: the token names a key this server does not publish.
	// Unlike ErrNotAccessToken it may pass once the keys are read again
	// (another replica may have rotated a moment ago).
	ErrUnknownKey = errors.New("oauth: the token's signing key is unknown")
)

// KeyLookup returns the published public key with that kid; ok is false
// when none has it.
type KeyLookup func(ctx context.Context, kid string) (key ed25519.PublicKey, ok bool, err error)

// LooksLikeJWT reports whether s has the shape of a compact JWS.
func LooksLikeJWT(s string) bool { return strings.Count(s, ".") == 2 }

// VerifyAccessToken checks that token is an access token issued by issuer
// (RFC 9068 §4): typ at+jwt, EdDSA, a kid that lookup knows, a valid
// signature, this iss, a jti, and exp after now. It returns the claims, or
// ErrNotAccessToken, ErrUnknownKey, or lookup's error.
func VerifyAccessToken(ctx context.Context, token, issuer string, now time.Time, lookup KeyLookup) (*Claims, error) {
	head, _, found := strings.Cut(token, ".")
	if !found || len(token) > MaxTokenLength {
		return nil, ErrNotAccessToken
	}
	hb, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return nil, ErrNotAccessToken
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}
	if json.Unmarshal(hb, &h) != nil || h.Alg != Algorithm || h.Typ != TokenType || h.Kid == "" {
		return nil, ErrNotAccessToken
	}
	pub, ok, err := lookup(ctx, h.Kid)
	if err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrUnknownKey
	}
	payload, err := jws.Verify([]byte(token), jws.WithKey(jwa.EdDSA(), pub))
	if err != nil {
		return nil, ErrNotAccessToken
	}
	var cl Claims
	if json.NewDecoder(bytes.NewReader(payload)).Decode(&cl) != nil || cl.Issuer != issuer || cl.ID == "" || now.Unix() >= cl.Expiry {
		return nil, ErrNotAccessToken
	}
	return &cl, nil
}

// ClaimsOf reads the claims of a token this server made, without checking
// its signature: for a token it kept sealed itself, never for one a client
// presented (VerifyAccessToken is for those).
func ClaimsOf(token string) (*Claims, error) {
	_, rest, _ := strings.Cut(token, ".")
	payload, _, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, ErrNotAccessToken
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, ErrNotAccessToken
	}
	var cl Claims
	if err := json.Unmarshal(b, &cl); err != nil {
		return nil, ErrNotAccessToken
	}
	return &cl, nil
}
