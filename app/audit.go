package app

import (
	"context"

	"github.com/tollgate/tollgate"
)

// ListAuditEvents returns a page of the org's audit events, newest first;
// admin or higher.
func (a *App) ListAuditEvents(ctx context.Context, ac Actor, slug string, f tollgate.AuditFilter, p tollgate.Page) ([]tollgate.AuditEvent, string, error) {
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
