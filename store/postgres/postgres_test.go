package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/postgres"
	"github.com/tollgate/tollgate/store/postgres/pgtest"
	"github.com/tollgate/tollgate/store/storetest"
)

func newStore(t *testing.T) tollgate.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, newStore) }

func TestMigrateIsIdempotent(t *testing.T) {
	s, err := postgres.Open(t.Context(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first, err := s.Migrate(t.Context())
	if err != nil || len(first) == 0 {
		t.Fatalf("first Migrate = %v, %v; want versions applied", first, err)
	}
	again, err := s.Migrate(t.Context())
	if err != nil || len(again) != 0 {
		t.Fatalf("second Migrate = %v, %v; want nothing applied", again, err)
	}
}

// TestBroadcastAcrossProcesses runs two stores on one schema, as two
// replicas would: a key broadcast by one reaches the other's listener once,
// and its own listener once (locally, not again through NOTIFY). When the
// listening connection is killed, Listen reports the loss and, once it
// listens again, delivers "*".
func TestBroadcastAcrossProcesses(t *testing.T) {
	url := pgtest.URL(t)
	open := func() *postgres.Store {
		s, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	if _, err := a.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	type heard struct {
		mu   sync.Mutex
		keys []string
		lost []error
	}
	listen := func(s *postgres.Store) *heard {
		h := &heard{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Listen(ctx, func(k string) { h.mu.Lock(); h.keys = append(h.keys, k); h.mu.Unlock() },
				func(err error) { h.mu.Lock(); h.lost = append(h.lost, err); h.mu.Unlock() })
		}()
		t.Cleanup(func() { cancel(); <-done })
		return h
	}
	count := func(h *heard, key string) int {
		h.mu.Lock()
		defer h.mu.Unlock()
		n := 0
		for _, k := range h.keys {
			if k == key {
				n++
			}
		}
		return n
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	ha, hb := listen(a), listen(b)
	// B's LISTEN starts in its goroutine: ping until it hears A.
	for i := 0; count(hb, "ping") == 0; i++ {
		if err := a.Broadcast(t.Context(), "ping"); err != nil {
			t.Fatal(err)
		}
		if i > 500 {
			t.Fatal("B never heard A")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := a.Broadcast(t.Context(), "sa:sa_1"); err != nil {
		t.Fatal(err)
	}
	if count(ha, "sa:sa_1") != 1 {
		t.Fatal("A's own listener did not hear its broadcast before Broadcast returned")
	}
	waitFor("B to hear sa:sa_1", func() bool { return count(hb, "sa:sa_1") == 1 })
	time.Sleep(100 * time.Millisecond) // NOTIFY's echo to A would have come by now
	if n := count(ha, "sa:sa_1"); n != 1 {
		t.Fatalf("A heard its own key %d times", n)
	}

	// Kill B's listening connection: B reports it and recovers.
	admin, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(t.Context())
	// Only this test's listeners: other tests share the database.
	if _, err := admin.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query = 'LISTEN "tollgate_invalidate_' || current_schema() || '"'`); err != nil {
		t.Fatal(err)
	}
	waitFor("B to report the lost connection", func() bool { hb.mu.Lock(); defer hb.mu.Unlock(); return len(hb.lost) > 0 })
	waitFor("B to resume with *", func() bool { return count(hb, "*") > 0 })
	for i := 0; count(hb, "again") == 0; i++ {
		if err := a.Broadcast(t.Context(), "again"); err != nil {
			t.Fatal(err)
		}
		if i > 500 {
			t.Fatal("B does not hear A after reconnecting")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
