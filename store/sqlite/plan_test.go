package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/storetest"
)

// TestQueriesUseIndexes runs the conformance suite, records every
// statement the store runs, and asks SQLite how it would run each read,
// update and delete (EXPLAIN QUERY PLAN, with the statement's own
// arguments): none may scan a whole table, so that every look-up and list
// stays fast at a million rows. The planner chooses by the schema's
// indexes alone here (there are no statistics), which is what a fresh
// database at scale also does.
func TestQueriesUseIndexes(t *testing.T) {
	statements := storetest.Statements(t, func(t *testing.T, seen func(string, []any)) tollgate.Store {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "tollgate.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		s.Observe(seen)
		return s
	})
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, st := range statements {
		plan, err := s.Explain(t.Context(), st.SQL, st.Args)
		if err != nil {
			t.Errorf("explaining %s: %v", st.SQL, err)
			continue
		}
		for _, table := range ScannedTables(plan) {
			if !smallTables[table] && !firstRowOnly[st.SQL] {
				t.Errorf("%s\nscans the whole of %s: %s", st.SQL, table, strings.Join(plan, "; "))
			}
		}
	}
	t.Logf("%d statements explained", len(statements))
}

// firstRowOnly are statements that stop at the first row they find,
// which the plan does not say.
var firstRowOnly = map[string]bool{"SELECT EXISTS (SELECT 1 FROM users)": true}

// smallTables stay a handful of rows whatever the scale: scanning them is
// reading them.
var smallTables = map[string]bool{"schema_migrations": true, "signing_keys": true}
