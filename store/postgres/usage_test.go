package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/postgres"
	"github.com/tollgate/tollgate/store/postgres/pgtest"
)

// TestLastUsedUpdatesStayOnTheirPage loads tokens and accounts by COPY, as
// the bulk path and a restore do, and records a use of two rows on each of
// their pages through the usage flush's own path (RecordUses): each new version must stay on its row's page (a heap-only
// update, which touches no index), so the table's fill factor must leave
// room for it. Row versions that move cost an entry in every index.
func TestLastUsedUpdatesStayOnTheirPage(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := &tollgate.Bulk{Orgs: []tollgate.Org{{ID: "org_bulk", Slug: "bulk", Name: "Bulk", CreatedAt: at}}}
	for i := range 200 {
		name := fmt.Sprintf("account-%03d", i)
		sa := tollgate.ServiceAccount{ID: fmt.Sprintf("sa_bulk%03d", i), OrgID: "org_bulk", Name: name,
			Email: tollgate.ServiceAccountEmail(name, "bulk", tollgate.DefaultServiceAccountEmailDomain), Role: tollgate.RoleMember,
			TokenTTLSeconds: 3600, Status: tollgate.StatusActive, CreatedAt: at, CreatedBy: "usr_bulk", ReuseAfter: at}
		b.ServiceAccounts = append(b.ServiceAccounts, sa)
		for k := range 5 {
			b.APITokens = append(b.APITokens, tollgate.APIToken{ID: fmt.Sprintf("tok_bulk%03d%d", i, k), OrgID: "org_bulk", Name: fmt.Sprintf("token-%d", k),
				Kind: tollgate.KindPrivate, Role: tollgate.RoleViewer, OwnerType: tollgate.PrincipalServiceAccount, OwnerID: sa.ID,
				Hash: []byte(fmt.Sprintf("hash-of-token-%03d-%d-padded-to-32b", i, k)), CreatedAt: at, CreatedBy: "usr_bulk"})
		}
	}
	if err := s.LoadBulk(ctx, b); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	for _, table := range []struct {
		name  string
		touch func(id string, at time.Time) error
	}{
		{"api_tokens", func(id string, at time.Time) error {
			return s.RecordUses(ctx, &tollgate.Uses{Tokens: []tollgate.TokenUse{{Use: tollgate.Use{ID: id, At: at}, Origin: "https://app.example.com"}}})
		}},
		{"service_accounts", func(id string, at time.Time) error {
			return s.RecordUses(ctx, &tollgate.Uses{Accounts: []tollgate.Use{{ID: id, At: at}}})
		}},
	} {
		pages := pagesOf(t, conn, table.name)
		if len(pages) < 3 {
			t.Fatalf("%s: %d pages; the test needs several full ones", table.name, len(pages))
		}
		touched := 0
		for _, ids := range pages {
			for _, id := range ids[:min(2, len(ids))] {
				if err := table.touch(id, at.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				touched++
			}
		}
		after := map[string]uint32{}
		for page, ids := range pages {
			for _, id := range ids {
				after[id] = page
			}
		}
		moved := 0
		for page, ids := range pagesOf(t, conn, table.name) {
			for _, id := range ids {
				if after[id] != page {
					moved++
				}
			}
		}
		if moved != 0 {
			t.Errorf("%s: %d of %d rows whose use was recorded moved to another page", table.name, moved, touched)
		}
	}
}

// pagesOf returns the IDs of table's rows by the heap page holding each.
func pagesOf(t *testing.T, conn *pgx.Conn, table string) map[uint32][]string {
	t.Helper()
	rows, err := conn.Query(t.Context(), `SELECT (ctid::text::point)[0]::bigint, id FROM `+table+` ORDER BY ctid`)
	if err != nil {
		t.Fatal(err)
	}
	pages := map[uint32][]string{}
	for rows.Next() {
		var page int64
		var id string
		if err := rows.Scan(&page, &id); err != nil {
			t.Fatal(err)
		}
		pages[uint32(page)] = append(pages[uint32(page)], id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return pages
}
