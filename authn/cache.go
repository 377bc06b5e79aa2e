package authn

import "time"

// maxEntries bounds each cache: past it, a random tenth is evicted (map
// order is random), which keeps the hot set without bookkeeping on reads.
const maxEntries = 100_000

// cache is a bounded map of values, each with the time it was stored. It is
// not safe for concurrent use: the Authenticator guards it with its mutex.
type cache[V any] struct {
	m map[string]cached[V]
}

type cached[V any] struct {
	v  V
	at time.Time
}

func newCache[V any]() *cache[V] { return &cache[V]{m: map[string]cached[V]{}} }

// get returns the value of k if it was stored less than ttl before now.
func (c *cache[V]) get(k string, now time.Time, ttl time.Duration) (V, bool) {
	e, ok := c.m[k]
	if !ok || now.Sub(e.at) >= ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

// has reports whether k has a value, however old.
func (c *cache[V]) has(k string) bool {
	_, ok := c.m[k]
	return ok
}

func (c *cache[V]) put(k string, v V, now time.Time) {
	if _, ok := c.m[k]; !ok && len(c.m) >= maxEntries {
		for old := range c.m {
			delete(c.m, old)
			if len(c.m) < maxEntries*9/10 {
				break
			}
		}
	}
	c.m[k] = cached[V]{v: v, at: now}
}

func (c *cache[V]) del(k string) { delete(c.m, k) }

func (c *cache[V]) clear() { clear(c.m) }

func (c *cache[V]) len() int { return len(c.m) }
