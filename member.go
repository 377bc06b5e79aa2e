package tollgate

import "time"

// Member is a user's membership in an organization.
type Member struct {
	OrgID    string
	UserID   string
	Role     Role
	JoinedAt time.Time
}

// MemberView is a member as listed: the membership with the user's email and
// name and the number of API tokens the user still owns in the org.
type MemberView struct {
	Member
	Email           string
	Name            string
	OwnedTokenCount int
}

// Membership is one org a user belongs to, as the session response shows it.
type Membership struct {
	OrgID   string
	OrgSlug string
	Role    Role
}
