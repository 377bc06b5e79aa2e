package app

import (
	"sync"
	"time"
)

// SignInLimits bound failed sign-ins: at most PerEmail failures for one
// email address and PerIP failures from one client address within Window.
type SignInLimits struct {
	PerEmail int
	PerIP    int
	Window   time.Duration
}

// DefaultSignInLimits allow 5 failures per email and 50 per address in 15
// minutes.
var DefaultSignInLimits = SignInLimits{PerEmail: 5, PerIP: 50, Window: 15 * time.Minute}

// maxLimiterKeys bounds the limiter's memory: past it, expired windows are
// swept, then arbitrary entries evicted.
const maxLimiterKeys = 100_000

// failureLimiter counts failures per key in fixed windows. Only failures
// count, so a user who signs in correctly is never slowed down, but once a
// key is over its limit every attempt is refused until the window ends,
// right or wrong, which stops guessing.
type failureLimiter struct {
	mu      sync.Mutex
	windows map[string]*window
	limits  SignInLimits
}

type window struct {
	start    time.Time
	failures int
}

func newFailureLimiter(l SignInLimits) *failureLimiter {
	return &failureLimiter{windows: make(map[string]*window), limits: l}
}

// blocked returns how long until the first of keys that is over its limit
// may try again, or 0 if none is.
func (l *failureLimiter) blocked(now time.Time, keys map[string]int) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for k, limit := range keys {
		w := l.windows[k]
		if w == nil || now.Sub(w.start) >= l.limits.Window {
			continue
		}
		if w.failures >= limit {
			if d := w.start.Add(l.limits.Window).Sub(now); d > wait {
				wait = d
			}
		}
	}
	return wait
}

// fail records a failure for each key.
func (l *failureLimiter) fail(now time.Time, keys map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range keys {
		w := l.windows[k]
		if w == nil || now.Sub(w.start) >= l.limits.Window {
			if w == nil && len(l.windows) >= maxLimiterKeys {
				l.evict(now)
			}
			w = &window{start: now}
			l.windows[k] = w
		}
		w.failures++
	}
}

// reset forgets key's failures (after a successful sign-in).
func (l *failureLimiter) reset(key string) {
	l.mu.Lock()
	delete(l.windows, key)
	l.mu.Unlock()
}

func (l *failureLimiter) evict(now time.Time) {
	for k, w := range l.windows {
		if now.Sub(w.start) >= l.limits.Window {
			delete(l.windows, k)
		}
	}
	for k := range l.windows {
		if len(l.windows) < maxLimiterKeys*9/10 {
			break
		}
		delete(l.windows, k)
	}
}
