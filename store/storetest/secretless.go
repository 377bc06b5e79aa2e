package storetest

import (
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

func secretlessTests() []namedTest {
	return []namedTest{
		{"ClientKeys", testClientKeys},
		{"FederatedCredentials", testFederatedCredentials},
		{"UseOnceIsOnceAcrossConcurrentCallers", testUseOnce},
		{"AccessTokensPerDPoPKey", testAccessTokensPerJKT},
		{"RequireDPoPRoundTrips", testRequireDPoP},
	}
}

func mkClientKey(t *testing.T, s tollgate.Queries, sa *tollgate.ServiceAccount, kid, thumb string, at time.Time) *tollgate.ClientKey {
	t.Helper()
	k := &tollgate.ClientKey{ID: tollgate.NewID(tollgate.PrefixClientKey, at), ServiceAccountID: sa.ID, KeyID: kid, Algorithm: "EdDSA",
		Thumbprint: thumb, JWK: []byte(`{"kty":"OKP","crv":"Ed25519","x":"` + thumb + `"}`), CreatedAt: at, CreatedBy: "usr_x"}
	must(t, s.CreateClientKey(t.Context(), k))
	return k
}

func testClientKeys(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	sa := mkServiceAccount(t, s, o, "bot", base)
	other := mkServiceAccount(t, s, o, "other", base)
	exp := base.Add(time.Hour)
	k1 := mkClientKey(t, s, sa, "k1", "tp1", base)
	k2 := &tollgate.ClientKey{ID: tollgate.NewID(tollgate.PrefixClientKey, base), ServiceAccountID: sa.ID, KeyID: "k2", Algorithm: "ES256",
		Thumbprint: "tp2", JWK: []byte(`{}`), CreatedAt: base.Add(time.Second), CreatedBy: "usr_x", ExpiresAt: &exp}
	must(t, s.CreateClientKey(ctx, k2))
	// The same kid or thumbprint twice on one account is a conflict; on
	// another account it is not.
	dupKid := *k2
	dupKid.ID, dupKid.KeyID, dupKid.Thumbprint = tollgate.NewID(tollgate.PrefixClientKey, base), "k1", "tp9"
	wantCode(t, s.CreateClientKey(ctx, &dupKid), tollgate.EConflict)
	dupTP := dupKid
	dupTP.ID, dupTP.KeyID, dupTP.Thumbprint = tollgate.NewID(tollgate.PrefixClientKey, base), "k9", "tp1"
	wantCode(t, s.CreateClientKey(ctx, &dupTP), tollgate.EConflict)
	mkClientKey(t, s, other, "k1", "tp1", base)
	missing := dupKid
	missing.ServiceAccountID, missing.KeyID = "sa_missing", "k7"
	wantCode(t, s.CreateClientKey(ctx, &missing), tollgate.ENotFound)

	keys, err := s.ListClientKeys(ctx, sa.ID)
	must(t, err)
	if len(keys) != 2 || keys[0].ID != k1.ID || keys[1].ID != k2.ID {
		t.Fatalf("ListClientKeys = %+v", keys)
	}
	if got := keys[1]; got.KeyID != "k2" || got.Algorithm != "ES256" || got.Thumbprint != "tp2" || string(got.JWK) != "{}" ||
		got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) || got.LastUsedAt != nil || !got.CreatedAt.Equal(k2.CreatedAt) {
		t.Fatalf("key round trip = %+v", got)
	}
	must(t, s.TouchClientKey(ctx, k1.ID, base.Add(time.Minute)))
	must(t, s.TouchClientKey(ctx, k1.ID, base)) // earlier: kept
	keys, _ = s.ListClientKeys(ctx, sa.ID)
	if keys[0].LastUsedAt == nil || !keys[0].LastUsedAt.Equal(base.Add(time.Minute)) {
		t.Fatalf("last used = %v", keys[0].LastUsedAt)
	}
	wantCode(t, s.TouchClientKey(ctx, "ck_missing", base), tollgate.ENotFound)
	// Deleting names the account: another account's key is not found.
	wantCode(t, s.DeleteClientKey(ctx, other.ID, k1.ID), tollgate.ENotFound)
	must(t, s.DeleteClientKey(ctx, sa.ID, k1.ID))
	wantCode(t, s.DeleteClientKey(ctx, sa.ID, k1.ID), tollgate.ENotFound)
	// Deleting the account deletes its keys.
	must(t, s.DeleteServiceAccount(ctx, o.ID, sa.ID))
	if keys, err := s.ListClientKeys(ctx, sa.ID); err != nil || len(keys) != 0 {
		t.Fatalf("keys after the account's deletion = %v, %v", keys, err)
	}
}

