package authn

import "time"

// maxEntries bounds each cache.
const maxEntries = 100_000

// cache is a bounded map of values, each with the time it was stored. Past
// its bound a sweep frees a tenth, dropping what was never read first: the
// entries a gateway keeps presenting stay, what was seen once goes. It is
// not safe for concurrent use: the Authenticator guards it with its mutex.
type cache[V any] struct {
	m   map[string]*cached[V]
	max int
}

type cached[V any] struct {
	v    V
	at   time.Time
	used bool // read since it was stored, or since a sweep last cleared the marks
}

func newCache[V any]() *cache[V] { return newCacheOf[V](maxEntries) }

// newCacheOf returns a cache of at most max entries.
func newCacheOf[V any](max int) *cache[V] { return &cache[V]{m: map[string]*cached[V]{}, max: max} }

// get returns the value of k if it was stored less than ttl before now.
func (c *cache[V]) get(k string, now time.Time, ttl time.Duration) (V, bool) {
	e, ok := c.m[k]
	if !ok || now.Sub(e.at) >= ttl {
		var zero V
		return zero, false
	}
	e.used = true
	return e.v, true
}

// has reports whether k has a value, however old.
func (c *cache[V]) has(k string) bool {
	_, ok := c.m[k]
	return ok
}

// peek returns the value of k however old, without marking it read.
func (c *cache[V]) peek(k string) (V, bool) {
	e, ok := c.m[k]
	if !ok {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *cache[V]) put(k string, v V, now time.Time) {
	if e, ok := c.m[k]; ok {
		e.v, e.at = v, now
		return
	}
	if len(c.m) >= c.max {
		c.sweep()
	}
	c.m[k] = &cached[V]{v: v, at: now}
}

// sweep frees a tenth of the cache: first entries never read since they
// were stored or since the last full sweep (a credential presented once);
// only when that is not enough does it clear every mark and drop entries
// in map order.
func (c *cache[V]) sweep() {
	target := c.max * 9 / 10
	for k, e := range c.m {
		if !e.used {
			delete(c.m, k)
			if len(c.m) <= target {
				return
			}
		}
	}
	for k, e := range c.m {
		e.used = false
		if len(c.m) > target {
			delete(c.m, k)
		}
	}
}

func (c *cache[V]) del(k string) { delete(c.m, k) }

func (c *cache[V]) clear() { clear(c.m) }

func (c *cache[V]) len() int { return len(c.m) }
