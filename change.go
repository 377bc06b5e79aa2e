package tollgate

import (
	"encoding/hex"
	"strings"
)

// ChangeKind says what a Change is about.
type ChangeKind string

// The kinds of change that caches care about.
const (
	// ChangeEverything: anything may have changed (a lost link).
	ChangeEverything ChangeKind = "*"
	// ChangeServiceAccount: an account, its secrets or its tokens' reuse.
	ChangeServiceAccount ChangeKind = "sa"
	// ChangeCredential: an API token or access token, by keyed hash.
	ChangeCredential ChangeKind = "cred"
	// ChangeMember: a member's role or membership in an org.
	ChangeMember ChangeKind = "member"
	// ChangeOrg: an organization's settings.
	ChangeOrg ChangeKind = "org"
)

// Change names something that changed, so that every process drops what it
// cached of it. It travels as a Broadcaster key (Key, ParseChange).
type Change struct {
	Kind ChangeKind
	// ID is the service account's, org's or user's ID, or the
	// credential's keyed hash.
	ID string
	// OrgID is the org of a member change.
	OrgID string
}

// ServiceAccountChanged is the change of an account.
func ServiceAccountChanged(id string) Change { return Change{Kind: ChangeServiceAccount, ID: id} }

// CredentialChanged is the change of a credential with that keyed hash.
func CredentialChanged(hash []byte) Change {
	return Change{Kind: ChangeCredential, ID: hex.EncodeToString(hash)}
}

// MemberChanged is the change of a user's membership in an org.
func MemberChanged(orgID, userID string) Change {
	return Change{Kind: ChangeMember, ID: userID, OrgID: orgID}
}

// OrgChanged is the change of an organization.
func OrgChanged(id string) Change { return Change{Kind: ChangeOrg, ID: id} }

// Key is the change as a Broadcaster key: "kind:id" or "member:org/user".
func (c Change) Key() string {
	switch c.Kind {
	case ChangeEverything:
		return ChangedEverything
	case ChangeMember:
		return string(c.Kind) + ":" + c.OrgID + "/" + c.ID
	}
	return string(c.Kind) + ":" + c.ID
}

// Hash returns the keyed hash of a credential change.
func (c Change) Hash() ([]byte, bool) {
	h, err := hex.DecodeString(c.ID)
	return h, err == nil && c.Kind == ChangeCredential
}

// ParseChange reads a key made by Key. A key it does not know is
// ChangeEverything, so that a newer process's keys still invalidate.
func ParseChange(key string) Change {
	kind, rest, _ := strings.Cut(key, ":")
	switch c := (Change{Kind: ChangeKind(kind), ID: rest}); c.Kind {
	case ChangeServiceAccount, ChangeOrg:
		return c
	case ChangeCredential:
		if _, ok := c.Hash(); ok {
			return c
		}
	case ChangeMember:
		if org, user, ok := strings.Cut(rest, "/"); ok {
			return Change{Kind: ChangeMember, ID: user, OrgID: org}
		}
	}
	return Change{Kind: ChangeEverything}
}
