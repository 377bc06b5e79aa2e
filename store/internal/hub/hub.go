// Package hub delivers broadcast keys to the listeners of one process. The
// stores use it for the local half of tollgate.Broadcaster: a change made
// by this process reaches its own caches before Broadcast returns.
package hub

import "sync"

// Hub is a set of listeners. The zero value is ready to use.
type Hub struct {
	mu    sync.RWMutex
	next  int
	funcs map[int]func(key string)
}

// Add registers fn and returns the function that removes it.
func (h *Hub) Add(fn func(key string)) (remove func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.funcs == nil {
		h.funcs = map[int]func(string){}
	}
	id := h.next
	h.next++
	h.funcs[id] = fn
	return func() {
		h.mu.Lock()
		delete(h.funcs, id)
		h.mu.Unlock()
	}
}

// Deliver calls every listener with key, in this goroutine.
func (h *Hub) Deliver(key string) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, fn := range h.funcs {
		fn(key)
	}
}