func testFederatedCredentials(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	sa := mkServiceAccount(t, s, o, "bot", base)
	fc := &tollgate.FederatedCredential{ID: tollgate.NewID(tollgate.PrefixFederatedCredential, base), ServiceAccountID: sa.ID, Name: "Deploy",
		Issuer: "https://token.actions.githubusercontent.com", Audience: "https://tollgate.example", Subject: "repo:acme/app:ref:refs/heads/main",
		Claims: map[string]string{"repository": "acme/app", "ref": "refs/heads/main"}, CreatedAt: base, CreatedBy: "usr_x"}
	must(t, s.CreateFederatedCredential(ctx, fc))
	plain := &tollgate.FederatedCredential{ID: tollgate.NewID(tollgate.PrefixFederatedCredential, base), ServiceAccountID: sa.ID, Name: "k8s",
		Issuer: "https://k8s.example", Audience: "aud", CreatedAt: base.Add(time.Second), CreatedBy: "usr_x"}
	must(t, s.CreateFederatedCredential(ctx, plain))
	dup := *plain
	dup.ID, dup.Name = tollgate.NewID(tollgate.PrefixFederatedCredential, base), "DEPLOY"
	wantCode(t, s.CreateFederatedCredential(ctx, &dup), tollgate.EConflict)
	dup.Name, dup.ServiceAccountID = "x", "sa_missing"
	wantCode(t, s.CreateFederatedCredential(ctx, &dup), tollgate.ENotFound)

	got, err := s.ListFederatedCredentials(ctx, sa.ID)
	must(t, err)
	if len(got) != 2 || got[0].ID != fc.ID || got[1].ID != plain.ID {
		t.Fatalf("ListFederatedCredentials = %+v", got)
	}
	g := got[0]
	if g.Name != fc.Name || g.Issuer != fc.Issuer || g.Audience != fc.Audience || g.Subject != fc.Subject ||
		!reflect.DeepEqual(g.Claims, fc.Claims) || !g.CreatedAt.Equal(base) || g.LastUsedAt != nil {
		t.Fatalf("round trip = %+v", g)
	}
	if len(got[1].Claims) != 0 || got[1].Subject != "" {
		t.Fatalf("credential without conditions = %+v", got[1])
	}
	must(t, s.TouchFederatedCredential(ctx, fc.ID, base.Add(time.Minute)))
	must(t, s.TouchFederatedCredential(ctx, fc.ID, base))
	got, _ = s.ListFederatedCredentials(ctx, sa.ID)
	if got[0].LastUsedAt == nil || !got[0].LastUsedAt.Equal(base.Add(time.Minute)) {
		t.Fatalf("last used = %v", got[0].LastUsedAt)
	}
	wantCode(t, s.DeleteFederatedCredential(ctx, "sa_other", fc.ID), tollgate.ENotFound)
	must(t, s.DeleteFederatedCredential(ctx, sa.ID, fc.ID))
	wantCode(t, s.DeleteFederatedCredential(ctx, sa.ID, fc.ID), tollgate.ENotFound)
	must(t, s.DeleteServiceAccount(ctx, o.ID, sa.ID))
	if got, err := s.ListFederatedCredentials(ctx, sa.ID); err != nil || len(got) != 0 {
		t.Fatalf("after the account's deletion = %v, %v", got, err)
	}
}

