package authn

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate is N events per Per.
type Rate struct {
	N   int
	Per time.Duration
}

// Limits bound failed authentication (DESIGN.md R1, R2), per kind of
// credential. A Rate allows N failures, then one more each Per/N. For
// passwords and clients it is the budget of one identifier from one
// address; an address gets ten times that over all identifiers, and an
// identifier ten times that over all the addresses that have failed, so a
// correct credential from an address that has not itself failed is never
// refused. Limits are per process (R6).
type Limits struct {
	// Password bounds failed passwords: at sign-in, and when an existing
	// user accepts an invitation. Identifier: the email.
	Password Rate
	// Client bounds failed client authentication at the token,
	// introspection and revocation endpoints. Identifier: the client ID.
	Client Rate
	// Bearer bounds unknown bearer credentials at /check and on the admin
	// API, per address: a bearer string identifies nothing but itself.
	// Credentials already verified and cached pass even from an address
	// over its limit, so that a shared gateway address cannot be locked.
	// The same rate, counted apart, bounds refused polls of the device
	// grant at the token endpoint (unknown or spent device codes, polls
	// too soon), per address.
	Bearer Rate
	// Device bounds device authorizations started (`tollgate login`), per
	// address: each stores a row before anyone has authenticated.
	Device Rate
	// UserCode bounds wrong codes entered on the console's /device page.
	// Identifier: the signed-in person.
	UserCode Rate
	// Leak bounds leaked-credential reports (P3), per address: the
	// endpoint is open to anyone, and each entry costs a look-up.
	Leak Rate
}

// DefaultLimits: 5 failed passwords per email and address in 15 minutes
// (50 per address), 20 failed client authentications per client and
// address a minute (200 per address), 100 unknown bearer credentials per
// address a minute, 20 device logins started per address in 10 minutes,
// 5 wrong device codes per person and address in 15 minutes (50 per
// address), and 30 leaked-credential reports per address a minute.
var DefaultLimits = Limits{
	Password: Rate{N: 5, Per: 15 * time.Minute},
	Client:   Rate{N: 20, Per: time.Minute},
	Bearer:   Rate{N: 100, Per: time.Minute},
	Device:   Rate{N: 20, Per: 10 * time.Minute},
	UserCode: Rate{N: 5, Per: 15 * time.Minute},
	Leak:     Rate{N: 30, Per: time.Minute},
}

// spread is how many times an identifier's budget an address, and an
// identifier over all addresses that failed, get.
const spread = 10

// gcra is a generic cell rate limiter over many keys: each key's state is
// one time, its theoretical arrival time (tat). A failure moves tat by the
// emission interval (Per/N); a key is over its limit while tat is more than
// N-1 intervals ahead of now. It allows a burst of N, then one each
// interval.
type gcra struct {
	interval time.Duration // Per / N
	window   time.Duration // Per
	tat      map[string]time.Time
}

func newGCRA(r Rate) *gcra {
	n := max(r.N, 1)
	return &gcra{interval: r.Per / time.Duration(n), window: r.Per, tat: map[string]time.Time{}}
}

// wait returns how long until key may fail again, 0 if it may now.
func (g *gcra) wait(key string, now time.Time) time.Duration {
	tat, ok := g.tat[key]
	if !ok || !tat.After(now) {
		return 0
	}
	if d := tat.Sub(now) - (g.window - g.interval); d > 0 {
		return d
	}
	return 0
}

// dirty reports whether key has failed recently (its backlog is not drained).
func (g *gcra) dirty(key string, now time.Time) bool { return g.tat[key].After(now) }

func (g *gcra) fail(key string, now time.Time) {
	t, ok := g.tat[key]
	if !ok && len(g.tat) >= maxEntries {
		g.sweep(now)
	}
	if t.Before(now) {
		t = now
	}
	g.tat[key] = t.Add(g.interval)
}

// refund takes one failure of key back.
func (g *gcra) refund(key string, now time.Time) {
	t, ok := g.tat[key]
	if !ok {
		return
	}
	if t = t.Add(-g.interval); t.After(now) {
		g.tat[key] = t
	} else {
		delete(g.tat, key)
	}
}

// sweep forgets drained keys; if that is not enough, a random tenth.
func (g *gcra) sweep(now time.Time) {
	for k, t := range g.tat {
		if !t.After(now) {
			delete(g.tat, k)
		}
	}
	for k := range g.tat {
		if len(g.tat) < maxEntries*9/10 {
			break
		}
		delete(g.tat, k)
	}
}

// limiter counts the failures of one kind of credential, per identifier
// and address, per address, and per identifier.
type limiter struct {
	name    string // the credential, for metrics and audit: password, client or bearer
	mu      sync.Mutex
	pair    *gcra
	address *gcra
	ident   *gcra
}

