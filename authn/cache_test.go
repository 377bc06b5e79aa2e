package authn_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/authn"
	"github.com/tollgate/tollgate/internal/stacktest"
)

// slowStore holds, when armed, the next token look-up after it has read
// the row and before it returns it: the moment a change can commit and be
// broadcast between a load's read and its caching.
type slowStore struct {
	tollgate.Store
	mu   sync.Mutex
	hold chan struct{}
	read chan struct{}
}

func (s *slowStore) arm() (read <-chan struct{}, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.read = make(chan struct{}), make(chan struct{}, 1)
	hold := s.hold
	return s.read, sync.OnceFunc(func() { close(hold) })
}

// GetAPITokenByHash and GetAccountTokenByHash, once armed, report that
// they have read and wait for the release before they return it.
func (s *slowStore) GetAPITokenByHash(ctx context.Context, hash []byte) (*tollgate.APITokenView, error) {
	t, err := s.Store.GetAPITokenByHash(ctx, hash)
	s.pause()
	return t, err
}

func (s *slowStore) GetAccountTokenByHash(ctx context.Context, hash []byte) (*tollgate.AccountToken, error) {
	t, err := s.Store.GetAccountTokenByHash(ctx, hash)
	s.pause()
	return t, err
}

func (s *slowStore) pause() {
	s.mu.Lock()
	hold, read := s.hold, s.read
	s.hold = nil
	s.mu.Unlock()
	if hold != nil {
		read <- struct{}{}
		<-hold
	}
}

// TestInvalidationRacesALoad: a /check loads a token while the token is
// revoked. The load read the row before the revocation committed and
// returns it; the invalidation came between. What the load read must not
// be cached, or the revoked token would pass for the whole cache TTL (a
// minute here): the next check reads again and refuses it.
func TestInvalidationRacesALoad(t *testing.T) {
	slow := &slowStore{}
	env := stacktest.New(t, stacktest.Options{CacheTTL: time.Minute, Wrap: func(s tollgate.Store) tollgate.Store { slow.Store = s; return slow }})
	tok, plain, err := env.App.CreateAPIToken(t.Context(), env.Admin, "acme", app.APITokenInput{Name: "t", ServiceAccountID: env.Account.ID, Kind: tollgate.KindPrivate})
	if err != nil {
		t.Fatal(err)
	}
	req := authn.Request{Door: "check", IP: "192.0.2.1", Authorization: "Bearer " + plain}
	read, release := slow.arm()
	done := make(chan error, 1)
	go func() { _, err := env.Authn.Bearer(context.Background(), req); done <- err }()
	<-read // the load has the row
	if err := env.App.DeleteAPIToken(t.Context(), env.Admin, "acme", tok.ID); err != nil {
		t.Fatal(err)
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("the racing check (it began before the revocation): %v", err)
	}
	_, err = env.Authn.Bearer(t.Context(), req)
	wantCode(t, err, tollgate.EUnauthenticated)
}

