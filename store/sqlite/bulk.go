package sqlite

import (
	"context"

	"github.com/tollgate/tollgate"
)

// LoadBulk inserts b in one transaction through the store's own inserts,
// each a cached prepared statement after the first batch: SQLite has no
// faster path than prepared inserts in one transaction.
func (s *Store) LoadBulk(ctx context.Context, b *tollgate.Bulk) error {
	return s.InTx(ctx, func(q tollgate.Queries) error {
		for i := range b.Orgs {
			if err := q.CreateOrg(ctx, &b.Orgs[i]); err != nil {
				return err
			}
		}
		for i := range b.ServiceAccounts {
			if err := q.CreateServiceAccount(ctx, &b.ServiceAccounts[i]); err != nil {
				return err
			}
		}
		for i := range b.APITokens {
			if err := q.CreateAPIToken(ctx, &b.APITokens[i]); err != nil {
				return err
			}
		}
		for i := range b.AuditEvents {
			if err := q.AppendAuditEvent(ctx, &b.AuditEvents[i]); err != nil {
				return err
			}
		}
		return nil
	})
}
