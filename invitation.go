package tollgate

import "time"

// InvitationTTL is how long an invitation can be accepted.
const InvitationTTL = 7 * 24 * time.Hour

// Invitation offers an email address a role in an organization. Only the
// SHA-256 hash of its token is stored; the token itself is shown once.
type Invitation struct {
	ID         string
	OrgID      string
	Email      string
	Role       Role
	TokenHash  []byte
	CreatedBy  string // user ID
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt *time.Time
}
