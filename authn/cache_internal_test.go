package authn

import (
	"fmt"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

// TestCacheKeepsWhatIsRead: past its bound the cache drops what was not
// read since the last sweep and keeps what a gateway keeps presenting,
// however many one-off keys pass through; it never grows past its bound.
func TestCacheKeepsWhatIsRead(t *testing.T) {
	const max = 1000
	c := newCacheOf[int](max)
	now := time.Unix(0, 0)
	hot := func(i int) string { return fmt.Sprintf("hot-%d", i) }
	for i := range 100 {
		c.put(hot(i), i, now)
	}
	for round := range 50 {
		for i := range 100 { // the hot set is read between the one-offs
			if v, ok := c.get(hot(i), now, time.Hour); !ok || v != i {
				t.Fatalf("round %d: hot key %d evicted", round, i)
			}
		}
		for j := range 200 {
			c.put(fmt.Sprintf("once-%d-%d", round, j), j, now)
			if c.len() > max {
				t.Fatalf("the cache holds %d entries, past its bound of %d", c.len(), max)
			}
		}
	}
	// With every entry read, a sweep still frees room.
	full := newCacheOf[int](10)
	for i := range 10 {
		full.put(fmt.Sprint(i), i, now)
		full.get(fmt.Sprint(i), now, time.Hour)
	}
	full.put("new", 1, now)
	if _, ok := full.get("new", now, time.Hour); !ok || full.len() > 10 {
		t.Fatalf("a cache of read entries took no new one: %d entries", full.len())
	}
	// Putting a key again refreshes it in place.
	full.put("new", 2, now.Add(time.Minute))
	if v, ok := full.get("new", now.Add(time.Minute), time.Second); !ok || v != 2 {
		t.Fatalf("refreshed value %v %v", v, ok)
	}
}

// TestAccountsShareTheirOrg: the cached accounts of one org share one copy
// of it; an org read with other values (renamed, a new reuse floor)
// replaces the copy for the entries made from then on, and the entries
// made before keep what they read.
func TestAccountsShareTheirOrg(t *testing.T) {
	a := &Authenticator{orgs: map[string]*tollgate.Org{}}
	at := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	acme := tollgate.Org{ID: "org_1", Slug: "acme", Name: "Acme", CreatedAt: at}
	one := a.newClientEntry(tollgate.ServiceAccount{ID: "sa_1", OrgID: "org_1"}, acme)
	two := a.newClientEntry(tollgate.ServiceAccount{ID: "sa_2", OrgID: "org_1"}, acme)
	if one.org != two.org || one.sa.OrgID != "org_1" {
		t.Fatalf("two accounts of one org hold %p and %p", one.org, two.org)
	}
	renamed := acme
	renamed.Name, renamed.Settings.TokenReuseFloorSeconds = "Acme Inc", 60
	three := a.newClientEntry(tollgate.ServiceAccount{ID: "sa_3", OrgID: "org_1"}, renamed)
	if three.org == one.org || *three.org != renamed || *one.org != acme {
		t.Fatalf("after the change: %+v, before: %+v", *three.org, *one.org)
	}
	if four := a.newClientEntry(tollgate.ServiceAccount{ID: "sa_4", OrgID: "org_1"}, renamed); four.org != three.org {
		t.Fatal("the new copy is not shared")
	}
}
