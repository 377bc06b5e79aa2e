package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

// TestStatementCache: a query outside a transaction is prepared once and
// reused; inside one it runs unprepared the first time and is prepared in
// the background for the next; several statements in one string are
// never cached; and nothing is cached once the store is closed.
func TestStatementCache(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "tollgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	cached := func(q string) bool {
		s.stmts.mu.Lock()
		defer s.stmts.mu.Unlock()
		_, ok := s.stmts.m[q]
		return ok
	}
	const bySlug = `SELECT COUNT(*) FROM orgs WHERE slug = ?`
	for range 2 {
		var n int
		if err := s.queries.q.QueryRowContext(t.Context(), bySlug, "acme").Scan(&n); err != nil || n != 0 {
			t.Fatalf("count: %d %v", n, err)
		}
	}
	if !cached(bySlug) || len(s.stmts.m) != 1 {
		t.Fatalf("after two reads the cache holds %d statements", len(s.stmts.m))
	}

	const insert = `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`
	err = s.InTx(t.Context(), func(q tollgate.Queries) error {
		_, err := q.(*queries).q.ExecContext(t.Context(), insert, 1000, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !cached(insert); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the transaction's statement was never prepared for the next one")
		}
	}
	err = s.InTx(t.Context(), func(q tollgate.Queries) error {
		_, err := q.(*queries).q.ExecContext(t.Context(), insert, 1001, 0)
		return err
	})
	if err != nil {
		t.Fatalf("a cached statement in a transaction: %v", err)
	}

	const two = `SELECT 1; SELECT 2`
	if _, err := s.queries.q.ExecContext(t.Context(), two); err != nil {
		t.Fatal(err)
	}
	if cached(two) {
		t.Fatal("a string of two statements was cached")
	}
	s.Close()
	if st := s.stmts.prepare(t.Context(), bySlug); st != nil || len(s.stmts.m) != 0 {
		t.Fatal("the cache kept statements after Close")
	}
}
