package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"time"
)

// maxCachedStatements bounds the statement cache: the store's queries are
// fixed strings and a few shapes of filtered list, far fewer than this;
// anything past it runs unprepared, as before.
const maxCachedStatements = 512

// stmtCache keeps one prepared statement per query string, so that SQLite
// parses and plans each query once per connection instead of at every
// call: on a read that misses every cache (a gateway seeing many distinct
// tokens), parsing was more than 40% of the CPU. database/sql prepares a
// cached statement lazily on each connection of the pool, and a
// transaction reuses the one its connection has.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool // being prepared for transactions (forTx)
	closed  bool
	preps   sync.WaitGroup // background prepares (forTx), which close waits for
	// seen, when set (by tests), is told every statement run, with its
	// arguments: the query-plan test explains each.
	seen func(query string, args []any)
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

// get returns the prepared statement of query, preparing it on first use;
// nil when query is not worth caching (several statements, or the cache
// is full) or does not prepare, which the caller then runs unprepared so
// that its error is the one it always was.
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	st, ok := c.lookup(query)
	if ok {
		return st
	}
	return c.prepare(ctx, query)
}

// lookup returns query's statement if it is cached, and whether to stop
// there (it is cached, or will never be).
func (c *stmtCache) lookup(query string) (*sql.Stmt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[query]
	return st, ok || len(c.m) >= maxCachedStatements || strings.Contains(query, ";")
}

// prepare prepares query on a connection of the pool and caches it.
func (c *stmtCache) prepare(ctx context.Context, query string) *sql.Stmt {
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		st.Close()
		return nil
	}
	if prior, ok := c.m[query]; ok { // prepared meanwhile by another caller
		st.Close()
		return prior
	}
	c.m[query] = st
	return st
}

// forTx returns query's cached statement for a transaction, or nil. It
// never prepares there and then: preparing takes a second connection of
// the pool, which may all be waiting for the write lock this transaction
// holds. A statement not yet cached is prepared in the background, once,
// for the next transaction, and this one runs it unprepared.
func (c *stmtCache) forTx(query string) *sql.Stmt {
	st, done := c.lookup(query)
	if done {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = map[string]bool{}
	}
	if !c.pending[query] && !c.closed {
		c.pending[query] = true
		c.preps.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c.prepare(ctx, query)
		})
	}
	return nil
}

// saw tells seen, if set, of a statement about to run.
func (c *stmtCache) saw(query string, args []any) {
	if c.seen != nil {
		c.seen(query, args)
	}
}

// close closes every cached statement, once the prepares under way have
// ended (one holds a connection, whose files outlive the database's Close
// otherwise).
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.preps.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// cachedDB is a querier on the database that runs cached statements.
type cachedDB struct {
	*sql.DB
	c *stmtCache
}

func (d cachedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	d.c.saw(query, args)
	if st := d.c.get(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return d.DB.ExecContext(ctx, query, args...)
}

func (d cachedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	d.c.saw(query, args)
	if st := d.c.get(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.DB.QueryContext(ctx, query, args...)
}

func (d cachedDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	d.c.saw(query, args)
	if st := d.c.get(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.DB.QueryRowContext(ctx, query, args...)
}

// cachedTx is a querier on a transaction that runs the cached statements
// on the transaction's connection (tx.StmtContext reuses what that
// connection prepared before). It makes each statement once per
// transaction, however often the transaction runs it (a flush of usage
// touches thousands of tokens); they end with the transaction. Not safe
// for concurrent use, as the transaction is not.
type cachedTx struct {
	*sql.Tx
	c     *stmtCache
	stmts map[string]*sql.Stmt
}

// stmt returns the transaction's statement of query, or nil to run it
// unprepared.
func (t *cachedTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := t.stmts[query]; ok {
		return st
	}
	st := t.c.forTx(query)
	if st == nil {
		return nil
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	txs := t.Tx.StmtContext(ctx, st)
	t.stmts[query] = txs
	return txs
}

func (t *cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.c.saw(query, args)
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.c.saw(query, args)
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	t.c.saw(query, args)
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}
