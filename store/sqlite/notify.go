package sqlite

import (
	"context"

	"github.com/tollgate/tollgate"
)

var _ tollgate.Broadcaster = (*Store)(nil)

// Broadcast delivers key to this process's listeners: a SQLite database
// serves one process, so there is no one else to tell.
func (s *Store) Broadcast(ctx context.Context, key string) error {
	s.hub.Deliver(key)
	return nil
}

// Listen calls fn with every key broadcast until ctx ends. The link is
// in-process and is never lost, so lost is never called.
func (s *Store) Listen(ctx context.Context, fn func(key string), lost func(error)) {
	remove := s.hub.Add(fn)
	defer remove()
	<-ctx.Done()
}
