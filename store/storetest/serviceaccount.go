package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

func serviceAccountTests() []namedTest {
	return []namedTest{
		{"ServiceAccounts", testServiceAccounts},
		{"ServiceAccountNamesIgnoreCase", testServiceAccountNames},
		{"ServiceAccountTenantIsolation", testServiceAccountIsolation},
		{"ServiceAccountPagination", testServiceAccountPagination},
		{"DeletingAServiceAccountCascades", testServiceAccountCascade},
		{"ClientSecrets", testClientSecrets},
		{"AccessTokens", testAccessTokens},
		{"ConcurrentMintsMakeOneToken", testConcurrentMint},
		{"SigningKeys", testSigningKeys},
	}
}

func mkServiceAccount(t *testing.T, s tollgate.Store, org *tollgate.Org, name string, at time.Time) *tollgate.ServiceAccount {
	t.Helper()
	sa := &tollgate.ServiceAccount{ID: tollgate.NewID(tollgate.PrefixServiceAccount, at), OrgID: org.ID, Name: name,
		Email: tollgate.ServiceAccountEmail(name, org.Slug, "example.test"), Description: "d", Role: tollgate.RoleViewer,
		TokenTTLSeconds: 300, Status: tollgate.StatusActive, CreatedAt: at, CreatedBy: "usr_x", ReuseAfter: at}
	must(t, s.CreateServiceAccount(t.Context(), sa))
	return sa
}

func testServiceAccounts(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	sa := mkServiceAccount(t, s, o, "Deploy-Bot_1", base)
	got, err := s.GetServiceAccount(ctx, o.ID, sa.ID)
	must(t, err)
	if got.Name != "Deploy-Bot_1" || got.Email != "deploy-bot_1@acme.example.test" || got.Role != tollgate.RoleViewer ||
		got.TokenTTLSeconds != 300 || got.Status != tollgate.StatusActive || got.LastUsedAt != nil || !got.ReuseAfter.Equal(tollgate.Timestamp(base)) {
		t.Fatalf("GetServiceAccount = %+v", got)
	}
	if got, err := s.GetServiceAccountByID(ctx, sa.ID); err != nil || got.OrgID != o.ID {
		t.Fatalf("GetServiceAccountByID = %+v, %v", got, err)
	}
	// The account and its org in one read: every field of both, as
	// their own getters return them.
	byID, err := s.GetServiceAccountByID(ctx, sa.ID)
	must(t, err)
	org, err := s.GetOrg(ctx, o.ID)
	must(t, err)
	if gotSA, gotOrg, err := s.GetServiceAccountAndOrg(ctx, sa.ID); err != nil || fmt.Sprint(*gotSA) != fmt.Sprint(*byID) || fmt.Sprint(*gotOrg) != fmt.Sprint(*org) {
		t.Fatalf("GetServiceAccountAndOrg = %+v, %+v, %v; want %+v, %+v", gotSA, gotOrg, err, byID, org)
	}
	_, _, err = s.GetServiceAccountAndOrg(ctx, "sa_missing")
	wantCode(t, err, tollgate.ENotFound)
	sa.Description, sa.Role, sa.Status, sa.ReuseAfter = "ünïcödé", tollgate.RoleAdmin, tollgate.StatusDisabled, base.Add(time.Minute)
	must(t, s.UpdateServiceAccount(ctx, sa))
	got, err = s.GetServiceAccount(ctx, o.ID, sa.ID)
	must(t, err)
	if got.Description != "ünïcödé" || got.Role != tollgate.RoleAdmin || got.Status != tollgate.StatusDisabled || !got.ReuseAfter.Equal(tollgate.Timestamp(base.Add(time.Minute))) {
		t.Fatalf("after update: %+v", got)
	}
	// last_used_at only moves forward.
	must(t, s.TouchServiceAccount(ctx, sa.ID, base.Add(2*time.Minute)))
	must(t, s.TouchServiceAccount(ctx, sa.ID, base.Add(time.Minute)))
	got, err = s.GetServiceAccount(ctx, o.ID, sa.ID)
	must(t, err)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(tollgate.Timestamp(base.Add(2*time.Minute))) {
		t.Fatalf("LastUsedAt = %v", got.LastUsedAt)
	}
	wantCode(t, s.TouchServiceAccount(ctx, "sa_missing", base), tollgate.ENotFound)
	wantCode(t, s.CreateServiceAccount(ctx, &tollgate.ServiceAccount{ID: "sa_x", OrgID: "org_missing", Name: "x", Role: tollgate.RoleViewer,
		TokenTTLSeconds: 300, Status: tollgate.StatusActive, CreatedAt: base, ReuseAfter: base}), tollgate.ENotFound)
	must(t, s.DeleteServiceAccount(ctx, o.ID, sa.ID))
	_, err = s.GetServiceAccountByID(ctx, sa.ID)
	wantCode(t, err, tollgate.ENotFound)
	wantCode(t, s.DeleteServiceAccount(ctx, o.ID, sa.ID), tollgate.ENotFound)
}

