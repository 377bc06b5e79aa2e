package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

func searchTests() []namedTest {
	return []namedTest{
		{"ServiceAccountSearch", testServiceAccountSearch},
		{"APITokenSearch", testAPITokenSearch},
		{"MemberSearch", testMemberSearch},
	}
}

// pageAll pages through a list with pages of limit items and returns
// what each item's key says, in order: the search's order and paging both
// show in it.
func pageAll[T any](t *testing.T, limit int, list func(tollgate.Page) ([]T, string, error), key func(*T) string) []string {
	t.Helper()
	var got []string
	cursor := ""
	for range 100 {
		items, next, err := list(tollgate.Page{Limit: limit, Cursor: cursor})
		must(t, err)
		if len(items) > limit {
			t.Fatalf("a page of %d holds %d", limit, len(items))
		}
		for i := range items {
			got = append(got, key(&items[i]))
		}
		if next == "" {
			return got
		}
		cursor = next
	}
	t.Fatal("pagination does not end")
	return nil
}

// searchCase is a search (a query, or a filter with one) and the names
// it finds, in order.
type searchCase[Q any] struct {
	q    Q
	want []string
}

// wantSearches runs each case's search by pages of 1, 2 and 50 items:
// every page size finds the same names in the same order.
func wantSearches[Q any](t *testing.T, search func(q Q, limit int) []string, cases []searchCase[Q]) {
	t.Helper()
	for _, c := range cases {
		for _, limit := range []int{1, 2, 50} {
			if got := search(c.q, limit); !slices.Equal(got, c.want) {
				t.Fatalf("search %+v by pages of %d = %v, want %v", c.q, limit, got, c.want)
			}
		}
	}
}

func testServiceAccountSearch(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o, other := mkOrg(t, s, "acme"), mkOrg(t, s, "other")
	for i, name := range []string{"deploy-bot", "Deploy-Api", "DEPLOYER", "builder", "de", "dz", "e"} {
		mkServiceAccount(t, s, o, name, base.Add(time.Duration(i)*time.Second))
	}
	mkServiceAccount(t, s, other, "deploy-x", base)
	search := func(q string, limit int) []string {
		return pageAll(t, limit, func(p tollgate.Page) ([]tollgate.ServiceAccount, string, error) {
			return s.ListServiceAccounts(ctx, o.ID, tollgate.ServiceAccountFilter{Query: q}, p)
		}, func(sa *tollgate.ServiceAccount) string { return sa.Name })
	}
	wantSearches(t, search, []searchCase[string]{
		{"deploy", []string{"Deploy-Api", "deploy-bot", "DEPLOYER"}}, // in folded name order, across pages
		{"DePlOy-", []string{"Deploy-Api", "deploy-bot"}},            // ASCII case is ignored
		{"d", []string{"de", "Deploy-Api", "deploy-bot", "DEPLOYER", "dz"}},
		{"deployer", []string{"DEPLOYER"}},
		{"deployers", nil},
		{"x", nil},
		{"deploy-bot@acme.example", []string{"deploy-bot"}}, // an email prefix
		{"DEPLOY-BOT@ACME.EXAMPLE.TEST", []string{"deploy-bot"}},
		{"deploy@acme", nil},
		{"deploy-bot@other", nil},
		{"@acme", nil},
	})
	// A cursor belongs to its order: a search's cursor does not page the
	// list in creation order, nor the other way round.
	_, next, err := s.ListServiceAccounts(ctx, o.ID, tollgate.ServiceAccountFilter{Query: "d"}, tollgate.Page{Limit: 1})
	must(t, err)
	_, _, err = s.ListServiceAccounts(ctx, o.ID, tollgate.ServiceAccountFilter{}, tollgate.Page{Limit: 1, Cursor: next})
	wantCode(t, err, tollgate.EInvalid)
	_, next, err = s.ListServiceAccounts(ctx, o.ID, tollgate.ServiceAccountFilter{}, tollgate.Page{Limit: 1})
	must(t, err)
	_, _, err = s.ListServiceAccounts(ctx, o.ID, tollgate.ServiceAccountFilter{Query: "d"}, tollgate.Page{Limit: 1, Cursor: next})
	wantCode(t, err, tollgate.EInvalid)
}

