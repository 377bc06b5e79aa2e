package sqlite

import (
	"context"
	"time"

	"github.com/tollgate/tollgate"
)

// RecordUses writes u in one transaction, in ID order; a credential gone
// meanwhile is skipped.
func (s *Store) RecordUses(ctx context.Context, u *tollgate.Uses) error {
	if u.Len() == 0 {
		return nil
	}
	u.Sort()
	return s.InTx(ctx, func(tq tollgate.Queries) error {
		q := tq.(*queries)
		skipGone := func(err error) error {
			if tollgate.ErrorCode(err) == tollgate.ENotFound {
				return nil
			}
			return err
		}
		for _, t := range u.Tokens {
			if err := skipGone(q.TouchAPIToken(ctx, t.ID, t.At, t.Origin)); err != nil {
				return err
			}
		}
		for _, l := range []struct {
			uses  []tollgate.Use
			touch func(context.Context, string, time.Time) error
		}{{u.Accounts, q.TouchServiceAccount}, {u.Keys, q.TouchClientKey}, {u.Federated, q.TouchFederatedCredential}} {
			for _, use := range l.uses {
				if err := skipGone(l.touch(ctx, use.ID, use.At)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
