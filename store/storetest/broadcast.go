package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

// listener records the keys one Listen call hears.
type listener struct {
	mu   sync.Mutex
	keys []string
}

func (l *listener) hear(k string) {
	l.mu.Lock()
	l.keys = append(l.keys, k)
	l.mu.Unlock()
}

func (l *listener) heard() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.keys)
}

// testBroadcastIsLocalAtOnce checks the local half of Broadcaster: a key
// reaches every listener of this process before Broadcast returns, and a
// listener whose context ended hears nothing more.
func testBroadcastIsLocalAtOnce(t *testing.T, s tollgate.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	ls := []*listener{{}, {}}
	var stopped sync.WaitGroup
	for _, l := range ls {
		stopped.Go(func() { s.Listen(ctx, l.hear, func(err error) { t.Errorf("lost: %v", err) }) })
	}
	// Listen registers in its own goroutine: announce until both hear.
	for deadline := time.Now().Add(10 * time.Second); !slices.Contains(ls[0].heard(), "ready") || !slices.Contains(ls[1].heard(), "ready"); {
		if time.Now().After(deadline) {
			t.Fatal("the listeners never heard a broadcast")
		}
		must(t, s.Broadcast(t.Context(), "ready"))
		time.Sleep(10 * time.Millisecond)
	}
	must(t, s.Broadcast(t.Context(), "sa:sa_1"))
	for _, l := range ls {
		if keys := l.heard(); keys[len(keys)-1] != "sa:sa_1" {
			t.Errorf("after Broadcast returned, a listener heard %v", keys)
		}
	}
	cancel()
	stopped.Wait()
	must(t, s.Broadcast(t.Context(), "after"))
	for _, l := range ls {
		if slices.Contains(l.heard(), "after") {
			t.Error("a stopped listener still hears keys")
		}
	}
}
