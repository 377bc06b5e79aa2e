package postgres

import (
	"context"
	"regexp"
	"strings"
)

// Observe has fn told of every statement the store runs from now on, with
// its arguments, so that a query-plan check can Explain each. Call it
// before the store is used, never while queries run.
func (s *Store) Observe(fn func(query string, args []any)) {
	s.seen = fn
	s.queries.q = s.observed(s.pool)
}

// Explain returns how PostgreSQL would run query with args: the lines of
// EXPLAIN, trimmed.
func (s *Store) Explain(ctx context.Context, query string, args []any) ([]string, error) {
	rows, err := s.pool.Query(ctx, "EXPLAIN "+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		plan = append(plan, strings.TrimSpace(line))
	}
	return plan, rows.Err()
}

// ScannedTables returns the tables a plan from Explain reads whole (a
// sequential scan).
func ScannedTables(plan []string) []string {
	var tables []string
	for _, step := range plan {
		if m := seqScan.FindStringSubmatch(step); m != nil {
			tables = append(tables, m[1])
		}
	}
	return tables
}

var seqScan = regexp.MustCompile(`(?:->\s*)?(?:Parallel )?Seq Scan on (\w+)`)

// Analyze updates the planner's statistics of the tables LoadBulk fills,
// in the store's schema: after a bulk load, before autovacuum comes to
// them, plans would be made blind.
func (s *Store) Analyze(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, "ANALYZE orgs, service_accounts, api_tokens, audit_events")
	return err
}