// newLimiter counts failures of a credential with an identifier: r per
// identifier and address, spread times r per address and per identifier.
func newLimiter(name string, r Rate) *limiter {
	wide := Rate{N: r.N * spread, Per: r.Per}
	return &limiter{name: name, pair: newGCRA(r), address: newGCRA(wide), ident: newGCRA(wide)}
}

// newAddressLimiter counts failures of a credential that identifies
// nothing but itself (a bearer string): r per address.
func newAddressLimiter(name string, r Rate) *limiter {
	return &limiter{name: name, pair: newGCRA(r), address: newGCRA(r), ident: newGCRA(r)}
}

// addressKey is what the limits count an address under: an IPv4 address
// alone, an IPv6 address by its /64, which one host usually holds whole
// (so that rotating through it gains nothing).
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// attempt decides whether ip may try id ("" for none) now. If not, it
// returns how long to wait and which count is full ("address",
// "identifier" or "pair"). If so, it counts the attempt as a failure at
// once, so that concurrent attempts cannot all pass before any fails (a
// password's check takes long enough for a burst to slip through); a
// right credential calls succeed, anything that was not a failure refund.
// An identifier over its limit holds back only addresses that have failed
// themselves (R2), and for no longer than until such an address is clean.
func (l *limiter) attempt(id, ip string, now time.Time) (time.Duration, string) {
	ip = addressKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	if d, which := l.wait(id, ip, now); d > 0 {
		return d, which
	}
	l.count(id, ip, now)
	return 0, ""
}

// blocked is attempt without counting anything: for credentials whose
// check is quick and that cannot be guessed (secrets and tokens of 256
// bits), where a burst of right ones must not be held back by attempts in
// flight. The caller counts a failure with fail.
func (l *limiter) blocked(id, ip string, now time.Time) (time.Duration, string) {
	ip = addressKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wait(id, ip, now)
}

// fail counts a failure of id ("" for none) from ip.
func (l *limiter) fail(id, ip string, now time.Time) {
	ip = addressKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count(id, ip, now)
}

// wait is the check of attempt and blocked; l.mu is held.
func (l *limiter) wait(id, ip string, now time.Time) (time.Duration, string) {
	if d := l.address.wait(ip, now); d > 0 {
		return d, "address"
	}
	if id != "" {
		// The pair's key is built only when some pair has failed: an
		// attempt then costs no allocation.
		if len(l.pair.tat) > 0 {
			if d := l.pair.wait(id+"\x00"+ip, now); d > 0 {
				return d, "pair"
			}
		}
		if l.address.dirty(ip, now) {
			if d := l.ident.wait(id, now); d > 0 {
				return min(d, l.address.tat[ip].Sub(now)), "identifier"
			}
		}
	}
	return 0, ""
}

// count records a failure; l.mu is held.
func (l *limiter) count(id, ip string, now time.Time) {
	l.address.fail(ip, now)
	if id != "" {
		l.pair.fail(id+"\x00"+ip, now)
		l.ident.fail(id, now)
	}
}

// refund takes back an attempt that was not a failure.
func (l *limiter) refund(id, ip string, now time.Time) {
	ip = addressKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.address.refund(ip, now)
	if id != "" {
		l.pair.refund(id+"\x00"+ip, now)
		l.ident.refund(id, now)
	}
}

// succeed takes back the attempt of a right credential and forgets the
// pair's failures.
func (l *limiter) succeed(id, ip string, now time.Time) {
	l.refund(id, ip, now)
	l.forget(id, ip)
}

// forget forgets the failures of id from ip after a right credential: the
// one who knows it is not slowed down by their own typos.
func (l *limiter) forget(id, ip string) {
	if id == "" {
		return
	}
	l.mu.Lock()
	if len(l.pair.tat) > 0 { // else no pair failed: no key to build
		delete(l.pair.tat, id+"\x00"+addressKey(ip))
	}
	l.mu.Unlock()
}

// retryAfter rounds a wait up to whole seconds, at least one.
func retryAfter(d time.Duration) time.Duration {
	return time.Duration(math.Max(1, math.Ceil(d.Seconds()))) * time.Second
}

// String writes r as ParseRate reads it: "5/15m0s".
func (r Rate) String() string { return strconv.Itoa(r.N) + "/" + r.Per.String() }

// ParseRate reads "N/DURATION", such as "5/15m" or "100/1m": N failures per
// DURATION, N at least 1 and DURATION positive.
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("%q is not a rate such as 20/1m", s)
	}
	r := Rate{}
	var err error
	if r.N, err = strconv.Atoi(strings.TrimSpace(n)); err != nil || r.N < 1 {
		return Rate{}, fmt.Errorf("%q: the count must be a whole number of at least 1", s)
	}
	if r.Per, err = time.ParseDuration(strings.TrimSpace(per)); err != nil || r.Per <= 0 {
		return Rate{}, fmt.Errorf("%q: the period must be a duration such as 1m", s)
	}
	return r, nil
}
