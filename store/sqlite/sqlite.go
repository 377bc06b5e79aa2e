// Package sqlite implements tollgate.Store on an embedded SQLite database
// (modernc.org/sqlite: pure Go, no cgo). The database runs in WAL mode with
// foreign keys on and a busy timeout; every transaction starts with BEGIN
// IMMEDIATE, so writers queue instead of failing on a lock upgrade, which
// makes transactions serializable. Commits are durable across a power loss
// (synchronous=FULL) unless Open is told otherwise.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/internal/hub"
	"github.com/tollgate/tollgate/store/internal/migrate"
	"github.com/tollgate/tollgate/store/internal/sqlq"
	"github.com/tollgate/tollgate/store/internal/txtrace"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite implementation of tollgate.Store.
type Store struct {
	queries
	db    *sql.DB
	stmts *stmtCache
	hub   hub.Hub
}

var _ tollgate.Store = (*Store)(nil)

// Synchronous modes (PRAGMA synchronous) Open accepts. In WAL mode, FULL
// syncs the log at every commit, so an acknowledged write survives a power
// loss; NORMAL syncs only at checkpoints, so the last commits before a
// power loss (not a process crash) can be lost. EXTRA also syncs the
// directory. OFF leaves durability to the operating system.
var SynchronousModes = []string{"OFF", "NORMAL", "FULL", "EXTRA"}

// Option tunes Open.
type Option func(*options)

type options struct {
	synchronous string
	cacheMiB    int
}

// Synchronous sets PRAGMA synchronous to mode, one of SynchronousModes
// (any case); the default is FULL.
func Synchronous(mode string) Option {
	return func(o *options) { o.synchronous = strings.ToUpper(mode) }
}

// CacheSize sets each connection's page cache (PRAGMA cache_size) to mib
// MiB; the default is defaultCacheMiB. Past it every page read is a
// system call, which a load that writes a large database at random places
// (its indexes of hashes) pays many times over.
func CacheSize(mib int) Option {
	return func(o *options) { o.cacheMiB = mib }
}

// maxConns and defaultCacheMiB size the pool and each connection's page
// cache. Each connection caches pages apart, so at ten million tokens
// (tollgate-bench scale) eight connections of 2 MiB each held eight
// copies of too few of the B-trees' upper pages, and a third of a cold
// /check's CPU was pread; four of 4 MiB, the same memory, served 8,528
// cold checks a second where eight had served 5,515 to 7,929, and left
// minting as it was (4,658/s at 64 connections). WAL lets the four read while one
// writes; SQLite has one writer at a time anyway.
const (
	maxConns        = 4
	defaultCacheMiB = 4
)

// Open opens (creating if needed) the SQLite database file at path. It does
// not migrate: call Migrate.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{synchronous: "FULL", cacheMiB: defaultCacheMiB}
	for _, opt := range opts {
		opt(&o)
	}
	if !slices.Contains(SynchronousModes, o.synchronous) {
		return nil, fmt.Errorf("sqlite: synchronous must be one of %s, not %q", strings.Join(SynchronousModes, ", "), o.synchronous)
	}
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	params := url.Values{}
	params.Add("_pragma", "foreign_keys(1)")
	params.Add("_pragma", "journal_mode(WAL)")
	params.Add("_pragma", "busy_timeout(10000)")
	// Statement journals (an insert that fires a trigger writes one) and
	// temporary tables stay in memory instead of a temporary file: one
	// write system call per page otherwise.
	params.Add("_pragma", "temp_store(MEMORY)")
	params.Add("_pragma", "synchronous("+o.synchronous+")")
	if o.cacheMiB > 0 {
		params.Add("_pragma", fmt.Sprintf("cache_size(%d)", -o.cacheMiB*1024))
	}
	params.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+params.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	stmts := newStmtCache(db)
	return &Store{queries: queries{q: cachedDB{db, stmts}}, db: db, stmts: stmts}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.stmts.close()
	return s.db.Close()
}

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// InTx runs fn in one transaction (BEGIN IMMEDIATE), committing if fn
// returns nil. fn runs once: SQLite serializes writers with the lock.
func (s *Store) InTx(ctx context.Context, fn func(q tollgate.Queries) error) (err error) {
	ctx, end := txtrace.Start(ctx, "sqlite")
	defer func() { end(err, 1) }()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(&queries{q: &cachedTx{Tx: tx, c: s.stmts}}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// Collector exports the connection pool's statistics (database/sql's
// DBStats) as go_sql_* metrics with db_name="sqlite".
func (s *Store) Collector() prometheus.Collector {
	return collectors.NewDBStatsCollector(s.db, "sqlite")
}

// Migrate applies the embedded migrations not yet applied, each in its own
// transaction, and returns the versions it applied. It refuses a database
// whose schema is newer than this binary knows.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		return nil, fmt.Errorf("sqlite: migrate: %w", err)
	}
	files, err := migrate.Files(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range files {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return applied, fmt.Errorf("sqlite: migrate: %w", err)
		}
		var max sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&max); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("sqlite: migrate: %w", err)
		}
		if last := files[len(files)-1].Version; max.Int64 > int64(last) {
			tx.Rollback()
			return applied, fmt.Errorf("sqlite: database schema version %d is newer than this binary (%d): upgrade tollgate", max.Int64, last)
		}
		if int64(m.Version) <= max.Int64 {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			m.Version, time.Now().UnixMicro()); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return applied, fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queries implements tollgate.Queries on a querier: the database itself, or
// a transaction.
type queries struct{ q querier }

// classify turns a driver error into a coded tollgate.Error by its SQLite
// extended result code, never by message text. what names the row.
func classify(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return tollgate.Errorf(tollgate.ENotFound, "%s not found", what)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &tollgate.Error{Code: tollgate.EConflict, Message: what + " already exists", Err: err}
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return &tollgate.Error{Code: tollgate.ENotFound, Message: "a record " + what + " refers to does not exist", Err: err}
		}
	}
	return fmt.Errorf("sqlite: %s: %w", what, err)
}

// mustAffect returns ENotFound when an UPDATE or DELETE touched no row.
func mustAffect(res sql.Result, err error, what string) error {
	if err != nil {
		return classify(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return classify(err, what)
	}
	if n == 0 {
		return tollgate.Errorf(tollgate.ENotFound, "%s not found", what)
	}
	return nil
}

func micros(t time.Time) int64 { return t.UnixMicro() }

// microsAny is micros for sqlq's keyset conditions.
func microsAny(t time.Time) any { return t.UnixMicro() }

// placeholder is SQLite's placeholder for sqlq: "?" whatever its position.
func placeholder(int) string { return "?" }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// page runs b, a list query in key order, for one keyset page of at most
// limit items (it fetches limit+1 to learn whether there is a next one).
func page[T any](ctx context.Context, q querier, b *sqlq.Query, limit int, scan func(sqlq.Row) (*T, error), cursor func(*T) string, what string) ([]T, string, error) {
	b.Then(" LIMIT %s", limit+1)
	rows, err := q.QueryContext(ctx, b.SQL(), b.Args()...)
	if err != nil {
		return nil, "", classify(err, what)
	}
	defer rows.Close()
	out, next, err := sqlq.Page(rows, limit, scan, cursor)
	return out, next, classify(err, what)
}
