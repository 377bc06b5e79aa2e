package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tollgate/tollgate"
)

var _ tollgate.Broadcaster = (*Store)(nil)

// channel is the NOTIFY channel of this store's schema, so that
// deployments (or tests) in separate schemas of one database do not hear
// each other.
func (s *Store) channel(ctx context.Context) (string, error) {
	var schema string
	if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return "", err
	}
	ch := "tollgate_invalidate_" + schema
	if len(ch) > 63 {
		ch = ch[:63]
	}
	return ch, nil
}

// Broadcast sends key with pg_notify; listeners in every process get it
// once the sending transaction (here: none, so at once) commits.
func (s *Store) Broadcast(ctx context.Context, key string) error {
	ch, err := s.channel(ctx)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, ch, key)
	return err
}

// Listen holds one connection on LISTEN and calls fn for each
// notification, reconnecting (and calling fn("*")) after a failure.
func (s *Store) Listen(ctx context.Context, fn func(key string)) error {
	first := true
	for {
		err := s.listenOnce(ctx, fn, !first)
		first = false
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		_ = err // the next round reconnects; fn("*") covers what was missed
	}
}

func (s *Store) listenOnce(ctx context.Context, fn func(string), resumed bool) error {
	ch, err := s.channel(ctx)
	if err != nil {
		return err
	}
	pooled, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection leaves the pool for good: it listens until it closes,
	// and must not go back with a subscription on it.
	conn := pooled.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
		return err
	}
	if resumed {
		fn("*")
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Payload)
	}
}
