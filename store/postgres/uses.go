package postgres

import (
	"context"
	"time"

	"github.com/tollgate/tollgate"
)

// RecordUses writes u in one transaction of one statement per table, each
// updating every listed row at once from arrays (unnest): a flush of tens
// of thousands of uses is four round trips, not as many statements. Rows
// gone meanwhile match nothing. A join does not promise to lock rows in
// the arrays' order, so two replicas' flushes may still deadlock: InTx
// runs the loser again.
func (s *Store) RecordUses(ctx context.Context, u *tollgate.Uses) error {
	if u.Len() == 0 {
		return nil
	}
	u.Sort()
	ids, ats, origins := make([]string, len(u.Tokens)), make([]time.Time, len(u.Tokens)), make([]string, len(u.Tokens))
	for i, t := range u.Tokens {
		ids[i], ats[i], origins[i] = t.ID, t.At, t.Origin
	}
	return s.InTx(ctx, func(tq tollgate.Queries) error {
		q := tq.(*queries)
		if len(ids) > 0 {
			if _, err := q.q.Exec(ctx, `UPDATE api_tokens t SET last_used_at = u.at, last_used_origin = u.origin
				FROM unnest($1::text[], $2::timestamptz[], $3::text[]) AS u(id, at, origin)
				WHERE t.id = u.id AND (t.last_used_at IS NULL OR t.last_used_at < u.at)`, ids, ats, origins); err != nil {
				return classify(err, "API token")
			}
		}
		for _, l := range []struct {
			table string
			uses  []tollgate.Use
		}{{"service_accounts", u.Accounts}, {"client_keys", u.Keys}, {"federated_credentials", u.Federated}} {
			if len(l.uses) == 0 {
				continue
			}
			ids, ats := make([]string, len(l.uses)), make([]time.Time, len(l.uses))
			for i, use := range l.uses {
				ids[i], ats[i] = use.ID, use.At
			}
			if _, err := q.q.Exec(ctx, `UPDATE `+l.table+` r SET last_used_at = GREATEST(r.last_used_at, u.at)
				FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at) WHERE r.id = u.id`, ids, ats); err != nil {
				return classify(err, l.table)
			}
		}
		return nil
	})
}
