package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

func bulkTests() []namedTest {
	return []namedTest{
		{"BulkLoadReadsBackAsInserted", testBulkLoad},
		{"BulkLoadIsAllOrNothing", testBulkAtomic},
		{"PaginationIsStableOverConcurrentInserts", testPaginationUnderInserts},
	}
}

// bulkOf makes a batch of orgs, each with accounts, each with public and
// private tokens, and audit events about them.
func bulkOf(orgs, accounts, tokens, events int) *tollgate.Bulk {
	b := &tollgate.Bulk{}
	for o := range orgs {
		org := tollgate.Org{ID: tollgate.NewID(tollgate.PrefixOrg, base), Slug: fmt.Sprintf("bulk-%d", o), Name: "Bulk", CreatedAt: base}
		b.Orgs = append(b.Orgs, org)
		for a := range accounts {
			at := base.Add(time.Duration(a) * time.Second)
			name := fmt.Sprintf("sa-%d", a)
			sa := tollgate.ServiceAccount{ID: tollgate.NewID(tollgate.PrefixServiceAccount, at), OrgID: org.ID, Name: name,
				Email: tollgate.ServiceAccountEmail(name, org.Slug, "example.test"), Role: tollgate.RoleMember, TokenTTLSeconds: 3600,
				Status: tollgate.StatusActive, CreatedAt: at, CreatedBy: "usr_seed", ReuseAfter: at}
			b.ServiceAccounts = append(b.ServiceAccounts, sa)
			for k := range tokens {
				tok := tollgate.APIToken{ID: tollgate.NewID(tollgate.PrefixAPIToken, at), OrgID: org.ID, Name: fmt.Sprintf("t-%d", k), Kind: tollgate.KindPrivate,
					Role: tollgate.RoleViewer, OwnerType: tollgate.PrincipalServiceAccount, OwnerID: sa.ID,
					Hash: hash(fmt.Sprintf("bulk %d %d %d", o, a, k)), CreatedAt: at, CreatedBy: "usr_seed"}
				if k%2 == 1 {
					tok.Kind, tok.Domains = tollgate.KindPublic, []string{fmt.Sprintf("https://app%d.example.com", o)}
				}
				b.APITokens = append(b.APITokens, tok)
			}
		}
		for e := range events {
			ev := tollgate.NewAuditEvent(base.Add(time.Duration(e)*time.Millisecond), org.ID, tollgate.Principal{Type: tollgate.PrincipalUser, ID: "usr_seed", Name: "seed"},
				tollgate.ActionServiceAccountCreated, tollgate.Principal{Type: tollgate.PrincipalServiceAccount, ID: b.ServiceAccounts[len(b.ServiceAccounts)-1].ID, Name: "sa"},
				"192.0.2.1", "seed/1", map[string]any{"n": float64(e)})
			b.AuditEvents = append(b.AuditEvents, *ev)
		}
	}
	return b
}

func testBulkLoad(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	b := bulkOf(2, 60, 3, 150)
	if b.Rows() != 2+120+360+300 {
		t.Fatalf("Rows() = %d", b.Rows())
	}
	must(t, s.LoadBulk(ctx, b))
	org := b.Orgs[1]
	if got, err := s.GetOrgBySlug(ctx, org.Slug); err != nil || got.ID != org.ID {
		t.Fatalf("org: %+v %v", got, err)
	}
	// Lists page through everything loaded, in order.
	var accounts []tollgate.ServiceAccount
	for cursor := ""; ; {
		page, next, err := s.ListServiceAccounts(ctx, org.ID, tollgate.ServiceAccountFilter{}, tollgate.Page{Limit: 25, Cursor: cursor})
		must(t, err)
		accounts = append(accounts, page...)
		if cursor = next; next == "" {
			break
		}
	}
	if len(accounts) != 60 || accounts[0].Name != "sa-0" || accounts[59].Name != "sa-59" {
		t.Fatalf("listed %d accounts", len(accounts))
	}
	sa := b.ServiceAccounts[60+7]
	if got, gotOrg, err := s.GetServiceAccountAndOrg(ctx, sa.ID); err != nil || got.Name != sa.Name || got.TokenTTLSeconds != 3600 || gotOrg.ID != org.ID {
		t.Fatalf("account: %+v %v", got, err)
	}
	tok := b.APITokens[len(b.APITokens)-2] // public
	got, err := s.GetAPITokenByHash(ctx, tok.Hash)
	if err != nil || got.ID != tok.ID || got.OwnerID != tok.OwnerID || got.Kind != tollgate.KindPublic || fmt.Sprint(got.Domains) != "[https://app1.example.com]" {
		t.Fatalf("token by hash: %+v %v", got, err)
	}
	if ok, err := s.PublicOriginListed(ctx, "https://app1.example.com"); err != nil || !ok {
		t.Fatalf("a bulk-loaded public token's origin is not listed: %v %v", ok, err)
	}
	toks, _, err := s.ListAPITokens(ctx, org.ID, tollgate.APITokenFilter{OwnerID: sa.ID}, tollgate.Page{Limit: 10})
	if err != nil || len(toks) != 3 {
		t.Fatalf("tokens of an account: %d %v", len(toks), err)
	}
	evs, _, err := s.ListAuditEvents(ctx, org.ID, tollgate.AuditFilter{Action: tollgate.ActionServiceAccountCreated}, tollgate.Page{Limit: 200})
	if err != nil || len(evs) != 150 || evs[0].Details["n"] != 149.0 || evs[0].UserAgent != "seed/1" {
		t.Fatalf("audit events: %d %v", len(evs), err)
	}
}

