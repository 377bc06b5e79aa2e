package app

import (
	"context"
	"time"

	"github.com/tollgate/tollgate"
)

// ListAuditEvents returns a page of the org's audit events, newest first;
// admin or higher.
func (a *App) ListAuditEvents(ctx context.Context, ac Actor, slug string, f tollgate.AuditFilter, p tollgate.Page) ([]tollgate.AuditEvent, string, error) {
	ctx, span := tracer.Start(ctx, "app.ListAuditEvents")
	defer span.End()
	if err := p.Validate(); err != nil {
		return nil, "", err
	}
	org, _, err := a.authorize(ctx, a.store, ac, slug, tollgate.RoleAdmin)
	if err != nil {
		return nil, "", err
	}
	return a.store.ListAuditEvents(ctx, org.ID, f, p)
}

// ExportAuditEvents calls emit for every event of the org matching f,
// newest first; super_admin only. It stops at emit's first error.
func (a *App) ExportAuditEvents(ctx context.Context, ac Actor, slug string, f tollgate.AuditFilter, emit func(tollgate.AuditEvent) error) error {
	ctx, span := tracer.Start(ctx, "app.ExportAuditEvents")
	defer span.End()
	org, _, err := a.authorize(ctx, a.store, ac, slug, tollgate.RoleSuperAdmin)
	if err != nil {
		return err
	}
	p := tollgate.Page{Limit: tollgate.MaxPageLimit}
	for {
		evs, next, err := a.store.ListAuditEvents(ctx, org.ID, f, p)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if err := emit(e); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		p.Cursor = next
	}
}

// RateLimited is a refusal by the failure limits of the authn package, for
// the audit log.
type RateLimited struct {
	Door       string        // the endpoint: token, check, api, console…
	Credential string        // password, client or bearer
	Identifier string        // the email or client ID; "" when only the address counted
	Count      string        // which count was full: pair, address or identifier
	RetryAfter time.Duration // how long the caller must wait
	Suppressed int           // hits of this key left out of the log since its last event
}

// RecordRateLimited audits auth.rate_limited, with ac the refused caller:
// in the org of the service account a client ID names, in every org of the
// user an email names, or with no org when the identifier names nobody or
// only the address was counted. The authn package samples these events.
func (a *App) RecordRateLimited(ctx context.Context, ac Actor, rl RateLimited) error {
	ctx, span := tracer.Start(ctx, "app.RecordRateLimited")
	defer span.End()
	details := map[string]any{"door": rl.Door, "credential": rl.Credential, "count": rl.Count,
		"retry_after_seconds": int(rl.RetryAfter.Seconds()), "suppressed": rl.Suppressed}
	target := tollgate.Principal{Type: tollgate.PrincipalAnonymous, Name: ac.IP}
	org, userID := "", ""
	switch {
	case rl.Credential == "client" && tollgate.HasPrefix(rl.Identifier, tollgate.PrefixServiceAccount):
		target = tollgate.Principal{Type: tollgate.PrincipalServiceAccount, ID: rl.Identifier}
		if sa, err := a.store.GetServiceAccountByID(ctx, rl.Identifier); err == nil {
			target.Name, org = sa.Name, sa.OrgID
		} else if tollgate.ErrorCode(err) != tollgate.ENotFound {
			return err
		}
	case rl.Credential == "password" && rl.Identifier != "":
		target = tollgate.Principal{Type: tollgate.PrincipalUser, Name: rl.Identifier}
		if u, err := a.store.GetUserByEmail(ctx, rl.Identifier); err == nil {
			target.ID, userID = u.ID, u.ID
		} else if tollgate.ErrorCode(err) != tollgate.ENotFound {
			return err
		}
	}
	return a.store.InTx(ctx, func(q tollgate.Queries) error {
		if userID != "" {
			return a.auditInOrgsOf(ctx, q, userID, ac, tollgate.ActionAuthRateLimited, target, details)
		}
		return a.audit(ctx, q, ac, org, tollgate.ActionAuthRateLimited, target, details)
	})
}
