package app

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
)

// ListMembers returns a page of an organization's members matching f;
// admin or higher. A malformed page or search is EInvalid.
func (a *App) ListMembers(ctx context.Context, ac Actor, slug string, f tollgate.MemberFilter, p tollgate.Page) ([]tollgate.MemberView, string, error) {
	ctx, span := tracer.Start(ctx, "app.ListMembers")
	defer span.End()
	if err := validateList(f.Query, p); err != nil {
		return nil, "", err
	}
	org, _, err := a.authorize(ctx, a.store, ac, slug, tollgate.RoleAdmin)
	if err != nil {
		return nil, "", err
	}
	return a.store.ListMembers(ctx, org.ID, f, p)
}

// validateList checks what every list takes: the page and the search.
func validateList(query string, p tollgate.Page) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return tollgate.ValidateSearch(query)
}

// InvitationResult is a new invitation with its token, shown once, and the
// console link that accepts it.
type InvitationResult struct {
	Invitation *tollgate.Invitation
	Token      string
	AcceptURL  string
}

// Invite offers email a role in the org. A super_admin may invite any role;
// an admin only member or viewer (EForbidden otherwise). EConflict if the
// email already belongs to a member. A new invitation replaces a pending one
// for the same email.
func (a *App) Invite(ctx context.Context, ac Actor, slug, email string, role tollgate.Role) (*InvitationResult, error) {
	ctx, span := tracer.Start(ctx, "app.Invite")
	defer span.End()
	email, err := tollgate.NormalizeEmail("email", email)
	if err != nil {
		return nil, err
	}
	if err := tollgate.ValidateRole("role", role); err != nil {
		return nil, err
	}
	now := a.now()
	token, hash := credential.NewToken()
	inv := &tollgate.Invitation{ID: tollgate.NewID(tollgate.PrefixInvitation, now), Email: email, Role: role,
		TokenHash: hash, CreatedBy: ac.ID, CreatedAt: now, ExpiresAt: now.Add(tollgate.InvitationTTL)}
	err = a.store.InTx(ctx, func(q tollgate.Queries) error {
		org, callerRole, err := a.authorize(ctx, q, ac, slug, tollgate.RoleAdmin)
		if err != nil {
			return err
		}
		if role.AtLeast(tollgate.RoleAdmin) && callerRole != tollgate.RoleSuperAdmin {
			return tollgate.Errorf(tollgate.EForbidden, "only a super_admin can invite the %s role; admins invite members and viewers", role)
		}
		if u, err := q.GetUserByEmail(ctx, email); err == nil {
			if _, err := q.GetMember(ctx, org.ID, u.ID); err == nil {
				return &tollgate.Error{Code: tollgate.EConflict, Field: "email", Message: email + " is already a member of " + slug}
			} else if tollgate.ErrorCode(err) != tollgate.ENotFound {
				return err
			}
		} else if tollgate.ErrorCode(err) != tollgate.ENotFound {
			return err
		}
		inv.OrgID = org.ID
		if err := q.CreateInvitation(ctx, inv); err != nil {
			return err
		}
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionMemberInvited,
			tollgate.Principal{Type: tollgate.PrincipalInvitation, ID: inv.ID, Name: email},
			map[string]any{"email": email, "role": string(role), "expires_at": inv.ExpiresAt})
	})
	if err != nil {
		return nil, err
	}
	return &InvitationResult{Invitation: inv, Token: token,
		AcceptURL: strings.TrimRight(a.cfg.Issuer, "/") + "/invitations/accept?token=" + url.QueryEscape(token)}, nil
}

// PendingInvitation returns the invitation of token, while it can still be
// accepted, and the user who already has its email (nil for none). An
// unknown token is ENotFound, an accepted one EConflict, an expired one
// EInvalid naming "token".
func (a *App) PendingInvitation(ctx context.Context, token string) (*tollgate.Invitation, *tollgate.User, error) {
	ctx, span := tracer.Start(ctx, "app.PendingInvitation")
	defer span.End()
	if token == "" {
		return nil, nil, tollgate.Invalidf("token", "token is required")
	}
	inv, err := a.store.GetInvitationByTokenHash(ctx, credential.Hash(token))
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, nil, tollgate.Errorf(tollgate.ENotFound, "invitation not found: the link is wrong or was replaced by a newer invitation")
	} else if err != nil {
		return nil, nil, err
	}
	if inv.AcceptedAt != nil {
		return nil, nil, tollgate.Errorf(tollgate.EConflict, "this invitation was already accepted")
	}
	if !a.now().Before(inv.ExpiresAt) {
		return nil, nil, tollgate.Invalidf("token", "this invitation expired on %s; ask for a new one", inv.ExpiresAt.Format("2006-01-02 15:04 MST"))
	}
	existing, err := a.store.GetUserByEmail(ctx, inv.Email)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return inv, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	return inv, existing, nil
}