// testBulkAtomic: a batch with a row that exists already loads nothing.
func testBulkAtomic(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	b := bulkOf(1, 3, 1, 2)
	must(t, s.LoadBulk(ctx, &tollgate.Bulk{Orgs: b.Orgs}))
	again := bulkOf(1, 2, 1, 1)
	again.Orgs[0].Slug = "fresh"
	again.Orgs = append(again.Orgs, b.Orgs[0]) // exists: the batch fails after "fresh"
	if err := s.LoadBulk(ctx, again); tollgate.ErrorCode(err) != tollgate.EConflict {
		t.Fatalf("a batch with an existing org: %v", err)
	}
	if _, err := s.GetOrgBySlug(ctx, again.Orgs[0].Slug); tollgate.ErrorCode(err) != tollgate.ENotFound {
		t.Fatalf("half a batch was loaded: %v", err)
	}
}

// testPaginationUnderInserts pages through an org's accounts while another
// goroutine creates more: every account that existed before the first page
// is listed exactly once, in order, whatever is inserted meanwhile.
func testPaginationUnderInserts(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	before := map[string]bool{}
	for i := range 120 {
		sa := mkServiceAccount(t, s, o, fmt.Sprintf("old-%d", i), base.Add(time.Duration(i)*time.Second))
		before[sa.ID] = true
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Later, and earlier, than the listed ones: both must leave
			// the walk intact.
			at := base.Add(time.Duration(i%2*200-100)*time.Second + time.Duration(i)*time.Millisecond)
			sa := &tollgate.ServiceAccount{ID: tollgate.NewID(tollgate.PrefixServiceAccount, at), OrgID: o.ID, Name: fmt.Sprintf("new-%d", i),
				Email: tollgate.ServiceAccountEmail(fmt.Sprintf("new-%d", i), o.Slug, "example.test"), Role: tollgate.RoleViewer,
				TokenTTLSeconds: 300, Status: tollgate.StatusActive, CreatedAt: at, CreatedBy: "usr_x", ReuseAfter: at}
			if err := s.CreateServiceAccount(ctx, sa); err != nil {
				t.Error(err)
				return
			}
		}
	})
	seen := map[string]int{}
	var last tollgate.ServiceAccount
	for cursor := ""; ; {
		page, next, err := s.ListServiceAccounts(ctx, o.ID, tollgate.ServiceAccountFilter{}, tollgate.Page{Limit: 7, Cursor: cursor})
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatal(err)
		}
		for _, sa := range page {
			seen[sa.ID]++
			if last.ID != "" && (sa.CreatedAt.Before(last.CreatedAt) || (sa.CreatedAt.Equal(last.CreatedAt) && sa.ID <= last.ID)) {
				t.Errorf("out of order: %s after %s", sa.Name, last.Name)
			}
			last = sa
		}
		if cursor = next; next == "" {
			break
		}
	}
	close(stop)
	wg.Wait()
	for id := range before {
		if seen[id] != 1 {
			t.Errorf("account %s listed %d times, want once", id, seen[id])
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("account %s listed %d times", id, n)
		}
	}
}