func testServiceAccountNames(t *testing.T, s tollgate.Store) {
	a, b := mkOrg(t, s, "alpha"), mkOrg(t, s, "bravo")
	mkServiceAccount(t, s, a, "Bot", base)
	dup := &tollgate.ServiceAccount{ID: tollgate.NewID(tollgate.PrefixServiceAccount, base), OrgID: a.ID, Name: "bOT", Role: tollgate.RoleViewer,
		TokenTTLSeconds: 300, Status: tollgate.StatusActive, CreatedAt: base, ReuseAfter: base}
	wantCode(t, s.CreateServiceAccount(t.Context(), dup), tollgate.EConflict)
	mkServiceAccount(t, s, b, "BOT", base) // another org may use the name
}

func testServiceAccountIsolation(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	a, b := mkOrg(t, s, "alpha"), mkOrg(t, s, "bravo")
	sa := mkServiceAccount(t, s, a, "bot", base)
	_, err := s.GetServiceAccount(ctx, b.ID, sa.ID)
	wantCode(t, err, tollgate.ENotFound)
	other := *sa
	other.OrgID, other.Role = b.ID, tollgate.RoleAdmin
	wantCode(t, s.UpdateServiceAccount(ctx, &other), tollgate.ENotFound)
	wantCode(t, s.DeleteServiceAccount(ctx, b.ID, sa.ID), tollgate.ENotFound)
	list, _, err := s.ListServiceAccounts(ctx, b.ID, tollgate.ServiceAccountFilter{}, tollgate.Page{Limit: 10})
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("org b lists %+v", list)
	}
	got, err := s.GetServiceAccount(ctx, a.ID, sa.ID)
	must(t, err)
	if got.Role != tollgate.RoleViewer {
		t.Fatal("an update through another org changed the account")
	}
}

