package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

func policyTests() []namedTest {
	return []namedTest{
		{"OrgPolicyRoundTrips", testOrgPolicyRoundTrips},
		{"PolicyViolations", testPolicyViolations},
	}
}

// testOrgPolicyRoundTrips: every policy setting is stored and read back,
// wherever an org is read (by ID, by slug, with a token).
func testOrgPolicyRoundTrips(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "strict")
	if o.Settings != (tollgate.OrgSettings{}) {
		t.Fatalf("a new org's settings: %+v", o.Settings)
	}
	o.Settings = tollgate.OrgSettings{TokenReuseFloorSeconds: 5, MaxTokenTTLSeconds: 600, APITokenMaxLifetimeSeconds: 86400,
		NoPublicTokens: true, NoUserTokenImport: true}
	must(t, s.UpdateOrg(ctx, o))
	byID, err := s.GetOrg(ctx, o.ID)
	must(t, err)
	bySlug, err := s.GetOrgBySlug(ctx, "strict")
	must(t, err)
	sa := mkServiceAccount(t, s, o, "bot", base)
	mkAPIToken(t, s, o, tollgate.PrincipalServiceAccount, sa.ID, tollgate.KindPrivate, "strict-secret", base)
	withToken, err := s.GetAccountTokenByHash(ctx, hash("strict-secret"))
	must(t, err)
	for _, got := range []tollgate.OrgSettings{byID.Settings, bySlug.Settings, withToken.Org.Settings} {
		if got != o.Settings {
			t.Errorf("settings read back: %+v, want %+v", got, o.Settings)
		}
	}
	o.Settings = tollgate.OrgSettings{}
	must(t, s.UpdateOrg(ctx, o))
	byID, err = s.GetOrg(ctx, o.ID)
	must(t, err)
	if byID.Settings != (tollgate.OrgSettings{}) {
		t.Fatalf("settings cleared: %+v", byID.Settings)
	}
}

// testPolicyViolations: each kind counts and lists the org's own live
// credentials that break it, oldest first, at most the limit; expired
// tokens and other orgs' credentials are left out.
func testPolicyViolations(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o, other := mkOrg(t, s, "audited"), mkOrg(t, s, "elsewhere")
	now := base.Add(time.Hour)
	u := mkUser(t, s, "imp@example.com")
	mkMember(t, s, o, u, tollgate.RoleAdmin, base)

	account := func(org *tollgate.Org, name string, ttl int, at time.Time) *tollgate.ServiceAccount {
		sa := &tollgate.ServiceAccount{ID: tollgate.NewID(tollgate.PrefixServiceAccount, at), OrgID: org.ID, Name: name,
			Email: tollgate.ServiceAccountEmail(name, org.Slug, "example.test"), Role: tollgate.RoleViewer,
			TokenTTLSeconds: ttl, Status: tollgate.StatusActive, CreatedAt: at, CreatedBy: "usr_x", ReuseAfter: at}
		must(t, s.CreateServiceAccount(ctx, sa))
		return sa
	}
	short := account(o, "short", 3600, base) // at the cap: no violation
	var long []string
	for i := range 3 {
		long = append(long, account(o, "long-"+string(rune('a'+i)), 3601, base.Add(time.Duration(i)*time.Second)).ID)
	}
	account(other, "long", 7200, base)
	foreign := account(other, "short", 300, base)

	token := func(name string, kind tollgate.TokenKind, ownerType tollgate.PrincipalType, owner string, at time.Time, expires *time.Time, org *tollgate.Org) string {
		tok := &tollgate.APIToken{ID: tollgate.NewID(tollgate.PrefixAPIToken, at), OrgID: org.ID, Name: name, Kind: kind, Domains: []string{},
			Role: tollgate.RoleViewer, OwnerType: ownerType, OwnerID: owner, Hash: hash(name), ExpiresAt: expires, CreatedAt: at, CreatedBy: "usr_x"}
		if kind == tollgate.KindPublic {
			tok.Domains = []string{"https://app.example.com"}
		}
		must(t, s.CreateAPIToken(ctx, tok))
		return tok.ID
	}
	ptr := func(t time.Time) *time.Time { return &t }
	forever := token("forever", tollgate.KindPrivate, tollgate.PrincipalServiceAccount, short.ID, base, nil, o)
	far := token("far", tollgate.KindPrivate, tollgate.PrincipalServiceAccount, short.ID, base.Add(time.Second), ptr(now.Add(48*time.Hour)), o)
	token("at-limit", tollgate.KindPrivate, tollgate.PrincipalServiceAccount, short.ID, base.Add(2*time.Second), ptr(now.Add(24*time.Hour)), o)
	token("near", tollgate.KindPrivate, tollgate.PrincipalServiceAccount, short.ID, base.Add(2*time.Second), ptr(now.Add(12*time.Hour)), o)
	public := token("public", tollgate.KindPublic, tollgate.PrincipalServiceAccount, short.ID, base.Add(3*time.Second), ptr(now.Add(time.Hour)), o)
	imported := token("imported", tollgate.KindPrivate, tollgate.PrincipalUser, u.ID, base.Add(4*time.Second), nil, o)
	token("expired-public", tollgate.KindPublic, tollgate.PrincipalServiceAccount, short.ID, base.Add(5*time.Second), ptr(now), o)
	token("theirs", tollgate.KindPublic, tollgate.PrincipalServiceAccount, foreign.ID, base, nil, other)

	policy := tollgate.OrgSettings{MaxTokenTTLSeconds: 3600, APITokenMaxLifetimeSeconds: 86400, NoPublicTokens: true, NoUserTokenImport: true}
	rules := policy.ViolationQueries(now)
	got, err := s.FindPolicyViolations(ctx, o.ID, rules, now, 2)
	must(t, err)
	want := []struct {
		kind  tollgate.ViolationKind
		count int
		ids   []string
	}{
		{tollgate.ViolationTokenTTLAbove, 3, long[:2]},
		{tollgate.ViolationNoExpiry, 2, []string{forever, imported}},
		{tollgate.ViolationExpiresTooLate, 1, []string{far}},
		{tollgate.ViolationPublicToken, 1, []string{public}},
		{tollgate.ViolationUserOwnedToken, 1, []string{imported}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d kinds, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		var ids []string
		for _, p := range got[i].Samples {
			ids = append(ids, p.ID)
		}
		if got[i].Rule != w.kind || got[i].Count != w.count || !slices.Equal(ids, w.ids) {
			t.Errorf("%s: count %d %v, want %d %v", w.kind, got[i].Count, ids, w.count, w.ids)
		}
	}
	// Nothing breaks an empty policy.
	none, err := s.FindPolicyViolations(ctx, o.ID, tollgate.OrgSettings{}.ViolationQueries(now), now, 2)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("violations of no policy: %+v", none)
	}
}
