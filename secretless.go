package tollgate

import (
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ID prefixes of the credentials that need no shared secret.
const (
	PrefixClientKey           = "ck"
	PrefixFederatedCredential = "fed"
)

// ClientKey is a public key a service account registered for
// private_key_jwt client authentication (K1).
type ClientKey struct {
	ID               string
	ServiceAccountID string
	KeyID            string // the JWK's kid, else its thumbprint
	Algorithm        string
	Thumbprint       string // RFC 7638, SHA-256, base64url
	JWK              []byte // the public JWK as stored
	CreatedAt        time.Time
	CreatedBy        string // user ID
	ExpiresAt        *time.Time
	LastUsedAt       *time.Time
}

// LiveAt reports whether the key is accepted at t.
func (k *ClientKey) LiveAt(t time.Time) bool { return k.ExpiresAt == nil || t.Before(*k.ExpiresAt) }

// MaxClientKeys bounds the keys of one account: each assertion may be
// tried against every key when it names no kid.
const MaxClientKeys = 10

// FederatedCredential lets a service account trust tokens of an external
// OIDC issuer (K2): a token whose iss is Issuer, whose aud holds Audience,
// whose sub is Subject (when set) and whose named claims have exactly the
// values in Claims is traded for the account's access token.
type FederatedCredential struct {
	ID               string
	ServiceAccountID string
	Name             string
	Issuer           string
	Audience         string
	Subject          string // "" for any
	Claims           map[string]string
	CreatedAt        time.Time
	CreatedBy        string // user ID
	LastUsedAt       *time.Time
}

// Rules of federated credentials (K2).
const (
	MaxFederatedCredentials   = 20
	MaxFederatedClaims        = 10
	MaxFederatedNameLength    = 64
	MaxFederatedValueLength   = 512
	MaxFederatedClaimNameSize = 64
	MaxIssuerLength           = 255
)

// reservedClaims are checked by the credential's own fields or by every
// exchange, so a condition on them is refused.
var reservedClaims = []string{"iss", "aud", "sub", "exp", "nbf", "iat", "jti"}

// ValidateFederatedCredential checks a new credential's fields: a name, an
// issuer URL (ValidateIssuer), an audience, and conditions compared
// exactly: no wildcards, no surrounding spaces, no reserved claim names.
// insecure are the http origins allowed as issuers (for tests).
func ValidateFederatedCredential(fc *FederatedCredential, insecure []string) error {
	if fc.Name == "" {
		return Invalidf("name", "name is required")
	}
	if !PlainText(fc.Name) || utf8.RuneCountInString(fc.Name) > MaxFederatedNameLength {
		return Invalidf("name", "name must be at most %d characters of plain text", MaxFederatedNameLength)
	}
	if err := ValidateIssuer(fc.Issuer, insecure); err != nil {
		return err
	}
	if err := exactValue("audience", fc.Audience, true); err != nil {
		return err
	}
	if err := exactValue("subject", fc.Subject, false); err != nil {
		return err
	}
	if len(fc.Claims) > MaxFederatedClaims {
		return Invalidf("claims", "at most %d claim conditions", MaxFederatedClaims)
	}
	for _, name := range slices.Sorted(maps.Keys(fc.Claims)) {
		field := "claims." + name
		if name == "" || len(name) > MaxFederatedClaimNameSize || !PlainText(name) || strings.TrimSpace(name) != name {
			return Invalidf("claims", "claim names must be 1–%d characters without surrounding spaces", MaxFederatedClaimNameSize)
		}
		if slices.Contains(reservedClaims, name) {
			return Invalidf(field, "%s is checked by the credential itself: use issuer, audience or subject", name)
		}
		if err := exactValue(field, fc.Claims[name], true); err != nil {
			return err
		}
	}
	return nil
}

// exactValue checks a condition compared by exact equality.
func exactValue(field, v string, required bool) error {
	switch {
	case v == "" && required:
		return Invalidf(field, "%s is required", field)
	case v == "":
		return nil
	case !PlainText(v) || len(v) > MaxFederatedValueLength:
		return Invalidf(field, "%s must be at most %d characters of plain text", field, MaxFederatedValueLength)
	case strings.Contains(v, "*"):
		return Invalidf(field, "wildcards are not supported: %s is compared exactly, so list each value in its own credential", field)
	case strings.TrimSpace(v) != v:
		return Invalidf(field, "%s has leading or trailing spaces: it is compared exactly", field)
	}
	return nil
}

// ValidateIssuer checks an external issuer's URL (K2): https, with a host,
// without query, fragment or user info, and no trailing slash; or exactly
// one of the insecure origins allowed for tests.
func ValidateIssuer(issuer string, insecure []string) error {
	if issuer == "" {
		return Invalidf("issuer", "issuer is required")
	}
	if len(issuer) > MaxIssuerLength || !PlainText(issuer) {
		return Invalidf("issuer", "issuer must be a URL of at most %d characters", MaxIssuerLength)
	}
	if slices.Contains(insecure, issuer) {
		return nil
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return Invalidf("issuer", "issuer must be an absolute https URL, like https://token.actions.githubusercontent.com")
	}
	switch {
	case u.Scheme != "https":
		return Invalidf("issuer", "issuer must use https")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Contains(issuer, "#") || strings.Contains(issuer, "?"):
		return Invalidf("issuer", "issuer must have no user info, query or fragment")
	case strings.HasSuffix(issuer, "/"):
		return Invalidf("issuer", "issuer must not end with a slash: it is compared exactly with the token's iss")
	case strings.Contains(u.Host, "*"):
		return Invalidf("issuer", "wildcards are not supported in issuer")
	}
	return nil
}

// ClaimsJSON encodes a credential's claim conditions for storage.
func (fc *FederatedCredential) ClaimsJSON() []byte {
	if len(fc.Claims) == 0 {
		return []byte("{}")
	}
	b, _ := json.Marshal(fc.Claims)
	return b
}

// Audit actions of keys and federated credentials.
const (
	ActionClientKeyAdded             = "service_account.key_added"
	ActionClientKeyDeleted           = "service_account.key_deleted"
	ActionFederatedCredentialAdded   = "service_account.federated_credential_added"
	ActionFederatedCredentialDeleted = "service_account.federated_credential_deleted"
)