// TestRefusalIsNotUndoneByAnOlderLoad: another replica revokes a token
// while this process loads it twice, once before the revocation commits
// and once after; the other replica's broadcast has not arrived yet. The
// later load refuses the token, and the earlier one, finishing after it,
// must not cache what it read: once this process has answered 401 for a
// credential, it must not accept it again (seen by tollgate-bench
// replicas as B answering 200 after its first 401).
func TestRefusalIsNotUndoneByAnOlderLoad(t *testing.T) {
	slow := &slowStore{}
	env := stacktest.New(t, stacktest.Options{CacheTTL: time.Minute, Wrap: func(s tollgate.Store) tollgate.Store { slow.Store = s; return slow }})
	tok, plain, err := env.App.CreateAPIToken(t.Context(), env.Admin, "acme", app.APITokenInput{Name: "t", ServiceAccountID: env.Account.ID, Kind: tollgate.KindPrivate})
	if err != nil {
		t.Fatal(err)
	}
	req := authn.Request{Door: "check", IP: "192.0.2.1", Authorization: "Bearer " + plain}
	read, release := slow.arm()
	done := make(chan error, 1)
	go func() { _, err := env.Authn.Bearer(context.Background(), req); done <- err }()
	<-read // the older load has the row
	// The other replica's revocation: committed, not broadcast here.
	if err := env.Raw.DeleteAPIToken(t.Context(), env.Account.OrgID, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = env.Authn.Bearer(t.Context(), req)
	wantCode(t, err, tollgate.EUnauthenticated)
	release()
	if err := <-done; err != nil {
		t.Fatalf("the older check (it read the row before the revocation): %v", err)
	}
	for range 2 {
		_, err = env.Authn.Bearer(t.Context(), req)
		wantCode(t, err, tollgate.EUnauthenticated)
	}
}

// TestNegativeCacheForgetsAnImportedToken: a legacy string presented
// before it is imported is remembered as unknown (R3); importing it makes
// every process forget that at once.
func TestNegativeCacheForgetsAnImportedToken(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	legacy := "legacy-token-from-the-old-system-1"
	req := authn.Request{Door: "check", IP: "192.0.2.1", Authorization: "Bearer " + legacy}
	for range 2 {
		_, err := env.Authn.Bearer(t.Context(), req)
		wantCode(t, err, tollgate.EUnauthenticated)
	}
	if _, err := env.App.ImportAPIToken(t.Context(), env.Admin, "acme", app.ImportInput{Name: "old", OwnerUserID: env.Admin.ID, Token: legacy, Kind: tollgate.KindPrivate}); err != nil {
		t.Fatal(err)
	}
	ac, err := env.Authn.Bearer(t.Context(), req)
	if err != nil || ac.ID != env.Admin.ID || ac.Credential.Role != tollgate.RoleAdmin {
		t.Fatalf("the imported token: %+v, %v", ac, err)
	}
}

// TestCachedCredentialPassesALimitedAddress: an address over its limit of
// unknown bearer credentials (a gateway's, shared by many clients) is
// refused anything that needs the store, but a credential already
// verified still passes from it.
func TestCachedCredentialPassesALimitedAddress(t *testing.T) {
	clock := stacktest.NewClock()
	env := stacktest.New(t, stacktest.Options{Clock: clock, Limits: authn.Limits{Bearer: authn.Rate{N: 3, Per: time.Minute}}})
	_, plain, err := env.App.CreateAPIToken(t.Context(), env.Admin, "acme", app.APITokenInput{Name: "t", ServiceAccountID: env.Account.ID, Kind: tollgate.KindPrivate})
	if err != nil {
		t.Fatal(err)
	}
	gateway := authn.Request{Door: "check", IP: "10.0.0.1"}
	good := gateway
	good.Authorization = "Bearer " + plain
	if _, err := env.Authn.Bearer(t.Context(), good); err != nil {
		t.Fatal(err)
	}
	// The address's budget: 3 unknown, then 429.
	for i := range 4 {
		bad := gateway
		bad.Authorization = "Bearer " + stacktest.UnknownAPIToken()
		_, err := env.Authn.Bearer(t.Context(), bad)
		if i < 3 {
			wantCode(t, err, tollgate.EUnauthenticated)
		} else {
			wantCode(t, err, tollgate.ERateLimited)
			if te := err.(*tollgate.Error); te.RetryAfter < time.Second {
				t.Fatalf("rate limited without a wait: %v", te.RetryAfter)
			}
		}
	}
	if _, err := env.Authn.Bearer(t.Context(), good); err != nil {
		t.Fatalf("a cached credential from the limited address: %v", err)
	}
	// Once its cache entry is stale it is read again, limit or not.
	clock.Add(2 * time.Second)
	if _, err := env.Authn.Bearer(t.Context(), good); err != nil {
		t.Fatalf("a verified credential, its cache entry stale, from the limited address: %v", err)
	}
	bad := gateway
	bad.Authorization = "Bearer " + stacktest.UnknownAPIToken()
	_, err = env.Authn.Bearer(t.Context(), bad)
	wantCode(t, err, tollgate.ERateLimited)
}

// TestLegacyTokenShapedLikeAJWT: an imported token with two dots is still
// an API token, though it looks like a JWT.
func TestLegacyTokenShapedLikeAJWT(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	legacy := "old.system.token-0123456789"
	if _, err := env.App.ImportAPIToken(t.Context(), env.Admin, "acme", app.ImportInput{Name: "old", OwnerUserID: env.Admin.ID, Token: legacy, Kind: tollgate.KindPrivate}); err != nil {
		t.Fatal(err)
	}
	ac, err := env.Authn.Bearer(t.Context(), authn.Request{Door: "check", IP: "192.0.2.1", Authorization: "Bearer " + legacy})
	if err != nil || ac.Credential.Kind != tollgate.CredentialAPIToken {
		t.Fatalf("a legacy token with two dots: %+v, %v", ac, err)
	}
}
