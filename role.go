package tollgate

// Role is a member's or service account's power in an organization.
type Role string

// The roles, from most to least powerful.
const (
	RoleSuperAdmin Role = "super_admin"
	RoleAdmin      Role = "admin"
	RoleMember     Role = "member"
	RoleViewer     Role = "viewer"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleSuperAdmin, RoleAdmin, RoleMember, RoleViewer}

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r is as powerful as min or more. An invalid role is
// never at least anything.
func (r Role) AtLeast(min Role) bool { return r.rank() > 0 && r.rank() >= min.rank() }

// Min returns the less powerful of r and o.
func (r Role) Min(o Role) Role {
	if r.AtLeast(o) {
		return o
	}
	return r
}

func (r Role) rank() int {
	switch r {
	case RoleSuperAdmin:
		return 4
	case RoleAdmin:
		return 3
	case RoleMember:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// ValidateRole returns an EInvalid error naming field unless r is a role.
func ValidateRole(field string, r Role) error {
	if !r.Valid() {
		return Invalidf(field, "role must be one of super_admin, admin, member, viewer")
	}
	return nil
}
