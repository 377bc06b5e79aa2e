package tollgate

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Service account rules (DESIGN.md S2, S4, S6).
const (
	MaxServiceAccountNameLength = 20
	MaxDescriptionLength        = 140
	MinTokenTTLSeconds          = 300
	MaxTokenTTLSeconds          = 2_592_000
	// DefaultServiceAccountEmailDomain is the domain of service accounts'
	// email addresses unless configured otherwise (S3).
	DefaultServiceAccountEmailDomain = "serviceaccounts.tollgate.local"
)

// Status is a service account's state (S7).
type Status string

// The statuses of a service account.
const (
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
)

// ID prefixes of service accounts and their credentials.
const (
	PrefixServiceAccount = "sa"
	PrefixClientSecret   = "sec"
	PrefixAccessToken    = "at"
	PrefixSigningKey     = "key"
)

// ServiceAccount is a non-human member of one organization. Its ID is also
// its OAuth 2.0 client ID.
type ServiceAccount struct {
	ID              string
	OrgID           string
	Name            string
	Email           string
	Description     string
	Role            Role
	TokenTTLSeconds int
	Status          Status
	CreatedAt       time.Time
	CreatedBy       string // user ID
	LastUsedAt      *time.Time
	// ReuseAfter: an access token issued before this instant is never
	// handed out again by the token endpoint (set on disable and on secret
	// rotation, rule T2).
	ReuseAfter time.Time
	// RequireDPoP: the token endpoint issues this account only DPoP-bound
	// tokens (K3).
	RequireDPoP bool
}

// ValidateServiceAccountName checks S2: 1–20 ASCII letters, digits, '-' and
// '_'. The message names the rule that failed.
func ValidateServiceAccountName(name string) error {
	if name == "" {
		return Invalidf("name", "name is required")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return Invalidf("name", "name may contain only letters, digits, '-' and '_': no spaces or other special characters (found %q)", c)
		}
	}
	if len(name) > MaxServiceAccountNameLength {
		return Invalidf("name", "name must be at most %d characters (it has %d)", MaxServiceAccountNameLength, len(name))
	}
	return nil
}

// ValidateDescription checks S4: at most 140 characters (not bytes).
func ValidateDescription(d string) error {
	if !PlainText(d) {
		return Invalidf("description", "description must be valid UTF-8 without NUL characters")
	}
	if n := utf8.RuneCountInString(d); n > MaxDescriptionLength {
		return Invalidf("description", "description must be at most %d characters (it has %d)", MaxDescriptionLength, n)
	}
	return nil
}

// ValidateServiceAccountRole checks S5: admin, member or viewer.
func ValidateServiceAccountRole(r Role) error {
	if r == RoleSuperAdmin {
		return Invalidf("role", "a service account cannot be super_admin: choose admin, member or viewer")
	}
	if !r.Valid() {
		return Invalidf("role", "role must be one of admin, member, viewer")
	}
	return nil
}

// ValidateTokenTTL checks S6: 300 (5 minutes) to 2,592,000 (30 days)
// seconds inclusive.
func ValidateTokenTTL(seconds int) error {
	if seconds < MinTokenTTLSeconds || seconds > MaxTokenTTLSeconds {
		return Invalidf("token_ttl_seconds", "token_ttl_seconds must be between %d (5 minutes) and %d (30 days)", MinTokenTTLSeconds, MaxTokenTTLSeconds)
	}
	return nil
}

// ServiceAccountEmail returns S3's address: <lowercased name>@<org slug>.<domain>.
func ServiceAccountEmail(name, orgSlug, domain string) string {
	return strings.ToLower(name) + "@" + orgSlug + "." + domain
}

// ServiceAccountKey is the sort key of service account lists.
func ServiceAccountKey(sa *ServiceAccount) (time.Time, string) { return sa.CreatedAt, sa.ID }

// ServiceAccountFilter narrows a service account list; zero fields match
// everything.
type ServiceAccountFilter struct {
	// Query, when set, keeps the accounts whose name starts with it,
	// ignoring ASCII case (NameRange), or, when it holds an '@', whose
	// email starts with it (S3: the email is the lowercased name, '@', the
	// org's domain); the list is then in name order (ServiceAccountSearchKey)
	// instead of creation order.
	Query string
}

// Ranges returns the index ranges a search by f.Query reads: the folded
// names a match may have and, when the query holds an '@' (byEmail), the
// emails every match must also have. An email query's name range is that
// of the part before the '@', a superset the email range then narrows.
func (f ServiceAccountFilter) Ranges() (name, email Range, byEmail bool) {
	if i := strings.IndexByte(f.Query, '@'); i >= 0 {
		return NameRange(f.Query[:i]), EmailRange(f.Query), true
	}
	return NameRange(f.Query), Range{}, false
}

// ServiceAccountSearchKey is the sort key of service account searches: the
// folded name (unique in the org, S2), then ID.
func ServiceAccountSearchKey(sa *ServiceAccount) (string, string) { return FoldCase(sa.Name), sa.ID }

// ClientSecret is one secret of a service account. Only its keyed hash is
// stored (C1, C2). A rotated-out secret keeps working until ExpiresAt.
type ClientSecret struct {
	ID               string
	ServiceAccountID string
	Hash             []byte
	CreatedAt        time.Time
	ExpiresAt        *time.Time
}

// LiveAt reports whether the secret is accepted at t.
func (s *ClientSecret) LiveAt(t time.Time) bool { return s.ExpiresAt == nil || t.Before(*s.ExpiresAt) }

// MaxSecretGracePeriod bounds how long a rotated-out secret keeps working (C3).
const MaxSecretGracePeriod = 7 * 24 * time.Hour

// AccessToken is the record of a JWT issued by the token endpoint. The token
// string itself is kept only sealed (encrypted with a server key, T3), so
// that any replica can hand the same string out again.
type AccessToken struct {
	ID               string // the JWT's jti
	OrgID            string
	ServiceAccountID string
	SecretID         string
	KeyID            string
	IssuedAt         time.Time
	ExpiresAt        time.Time
	RevokedAt        *time.Time
	Sealed           []byte
	// JKT is the thumbprint of the DPoP key the token is bound to ("" for
	// none, K3).
	JKT string
}

// SigningKey is a key that signs access tokens. The private key is stored
// sealed with the server key; the public key is published in the JWKS until
// the last token it signed has expired.
type SigningKey struct {
	ID            string // the JWT kid
	Algorithm     string // "EdDSA"
	PublicKey     []byte
	PrivateSealed []byte
	CreatedAt     time.Time
	RetiredAt     *time.Time // stopped signing
}

// Audit actions of service accounts and access tokens.
const (
	ActionServiceAccountCreated       = "service_account.created"
	ActionServiceAccountUpdated       = "service_account.updated"
	ActionServiceAccountDisabled      = "service_account.disabled"
	ActionServiceAccountEnabled       = "service_account.enabled"
	ActionServiceAccountDeleted       = "service_account.deleted"
	ActionServiceAccountSecretRotated = "service_account.secret_rotated"
	ActionAccessTokenIssued           = "access_token.issued"
	ActionAccessTokenRevoked          = "access_token.revoked"
)
