package sqlite

import (
	"context"
	"regexp"
)

// Observe has fn told of every statement the store runs from now on, with
// its arguments, so that a query-plan check can Explain each. Call it
// before the store is used, never while queries run.
func (s *Store) Observe(fn func(query string, args []any)) { s.stmts.seen = fn }

// Explain returns how SQLite would run query with args: the detail of each
// step of EXPLAIN QUERY PLAN, in order.
func (s *Store) Explain(ctx context.Context, query string, args []any) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		plan = append(plan, detail)
	}
	return plan, rows.Err()
}

// ScannedTables returns the tables a plan from Explain reads whole: a
// "SCAN t" step, or a scan of all of one of t's indexes.
func ScannedTables(plan []string) []string {
	var tables []string
	for _, step := range plan {
		if m := fullScan.FindStringSubmatch(step); m != nil {
			tables = append(tables, m[1])
		}
	}
	return tables
}

var fullScan = regexp.MustCompile(`^SCAN (\w+)(?: USING (?:COVERING )?INDEX \w+)?$`)
