package authn

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestLimiterBurstThenOneEachInterval(t *testing.T) {
	l := newLimiter("test", Rate{N: 5, Per: 15 * time.Minute}) // one each 3 minutes after the burst
	for i := range 5 {
		if d, _ := l.attempt("a@example.com", "192.0.2.1", t0); d != 0 {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	d, which := l.attempt("a@example.com", "192.0.2.1", t0)
	if which != "pair" || d != 3*time.Minute {
		t.Fatalf("sixth attempt: wait %v on %q, want 3m on pair", d, which)
	}
	if d, _ := l.attempt("a@example.com", "192.0.2.1", t0.Add(3*time.Minute)); d != 0 {
		t.Fatal("refused after the interval")
	}
	if d, _ := l.attempt("a@example.com", "192.0.2.1", t0.Add(3*time.Minute)); d == 0 {
		t.Fatal("a second attempt in the same interval passed")
	}
	// Another address, and the same address for another email, are untouched.
	if d, _ := l.attempt("a@example.com", "192.0.2.2", t0); d != 0 {
		t.Fatal("another address was held back")
	}
	if d, _ := l.attempt("b@example.com", "192.0.2.1", t0); d != 0 {
		t.Fatal("another email from the address was held back")
	}
}

func TestLimiterRefundAndSucceed(t *testing.T) {
	l := newLimiter("test", Rate{N: 2, Per: time.Minute})
	for range 10 { // right credentials cost nothing
		l.attempt("id", "192.0.2.1", t0)
		l.succeed("id", "192.0.2.1", t0)
	}
	for range 10 { // nor does what was no failure at all (a database error)
		l.attempt("id", "192.0.2.1", t0)
		l.refund("id", "192.0.2.1", t0)
	}
	if l.address.dirty("192.0.2.1", t0) || len(l.pair.tat)+len(l.ident.tat) != 0 {
		t.Fatalf("successes and refunds left failures behind: %v %v", l.pair.tat, l.ident.tat)
	}
}

// TestLimiterIPv6CountsBySlash64: a host that rotates through its /64
// gains nothing; another /64 is another client.
func TestLimiterIPv6CountsBySlash64(t *testing.T) {
	l := newAddressLimiter("test", Rate{N: 3, Per: time.Minute})
	for i := range 3 {
		if d, _ := l.attempt("", fmt.Sprintf("2001:db8:1:2::%x", i+1), t0); d != 0 {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	if d, which := l.attempt("", "2001:db8:1:2:ffff::9", t0); d == 0 || which != "address" {
		t.Fatal("a fourth address of the same /64 passed")
	}
	if d, _ := l.attempt("", "2001:db8:1:3::1", t0); d != 0 {
		t.Fatal("another /64 was held back")
	}
	if d, _ := l.attempt("", "::ffff:192.0.2.1", t0); d != 0 {
		t.Fatal("an IPv4-mapped address was counted with others")
	}
}

// TestLimiterIdentifierSparesCleanAddresses (R2): once an identifier is
// over its limit from addresses that failed, those addresses are held back
// until they are clean, and no longer; a clean address passes at once.
func TestLimiterIdentifierSparesCleanAddresses(t *testing.T) {
	l := newLimiter("test", Rate{N: 2, Per: time.Minute}) // identifier and address: 20 a minute, one each 3 s
	for i := range 20 {
		l.attempt("victim", fmt.Sprintf("198.51.100.%d", i), t0)
	}
	if d, _ := l.attempt("victim", "192.0.2.1", t0); d != 0 {
		t.Fatal("a clean address was held back")
	}
	// 192.0.2.1 has now failed once: dirty for one address interval.
	d, which := l.attempt("victim", "192.0.2.1", t0.Add(time.Second))
	if which != "identifier" || d == 0 || d > 2*time.Second {
		t.Fatalf("a dirty address: wait %v on %q, want the 2 s until it is clean", d, which)
	}
	if d, _ := l.attempt("victim", "192.0.2.1", t0.Add(3*time.Second)); d != 0 {
		t.Fatalf("the address, clean again, is still held back %v", d)
	}
}

// TestLimiterConcurrentAttemptsAreCounted: attempts in flight at once
// cannot all pass before the first of them fails.
func TestLimiterConcurrentAttemptsAreCounted(t *testing.T) {
	l := newLimiter("test", Rate{N: 5, Per: time.Hour})
	var passed atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if d, _ := l.attempt("id", "192.0.2.1", t0); d == 0 {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := passed.Load(); n != 5 {
		t.Fatalf("%d of 200 concurrent attempts passed, want 5", n)
	}
}

func TestParseRate(t *testing.T) {
	for _, s := range []string{"5/15m", " 100 / 1m ", "1/1s"} {
		if _, err := ParseRate(s); err != nil {
			t.Errorf("ParseRate(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "5", "0/1m", "-1/1m", "5/0s", "5/-1m", "x/1m", "5/soon"} {
		if _, err := ParseRate(s); err == nil {
			t.Errorf("ParseRate(%q) accepted", s)
		}
	}
	if r, _ := ParseRate("20/1m"); r.String() != "20/1m0s" {
		t.Fatalf("String = %s", r)
	}
}

// TestLimiterBlockedDoesNotCount: blocked only looks; fail counts; forget
// clears the pair without taking back what the address failed.
func TestLimiterBlockedDoesNotCount(t *testing.T) {
	l := newLimiter("test", Rate{N: 2, Per: time.Minute})
	for range 100 {
		if d, _ := l.blocked("sa_1", "192.0.2.1", t0); d != 0 {
			t.Fatal("looking counted")
		}
	}
	l.fail("sa_1", "192.0.2.1", t0)
	l.fail("sa_1", "192.0.2.1", t0)
	if d, which := l.blocked("sa_1", "192.0.2.1", t0); d == 0 || which != "pair" {
		t.Fatal("two failures did not fill the pair")
	}
	l.forget("sa_1", "192.0.2.1")
	if d, _ := l.blocked("sa_1", "192.0.2.1", t0); d != 0 {
		t.Fatal("forget left the pair full")
	}
	if !l.address.dirty("192.0.2.1", t0) {
		t.Fatal("forget took back the address's failures")
	}
}
