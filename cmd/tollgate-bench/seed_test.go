package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/internal/keyfile"
	"github.com/tollgate/tollgate/internal/testenv"
	"github.com/tollgate/tollgate/store/postgres"
	"github.com/tollgate/tollgate/store/postgres/pgtest"
	"github.com/tollgate/tollgate/store/sqlite"
)

// TestSeed seeds a small database on each store and reads it back as the
// server would: every org, account and token is there, a seeded token is
// found by the keyed hash of the value the plan derives (so a load can
// present it), public tokens list their org's origin, and the audit log
// pages. It prints what a seed prints.
func TestSeed(t *testing.T) {
	dbs := map[string]string{"sqlite": filepath.Join(t.TempDir(), "seed.db")}
	if testenv.Has(t, "TOLLGATE_TEST_POSTGRES") {
		dbs["postgres"] = pgtest.URL(t)
	}
	for name, db := range dbs {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			key := filepath.Join(t.TempDir(), "tollgate.key")
			p := seedPlan{orgs: 4, accounts: 200, tokens: 600, events: 400}
			var out, errOut strings.Builder
			err := runSeed(ctx, []string{"--db", db, "--key-file", key, "--orgs", "4", "--accounts", "200", "--tokens", "600", "--events", "400", "--batch", "97"}, &out, &errOut)
			if err != nil {
				t.Fatalf("seed: %v\n%s", err, errOut.String())
			}
			if !regexp.MustCompile(`^seeded 4 orgs, 200 service accounts, 600 API tokens, 400 audit events: 1204 rows in \S+, \d+ rows/s; database \d+\.\d MiB\n$`).MatchString(out.String()) {
				t.Fatalf("seed printed %q", out.String())
			}
			kr, err := keyfile.Load(key, false, &errOut)
			if err != nil {
				t.Fatal(err)
			}
			var s tollgate.Store
			if name == "postgres" {
				s, err = postgres.Open(ctx, db)
			} else {
				s, err = sqlite.Open(ctx, db)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()

			org, err := s.GetOrgBySlug(ctx, p.orgSlug(3))
			if err != nil {
				t.Fatal(err)
			}
			var accounts int
			for cursor := ""; ; {
				page, next, err := s.ListServiceAccounts(ctx, org.ID, tollgate.ServiceAccountFilter{}, tollgate.Page{Limit: 30, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				accounts += len(page)
				if cursor = next; next == "" {
					break
				}
			}
			if accounts != 50 {
				t.Fatalf("org 3 has %d accounts, want 50", accounts)
			}
			for _, n := range []int{0, 9, 599} {
				value, public := p.token(n)
				if !credential.ValidCredential(value[:4], value) {
					t.Fatalf("token %d is not well formed: %s", n, value)
				}
				tok, err := s.GetAPITokenByHash(ctx, kr.Hash(value))
				if err != nil || tok.ID != seedID(tollgate.PrefixAPIToken, n) || (tok.Kind == tollgate.KindPublic) != public {
					t.Fatalf("token %d: %+v %v", n, tok, err)
				}
				sa, o, err := s.GetServiceAccountAndOrg(ctx, tok.OwnerID)
				if err != nil || sa.ID != seedID(tollgate.PrefixServiceAccount, n/3) || o.ID != tok.OrgID {
					t.Fatalf("token %d's owner: %+v %v", n, sa, err)
				}
			}
			// Org 3's admin token belongs to its first account, an admin.
			tok, err := s.GetAPITokenByHash(ctx, kr.Hash(p.adminToken(3)))
			if err != nil || tok.Role != tollgate.RoleAdmin || tok.OrgID != org.ID {
				t.Fatalf("org 3's admin token: %+v %v", tok, err)
			}
			if sa, err := s.GetServiceAccount(ctx, org.ID, tok.OwnerID); err != nil || sa.Role != tollgate.RoleAdmin || sa.ID != seedID(tollgate.PrefixServiceAccount, 150) {
				t.Fatalf("org 3's admin account: %+v %v", sa, err)
			}
			if ok, err := s.PublicOriginListed(ctx, p.origin(2)); err != nil || !ok {
				t.Fatalf("org 2's origin is not listed: %v %v", ok, err)
			}
			evs, next, err := s.ListAuditEvents(ctx, org.ID, tollgate.AuditFilter{}, tollgate.Page{Limit: 100})
			if err != nil || len(evs) != 100 || next != "" {
				t.Fatalf("org 3's audit log: %d events, next %q, %v", len(evs), next, err)
			}
			// The same seed again: its rows exist, and nothing is half loaded.
			if err := runSeed(ctx, []string{"--db", db, "--key-file", key, "--orgs", "4", "--accounts", "200", "--tokens", "600", "--events", "400"}, &out, &errOut); tollgate.ErrorCode(err) != tollgate.EConflict {
				t.Fatalf("seeding twice: %v", err)
			}
		})
	}
}

// TestSeedRefusesUnevenPlans: the totals must divide evenly.
func TestSeedRefusesUnevenPlans(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	for _, args := range [][]string{
		{"--orgs", "3", "--accounts", "100"},
		{"--accounts", "1000", "--orgs", "10", "--tokens", "1001"},
		{"--orgs", "10", "--accounts", "10", "--tokens", "10", "--events", "15"},
		{"--orgs", "0"},
	} {
		var out, errOut strings.Builder
		if err := runSeed(t.Context(), append([]string{"--db", db}, args...), &out, &errOut); err == nil || !strings.Contains(err.Error(), "must") {
			t.Errorf("%v: %v", args, err)
		}
	}
}
