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

// MemberFilter narrows a member list; zero fields match everything.
type MemberFilter struct {
	// Query, when set, keeps the members whose email or name starts with
	// it, ignoring ASCII case (EmailRange, NameRange), and orders the list
	// by email (MemberSearchKey) instead of join time.
	Query string
}

// Membership is one org a user belongs to, as the session response shows it.
type Membership struct {
	OrgID   string
	OrgSlug string
	Role    Role
}
