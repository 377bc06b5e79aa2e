package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

func apiTokenTests() []namedTest {
	return []namedTest{
		{"APITokens", testAPITokens},
		{"APITokenOwnersAndReassignment", testAPITokenOwners},
		{"APITokenTenantIsolation", testAPITokenIsolation},
		{"APITokenListFilters", testAPITokenList},
		{"DeletingAServiceAccountDeletesItsAPITokens", testAPITokenCascade},
		{"AccountTokenByHash", testAccountTokenByHash},
		{"RecordUses", testRecordUses},
	}
}

func mkAPIToken(t *testing.T, s tollgate.Queries, org *tollgate.Org, ownerType tollgate.PrincipalType, ownerID string, kind tollgate.TokenKind, secret string, at time.Time) *tollgate.APIToken {
	t.Helper()
	tok := &tollgate.APIToken{ID: tollgate.NewID(tollgate.PrefixAPIToken, at), OrgID: org.ID, Name: "token " + secret, Kind: kind,
		Role: tollgate.RoleViewer, OwnerType: ownerType, OwnerID: ownerID, Hash: hash(secret), CreatedAt: at, CreatedBy: "usr_x"}
	if kind == tollgate.KindPublic {
		tok.Domains = []string{"https://app.example.com", "http://localhost:3000"}
	}
	must(t, s.CreateAPIToken(t.Context(), tok))
	return tok
}

func testAPITokens(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	sa := mkServiceAccount(t, s, o, "bot", base)
	exp := base.Add(24 * time.Hour)
	tok := &tollgate.APIToken{ID: tollgate.NewID(tollgate.PrefixAPIToken, base), OrgID: o.ID, Name: "site", Description: "widget",
		Kind: tollgate.KindPublic, Domains: []string{"https://a.example.com"}, Role: tollgate.RoleViewer,
		OwnerType: tollgate.PrincipalServiceAccount, OwnerID: sa.ID, Hash: hash("t1"), ExpiresAt: &exp, CreatedAt: base, CreatedBy: "usr_x"}
	must(t, s.CreateAPIToken(ctx, tok))
	got, err := s.GetAPIToken(ctx, o.ID, tok.ID)
	must(t, err)
	if got.Name != "site" || got.Kind != tollgate.KindPublic || fmt.Sprint(got.Domains) != "[https://a.example.com]" || got.OwnerType != tollgate.PrincipalServiceAccount ||
		got.OwnerID != sa.ID || got.OwnerName != "bot" || got.ExpiresAt == nil || !got.ExpiresAt.Equal(tollgate.Timestamp(exp)) || got.LastUsedAt != nil {
		t.Fatalf("GetAPIToken = %+v", got)
	}
	byHash, err := s.GetAPITokenByHash(ctx, hash("t1"))
	must(t, err)
	if byHash.ID != tok.ID {
		t.Fatal("GetAPITokenByHash found another token")
	}
	_, err = s.GetAPITokenByHash(ctx, hash("nope"))
	wantCode(t, err, tollgate.ENotFound)
	dup := *tok
	dup.ID = tollgate.NewID(tollgate.PrefixAPIToken, base)
	wantCode(t, s.CreateAPIToken(ctx, &dup), tollgate.EConflict)
	orphan := *tok
	orphan.ID, orphan.Hash, orphan.OwnerID = tollgate.NewID(tollgate.PrefixAPIToken, base), hash("t2"), "sa_missing"
	wantCode(t, s.CreateAPIToken(ctx, &orphan), tollgate.ENotFound)

	// Last use: a later use wins, an earlier one is ignored.
	must(t, s.TouchAPIToken(ctx, tok.ID, base.Add(2*time.Minute), "https://a.example.com"))
	must(t, s.TouchAPIToken(ctx, tok.ID, base.Add(time.Minute), "https://b.example.com"))
	got, _ = s.GetAPIToken(ctx, o.ID, tok.ID)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(tollgate.Timestamp(base.Add(2*time.Minute))) || got.LastUsedOrigin != "https://a.example.com" {
		t.Fatalf("last use = %v %q", got.LastUsedAt, got.LastUsedOrigin)
	}
	wantCode(t, s.TouchAPIToken(ctx, "tok_missing", base, ""), tollgate.ENotFound)
	listed := func(when string, want map[string]bool) {
		t.Helper()
		for o, w := range want {
			if got, err := s.PublicOriginListed(ctx, o); err != nil || got != w {
				t.Fatalf("%s: PublicOriginListed(%s) = %v, %v; want %v", when, o, got, err, w)
			}
		}
	}
	listed("created", map[string]bool{"https://a.example.com": true, "https://b.example.com": false, "https://a.example.co": false})
	// The listing follows the token's domains as they change, and ends
	// with the token; a private token lists nothing.
	tok.Domains = []string{"https://b.example.com", "https://c.example.com"}
	must(t, s.UpdateAPIToken(ctx, tok))
	listed("domains changed", map[string]bool{"https://a.example.com": false, "https://b.example.com": true, "https://c.example.com": true})
	private := mkAPIToken(t, s, o, tollgate.PrincipalServiceAccount, sa.ID, tollgate.KindPrivate, "private-origins", base)
	listed("a private token", map[string]bool{"https://app.example.com": false})
	other := mkAPIToken(t, s, o, tollgate.PrincipalServiceAccount, sa.ID, tollgate.KindPublic, "other-origins", base)
	listed("another public token", map[string]bool{"https://app.example.com": true, "http://localhost:3000": true})
	must(t, s.DeleteAPIToken(ctx, o.ID, other.ID))
	must(t, s.DeleteAPIToken(ctx, o.ID, private.ID))
	listed("deleted", map[string]bool{"https://app.example.com": false, "https://b.example.com": true})

	must(t, s.DeleteAPIToken(ctx, o.ID, tok.ID))
	_, err = s.GetAPIToken(ctx, o.ID, tok.ID)
	wantCode(t, err, tollgate.ENotFound)
	wantCode(t, s.DeleteAPIToken(ctx, o.ID, tok.ID), tollgate.ENotFound)
}

