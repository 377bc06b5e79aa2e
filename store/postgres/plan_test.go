package postgres

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/postgres/pgtest"
	"github.com/tollgate/tollgate/store/storetest"
)

// TestQueriesUseIndexes runs the conformance suite, records every
// statement the store runs, then explains each read, update and delete
// with its own arguments over a database whose large tables (service
// accounts, API tokens, audit events) hold enough rows, loaded
// through LoadBulk and analyzed, that the planner prefers an index where
// one serves: none may scan a whole one of them. Tables the seed leaves
// small are planned by size here; the SQLite test checks their indexes.
func TestQueriesUseIndexes(t *testing.T) {
	statements := storetest.Statements(t, func(t *testing.T, seen func(string, []any)) tollgate.Store {
		s, err := Open(t.Context(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		s.Observe(seen)
		return s
	})
	ctx := t.Context()
	s, err := Open(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seedLarge(t, s)
	for _, st := range statements {
		plan, err := s.Explain(ctx, st.SQL, st.Args)
		if err != nil {
			t.Errorf("explaining %s: %v", st.SQL, err)
			continue
		}
		for _, table := range ScannedTables(plan) {
			if large[table] {
				t.Errorf("%s\nscans the whole of %s:\n%s", st.SQL, table, strings.Join(plan, "\n"))
			}
		}
	}
	t.Logf("%d statements explained", len(statements))
}

// large are the tables seedLarge fills that grow with scale: service
// accounts, tokens and audit events. Orgs are seeded too, for the joins,
// but stay in the thousands at a million accounts, which PostgreSQL
// rightly reads whole (a few pages) rather than through an index.
var large = map[string]bool{"service_accounts": true, "api_tokens": true, "audit_events": true}

// seedLarge loads 200 orgs of 100 accounts with 5 tokens each (every
// fifth public) and 500 audit events each, then analyzes.
func seedLarge(t *testing.T, s *Store) {
	t.Helper()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	for o := range 200 {
		b := &tollgate.Bulk{}
		org := tollgate.Org{ID: fmt.Sprintf("org_%026d", o), Slug: fmt.Sprintf("org-%d", o), Name: "Org", CreatedAt: base}
		b.Orgs = append(b.Orgs, org)
		for a := range 100 {
			at := base.Add(time.Duration(n) * time.Second)
			n++
			sa := tollgate.ServiceAccount{ID: fmt.Sprintf("sa_%026d", n), OrgID: org.ID, Name: fmt.Sprintf("sa-%d", a),
				Email: fmt.Sprintf("sa-%d@%s.example", a, org.Slug), Role: tollgate.RoleMember, TokenTTLSeconds: 300,
				Status: tollgate.StatusActive, CreatedAt: at, CreatedBy: "usr_x", ReuseAfter: at}
			b.ServiceAccounts = append(b.ServiceAccounts, sa)
			for k := range 5 {
				tok := tollgate.APIToken{ID: fmt.Sprintf("tok_%026d", n*10+k), OrgID: org.ID, Name: "t", Kind: tollgate.KindPrivate,
					Role: tollgate.RoleViewer, OwnerType: tollgate.PrincipalServiceAccount, OwnerID: sa.ID,
					Hash: []byte(fmt.Sprintf("hash %d %d", n, k)), CreatedAt: at, CreatedBy: "usr_x"}
				if k == 4 {
					tok.Kind, tok.Domains = tollgate.KindPublic, []string{fmt.Sprintf("https://%d.example.com", o)}
				}
				b.APITokens = append(b.APITokens, tok)
			}
		}
		for e := range 500 {
			b.AuditEvents = append(b.AuditEvents, tollgate.AuditEvent{ID: fmt.Sprintf("evt_%026d", o*1000+e), Time: base.Add(time.Duration(e) * time.Second),
				OrgID: org.ID, Actor: tollgate.Principal{Type: tollgate.PrincipalUser, ID: fmt.Sprintf("usr_%d", e%7), Name: "x"},
				Action: "token.created", Target: tollgate.Principal{Type: tollgate.PrincipalServiceAccount, ID: fmt.Sprintf("sa_%026d", n-e%100), Name: "sa"},
				Details: map[string]any{}})
		}
		if err := s.LoadBulk(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Analyze(t.Context()); err != nil {
		t.Fatal(err)
	}
}
