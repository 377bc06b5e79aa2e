// Package postgres implements tollgate.Store on PostgreSQL with pgx, for
// deployments where several Tollgate replicas share one database.
// Transactions run at SERIALIZABLE isolation and are retried on a
// serialization failure, so the rules the app layer checks inside a
// transaction (the last super admin, for one) hold under concurrency.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/internal/hub"
	"github.com/tollgate/tollgate/store/internal/migrate"
	"github.com/tollgate/tollgate/store/internal/sqlq"
	"github.com/tollgate/tollgate/store/internal/txtrace"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockID is the advisory lock that serializes migrations run by
// several replicas starting at once.
const migrationLockID = 0x746f6c6c67617465 // "tollgate"

// maxTxAttempts bounds retries of a transaction that lost a serialization
// conflict; retryBackoff spreads them.
const maxTxAttempts = 16

// Store is the PostgreSQL implementation of tollgate.Store.
type Store struct {
	queries
	pool *pgxpool.Pool
	hub  hub.Hub
	// channel is the NOTIFY channel of the store's schema, and origin tags
	// this store's own notifications.
	channel, origin string
	// seen, when set (by tests), is told every statement run, with its
	// arguments: the query-plan test explains each.
	seen func(query string, args []any)
}

var _ tollgate.Store = (*Store)(nil)

// Open connects to the database at url (postgres:// or postgresql://). It
// does not migrate: call Migrate.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: invalid database URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	var schema string
	if err := pool.QueryRow(ctx, `SELECT COALESCE(current_schema(), '')`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return &Store{queries: queries{q: pool}, pool: pool, channel: channelFor(schema), origin: newOrigin()}, nil
}

// Size returns the size of the database on disk, in bytes.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&n)
	return n, err
}

// Close closes the pool.
func (s *Store) Close() error { s.pool.Close(); return nil }

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.pool.QueryRow(ctx, `SELECT 1`).Scan(&one)
}

// InTx runs fn in a SERIALIZABLE transaction, committing if fn returns nil,
// and runs it again (up to maxTxAttempts) when PostgreSQL reports a
// serialization failure (40001) or a deadlock (40P01).
func (s *Store) InTx(ctx context.Context, fn func(q tollgate.Queries) error) (err error) {
	ctx, end := txtrace.Start(ctx, "postgresql")
	attempts := 0
	defer func() { end(err, attempts) }()
	for attempt := 0; attempt < maxTxAttempts; attempt++ {
		attempts++
		err = s.tryTx(ctx, fn)
		if !retryable(err) {
			return err
		}
		select {
		case <-time.After(retryBackoff(attempt)):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fmt.Errorf("postgres: transaction kept conflicting: %w", err)
}

func (s *Store) tryTx(ctx context.Context, fn func(q tollgate.Queries) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(&queries{q: s.observed(tx)}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// retryBackoff is the pause before retry attempt+1: a random duration up to
// an exponentially growing bound (1 ms, 2 ms, 4 ms, … capped at 128 ms).
// The randomness matters: transactions that conflicted once and wait the
// same time conflict again, in step, until they run out of attempts.
func retryBackoff(attempt int) time.Duration {
	bound := time.Millisecond << min(attempt, 7)
	return time.Duration(rand.Int64N(int64(bound))) + 100*time.Microsecond
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// Migrate applies the embedded migrations not yet applied, in one
// transaction holding an advisory lock, and returns the versions applied.
// It refuses a database whose schema is newer than this binary knows.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	files, err := migrate.Files(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockID)); err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	var max int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&max); err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	if last := files[len(files)-1].Version; max > last {
		return nil, fmt.Errorf("postgres: database schema version %d is newer than this binary (%d): upgrade tollgate", max, last)
	}
	var applied []int
	for _, m := range files {
		if m.Version <= max {
			continue
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return nil, fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, m.Version); err != nil {
			return nil, fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return applied, nil
}

// querier is what *pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// observed is q, telling s.seen of each statement when it is set.
func (s *Store) observed(q querier) querier {
	if s.seen == nil {
		return q
	}
	return seeing{q, s.seen}
}

// seeing is a querier that tells seen of each statement before it runs.
type seeing struct {
	querier
	seen func(query string, args []any)
}

func (s seeing) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	s.seen(sql, args)
	return s.querier.Exec(ctx, sql, args...)
}

func (s seeing) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	s.seen(sql, args)
	return s.querier.Query(ctx, sql, args...)
}

func (s seeing) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	s.seen(sql, args)
	return s.querier.QueryRow(ctx, sql, args...)
}

// queries implements tollgate.Queries on the pool or a transaction.
type queries struct{ q querier }

// classify turns a driver error into a coded tollgate.Error by SQLSTATE,
// never by message text. what names the row.
func classify(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return tollgate.Errorf(tollgate.ENotFound, "%s not found", what)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return &tollgate.Error{Code: tollgate.EConflict, Message: what + " already exists", Err: err}
		case "23503": // foreign_key_violation
			return &tollgate.Error{Code: tollgate.ENotFound, Message: "a record " + what + " refers to does not exist", Err: err}
		case "40001", "40P01":
			return err // left unwrapped-coded so that InTx retries it
		}
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// placeholder is PostgreSQL's n-th placeholder, for sqlq.
func placeholder(n int) string { return "$" + strconv.Itoa(n) }

// folded is what name searches read of column, as migration 0008's
// indexes have it: lowered in the "C" collation, which folds ASCII letters
// only (as tollgate.FoldCase and SQLite's lower() do) and orders by byte,
// so that a prefix is one index range whatever the database's collation.
func folded(column string) string { return `lower(` + column + ` COLLATE "C")` }

// timeAny passes a time as is, for sqlq's keyset conditions.
func timeAny(t time.Time) any { return t }

// mustAffect returns ENotFound when an UPDATE or DELETE touched no row.
func mustAffect(tag pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return classify(err, what)
	}
	if tag.RowsAffected() == 0 {
		return tollgate.Errorf(tollgate.ENotFound, "%s not found", what)
	}
	return nil
}

// page runs b, a list query in key order, for one keyset page of at most
// limit items (it fetches limit+1 to learn whether there is a next one).
func page[T any](ctx context.Context, q querier, b *sqlq.Query, limit int, scan func(sqlq.Row) (*T, error), cursor func(*T) string, what string) ([]T, string, error) {
	b.Then(" LIMIT %s", limit+1)
	rows, err := q.Query(ctx, b.SQL(), b.Args()...)
	if err != nil {
		return nil, "", classify(err, what)
	}
	defer rows.Close()
	out, next, err := sqlq.Page(rows, limit, scan, cursor)
	return out, next, classify(err, what)
}