func testServiceAccountPagination(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	want := map[string]bool{}
	for i := range 7 {
		want[mkServiceAccount(t, s, o, fmt.Sprintf("bot%d", i), base.Add(time.Duration(i/3)*time.Second)).ID] = true
	}
	seen := map[string]bool{}
	cursor := ""
	var last *tollgate.ServiceAccount
	for {
		items, next, err := s.ListServiceAccounts(ctx, o.ID, tollgate.ServiceAccountFilter{}, tollgate.Page{Limit: 3, Cursor: cursor})
		must(t, err)
		for i := range items {
			sa := items[i]
			if seen[sa.ID] || !want[sa.ID] {
				t.Fatalf("unexpected or repeated %s", sa.ID)
			}
			if last != nil && (sa.CreatedAt.Before(last.CreatedAt) || sa.CreatedAt.Equal(last.CreatedAt) && sa.ID < last.ID) {
				t.Fatal("not in creation order")
			}
			seen[sa.ID], last = true, &sa
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != len(want) {
		t.Fatalf("paged %d of %d", len(seen), len(want))
	}
}

func testServiceAccountCascade(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	sa := mkServiceAccount(t, s, o, "bot", base)
	sec := &tollgate.ClientSecret{ID: tollgate.NewID(tollgate.PrefixClientSecret, base), ServiceAccountID: sa.ID, Hash: hash("s"), CreatedAt: base}
	must(t, s.CreateClientSecret(ctx, sec))
	at := mkAccessToken(t, s, sa, sec, base)
	must(t, s.AppendAuditEvent(ctx, &tollgate.AuditEvent{ID: tollgate.NewID(tollgate.PrefixAuditEvent, base), Time: base, OrgID: o.ID,
		Actor: tollgate.Principal{Type: "user", ID: "usr_x"}, Action: tollgate.ActionServiceAccountCreated, Target: tollgate.Principal{Type: "service_account", ID: sa.ID}}))

	must(t, s.DeleteServiceAccount(ctx, o.ID, sa.ID))
	if secs, err := s.ListClientSecrets(ctx, sa.ID); err != nil || len(secs) != 0 {
		t.Fatalf("secrets survived the account: %v, %v", secs, err)
	}
	_, err := s.GetAccessToken(ctx, at.ID)
	wantCode(t, err, tollgate.ENotFound)
	evs, _, err := s.ListAuditEvents(ctx, o.ID, tollgate.AuditFilter{TargetID: sa.ID}, tollgate.Page{Limit: 10})
	must(t, err)
	if len(evs) != 1 {
		t.Fatal("the account's audit history went with it")
	}
}

func testClientSecrets(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	sa := mkServiceAccount(t, s, o, "bot", base)
	old := &tollgate.ClientSecret{ID: tollgate.NewID(tollgate.PrefixClientSecret, base), ServiceAccountID: sa.ID, Hash: hash("old"), CreatedAt: base}
	cur := &tollgate.ClientSecret{ID: tollgate.NewID(tollgate.PrefixClientSecret, base), ServiceAccountID: sa.ID, Hash: hash("new"), CreatedAt: base.Add(time.Hour)}
	must(t, s.CreateClientSecret(ctx, old))
	must(t, s.CreateClientSecret(ctx, cur))
	wantCode(t, s.CreateClientSecret(ctx, &tollgate.ClientSecret{ID: "sec_x", ServiceAccountID: "sa_missing", Hash: hash("x"), CreatedAt: base}), tollgate.ENotFound)
	must(t, s.ExpireClientSecret(ctx, old.ID, base.Add(2*time.Hour)))
	secs, err := s.ListClientSecrets(ctx, sa.ID)
	must(t, err)
	if len(secs) != 2 || secs[0].ID != cur.ID || secs[1].ExpiresAt == nil || !secs[1].ExpiresAt.Equal(tollgate.Timestamp(base.Add(2*time.Hour))) ||
		string(secs[0].Hash) != string(hash("new")) {
		t.Fatalf("ListClientSecrets = %+v", secs)
	}
	if !secs[1].LiveAt(base.Add(2*time.Hour-time.Microsecond)) || secs[1].LiveAt(base.Add(2*time.Hour)) || !secs[0].LiveAt(base.Add(1000*time.Hour)) {
		t.Fatal("LiveAt is wrong")
	}
	must(t, s.DeleteClientSecretsExpiredBefore(ctx, sa.ID, base.Add(3*time.Hour)))
	secs, err = s.ListClientSecrets(ctx, sa.ID)
	must(t, err)
	if len(secs) != 1 || secs[0].ID != cur.ID {
		t.Fatalf("after pruning: %+v", secs)
	}
	wantCode(t, s.ExpireClientSecret(ctx, "sec_missing", base), tollgate.ENotFound)
}

func mkAccessToken(t *testing.T, s tollgate.Queries, sa *tollgate.ServiceAccount, sec *tollgate.ClientSecret, at time.Time) *tollgate.AccessToken {
	t.Helper()
	tok := &tollgate.AccessToken{ID: tollgate.NewID(tollgate.PrefixAccessToken, at), OrgID: sa.OrgID, ServiceAccountID: sa.ID, SecretID: sec.ID,
		KeyID: "key_1", IssuedAt: at, ExpiresAt: at.Add(time.Duration(sa.TokenTTLSeconds) * time.Second), Sealed: []byte("sealed")}
	must(t, s.CreateAccessToken(context.Background(), tok))
	return tok
}

func testAccessTokens(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	sa := mkServiceAccount(t, s, o, "bot", base)
	sec := &tollgate.ClientSecret{ID: tollgate.NewID(tollgate.PrefixClientSecret, base), ServiceAccountID: sa.ID, Hash: hash("s"), CreatedAt: base}
	must(t, s.CreateClientSecret(ctx, sec))
	_, err := s.LatestAccessToken(ctx, sa.ID, "")
	wantCode(t, err, tollgate.ENotFound)
	first := mkAccessToken(t, s, sa, sec, base)
	second := mkAccessToken(t, s, sa, sec, base.Add(time.Minute))
	latest, err := s.LatestAccessToken(ctx, sa.ID, "")
	must(t, err)
	if latest.ID != second.ID || string(latest.Sealed) != "sealed" || latest.KeyID != "key_1" || latest.RevokedAt != nil {
		t.Fatalf("LatestAccessToken = %+v", latest)
	}
	must(t, s.RevokeAccessToken(ctx, first.ID, base.Add(2*time.Minute)))
	must(t, s.RevokeAccessToken(ctx, first.ID, base.Add(3*time.Minute))) // the first revocation time stays
	got, err := s.GetAccessToken(ctx, first.ID)
	must(t, err)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(tollgate.Timestamp(base.Add(2*time.Minute))) {
		t.Fatalf("RevokedAt = %v", got.RevokedAt)
	}
	wantCode(t, s.RevokeAccessToken(ctx, "at_missing", base), tollgate.ENotFound)
	// Revoking all of an account's tokens skips the revoked and expired ones.
	third := mkAccessToken(t, s, sa, sec, base.Add(2*time.Minute))
	revoked, err := s.RevokeAccessTokensOf(ctx, sa.ID, second.ExpiresAt)
	must(t, err)
	if len(revoked) != 1 || revoked[0].ID != third.ID || revoked[0].RevokedAt == nil || string(revoked[0].Sealed) != string(third.Sealed) {
		t.Fatalf("RevokeAccessTokensOf revoked %+v, want the one alive then, as it was", revoked)
	}
	if got, _ := s.GetAccessToken(ctx, third.ID); got.RevokedAt == nil {
		t.Fatal("the live token was not revoked")
	}
	if got, _ := s.GetAccessToken(ctx, second.ID); got.RevokedAt != nil {
		t.Fatal("an expired token was marked revoked")
	}
	// Revoking the tokens of one secret leaves the other secret's.
	sec2 := &tollgate.ClientSecret{ID: tollgate.NewID(tollgate.PrefixClientSecret, base.Add(time.Second)), ServiceAccountID: sa.ID, Hash: hash("s2"), CreatedAt: base}
	must(t, s.CreateClientSecret(ctx, sec2))
	later := second.ExpiresAt // every token above is revoked or expired by then
	ofFirst := mkAccessToken(t, s, sa, sec, later)
	ofSecond := mkAccessToken(t, s, sa, sec2, later)
	revoked, err = s.RevokeAccessTokensOfSecret(ctx, sa.ID, sec.ID, later.Add(time.Minute))
	must(t, err)
	if len(revoked) != 1 || revoked[0].ID != ofFirst.ID || revoked[0].RevokedAt == nil {
		t.Fatalf("RevokeAccessTokensOfSecret revoked %+v, want the live one of that secret", revoked)
	}
	if got, _ := s.GetAccessToken(ctx, ofSecond.ID); got.RevokedAt != nil {
		t.Fatal("RevokeAccessTokensOfSecret revoked another secret's token")
	}
	if revoked, err = s.RevokeAccessTokensOfSecret(ctx, sa.ID, sec.ID, later.Add(time.Minute)); err != nil || len(revoked) != 0 {
		t.Fatalf("RevokeAccessTokensOfSecret again: %v %+v", err, revoked)
	}
	n, err := s.DeleteAccessTokensExpiredBefore(ctx, first.ExpiresAt.Add(time.Second))
	must(t, err)
	if n != 1 {
		t.Fatalf("deleted %d expired tokens, want 1", n)
	}
	_, err = s.GetAccessToken(ctx, first.ID)
	wantCode(t, err, tollgate.ENotFound)
}

// testConcurrentMint runs the token endpoint's transaction from many
// goroutines at once: reuse the latest token if there is one, else create
// one. Exactly one token must be created, and everyone must see it.
func testConcurrentMint(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	sa := mkServiceAccount(t, s, o, "bot", base)
	sec := &tollgate.ClientSecret{ID: tollgate.NewID(tollgate.PrefixClientSecret, base), ServiceAccountID: sa.ID, Hash: hash("s"), CreatedAt: base}
	must(t, s.CreateClientSecret(ctx, sec))
	const n = 16
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.InTx(ctx, func(q tollgate.Queries) error {
				cur, err := q.LatestAccessToken(ctx, sa.ID, "")
				if err == nil {
					got[i] = cur.ID
					return nil
				} else if tollgate.ErrorCode(err) != tollgate.ENotFound {
					return err
				}
				// Return errors rather than failing: a serialization
				// conflict must reach InTx, which retries.
				tok := &tollgate.AccessToken{ID: tollgate.NewID(tollgate.PrefixAccessToken, base), OrgID: sa.OrgID, ServiceAccountID: sa.ID,
					SecretID: sec.ID, KeyID: "key_1", IssuedAt: base, ExpiresAt: base.Add(time.Hour), Sealed: []byte("sealed")}
				if err := q.CreateAccessToken(ctx, tok); err != nil {
					return err
				}
				got[i] = tok.ID
				return nil
			})
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("two tokens minted: %s and %s", got[0], got[i])
		}
	}
}

