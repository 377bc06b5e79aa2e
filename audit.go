package tollgate

import (
	"strings"
	"time"
	"unicode/utf8"
)

// PrincipalType says what a principal is: who acted, what was acted on, or
// who owns an API token.
type PrincipalType string

// The principal types.
const (
	PrincipalUser           PrincipalType = "user"
	PrincipalServiceAccount PrincipalType = "service_account"
	PrincipalAnonymous      PrincipalType = "anonymous"
	PrincipalOrg            PrincipalType = "org"
	PrincipalInvitation     PrincipalType = "invitation"
	PrincipalSession        PrincipalType = "session"
	PrincipalAPIToken       PrincipalType = "api_token"
	PrincipalAccessToken    PrincipalType = "access_token"
)

// CredentialKind says what kind of credential a machine presented.
type CredentialKind string

// The kinds of credential. The first two are also the values of /check's
// X-Tollgate-Credential-Kind header.
const (
	CredentialAPIToken     CredentialKind = "api_token"
	CredentialAccessToken  CredentialKind = "access_token"
	CredentialClientSecret CredentialKind = "client_secret"
	CredentialClientKey    CredentialKind = "client_key"
	CredentialFederated    CredentialKind = "federated_credential"
)

// Principal names who did something or what it was done to.
type Principal struct {
	Type PrincipalType
	ID   string
	Name string
}

// Audit actions written by the foundation. Actions are dotted: noun.verb.
const (
	ActionOrgCreated        = "org.created"
	ActionOrgUpdated        = "org.updated"
	ActionMemberInvited     = "member.invited"
	ActionMemberJoined      = "member.joined"
	ActionMemberRoleChanged = "member.role_changed"
	ActionMemberRemoved     = "member.removed"
	ActionSessionCreated    = "session.created"
	ActionSessionFailed     = "session.failed"
	ActionSessionRevoked    = "session.revoked"
	// ActionDeviceApproved and ActionDeviceDenied: a person answered a
	// `tollgate login` on the console's /device page.
	ActionDeviceApproved = "device.approved"
	ActionDeviceDenied   = "device.denied"
	// ActionAuthRateLimited: a failure limit refused a caller (sampled).
	ActionAuthRateLimited = "auth.rate_limited"
)

// AuditEvent is an append-only record of a change. OrgID is empty for events
// that belong to no organization (a failed sign-in for an unknown email).
// Details never hold a secret, token or password (rule C4).
type AuditEvent struct {
	ID        string
	Time      time.Time
	OrgID     string
	Actor     Principal
	Action    string
	Target    Principal
	IP        string
	UserAgent string
	Details   map[string]any
}

// AuditFilter narrows a list of audit events; zero fields match everything.
// Since is inclusive, Until exclusive.
type AuditFilter struct {
	ActorID  string
	Action   string
	TargetID string
	Since    time.Time
	Until    time.Time
}

// MaxUserAgentLength bounds the user agent an audit event keeps, in bytes.
const MaxUserAgentLength = 512

// NewAuditEvent builds an event at now (store precision), with a fresh ID
// and the user agent made plain (PlainUserAgent).
func NewAuditEvent(now time.Time, orgID string, actor Principal, action string, target Principal, ip, userAgent string, details map[string]any) *AuditEvent {
	now = Timestamp(now)
	return &AuditEvent{ID: NewID(PrefixAuditEvent, now), Time: now, OrgID: orgID, Actor: actor, Action: action,
		Target: target, IP: ip, UserAgent: PlainUserAgent(userAgent), Details: details}
}

// PlainUserAgent makes a user agent, which the client chose, plain text
// (invalid UTF-8 and NULs replaced) and cuts it to MaxUserAgentLength
// bytes on a character boundary, so that every store keeps it alike.
func PlainUserAgent(userAgent string) string { return PlainCut(userAgent, MaxUserAgentLength) }

// PlainCut makes text a client chose plain (invalid UTF-8 and NULs
// replaced) and cuts it to at most max bytes on a character boundary.
func PlainCut(s string, max int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	for len(s) > max {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
