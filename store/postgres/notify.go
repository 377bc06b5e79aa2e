package postgres

import (
	"context"
	"crypto/rand"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tollgate/tollgate"
)

var _ tollgate.Broadcaster = (*Store)(nil)

// channelFor is the NOTIFY channel of a schema, so that deployments (or
// tests) in separate schemas of one database do not hear each other.
func channelFor(schema string) string {
	ch := "tollgate_invalidate_" + schema
	if len(ch) > 63 {
		ch = ch[:63]
	}
	return ch
}

// newOrigin names this store's process in its notifications, so that its
// listener can skip what it already delivered locally.
func newOrigin() string { return rand.Text()[:12] }

// Broadcast delivers key to this process's listeners, then sends it to the
// other processes with pg_notify (tagged with this store's origin).
func (s *Store) Broadcast(ctx context.Context, key string) error {
	s.hub.Deliver(key)
	_, err := s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, s.channel, s.origin+" "+key)
	return err
}

// Listen delivers this process's broadcasts to fn at once and holds one
// connection on LISTEN for the others'. When that connection fails, it
// calls lost with the error, waits a second, listens again and calls
// fn(tollgate.ChangedEverything), until ctx ends.
func (s *Store) Listen(ctx context.Context, fn func(key string), lost func(error)) {
	remove := s.hub.Add(fn)
	defer remove()
	resumed := false
	for {
		err := s.listenOnce(ctx, fn, resumed)
		if ctx.Err() != nil {
			return
		}
		lost(err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		resumed = true
	}
}

// listenOnce listens on one connection until it fails or ctx ends, passing
// other processes' keys to fn. resumed says a previous connection was lost,
// so fn hears ChangedEverything once this one listens.
func (s *Store) listenOnce(ctx context.Context, fn func(string), resumed bool) error {
	pooled, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection leaves the pool for good: it listens until it closes,
	// and must not go back with a subscription on it.
	conn := pooled.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return err
	}
	if resumed {
		fn(tollgate.ChangedEverything)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		from, key, ok := strings.Cut(n.Payload, " ")
		if ok && from != s.origin {
			fn(key)
		}
	}
}