func testSigningKeys(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	k1 := &tollgate.SigningKey{ID: tollgate.NewID(tollgate.PrefixSigningKey, base), Algorithm: "EdDSA", PublicKey: []byte("pub1"), PrivateSealed: []byte("priv1"), CreatedAt: base}
	k2 := &tollgate.SigningKey{ID: tollgate.NewID(tollgate.PrefixSigningKey, base), Algorithm: "EdDSA", PublicKey: []byte("pub2"), PrivateSealed: []byte("priv2"), CreatedAt: base.Add(time.Hour)}
	must(t, s.CreateSigningKey(ctx, k1))
	must(t, s.CreateSigningKey(ctx, k2))
	wantCode(t, s.CreateSigningKey(ctx, k1), tollgate.EConflict)
	must(t, s.RetireSigningKey(ctx, k1.ID, base.Add(time.Hour)))
	keys, err := s.ListSigningKeys(ctx)
	must(t, err)
	if len(keys) != 2 || keys[0].ID != k2.ID || keys[0].RetiredAt != nil || keys[1].RetiredAt == nil || string(keys[1].PrivateSealed) != "priv1" {
		t.Fatalf("ListSigningKeys = %+v", keys)
	}
	wantCode(t, s.RetireSigningKey(ctx, "key_missing", base), tollgate.ENotFound)
	n, err := s.DeleteSigningKeysRetiredBefore(ctx, base.Add(2*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("deleted %d retired keys", n)
	}
}