func testUseOnce(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	exp := base.Add(time.Minute)
	// Of many concurrent uses of one key, exactly one succeeds.
	const n = 16
	var ok, conflicts atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			err := s.InTx(ctx, func(q tollgate.Queries) error { return q.UseOnce(ctx, "jti:a", base, exp) })
			switch tollgate.ErrorCode(err) {
			case "":
				ok.Add(1)
			case tollgate.EConflict:
				conflicts.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || conflicts.Load() != n-1 {
		t.Fatalf("%d uses succeeded and %d conflicted, want 1 and %d", ok.Load(), conflicts.Load(), n-1)
	}
	// Still refused until it expires; another key is free.
	wantCode(t, s.UseOnce(ctx, "jti:a", exp.Add(-time.Microsecond), exp), tollgate.EConflict)
	must(t, s.UseOnce(ctx, "jti:b", base, exp))
	// Once expired, the key may be used again (its new expiry holds).
	must(t, s.UseOnce(ctx, "jti:a", exp, exp.Add(time.Minute)))
	wantCode(t, s.UseOnce(ctx, "jti:a", exp.Add(time.Second), exp.Add(2*time.Minute)), tollgate.EConflict)
	n2, err := s.DeleteUsedBefore(ctx, exp.Add(time.Second))
	must(t, err)
	if n2 != 1 { // jti:b
		t.Fatalf("DeleteUsedBefore removed %d, want 1", n2)
	}
	must(t, s.UseOnce(ctx, "jti:b", base, exp)) // forgotten: usable
}

func testAccessTokensPerJKT(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	sa := mkServiceAccount(t, s, o, "bot", base)
	sec := &tollgate.ClientSecret{ID: tollgate.NewID(tollgate.PrefixClientSecret, base), ServiceAccountID: sa.ID, Hash: hash("s"), CreatedAt: base}
	must(t, s.CreateClientSecret(ctx, sec))
	plain := mkAccessToken(t, s, sa, sec, base)
	bound := &tollgate.AccessToken{ID: tollgate.NewID(tollgate.PrefixAccessToken, base), OrgID: sa.OrgID, ServiceAccountID: sa.ID, SecretID: sec.ID,
		KeyID: "key_1", IssuedAt: base.Add(time.Minute), ExpiresAt: base.Add(time.Hour), Sealed: []byte("sealed"), JKT: "thumb-a"}
	must(t, s.CreateAccessToken(ctx, bound))
	if got, err := s.LatestAccessToken(ctx, sa.ID, ""); err != nil || got.ID != plain.ID || got.JKT != "" {
		t.Fatalf("latest unbound = %+v, %v", got, err)
	}
	if got, err := s.LatestAccessToken(ctx, sa.ID, "thumb-a"); err != nil || got.ID != bound.ID || got.JKT != "thumb-a" {
		t.Fatalf("latest bound = %+v, %v", got, err)
	}
	_, err := s.LatestAccessToken(ctx, sa.ID, "thumb-b")
	wantCode(t, err, tollgate.ENotFound)
	if got, err := s.GetAccessToken(ctx, bound.ID); err != nil || got.JKT != "thumb-a" {
		t.Fatalf("GetAccessToken = %+v, %v", got, err)
	}
}

func testRequireDPoP(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "acme")
	sa := mkServiceAccount(t, s, o, "bot", base)
	if got, _ := s.GetServiceAccountByID(ctx, sa.ID); got.RequireDPoP {
		t.Fatal("require_dpop is on by default")
	}
	sa.RequireDPoP = true
	must(t, s.UpdateServiceAccount(ctx, sa))
	if got, _ := s.GetServiceAccount(ctx, o.ID, sa.ID); !got.RequireDPoP {
		t.Fatal("require_dpop did not round-trip")
	}
}
