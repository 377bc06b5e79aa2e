// Package logwriter gives serve's log a writer that never makes a request
// wait for the log's file or pipe: lines are copied into memory and
// written out together, a few milliseconds later, by one goroutine.
//
// A log written straight to stderr costs one write system call a line, in
// the request's goroutine and under the log handler's lock, and one read,
// or more, in whatever drains the pipe. At thousands of requests a second
// that was a tenth of the server's CPU; in batches, a few per cent.
package logwriter

import (
	"io"
	"sync"
	"time"
)

// Linger is how long the first pending line waits for others to join it
// in one write. It is how late a line can appear.
const Linger = 2 * time.Millisecond

// MaxPending bounds the bytes held in memory. A Write that would exceed it
// waits for the flusher to take what is pending: when the reader of the
// log stalls, requests wait for it, as they did when they wrote to it
// themselves, and no line is dropped.
const MaxPending = 1 << 20

// Writer is an io.Writer that copies each Write into memory and returns;
// a goroutine writes what gathered to the underlying writer, in order,
// Linger after the first pending byte. Close writes what is still pending
// and ends the goroutine; Writes after Close go straight through. Errors
// of the underlying writer are dropped: a log has nowhere to report them.
type Writer struct {
	w io.Writer

	mu       sync.Mutex
	room     sync.Cond // broadcast when the flusher takes the pending bytes
	pending  []byte
	stopping bool // Close was called: the flusher drains, then sets closed
	closed   bool // everything was flushed: Write goes through

	kick chan struct{} // holds a token while bytes are pending
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

// New starts a Writer over w.
func New(w io.Writer) *Writer {
	l := &Writer{w: w, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	l.room.L = &l.mu
	go l.loop()
	return l
}

// Write copies p to the pending bytes and returns len(p), nil. It waits
// only while MaxPending bytes are pending already.
func (l *Writer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for !l.closed && len(l.pending) > 0 && len(l.pending)+len(p) > MaxPending {
		l.room.Wait()
	}
	if l.closed {
		l.w.Write(p)
		return len(p), nil
	}
	if len(l.pending) == 0 {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	l.pending = append(l.pending, p...)
	return len(p), nil
}

// Close writes the pending bytes, and waits until they are written. Later
// Writes go straight to the underlying writer. It returns nil.
func (l *Writer) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		l.stopping = true
		l.mu.Unlock()
		close(l.quit)
	})
	<-l.done
	return nil
}

// loop is the flusher. Two buffers take turns: the one being written and
// the one filling, so that a steady log allocates nothing.
func (l *Writer) loop() {
	defer close(l.done)
	var out []byte
	linger := time.NewTimer(Linger)
	linger.Stop()
	for {
		select {
		case <-l.kick:
			linger.Reset(Linger)
			select {
			case <-linger.C:
			case <-l.quit:
				linger.Stop()
			}
		case <-l.quit:
		}
		l.mu.Lock()
		out, l.pending = l.pending, out[:0]
		stopping := l.stopping && len(out) == 0
		if stopping {
			l.closed = true
		}
		l.room.Broadcast()
		l.mu.Unlock()
		if stopping {
			return
		}
		if len(out) > 0 {
			l.w.Write(out)
		}
		if cap(out) > MaxPending { // a burst's buffer is not kept
			out = nil
		}
	}
}