func testAPITokenSearch(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o, other := mkOrg(t, s, "acme"), mkOrg(t, s, "other")
	sa1, sa2 := mkServiceAccount(t, s, o, "one", base), mkServiceAccount(t, s, o, "two", base)
	mkNamed := func(org *tollgate.Org, owner, name string, kind tollgate.TokenKind, i int) {
		tok := mkAPIToken(t, s, org, tollgate.PrincipalServiceAccount, owner, kind, fmt.Sprint(org.Slug, i), base.Add(time.Duration(i)*time.Second))
		tok.Name = name
		must(t, s.UpdateAPIToken(ctx, tok))
	}
	for i, name := range []string{"prod-api", "Prod key", "staging", "Éclair", "éclair", "PRODIGY", "pro"} {
		owner, kind := sa1.ID, tollgate.KindPrivate
		if i%2 == 1 {
			owner, kind = sa2.ID, tollgate.KindPublic
		}
		mkNamed(o, owner, name, kind, i)
	}
	mkNamed(other, mkServiceAccount(t, s, other, "x", base).ID, "prod-other", tollgate.KindPrivate, 0)
	search := func(f tollgate.APITokenFilter, limit int) []string {
		return pageAll(t, limit, func(p tollgate.Page) ([]tollgate.APITokenView, string, error) {
			return s.ListAPITokens(ctx, o.ID, f, p)
		}, func(tok *tollgate.APITokenView) string { return tok.Name })
	}
	wantSearches(t, search, []searchCase[tollgate.APITokenFilter]{
		// Folded names in byte order: ' ' < '-' < 'i'.
		{tollgate.APITokenFilter{Query: "prod"}, []string{"Prod key", "prod-api", "PRODIGY"}},
		{tollgate.APITokenFilter{Query: "PROD"}, []string{"Prod key", "prod-api", "PRODIGY"}},
		{tollgate.APITokenFilter{Query: "pro"}, []string{"pro", "Prod key", "prod-api", "PRODIGY"}},
		{tollgate.APITokenFilter{Query: "pro", OwnerID: sa1.ID}, []string{"pro", "prod-api"}},
		{tollgate.APITokenFilter{Query: "prod", Kind: tollgate.KindPublic}, []string{"Prod key", "PRODIGY"}},
		{tollgate.APITokenFilter{Query: "prod", OwnerID: sa2.ID, Kind: tollgate.KindPrivate}, nil},
		// Only ASCII letters fold: É and é are different letters here.
		{tollgate.APITokenFilter{Query: "Éc"}, []string{"Éclair"}},
		{tollgate.APITokenFilter{Query: "éCL"}, []string{"éclair"}},
		{tollgate.APITokenFilter{Query: "zzz"}, nil},
	})
	_, next, err := s.ListAPITokens(ctx, o.ID, tollgate.APITokenFilter{Query: "p"}, tollgate.Page{Limit: 1})
	must(t, err)
	_, _, err = s.ListAPITokens(ctx, o.ID, tollgate.APITokenFilter{}, tollgate.Page{Limit: 1, Cursor: next})
	wantCode(t, err, tollgate.EInvalid)
}

func testMemberSearch(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o, other := mkOrg(t, s, "acme"), mkOrg(t, s, "other")
	named := func(email, name string) *tollgate.User {
		u := &tollgate.User{ID: tollgate.NewID(tollgate.PrefixUser, base), Email: email, Name: name, PasswordHash: "h", CreatedAt: base}
		must(t, s.CreateUser(ctx, u))
		return u
	}
	for i, u := range []*tollgate.User{
		named("alice@example.com", "Zed Alpha"),
		named("bob@example.com", "Alice Smith"),
		named("carol@other.com", "Carol"),
		named("aline@example.com", "Aline"),
	} {
		mkMember(t, s, o, u, tollgate.RoleViewer, base.Add(time.Duration(-i)*time.Second))
	}
	mkMember(t, s, other, named("alina@example.com", "Alina"), tollgate.RoleViewer, base) // of the other org
	search := func(q string, limit int) []string {
		return pageAll(t, limit, func(p tollgate.Page) ([]tollgate.MemberView, string, error) {
			return s.ListMembers(ctx, o.ID, tollgate.MemberFilter{Query: q}, p)
		}, func(m *tollgate.MemberView) string { return m.Email })
	}
	wantSearches(t, search, []searchCase[string]{
		// By email or by name, in email order.
		{"ali", []string{"alice@example.com", "aline@example.com", "bob@example.com"}},
		{"ALICE", []string{"alice@example.com", "bob@example.com"}},
		{"zed", []string{"alice@example.com"}},
		{"carol@", []string{"carol@other.com"}},
		{"alina", nil},
		{"q", nil},
	})
	_, next, err := s.ListMembers(ctx, o.ID, tollgate.MemberFilter{Query: "a"}, tollgate.Page{Limit: 1})
	must(t, err)
	_, _, err = s.ListMembers(ctx, o.ID, tollgate.MemberFilter{}, tollgate.Page{Limit: 1, Cursor: next})
	wantCode(t, err, tollgate.EInvalid)
}