func testAPITokenOwners(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	u := mkUser(t, s, "legacy@example.com")
	mkMember(t, s, o, u, tollgate.RoleMember, base)
	sa := mkServiceAccount(t, s, o, "bot", base)
	a := mkAPIToken(t, s, o, tollgate.PrincipalUser, u.ID, tollgate.KindPrivate, "a", base)
	mkAPIToken(t, s, o, tollgate.PrincipalUser, u.ID, tollgate.KindPrivate, "b", base)
	v, err := s.GetMemberView(ctx, o.ID, u.ID)
	must(t, err)
	if v.OwnedTokenCount != 2 {
		t.Fatalf("owned_token_count = %d, want 2", v.OwnedTokenCount)
	}
	got, _ := s.GetAPIToken(ctx, o.ID, a.ID)
	if got.OwnerType != tollgate.PrincipalUser || got.OwnerName != "legacy@example.com" {
		t.Fatalf("user-owned token: %+v", got)
	}
	// Reassign to the service account.
	a.OwnerType, a.OwnerID = tollgate.PrincipalServiceAccount, sa.ID
	must(t, s.UpdateAPIToken(ctx, a))
	got, _ = s.GetAPIToken(ctx, o.ID, a.ID)
	if got.OwnerType != tollgate.PrincipalServiceAccount || got.OwnerID != sa.ID || got.OwnerName != "bot" {
		t.Fatalf("after reassignment: %+v", got)
	}
	list, _, err := s.ListMembers(ctx, o.ID, tollgate.MemberFilter{}, tollgate.Page{Limit: 10})
	must(t, err)
	if len(list) != 1 || list[0].OwnedTokenCount != 1 {
		t.Fatalf("member list: %+v", list)
	}
	a.OwnerID = "sa_missing"
	wantCode(t, s.UpdateAPIToken(ctx, a), tollgate.ENotFound)
}

func testAPITokenIsolation(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	a, b := mkOrg(t, s, "alpha"), mkOrg(t, s, "bravo")
	sa := mkServiceAccount(t, s, a, "bot", base)
	tok := mkAPIToken(t, s, a, tollgate.PrincipalServiceAccount, sa.ID, tollgate.KindPrivate, "x", base)
	_, err := s.GetAPIToken(ctx, b.ID, tok.ID)
	wantCode(t, err, tollgate.ENotFound)
	wantCode(t, s.DeleteAPIToken(ctx, b.ID, tok.ID), tollgate.ENotFound)
	moved := *tok
	moved.OrgID, moved.Name = b.ID, "hijacked"
	wantCode(t, s.UpdateAPIToken(ctx, &moved), tollgate.ENotFound)
	list, _, err := s.ListAPITokens(ctx, b.ID, tollgate.APITokenFilter{}, tollgate.Page{Limit: 10})
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("org b lists %+v", list)
	}
	u := mkUser(t, s, "u@example.com")
	mkMember(t, s, b, u, tollgate.RoleMember, base)
	mkAPIToken(t, s, a, tollgate.PrincipalUser, u.ID, tollgate.KindPrivate, "y", base)
	if v, _ := s.GetMemberView(ctx, b.ID, u.ID); v.OwnedTokenCount != 0 {
		t.Fatal("a token in org a counts for the user's membership in org b")
	}
}

