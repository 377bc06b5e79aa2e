// Package storetest is the conformance suite every tollgate.Store
// implementation runs: one contract, checked the same way on SQLite and on
// PostgreSQL. A backend's test calls Run with a function that returns a
// fresh, migrated, empty store.
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

// Run runs the whole suite. newStore must return an empty, migrated store
// that the suite may use alone; it is called once per subtest.
func Run(t *testing.T, newStore func(t *testing.T) tollgate.Store) {
	tests := []namedTest{
		{"Orgs", testOrgs},
		{"Users", testUsers},
		{"Members", testMembers},
		{"TenantIsolation", testTenantIsolation},
		{"RemovingAMemberKeepsTheRest", testRemoveMemberKeepsRest},
		{"ForeignKeys", testForeignKeys},
		{"MemberPagination", testMemberPagination},
		{"Invitations", testInvitations},
		{"Sessions", testSessions},
		{"AuditEvents", testAuditEvents},
		{"AuditPagination", testAuditPagination},
		{"TimesRoundTripInUTC", testTimes},
		{"TxRollsBack", testTxRollback},
		{"ConcurrentUpdatesAreSerialized", testConcurrentUpdates},
		{"ConcurrentInsertsConflict", testConcurrentInserts},
		{"BroadcastIsLocalAtOnce", testBroadcastIsLocalAtOnce},
	}
	tests = append(tests, serviceAccountTests()...)
	tests = append(tests, apiTokenTests()...)
	tests = append(tests, secretlessTests()...)
	tests = append(tests, deviceTests()...)
	tests = append(tests, bulkTests()...)
	tests = append(tests, searchTests()...)
	tests = append(tests, policyTests()...)
	tests = append(tests, webhookTests()...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

type namedTest struct {
	name string
	fn   func(t *testing.T, s tollgate.Store)
}

// base is an arbitrary fixed instant, so that tests do not depend on the
// wall clock.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := tollgate.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mkOrg(t *testing.T, s tollgate.Store, slug string) *tollgate.Org {
	t.Helper()
	o := &tollgate.Org{ID: tollgate.NewID(tollgate.PrefixOrg, base), Slug: slug, Name: "Org " + slug, CreatedAt: base}
	must(t, s.CreateOrg(t.Context(), o))
	return o
}

func mkUser(t *testing.T, s tollgate.Store, email string) *tollgate.User {
	t.Helper()
	u := &tollgate.User{ID: tollgate.NewID(tollgate.PrefixUser, base), Email: email, Name: "User " + email,
		PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", CreatedAt: base}
	must(t, s.CreateUser(t.Context(), u))
	return u
}

func mkMember(t *testing.T, s tollgate.Store, o *tollgate.Org, u *tollgate.User, role tollgate.Role, at time.Time) {
	t.Helper()
	must(t, s.CreateMember(t.Context(), &tollgate.Member{OrgID: o.ID, UserID: u.ID, Role: role, JoinedAt: at}))
}

func testOrgs(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	got, err := s.GetOrg(ctx, o.ID)
	must(t, err)
	if got.Slug != "acme" || got.Name != o.Name || !got.CreatedAt.Equal(tollgate.Timestamp(base)) {
		t.Fatalf("GetOrg = %+v, want %+v", got, o)
	}
	got, err = s.GetOrgBySlug(ctx, "acme")
	must(t, err)
	if got.ID != o.ID {
		t.Fatalf("GetOrgBySlug ID = %s, want %s", got.ID, o.ID)
	}
	_, err = s.GetOrg(ctx, "org_missing")
	wantCode(t, err, tollgate.ENotFound)
	_, err = s.GetOrgBySlug(ctx, "missing")
	wantCode(t, err, tollgate.ENotFound)

	dup := &tollgate.Org{ID: tollgate.NewID(tollgate.PrefixOrg, base), Slug: "acme", Name: "Other", CreatedAt: base}
	wantCode(t, s.CreateOrg(ctx, dup), tollgate.EConflict)

	o.Name = "Acme Corporation"
	o.Settings.TokenReuseFloorSeconds = 60
	must(t, s.UpdateOrg(ctx, o))
	got, err = s.GetOrg(ctx, o.ID)
	must(t, err)
	if got.Name != "Acme Corporation" || got.Settings.TokenReuseFloorSeconds != 60 {
		t.Fatalf("after update: %+v", got)
	}
	wantCode(t, s.UpdateOrg(ctx, &tollgate.Org{ID: "org_missing", Name: "x"}), tollgate.ENotFound)
}

func testUsers(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	exists, err := s.HasUsers(ctx)
	must(t, err)
	if exists {
		t.Fatal("HasUsers on an empty store")
	}
	u := mkUser(t, s, "ada@example.com")
	u2 := &tollgate.User{ID: tollgate.NewID(tollgate.PrefixUser, base), Email: "root@example.com", Name: "Root",
		PasswordHash: "h", PlatformAdmin: true, CreatedAt: base}
	must(t, s.CreateUser(ctx, u2))
	got, err := s.GetUserByEmail(ctx, "ada@example.com")
	must(t, err)
	if got.ID != u.ID || got.PasswordHash != u.PasswordHash || got.PlatformAdmin {
		t.Fatalf("GetUserByEmail = %+v", got)
	}
	got, err = s.GetUser(ctx, u2.ID)
	must(t, err)
	if !got.PlatformAdmin {
		t.Fatal("PlatformAdmin did not round-trip")
	}
	_, err = s.GetUser(ctx, "usr_missing")
	wantCode(t, err, tollgate.ENotFound)
	_, err = s.GetUserByEmail(ctx, "nobody@example.com")
	wantCode(t, err, tollgate.ENotFound)
	dup := &tollgate.User{ID: tollgate.NewID(tollgate.PrefixUser, base), Email: "ada@example.com", Name: "x", PasswordHash: "h", CreatedAt: base}
	wantCode(t, s.CreateUser(ctx, dup), tollgate.EConflict)
	if exists, err := s.HasUsers(ctx); err != nil || !exists {
		t.Fatalf("HasUsers with two users = %v, %v", exists, err)
	}
}

func testMembers(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	u := mkUser(t, s, "ada@example.com")
	mkMember(t, s, o, u, tollgate.RoleSuperAdmin, base)
	wantCode(t, s.CreateMember(ctx, &tollgate.Member{OrgID: o.ID, UserID: u.ID, Role: tollgate.RoleViewer, JoinedAt: base}), tollgate.EConflict)

	m, err := s.GetMember(ctx, o.ID, u.ID)
	must(t, err)
	if m.Role != tollgate.RoleSuperAdmin {
		t.Fatalf("role = %s", m.Role)
	}
	v, err := s.GetMemberView(ctx, o.ID, u.ID)
	must(t, err)
	if v.Email != u.Email || v.Name != u.Name || v.Role != tollgate.RoleSuperAdmin || v.OwnedTokenCount != 0 {
		t.Fatalf("GetMemberView = %+v", v)
	}
	n, err := s.CountMembersWithRole(ctx, o.ID, tollgate.RoleSuperAdmin)
	must(t, err)
	if n != 1 {
		t.Fatalf("super admins = %d", n)
	}
	must(t, s.UpdateMemberRole(ctx, o.ID, u.ID, tollgate.RoleViewer))
	m, err = s.GetMember(ctx, o.ID, u.ID)
	must(t, err)
	if m.Role != tollgate.RoleViewer {
		t.Fatalf("role after update = %s", m.Role)
	}
	wantCode(t, s.UpdateMemberRole(ctx, o.ID, "usr_missing", tollgate.RoleViewer), tollgate.ENotFound)

	o2 := mkOrg(t, s, "beta")
	mkMember(t, s, o2, u, tollgate.RoleAdmin, base)
	ms, err := s.ListMemberships(ctx, u.ID)
	must(t, err)
	if len(ms) != 2 || ms[0].OrgSlug != "acme" || ms[0].Role != tollgate.RoleViewer || ms[1].OrgSlug != "beta" || ms[1].Role != tollgate.RoleAdmin {
		t.Fatalf("ListMemberships = %+v", ms)
	}

	must(t, s.DeleteMember(ctx, o.ID, u.ID))
	_, err = s.GetMember(ctx, o.ID, u.ID)
	wantCode(t, err, tollgate.ENotFound)
	wantCode(t, s.DeleteMember(ctx, o.ID, u.ID), tollgate.ENotFound)
}

func testTenantIsolation(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	a, b := mkOrg(t, s, "alpha"), mkOrg(t, s, "bravo")
	ua, ub := mkUser(t, s, "a@example.com"), mkUser(t, s, "b@example.com")
	mkMember(t, s, a, ua, tollgate.RoleSuperAdmin, base)
	mkMember(t, s, b, ub, tollgate.RoleSuperAdmin, base)

	_, err := s.GetMember(ctx, b.ID, ua.ID)
	wantCode(t, err, tollgate.ENotFound)
	_, err = s.GetMemberView(ctx, b.ID, ua.ID)
	wantCode(t, err, tollgate.ENotFound)
	wantCode(t, s.UpdateMemberRole(ctx, b.ID, ua.ID, tollgate.RoleViewer), tollgate.ENotFound)
	wantCode(t, s.DeleteMember(ctx, b.ID, ua.ID), tollgate.ENotFound)

	list, _, err := s.ListMembers(ctx, b.ID, tollgate.MemberFilter{}, tollgate.Page{Limit: 50})
	must(t, err)
	if len(list) != 1 || list[0].UserID != ub.ID {
		t.Fatalf("org b lists %+v", list)
	}
	for _, org := range []*tollgate.Org{a, b} {
		must(t, s.AppendAuditEvent(ctx, &tollgate.AuditEvent{ID: tollgate.NewID(tollgate.PrefixAuditEvent, base), Time: base,
			OrgID: org.ID, Actor: tollgate.Principal{Type: "user", ID: "usr_x", Name: "x"}, Action: "org.created",
			Target: tollgate.Principal{Type: "org", ID: org.ID, Name: org.Slug}}))
	}
	evs, _, err := s.ListAuditEvents(ctx, a.ID, tollgate.AuditFilter{}, tollgate.Page{Limit: 50})
	must(t, err)
	if len(evs) != 1 || evs[0].OrgID != a.ID {
		t.Fatalf("org a sees events %+v", evs)
	}
	// The role update on org b must not have touched org a.
	m, err := s.GetMember(ctx, a.ID, ua.ID)
	must(t, err)
	if m.Role != tollgate.RoleSuperAdmin {
		t.Fatalf("org a's member changed by an update on org b: %s", m.Role)
	}
}

func testRemoveMemberKeepsRest(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	a, b := mkOrg(t, s, "alpha"), mkOrg(t, s, "bravo")
	u := mkUser(t, s, "a@example.com")
	mkMember(t, s, a, u, tollgate.RoleMember, base)
	mkMember(t, s, b, u, tollgate.RoleMember, base)
	sess := mkSession(hash("s1"), u.ID, tollgate.SessionBrowser, base, base.Add(time.Hour))
	must(t, s.CreateSession(ctx, sess))
	ev := &tollgate.AuditEvent{ID: tollgate.NewID(tollgate.PrefixAuditEvent, base), Time: base, OrgID: a.ID,
		Actor: tollgate.Principal{Type: "user", ID: u.ID}, Action: "member.joined", Target: tollgate.Principal{Type: "user", ID: u.ID}}
	must(t, s.AppendAuditEvent(ctx, ev))

	must(t, s.DeleteMember(ctx, a.ID, u.ID))
	if _, err := s.GetUser(ctx, u.ID); err != nil {
		t.Fatalf("user gone with the membership: %v", err)
	}
	if _, err := s.GetMember(ctx, b.ID, u.ID); err != nil {
		t.Fatalf("other org's membership gone: %v", err)
	}
	if _, err := s.GetSession(ctx, sess.IDHash); err != nil {
		t.Fatalf("session gone: %v", err)
	}
	evs, _, err := s.ListAuditEvents(ctx, a.ID, tollgate.AuditFilter{TargetID: u.ID}, tollgate.Page{Limit: 10})
	must(t, err)
	if len(evs) != 1 {
		t.Fatalf("audit history of the removed member: %d events, want 1", len(evs))
	}
}

func testForeignKeys(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	u := mkUser(t, s, "a@example.com")
	wantCode(t, s.CreateMember(ctx, &tollgate.Member{OrgID: "org_missing", UserID: u.ID, Role: tollgate.RoleViewer, JoinedAt: base}), tollgate.ENotFound)
	wantCode(t, s.CreateMember(ctx, &tollgate.Member{OrgID: o.ID, UserID: "usr_missing", Role: tollgate.RoleViewer, JoinedAt: base}), tollgate.ENotFound)
	wantCode(t, s.CreateSession(ctx, mkSession(hash("x"), "usr_missing", tollgate.SessionBrowser, base, base)), tollgate.ENotFound)
	wantCode(t, s.CreateInvitation(ctx, &tollgate.Invitation{ID: tollgate.NewID(tollgate.PrefixInvitation, base), OrgID: "org_missing",
		Email: "x@example.com", Role: tollgate.RoleViewer, TokenHash: hash("t"), CreatedBy: u.ID, CreatedAt: base, ExpiresAt: base}), tollgate.ENotFound)
}

func testMemberPagination(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	// Seven members, some joining at the same microsecond: the user ID
	// breaks the tie.
	var want []string
	for i := range 7 {
		u := mkUser(t, s, fmt.Sprintf("u%d@example.com", i))
		mkMember(t, s, o, u, tollgate.RoleViewer, base.Add(time.Duration(i/2)*time.Second))
		want = append(want, u.ID)
	}
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		items, next, err := s.ListMembers(ctx, o.ID, tollgate.MemberFilter{}, tollgate.Page{Limit: 3, Cursor: cursor})
		must(t, err)
		for _, m := range items {
			got = append(got, m.UserID)
		}
		if page == 0 {
			// A member who joins while the client pages must not shift
			// the pages: they appear at the end.
			late := mkUser(t, s, "late@example.com")
			mkMember(t, s, o, late, tollgate.RoleViewer, base.Add(time.Hour))
			want = append(want, late.ID)
		}
		if next == "" {
			break
		}
		if page > 10 {
			t.Fatal("pagination does not end")
		}
		cursor = next
	}
	if len(got) != len(want) {
		t.Fatalf("paged %d members, want %d", len(got), len(want))
	}
	// Order is by join time, ties by user ID: sort want the same way.
	for i := range want {
		if got[i] != sortedByJoin(want)[i] {
			t.Fatalf("page order %v, want %v", got, sortedByJoin(want))
		}
	}
}

// sortedByJoin orders the IDs made by testMemberPagination: pairs share a
// join time, so within a pair the smaller ID comes first.
func sortedByJoin(ids []string) []string {
	out := append([]string(nil), ids...)
	for i := 0; i+1 < len(out)-1; i += 2 {
		if out[i] > out[i+1] {
			out[i], out[i+1] = out[i+1], out[i]
		}
	}
	return out
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func testInvitations(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	u := mkUser(t, s, "a@example.com")
	inv := &tollgate.Invitation{ID: tollgate.NewID(tollgate.PrefixInvitation, base), OrgID: o.ID, Email: "new@example.com",
		Role: tollgate.RoleMember, TokenHash: hash("one"), CreatedBy: u.ID, CreatedAt: base, ExpiresAt: base.Add(tollgate.InvitationTTL)}
	must(t, s.CreateInvitation(ctx, inv))
	got, err := s.GetInvitationByTokenHash(ctx, hash("one"))
	must(t, err)
	if got.ID != inv.ID || got.Role != tollgate.RoleMember || got.AcceptedAt != nil || !got.ExpiresAt.Equal(inv.ExpiresAt) {
		t.Fatalf("GetInvitationByTokenHash = %+v", got)
	}
	// A second invitation for the same email replaces the pending one.
	inv2 := *inv
	inv2.ID, inv2.TokenHash, inv2.Role = tollgate.NewID(tollgate.PrefixInvitation, base), hash("two"), tollgate.RoleAdmin
	must(t, s.CreateInvitation(ctx, &inv2))
	_, err = s.GetInvitationByTokenHash(ctx, hash("one"))
	wantCode(t, err, tollgate.ENotFound)

	must(t, s.AcceptInvitation(ctx, inv2.ID, base.Add(time.Minute)))
	wantCode(t, s.AcceptInvitation(ctx, inv2.ID, base.Add(2*time.Minute)), tollgate.EConflict)
	wantCode(t, s.AcceptInvitation(ctx, "inv_missing", base), tollgate.ENotFound)
	got, err = s.GetInvitationByTokenHash(ctx, hash("two"))
	must(t, err)
	if got.AcceptedAt == nil || !got.AcceptedAt.Equal(tollgate.Timestamp(base.Add(time.Minute))) {
		t.Fatalf("AcceptedAt = %v", got.AcceptedAt)
	}
	// An accepted invitation is history: a new invitation does not erase it.
	inv3 := *inv
	inv3.ID, inv3.TokenHash = tollgate.NewID(tollgate.PrefixInvitation, base), hash("three")
	must(t, s.CreateInvitation(ctx, &inv3))
	if _, err := s.GetInvitationByTokenHash(ctx, hash("two")); err != nil {
		t.Fatalf("accepted invitation erased: %v", err)
	}
}

// mkSession returns a session of kind, last seen at seen, with a fresh
// public ID.
func mkSession(idHash []byte, userID string, kind tollgate.SessionKind, seen, expires time.Time) *tollgate.Session {
	return &tollgate.Session{IDHash: idHash, ID: tollgate.NewID(tollgate.PrefixSession, base), UserID: userID, Kind: kind,
		IP: "192.0.2.7", UserAgent: "agent/1", CreatedAt: base, LastSeenAt: seen, ExpiresAt: expires}
}

func testSessions(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	u := mkUser(t, s, "a@example.com")
	other := mkUser(t, s, "b@example.com")
	live := mkSession(hash("live"), u.ID, tollgate.SessionBrowser, base, base.Add(24*time.Hour))
	idle := mkSession(hash("idle"), u.ID, tollgate.SessionBrowser, base.Add(-3*time.Hour), base.Add(24*time.Hour))
	old := mkSession(hash("old"), u.ID, tollgate.SessionBrowser, base, base.Add(-time.Second))
	// A CLI session unused for as long as the idle one is kept: it has
	// no idle rule, only its absolute expiry.
	cli := mkSession(hash("cli"), u.ID, tollgate.SessionCLI, base.Add(-3*time.Hour), base.Add(24*time.Hour))
	cli.CreatedAt = base.Add(time.Second) // the newest
	theirs := mkSession(hash("theirs"), other.ID, tollgate.SessionCLI, base, base.Add(24*time.Hour))
	for _, x := range []*tollgate.Session{live, idle, old, cli, theirs} {
		must(t, s.CreateSession(ctx, x))
	}
	wantCode(t, s.CreateSession(ctx, live), tollgate.EConflict)
	dupID := mkSession(hash("dup"), u.ID, tollgate.SessionBrowser, base, base.Add(time.Hour))
	dupID.ID = live.ID
	wantCode(t, s.CreateSession(ctx, dupID), tollgate.EConflict)
	must(t, s.TouchSession(ctx, live.IDHash, base.Add(time.Minute)))
	got, err := s.GetSession(ctx, live.IDHash)
	must(t, err)
	if got.UserID != u.ID || got.ID != live.ID || got.Kind != tollgate.SessionBrowser || got.IP != "192.0.2.7" || got.UserAgent != "agent/1" ||
		!got.LastSeenAt.Equal(tollgate.Timestamp(base.Add(time.Minute))) {
		t.Fatalf("GetSession = %+v", got)
	}
	if got, err := s.GetSession(ctx, cli.IDHash); err != nil || got.Kind != tollgate.SessionCLI {
		t.Fatalf("GetSession(cli) = %+v, %v", got, err)
	}
	n, err := s.DeleteSessionsBefore(ctx, base, base.Add(-time.Hour))
	must(t, err)
	if n != 2 {
		t.Fatalf("DeleteSessionsBefore removed %d, want 2 (idle and expired browsers)", n)
	}
	list, err := s.ListSessions(ctx, u.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != cli.ID || list[1].ID != live.ID {
		t.Fatalf("ListSessions = %+v, want the CLI session then the live one (newest first)", list)
	}
	// Revoking by public ID is scoped to the owner.
	wantCode(t, s.DeleteSessionByID(ctx, u.ID, theirs.ID), tollgate.ENotFound)
	if _, err := s.GetSession(ctx, theirs.IDHash); err != nil {
		t.Fatalf("another user's session was deleted: %v", err)
	}
	must(t, s.DeleteSessionByID(ctx, u.ID, cli.ID))
	wantCode(t, s.DeleteSessionByID(ctx, u.ID, cli.ID), tollgate.ENotFound)
	_, err = s.GetSession(ctx, cli.IDHash)
	wantCode(t, err, tollgate.ENotFound)

	must(t, s.DeleteSession(ctx, live.IDHash))
	_, err = s.GetSession(ctx, live.IDHash)
	wantCode(t, err, tollgate.ENotFound)
	wantCode(t, s.DeleteSession(ctx, live.IDHash), tollgate.ENotFound)
	wantCode(t, s.TouchSession(ctx, live.IDHash, base), tollgate.ENotFound)
}

func testAuditEvents(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	mk := func(i int, actor, action, target string) *tollgate.AuditEvent {
		e := &tollgate.AuditEvent{ID: tollgate.NewID(tollgate.PrefixAuditEvent, base), Time: base.Add(time.Duration(i) * time.Minute), OrgID: o.ID,
			Actor: tollgate.Principal{Type: "user", ID: actor, Name: actor + " name"}, Action: action,
			Target: tollgate.Principal{Type: "user", ID: target, Name: target + " name"}, IP: "192.0.2.1", UserAgent: "ua/1",
			Details: map[string]any{"role": "admin", "n": float64(i)}}
		must(t, s.AppendAuditEvent(ctx, e))
		return e
	}
	e0 := mk(0, "usr_a", "member.invited", "usr_b")
	e1 := mk(1, "usr_a", "member.role_changed", "usr_c")
	e2 := mk(2, "usr_b", "member.role_changed", "usr_c")
	// An event of no org is never listed.
	must(t, s.AppendAuditEvent(ctx, &tollgate.AuditEvent{ID: tollgate.NewID(tollgate.PrefixAuditEvent, base), Time: base,
		Actor: tollgate.Principal{Type: "anonymous", Name: "x@example.com"}, Action: "session.failed"}))

	ids := func(evs []tollgate.AuditEvent) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.ID)
		}
		return out
	}
	cases := []struct {
		name string
		f    tollgate.AuditFilter
		want []string
	}{
		{"all newest first", tollgate.AuditFilter{}, []string{e2.ID, e1.ID, e0.ID}},
		{"actor", tollgate.AuditFilter{ActorID: "usr_a"}, []string{e1.ID, e0.ID}},
		{"action", tollgate.AuditFilter{Action: "member.role_changed"}, []string{e2.ID, e1.ID}},
		{"target", tollgate.AuditFilter{TargetID: "usr_b"}, []string{e0.ID}},
		{"since inclusive", tollgate.AuditFilter{Since: e1.Time}, []string{e2.ID, e1.ID}},
		{"until exclusive", tollgate.AuditFilter{Until: e1.Time}, []string{e0.ID}},
		{"combined", tollgate.AuditFilter{ActorID: "usr_a", Action: "member.role_changed", Since: base}, []string{e1.ID}},
		{"none", tollgate.AuditFilter{ActorID: "usr_z"}, nil},
	}
	for _, c := range cases {
		evs, next, err := s.ListAuditEvents(ctx, o.ID, c.f, tollgate.Page{Limit: 50})
		must(t, err)
		if got := ids(evs); fmt.Sprint(got) != fmt.Sprint(c.want) || next != "" {
			t.Errorf("%s: got %v (next %q), want %v", c.name, got, next, c.want)
		}
	}
	evs, _, err := s.ListAuditEvents(ctx, o.ID, tollgate.AuditFilter{TargetID: "usr_b"}, tollgate.Page{Limit: 1})
	must(t, err)
	got := evs[0]
	if got.Actor != e0.Actor || got.Target != e0.Target || got.IP != "192.0.2.1" || got.UserAgent != "ua/1" ||
		got.Details["role"] != "admin" || got.Details["n"] != float64(0) || !got.Time.Equal(tollgate.Timestamp(e0.Time)) {
		t.Fatalf("event round trip: %+v, want %+v", got, e0)
	}
}