// AcceptInvitation makes the invitation's email a member with its role and
// signs them in. A new user sets name and password. An existing user (a
// member of another org) must be ac, which the authn package resolves by
// checking their password; they keep their name. The token works once
// (EConflict after) and until it expires (EInvalid); an unknown token is
// ENotFound.
func (a *App) AcceptInvitation(ctx context.Context, ac Actor, token, name, password string) (string, *SessionInfo, error) {
	ctx, span := tracer.Start(ctx, "app.AcceptInvitation")
	defer span.End()
	inv, existing, err := a.PendingInvitation(ctx, token)
	if err != nil {
		return "", nil, err
	}
	now := a.now()
	var newUser *tollgate.User
	if existing != nil {
		// Accepting must not let the link's holder take over an account.
		if ac.Type != tollgate.PrincipalUser || ac.ID != existing.ID || ac.Credential != nil {
			return "", nil, tollgate.Errorf(tollgate.EUnauthenticated, "%s already has an account: enter its password to join", inv.Email)
		}
	} else {
		name = strings.TrimSpace(name)
		if err := tollgate.ValidateUserName(name); err != nil {
			return "", nil, err
		}
		if err := tollgate.ValidatePassword(password); err != nil {
			return "", nil, err
		}
		newUser = &tollgate.User{ID: tollgate.NewID(tollgate.PrefixUser, now), Email: inv.Email, Name: name,
			PasswordHash: credential.HashPassword(password, a.cfg.Argon2), CreatedAt: now}
	}

	var session string
	var info *SessionInfo
	err = a.store.InTx(ctx, func(q tollgate.Queries) error {
		user := existing
		if newUser != nil {
			user = newUser
			if err := q.CreateUser(ctx, user); err != nil {
				return err
			}
		}
		if err := q.AcceptInvitation(ctx, inv.ID, now); err != nil {
			return err
		}
		if err := q.CreateMember(ctx, &tollgate.Member{OrgID: inv.OrgID, UserID: user.ID, Role: inv.Role, JoinedAt: now}); err != nil {
			if tollgate.ErrorCode(err) == tollgate.EConflict {
				return tollgate.Errorf(tollgate.EConflict, "%s is already a member of this organization", inv.Email)
			}
			return err
		}
		actor := Actor{Type: tollgate.PrincipalUser, ID: user.ID, Name: user.Email, IP: ac.IP, UserAgent: ac.UserAgent}
		if err := a.audit(ctx, q, actor, inv.OrgID, tollgate.ActionMemberJoined, userPrincipal(user),
			map[string]any{"role": string(inv.Role), "invitation_id": inv.ID, "new_user": newUser != nil}); err != nil {
			return err
		}
		var err error
		session, info, err = a.startSession(ctx, q, ac, user)
		return err
	})
	return session, info, err
}

func userPrincipal(u *tollgate.User) tollgate.Principal {
	return tollgate.Principal{Type: tollgate.PrincipalUser, ID: u.ID, Name: u.Email}
}

// errLastSuperAdmin guards the rule that an organization always keeps a
// super admin.
func errLastSuperAdmin(verb string) error {
	return tollgate.Errorf(tollgate.EConflict, "the last super_admin of an organization cannot be %s: make another member super_admin first", verb)
}