func testAPITokenList(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	sa1, sa2 := mkServiceAccount(t, s, o, "one", base), mkServiceAccount(t, s, o, "two", base)
	var all []string
	for i := range 6 {
		owner, kind := sa1.ID, tollgate.KindPrivate
		if i%2 == 1 {
			owner, kind = sa2.ID, tollgate.KindPublic
		}
		all = append(all, mkAPIToken(t, s, o, tollgate.PrincipalServiceAccount, owner, kind, fmt.Sprint("k", i), base.Add(time.Duration(i/2)*time.Second)).ID)
	}
	list := func(f tollgate.APITokenFilter) []string {
		var ids []string
		cursor := ""
		for {
			items, next, err := s.ListAPITokens(ctx, o.ID, f, tollgate.Page{Limit: 2, Cursor: cursor})
			must(t, err)
			for _, it := range items {
				if (f.OwnerID != "" && it.OwnerID != f.OwnerID) || (f.Kind != "" && it.Kind != f.Kind) {
					t.Fatalf("filter %+v let %+v through", f, it)
				}
				ids = append(ids, it.ID)
			}
			if next == "" {
				return ids
			}
			cursor = next
		}
	}
	count := func(f tollgate.APITokenFilter) int { return len(list(f)) }
	got := list(tollgate.APITokenFilter{})
	slices.Sort(got)
	slices.Sort(all)
	if !slices.Equal(got, all) {
		t.Fatalf("paged through %v, want each of %v once", got, all)
	}
	if n := count(tollgate.APITokenFilter{OwnerID: sa1.ID}); n != 3 {
		t.Fatalf("owner: %d", n)
	}
	if n := count(tollgate.APITokenFilter{Kind: tollgate.KindPublic}); n != 3 {
		t.Fatalf("kind: %d", n)
	}
	if n := count(tollgate.APITokenFilter{OwnerID: sa1.ID, Kind: tollgate.KindPublic}); n != 0 {
		t.Fatalf("owner and kind: %d", n)
	}
}

func testAPITokenCascade(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	sa := mkServiceAccount(t, s, o, "bot", base)
	tok := mkAPIToken(t, s, o, tollgate.PrincipalServiceAccount, sa.ID, tollgate.KindPublic, "z", base)
	must(t, s.DeleteServiceAccount(ctx, o.ID, sa.ID))
	_, err := s.GetAPIToken(ctx, o.ID, tok.ID)
	wantCode(t, err, tollgate.ENotFound)
}

// testAccountTokenByHash reads a service account's token with the account
// and its org in one call, equal to what the separate reads return; a
// user's token and an unknown hash are ENotFound.
func testAccountTokenByHash(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	mkOrg(t, s, "other")
	sa := mkServiceAccount(t, s, o, "bot", base)
	u := mkUser(t, s, "legacy@example.com")
	mkMember(t, s, o, u, tollgate.RoleMember, base)
	tok := mkAPIToken(t, s, o, tollgate.PrincipalServiceAccount, sa.ID, tollgate.KindPublic, "account's", base)
	mkAPIToken(t, s, o, tollgate.PrincipalUser, u.ID, tollgate.KindPrivate, "user's", base)

	got, err := s.GetAccountTokenByHash(ctx, hash("account's"))
	must(t, err)
	wantToken, err := s.GetAPITokenByHash(ctx, tok.Hash)
	must(t, err)
	wantSA, wantOrg, err := s.GetServiceAccountAndOrg(ctx, sa.ID)
	must(t, err)
	if fmt.Sprint(got.Token) != fmt.Sprint(*wantToken) || fmt.Sprint(got.Account) != fmt.Sprint(*wantSA) || fmt.Sprint(got.Org) != fmt.Sprint(*wantOrg) {
		t.Fatalf("GetAccountTokenByHash = %+v\nwant %+v\n%+v\n%+v", got, *wantToken, *wantSA, *wantOrg)
	}
	if got.Token.OwnerName != "bot" || got.Org.Slug != "acme" || len(got.Token.Domains) != 2 {
		t.Fatalf("GetAccountTokenByHash = %+v", got)
	}
	_, err = s.GetAccountTokenByHash(ctx, hash("user's"))
	wantCode(t, err, tollgate.ENotFound)
	_, err = s.GetAccountTokenByHash(ctx, hash("nope"))
	wantCode(t, err, tollgate.ENotFound)
}