func testAuditPagination(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	seen := map[string]bool{}
	var all []string
	for i := range 9 {
		e := &tollgate.AuditEvent{ID: tollgate.NewID(tollgate.PrefixAuditEvent, base), Time: base.Add(time.Duration(i/3) * time.Second),
			OrgID: o.ID, Actor: tollgate.Principal{Type: "user", ID: "usr_a"}, Action: "x.y"}
		must(t, s.AppendAuditEvent(ctx, e))
		all = append(all, e.ID)
	}
	var prev *tollgate.AuditEvent
	cursor := ""
	for pages := 0; ; pages++ {
		evs, next, err := s.ListAuditEvents(ctx, o.ID, tollgate.AuditFilter{}, tollgate.Page{Limit: 4, Cursor: cursor})
		must(t, err)
		for i := range evs {
			e := evs[i]
			if seen[e.ID] {
				t.Fatalf("event %s on two pages", e.ID)
			}
			seen[e.ID] = true
			if prev != nil && (e.Time.After(prev.Time) || (e.Time.Equal(prev.Time) && e.ID > prev.ID)) {
				t.Fatalf("not newest first: %v/%s after %v/%s", e.Time, e.ID, prev.Time, prev.ID)
			}
			prev = &e
		}
		if pages == 0 {
			// A newer event arriving meanwhile does not disturb older pages.
			must(t, s.AppendAuditEvent(ctx, &tollgate.AuditEvent{ID: tollgate.NewID(tollgate.PrefixAuditEvent, base),
				Time: base.Add(time.Hour), OrgID: o.ID, Actor: tollgate.Principal{Type: "user", ID: "usr_a"}, Action: "x.y"}))
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != len(all) {
		t.Fatalf("paged %d events, want %d", len(seen), len(all))
	}
	_, _, err := s.ListAuditEvents(ctx, o.ID, tollgate.AuditFilter{}, tollgate.Page{Limit: 4, Cursor: "garbage!"})
	wantCode(t, err, tollgate.EInvalid)
}

func testTimes(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	zone := time.FixedZone("UTC-7", -7*3600)
	in := time.Date(2026, 7, 1, 23, 59, 59, 123456789, zone) // nanoseconds and a zone
	o := &tollgate.Org{ID: tollgate.NewID(tollgate.PrefixOrg, base), Slug: "zone", Name: "Zone", CreatedAt: tollgate.Timestamp(in)}
	must(t, s.CreateOrg(ctx, o))
	got, err := s.GetOrg(ctx, o.ID)
	must(t, err)
	want := time.Date(2026, 7, 2, 6, 59, 59, 123456000, time.UTC)
	if !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC || got.CreatedAt != want {
		t.Fatalf("CreatedAt = %v (%v), want %v in UTC", got.CreatedAt, got.CreatedAt.Location(), want)
	}
}

var errRollback = errors.New("roll back")

func testTxRollback(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	err := s.InTx(ctx, func(q tollgate.Queries) error {
		o := &tollgate.Org{ID: tollgate.NewID(tollgate.PrefixOrg, base), Slug: "ghost", Name: "Ghost", CreatedAt: base}
		if err := q.CreateOrg(ctx, o); err != nil {
			return err
		}
		if _, err := q.GetOrgBySlug(ctx, "ghost"); err != nil {
			return fmt.Errorf("own write not visible inside the transaction: %w", err)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	_, err = s.GetOrgBySlug(ctx, "ghost")
	wantCode(t, err, tollgate.ENotFound)
}

// testConcurrentUpdates runs the check-then-write pattern the app uses for
// the last-super-admin rule from many goroutines at once: each demotes
// itself only while another super admin remains. Exactly one must remain.
func testConcurrentUpdates(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	const n = 8
	var users []*tollgate.User
	for i := range n {
		u := mkUser(t, s, fmt.Sprintf("sa%d@example.com", i))
		mkMember(t, s, o, u, tollgate.RoleSuperAdmin, base)
		users = append(users, u)
	}
	errLast := errors.New("last super admin")
	var wg sync.WaitGroup
	results := make([]error, n)
	for i, u := range users {
		wg.Go(func() {
			results[i] = s.InTx(context.WithoutCancel(ctx), func(q tollgate.Queries) error {
				c, err := q.CountMembersWithRole(ctx, o.ID, tollgate.RoleSuperAdmin)
				if err != nil {
					return err
				}
				if c <= 1 {
					return errLast
				}
				return q.UpdateMemberRole(ctx, o.ID, u.ID, tollgate.RoleAdmin)
			})
		})
	}
	wg.Wait()
	refused := 0
	for _, err := range results {
		switch {
		case err == nil:
		case errors.Is(err, errLast):
			refused++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	c, err := s.CountMembersWithRole(ctx, o.ID, tollgate.RoleSuperAdmin)
	must(t, err)
	if c != 1 || refused != 1 {
		t.Fatalf("%d super admins remain and %d were refused; want 1 and 1", c, refused)
	}
}

// testConcurrentInserts creates the same slug from many goroutines: one
// wins, the others get EConflict.
func testConcurrentInserts(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	const n = 8
	var wg sync.WaitGroup
	codes := make([]string, n)
	for i := range n {
		wg.Go(func() {
			err := s.InTx(ctx, func(q tollgate.Queries) error {
				return q.CreateOrg(ctx, &tollgate.Org{ID: tollgate.NewID(tollgate.PrefixOrg, base), Slug: "race", Name: "Race", CreatedAt: base})
			})
			codes[i] = tollgate.ErrorCode(err)
		})
	}
	wg.Wait()
	won := 0
	for _, c := range codes {
		switch c {
		case "":
			won++
		case tollgate.EConflict:
		default:
			t.Fatalf("codes %v: want one success and conflicts", codes)
		}
	}
	if won != 1 {
		t.Fatalf("%d inserts of one slug succeeded", won)
	}
}