// ChangeRole sets a member's role; super_admin only. The last super_admin
// cannot be demoted (EConflict).
func (a *App) ChangeRole(ctx context.Context, ac Actor, slug, userID string, role tollgate.Role) (*tollgate.MemberView, error) {
	ctx, span := tracer.Start(ctx, "app.ChangeRole")
	defer span.End()
	if err := tollgate.ValidateRole("role", role); err != nil {
		return nil, err
	}
	var view *tollgate.MemberView
	var changed *tollgate.Change
	err := a.store.InTx(ctx, func(q tollgate.Queries) error {
		changed = nil
		org, _, err := a.authorize(ctx, q, ac, slug, tollgate.RoleSuperAdmin)
		if err != nil {
			return err
		}
		m, err := a.member(ctx, q, org, userID)
		if err != nil {
			return err
		}
		if m.Role != role {
			if m.Role == tollgate.RoleSuperAdmin {
				if err := a.requireAnotherSuperAdmin(ctx, q, org, "demoted"); err != nil {
					return err
				}
			}
			if err := q.UpdateMemberRole(ctx, org.ID, userID, role); err != nil {
				return err
			}
		}
		view, err = q.GetMemberView(ctx, org.ID, userID)
		if err != nil || m.Role == role {
			return err
		}
		c := tollgate.MemberChanged(org.ID, userID)
		changed = &c
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionMemberRoleChanged,
			tollgate.Principal{Type: tollgate.PrincipalUser, ID: view.UserID, Name: view.Email},
			map[string]any{"from": string(m.Role), "to": string(role)})
	})
	if err == nil && changed != nil {
		// Tokens the member owns act with at most the new role.
		a.changed(ctx, *changed)
	}
	return view, err
}

// RemoveMember takes a member out of the org; super_admin only. The last
// super_admin cannot be removed, nor a member who still owns API tokens:
// that is EConflict saying how many, pointing to reassignment (A7), and is
// audited as member.removal_blocked.
func (a *App) RemoveMember(ctx context.Context, ac Actor, slug, userID string) error {
	ctx, span := tracer.Start(ctx, "app.RemoveMember")
	defer span.End()
	var blocked error
	var removed tollgate.Change
	err := a.store.InTx(ctx, func(q tollgate.Queries) error {
		blocked = nil
		org, _, err := a.authorize(ctx, q, ac, slug, tollgate.RoleSuperAdmin)
		if err != nil {
			return err
		}
		m, err := a.member(ctx, q, org, userID)
		if err != nil {
			return err
		}
		if m.Role == tollgate.RoleSuperAdmin {
			if err := a.requireAnotherSuperAdmin(ctx, q, org, "removed"); err != nil {
				return err
			}
		}
		view, err := q.GetMemberView(ctx, org.ID, userID)
		if err != nil {
			return err
		}
		target := tollgate.Principal{Type: tollgate.PrincipalUser, ID: view.UserID, Name: view.Email}
		if view.OwnedTokenCount > 0 {
			blocked = &tollgate.Error{Code: tollgate.EConflict, Message: fmt.Sprintf(
				"%s still owns %d API token(s): reassign them to a service account (POST /api/v1/orgs/%s/tokens/{id}/reassign), then remove the member",
				view.Email, view.OwnedTokenCount, org.Slug)}
			// The refusal is recorded: this transaction commits the event.
			return a.audit(ctx, q, ac, org.ID, tollgate.ActionMemberRemovalBlocked, target, map[string]any{"owned_token_count": view.OwnedTokenCount})
		}
		if err := q.DeleteMember(ctx, org.ID, userID); err != nil {
			return err
		}
		removed = tollgate.MemberChanged(org.ID, userID)
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionMemberRemoved, target, map[string]any{"role": string(m.Role)})
	})
	if err != nil {
		return err
	}
	if blocked == nil {
		a.changed(ctx, removed)
	}
	return blocked
}

func (a *App) member(ctx context.Context, q tollgate.Queries, org *tollgate.Org, userID string) (*tollgate.Member, error) {
	m, err := q.GetMember(ctx, org.ID, userID)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, tollgate.Errorf(tollgate.ENotFound, "member %q not found in %s", userID, org.Slug)
	}
	return m, err
}

func (a *App) requireAnotherSuperAdmin(ctx context.Context, q tollgate.Queries, org *tollgate.Org, verb string) error {
	n, err := q.CountMembersWithRole(ctx, org.ID, tollgate.RoleSuperAdmin)
	if err != nil {
		return err
	}
	if n <= 1 {
		return errLastSuperAdmin(verb)
	}
	return nil
}

// CreatorName names whoever made something in the org, for people to
// read: a person's email for a user ID, any other ID as it is (a service
// account's, say). Admin or higher, as the pages that show it are.
func (a *App) CreatorName(ctx context.Context, ac Actor, slug, id string) (string, error) {
	if !tollgate.HasPrefix(id, tollgate.PrefixUser) {
		return id, nil
	}
	if _, _, err := a.authorize(ctx, a.store, ac, slug, tollgate.RoleAdmin); err != nil {
		return "", err
	}
	u, err := a.store.GetUser(ctx, id)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return id, nil
	} else if err != nil {
		return "", err
	}
	return u.Email, nil
}
