package app

import (
	"context"
	"strings"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
)

// BootstrapResult is what Bootstrap made. Password is the administrator's
// password in plain text, to be shown once.
type BootstrapResult struct {
	Org      *tollgate.Org
	User     *tollgate.User
	Password string
}

// Bootstrap creates the first organization and its super admin, who is also
// the platform admin (the one user who may create organizations). An empty
// password generates one. It refuses with EConflict when the database
// already has users.
func (a *App) Bootstrap(ctx context.Context, slug, email, password string) (*BootstrapResult, error) {
	ctx, span := tracer.Start(ctx, "app.Bootstrap")
	defer span.End()
	if err := tollgate.ValidateSlug(slug); err != nil {
		return nil, err
	}
	email, err := tollgate.NormalizeEmail("email", email)
	if err != nil {
		return nil, err
	}
	if password == "" {
		password = credential.NewPassword()
	} else if err := tollgate.ValidatePassword(password); err != nil {
		return nil, err
	}
	now := a.now()
	org := &tollgate.Org{ID: tollgate.NewID(tollgate.PrefixOrg, now), Slug: slug, Name: slug, CreatedAt: now}
	user := &tollgate.User{ID: tollgate.NewID(tollgate.PrefixUser, now), Email: email, Name: "Administrator",
		PasswordHash: credential.HashPassword(password, a.cfg.Argon2), PlatformAdmin: true, CreatedAt: now}
	err = a.store.InTx(ctx, func(q tollgate.Queries) error {
		exists, err := q.HasUsers(ctx)
		if err != nil {
			return err
		}
		if exists {
			return tollgate.Errorf(tollgate.EConflict, "the database already has users: bootstrap only sets up an empty database")
		}
		if err := q.CreateUser(ctx, user); err != nil {
			return err
		}
		actor := Actor{Type: tollgate.PrincipalUser, ID: user.ID, Name: user.Email, UserAgent: "tollgate bootstrap"}
		return a.createOrg(ctx, q, actor, org)
	})
	if err != nil {
		return nil, err
	}
	return &BootstrapResult{Org: org, User: user, Password: password}, nil
}

// createOrg inserts org with the actor as its super admin and audits it.
func (a *App) createOrg(ctx context.Context, q tollgate.Queries, ac Actor, org *tollgate.Org) error {
	if err := q.CreateOrg(ctx, org); err != nil {
		if tollgate.ErrorCode(err) == tollgate.EConflict {
			return &tollgate.Error{Code: tollgate.EConflict, Field: "slug", Message: "an organization with slug " + org.Slug + " already exists"}
		}
		return err
	}
	if err := q.CreateMember(ctx, &tollgate.Member{OrgID: org.ID, UserID: ac.ID, Role: tollgate.RoleSuperAdmin, JoinedAt: org.CreatedAt}); err != nil {
		return err
	}
	return a.audit(ctx, q, ac, org.ID, tollgate.ActionOrgCreated, orgPrincipal(org), map[string]any{"slug": org.Slug, "name": org.Name})
}

func orgPrincipal(o *tollgate.Org) tollgate.Principal {
	return tollgate.Principal{Type: tollgate.PrincipalOrg, ID: o.ID, Name: o.Slug}
}

// CreateOrg creates an organization whose super admin is the caller. Only
// the platform admin may (EForbidden otherwise). EConflict if the slug is
// taken.
func (a *App) CreateOrg(ctx context.Context, ac Actor, slug, name string) (*tollgate.Org, error) {
	ctx, span := tracer.Start(ctx, "app.CreateOrg")
	defer span.End()
	if ac.Type == tollgate.PrincipalAnonymous {
		return nil, errUnauthenticated
	}
	if !ac.Session() || !ac.PlatformAdmin {
		return nil, tollgate.Errorf(tollgate.EForbidden, "only the platform administrator can create organizations")
	}
	now := a.now()
	org := &tollgate.Org{ID: tollgate.NewID(tollgate.PrefixOrg, now), Slug: slug, Name: strings.TrimSpace(name), CreatedAt: now}
	if err := org.Validate(); err != nil {
		return nil, err
	}
	if err := a.store.InTx(ctx, func(q tollgate.Queries) error { return a.createOrg(ctx, q, ac, org) }); err != nil {
		return nil, err
	}
	return org, nil
}

// GetOrg returns an organization to any of its members.
func (a *App) GetOrg(ctx context.Context, ac Actor, slug string) (*tollgate.Org, error) {
	ctx, span := tracer.Start(ctx, "app.GetOrg")
	defer span.End()
	org, _, err := a.authorize(ctx, a.store, ac, slug, tollgate.RoleViewer)
	return org, err
}

// UpdateOrg changes an organization's name or settings, its policy
// included; super_admin only. Credentials that break a policy set now are
// not revoked: PolicyViolations lists them.
func (a *App) UpdateOrg(ctx context.Context, ac Actor, slug string, upd tollgate.OrgUpdate) (*tollgate.Org, error) {
	ctx, span := tracer.Start(ctx, "app.UpdateOrg")
	defer span.End()
	if upd.Name != nil {
		n := strings.TrimSpace(*upd.Name)
		if err := tollgate.ValidateOrgName(n); err != nil {
			return nil, err
		}
		upd.Name = &n
	}
	// The settings asked for are checked on their own first, so that a
	// bad value is EInvalid before anyone's role is looked at.
	var asked tollgate.OrgSettings
	upd.ApplySettings(&asked)
	if err := asked.Validate(); err != nil {
		return nil, err
	}
	var org *tollgate.Org
	updated := false
	err := a.store.InTx(ctx, func(q tollgate.Queries) error {
		var err error
		updated = false
		org, _, err = a.authorize(ctx, q, ac, slug, tollgate.RoleSuperAdmin)
		if err != nil {
			return err
		}
		changes := map[string]any{}
		if upd.Name != nil && *upd.Name != org.Name {
			changes["name"] = map[string]any{"from": org.Name, "to": *upd.Name}
			org.Name = *upd.Name
		}
		for k, v := range upd.ApplySettings(&org.Settings) {
			changes[k] = v
		}
		if len(changes) == 0 {
			return nil
		}
		if err := q.UpdateOrg(ctx, org); err != nil {
			return err
		}
		updated = true
		return a.audit(ctx, q, ac, org.ID, tollgate.ActionOrgUpdated, orgPrincipal(org), changes)
	})
	if err == nil && updated {
		a.changed(ctx, tollgate.OrgChanged(org.ID)) // the reuse floor is read from cached orgs
	}
	return org, err
}

// PolicyViolations lists the org's credentials that break its current
// policy, rule by rule, with at most MaxViolationSamples of each; rules
// nothing breaks are left out. super_admin only, as the policy is. Nothing
// is revoked: a person decides (P1).
func (a *App) PolicyViolations(ctx context.Context, ac Actor, slug string) ([]tollgate.PolicyViolation, error) {
	ctx, span := tracer.Start(ctx, "app.PolicyViolations")
	defer span.End()
	org, _, err := a.authorize(ctx, a.store, ac, slug, tollgate.RoleSuperAdmin)
	if err != nil {
		return nil, err
	}
	now := a.clock.Now()
	all, err := a.store.FindPolicyViolations(ctx, org.ID, org.Settings.ViolationQueries(now), now, tollgate.MaxViolationSamples)
	if err != nil {
		return nil, err
	}
	found := all[:0]
	for _, b := range all {
		if b.Count > 0 {
			found = append(found, b)
		}
	}
	return found, nil
}
