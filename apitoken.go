package tollgate

import "time"

// TokenKind is an API token's kind (A2–A4).
type TokenKind string

// The kinds of API token.
const (
	KindPublic  TokenKind = "public"  // accepted only from the token's listed origins
	KindPrivate TokenKind = "private" // accepted from anywhere
)

// Valid reports whether k is public or private.
func (k TokenKind) Valid() bool { return k == KindPublic || k == KindPrivate }

// PrefixAPIToken prefixes API token IDs (not the tokens themselves).
const PrefixAPIToken = "tok"

// Limits of API token fields.
const (
	MaxAPITokenNameLength = 100
	MaxAPITokenDomains    = 100
	MinLegacyTokenLength  = 16
	MaxLegacyTokenLength  = 512
)

// APIToken is a long-lived bearer token. Its owner is a service account
// (every new token, A1) or, for tokens imported from an older system, a
// user (A6). Only its keyed hash is stored (A8).
type APIToken struct {
	ID          string
	OrgID       string
	Name        string
	Description string
	Kind        TokenKind
	Domains     []string // canonical origins; public tokens only
	Role        Role
	OwnerType   PrincipalType // PrincipalServiceAccount or PrincipalUser
	OwnerID     string
	Hash        []byte
	ExpiresAt   *time.Time
	CreatedAt   time.Time
	CreatedBy   string
	// LastUsedAt and LastUsedOrigin are written in batches (A8).
	LastUsedAt     *time.Time
	LastUsedOrigin string
}

// APITokenView is a token as listed, with its owner's display name (the
// service account's name or the user's email).
type APITokenView struct {
	APIToken
	OwnerName string
}

// AccountToken is an API token owned by a service account, with the
// account and its organization as one read found them
// (Store.GetAccountTokenByHash).
type AccountToken struct {
	Token   APITokenView
	Account ServiceAccount
	Org     Org
}

// APITokenFilter narrows a token list; zero fields match everything.
type APITokenFilter struct {
	OwnerID string
	Kind    TokenKind
	// Query, when set, keeps the tokens whose name starts with it,
	// ignoring ASCII case (NameRange); the list is then in name order
	// (APITokenSearchKey) instead of creation order.
	Query string
}

// APITokenKey is the sort key of token lists.
func APITokenKey(t *APITokenView) (time.Time, string) { return t.CreatedAt, t.ID }

// APITokenSearchKey is the sort key of token searches: the folded name,
// then ID.
func APITokenSearchKey(t *APITokenView) (string, string) { return FoldCase(t.Name), t.ID }

// ValidateAPITokenName checks that a name is 1–100 characters.
func ValidateAPITokenName(name string) error {
	return validateText("name", name, 1, MaxAPITokenNameLength)
}

// Audit actions of API tokens.
const (
	ActionTokenCreated         = "token.created"
	ActionTokenUpdated         = "token.updated"
	ActionTokenRevoked         = "token.revoked"
	ActionTokenImported        = "token.imported"
	ActionTokenReassigned      = "token.reassigned"
	ActionMemberRemovalBlocked = "member.removal_blocked"
)
