// Package pgtest gives tests a fresh PostgreSQL schema of their own.
//
// Tests that need PostgreSQL call URL(t). It reads TOLLGATE_TEST_POSTGRES (a
// postgres:// URL); without it the test is skipped, unless
// TOLLGATE_TEST_POSTGRES_REQUIRED=1 (as in CI), which fails it instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/tollgate/tollgate/internal/testenv"
)

// URL creates an empty schema, drops it when the test ends, and returns a
// database URL whose connections use it as their search path.
func URL(t testing.TB) string {
	t.Helper()
	base := testenv.Require(t, "TOLLGATE_TEST_POSTGRES", "a postgres:// URL")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connect to TOLLGATE_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	schema := "t_" + strings.ToLower(rand.Text()[:16])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("pgtest: drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: TOLLGATE_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return fmt.Sprint(u)
}