// testRecordUses writes the uses of tokens, accounts, keys and federated
// credentials at once: a later use is stored with its origin, an earlier
// one changes nothing, and a credential that is gone is skipped without
// failing the rest.
func testRecordUses(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	sa := mkServiceAccount(t, s, o, "bot", base)
	other := mkServiceAccount(t, s, o, "other", base)
	tok := mkAPIToken(t, s, o, tollgate.PrincipalServiceAccount, sa.ID, tollgate.KindPublic, "one", base)
	old := mkAPIToken(t, s, o, tollgate.PrincipalServiceAccount, other.ID, tollgate.KindPrivate, "two", base)
	key := mkClientKey(t, s, sa, "k1", "tp1", base)
	fc := &tollgate.FederatedCredential{ID: tollgate.NewID(tollgate.PrefixFederatedCredential, base), ServiceAccountID: sa.ID, Name: "ci",
		Issuer: "https://ci.example", Audience: "aud", CreatedAt: base, CreatedBy: "usr_x"}
	must(t, s.CreateFederatedCredential(ctx, fc))
	must(t, s.TouchAPIToken(ctx, old.ID, base.Add(time.Hour), "https://kept.example.com"))
	must(t, s.TouchServiceAccount(ctx, other.ID, base.Add(time.Hour)))

	later, earlier := base.Add(time.Minute), base.Add(time.Second)
	must(t, s.RecordUses(ctx, &tollgate.Uses{
		Tokens: []tollgate.TokenUse{
			{Use: tollgate.Use{ID: tok.ID, At: later}, Origin: "https://app.example.com"},
			{Use: tollgate.Use{ID: "tok_gone", At: later}},
			{Use: tollgate.Use{ID: old.ID, At: earlier}, Origin: "https://lost.example.com"},
		},
		Accounts:  []tollgate.Use{{ID: "sa_gone", At: later}, {ID: sa.ID, At: later}, {ID: other.ID, At: earlier}},
		Keys:      []tollgate.Use{{ID: key.ID, At: later}, {ID: "key_gone", At: later}},
		Federated: []tollgate.Use{{ID: fc.ID, At: later}},
	}))
	must(t, s.RecordUses(ctx, &tollgate.Uses{})) // nothing to write

	at := func(p *time.Time) string {
		if p == nil {
			return "never"
		}
		return p.UTC().Format(time.RFC3339)
	}
	want := func(what string, got *time.Time, w time.Time) {
		t.Helper()
		if at(got) != w.UTC().Format(time.RFC3339) {
			t.Errorf("%s last used %s, want %s", what, at(got), w.UTC().Format(time.RFC3339))
		}
	}
	got, err := s.GetAPIToken(ctx, o.ID, tok.ID)
	must(t, err)
	want("the token", got.LastUsedAt, later)
	if got.LastUsedOrigin != "https://app.example.com" {
		t.Errorf("the token's origin is %q", got.LastUsedOrigin)
	}
	got, err = s.GetAPIToken(ctx, o.ID, old.ID)
	must(t, err)
	want("the token used later before", got.LastUsedAt, base.Add(time.Hour))
	if got.LastUsedOrigin != "https://kept.example.com" {
		t.Errorf("an earlier use changed the origin to %q", got.LastUsedOrigin)
	}
	a, err := s.GetServiceAccount(ctx, o.ID, sa.ID)
	must(t, err)
	want("the account", a.LastUsedAt, later)
	a, err = s.GetServiceAccount(ctx, o.ID, other.ID)
	must(t, err)
	want("the account used later before", a.LastUsedAt, base.Add(time.Hour))
	keys, err := s.ListClientKeys(ctx, sa.ID)
	must(t, err)
	if len(keys) != 1 {
		t.Fatalf("%d keys", len(keys))
	}
	want("the key", keys[0].LastUsedAt, later)
	fcs, err := s.ListFederatedCredentials(ctx, sa.ID)
	must(t, err)
	if len(fcs) != 1 {
		t.Fatalf("%d federated credentials", len(fcs))
	}
	want("the federated credential", fcs[0].LastUsedAt, later)
}
