package logwriter

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// sink records the writes it gets; while gate is set, each write waits
// for it to be closed.
type sink struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	gate   chan struct{}
}

func (s *sink) Write(p []byte) (int, error) {
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.buf.Write(p)
}

func (s *sink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// TestOrderAndClose: every line written by concurrent writers arrives
// whole, each writer's in its order, by the time Close returns; a Write
// after Close goes straight through.
func TestOrderAndClose(t *testing.T) {
	s := &sink{}
	l := New(s)
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(l, "w%d line %d\n", w, i)
			}
		})
	}
	wg.Wait()
	l.Close()
	got := strings.Split(strings.TrimSuffix(s.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines, want %d", len(got), writers*lines)
	}
	next := make([]int, writers)
	for _, line := range got {
		var w, i int
		if _, err := fmt.Sscanf(line, "w%d line %d", &w, &i); err != nil || i != next[w] {
			t.Fatalf("line %q out of order or torn (want w%d line %d)", line, w, next[w])
		}
		next[w]++
	}
	if s.writes >= writers*lines {
		t.Errorf("%d writes for %d lines: nothing was batched", s.writes, writers*lines)
	}
	fmt.Fprintf(l, "after close\n")
	if !strings.HasSuffix(s.String(), "after close\n") {
		t.Fatal("a write after Close was not written through")
	}
	l.Close() // twice is fine
}

// TestStalledReader: while the underlying writer is stuck, writes return
// at once until MaxPending bytes wait; none is lost once it moves again.
func TestStalledReader(t *testing.T) {
	s := &sink{gate: make(chan struct{})}
	l := New(s)
	line := []byte(strings.Repeat("x", 99) + "\n")
	n := MaxPending / len(line) // fits while the flusher's write is stuck
	for range n {
		if _, err := l.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	close(s.gate)
	for range n {
		l.Write(line)
	}
	l.Close()
	if got := len(s.String()); got != 2*n*len(line) {
		t.Fatalf("%d bytes written, want %d", got, 2*n*len(line))
	}
}
