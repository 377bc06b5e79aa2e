package app_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/authn"
	"github.com/tollgate/tollgate/internal/stacktest"
	"github.com/tollgate/tollgate/oauth"
)

// client authenticates env's service account (or another, by id and
// secret) as the token endpoint would.
func client(t *testing.T, env *stacktest.Env, id, secret string) app.Actor {
	t.Helper()
	ac, err := env.Authn.Client(t.Context(), authn.Request{Door: "token", IP: "192.0.2.1",
		Form: url.Values{"client_id": {id}, "client_secret": {secret}}})
	if err != nil {
		t.Fatal(err)
	}
	return ac
}

// issue asks for a token for ac.
func issue(t *testing.T, env *stacktest.Env, ac app.Actor) *oauth.TokenResponse {
	t.Helper()
	res, err := env.App.IssueToken(t.Context(), ac, "")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// issuedEvents counts access_token.issued in acme.
func issuedEvents(t *testing.T, env *stacktest.Env) int {
	t.Helper()
	evs, _, err := env.App.ListAuditEvents(t.Context(), env.Admin, "acme", tollgate.AuditFilter{Action: tollgate.ActionAccessTokenIssued}, tollgate.Page{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// TestReuseAtTheFloor: with a 60 s reuse floor (T2a), the token is handed
// out again while 60 s or more are left, and replaced once fewer are.
func TestReuseAtTheFloor(t *testing.T) {
	clock := stacktest.NewClock()
	env := stacktest.New(t, stacktest.Options{Clock: clock})
	floor := 60
	if _, err := env.App.UpdateOrg(t.Context(), env.Admin, "acme", tollgate.OrgUpdate{TokenReuseFloorSeconds: &floor}); err != nil {
		t.Fatal(err)
	}
	first := issue(t, env, client(t, env, env.Account.ID, env.Secret)) // lives 300 s
	clock.Add(240 * time.Second)
	at := issue(t, env, client(t, env, env.Account.ID, env.Secret))
	if at.AccessToken != first.AccessToken || at.ExpiresIn != 60 {
		t.Fatalf("60 s left, at the floor: new token %v, expires_in %d; want the same with 60", at.AccessToken != first.AccessToken, at.ExpiresIn)
	}
	clock.Add(time.Second)
	below := issue(t, env, client(t, env, env.Account.ID, env.Secret))
	if below.AccessToken == first.AccessToken || below.ExpiresIn != 300 {
		t.Fatalf("59 s left, below the floor: same token %v, expires_in %d", below.AccessToken == first.AccessToken, below.ExpiresIn)
	}
	if n := issuedEvents(t, env); n != 2 {
		t.Fatalf("%d access_token.issued events, want 2", n)
	}
}

// TestReuseUntilExpiry: without a floor the token is handed out until its
// last second, with expires_in counting down, and replaced at its expiry.
func TestReuseUntilExpiry(t *testing.T) {
	clock := stacktest.NewClock()
	env := stacktest.New(t, stacktest.Options{Clock: clock})
	first := issue(t, env, client(t, env, env.Account.ID, env.Secret))
	for _, step := range []struct {
		after time.Duration
		left  int64
	}{{time.Second, 299}, {150 * time.Second, 149}, {148 * time.Second, 1}} {
		clock.Add(step.after)
		got := issue(t, env, client(t, env, env.Account.ID, env.Secret))
		if got.AccessToken != first.AccessToken || got.ExpiresIn != step.left {
			t.Fatalf("reuse: same %v, expires_in %d, want %d", got.AccessToken == first.AccessToken, got.ExpiresIn, step.left)
		}
	}
	clock.Add(time.Second) // exp itself: expired
	if got := issue(t, env, client(t, env, env.Account.ID, env.Secret)); got.AccessToken == first.AccessToken {
		t.Fatal("the token was handed out at its expiry")
	}
}

// gatedStore holds the transactions it is told to (the mint's), until
// released, and can fail one account's token insert.
type gatedStore struct {
	tollgate.Store
	mu      sync.Mutex
	hold    chan struct{} // closed to release; nil: no gate
	entered chan struct{} // receives when a held transaction starts
	failFor string        // CreateAccessToken fails for this account
}

func (s *gatedStore) arm() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.entered = make(chan struct{}), make(chan struct{}, 16)
	hold := s.hold
	return sync.OnceFunc(func() { close(hold) })
}

func (s *gatedStore) InTx(ctx context.Context, fn func(q tollgate.Queries) error) error {
	s.mu.Lock()
	hold, entered := s.hold, s.entered
	s.hold = nil // one transaction is held per arm
	s.mu.Unlock()
	if hold != nil {
		entered <- struct{}{}
		<-hold
	}
	return s.Store.InTx(ctx, func(q tollgate.Queries) error { return fn(&failingQueries{Queries: q, s: s}) })
}

type failingQueries struct {
	tollgate.Queries
	s *gatedStore
}

var errInjected = errors.New("injected: the insert failed")

func (q *failingQueries) CreateAccessToken(ctx context.Context, t *tollgate.AccessToken) error {
	q.s.mu.Lock()
	fail := q.s.failFor == t.ServiceAccountID
	q.s.mu.Unlock()
	if fail {
		return errInjected
	}
	return q.Queries.CreateAccessToken(ctx, t)
}

func gated(t *testing.T) (*stacktest.Env, *gatedStore) {
	g := &gatedStore{}
	// No flush of last-used times may take the gate meant for a mint.
	env := stacktest.New(t, stacktest.Options{UsageFlushEvery: time.Hour, Wrap: func(s tollgate.Store) tollgate.Store { g.Store = s; return g }})
	return env, g
}

// TestSingleFlightSurvivesACancelledLeader: two requests for one account
// share one mint. The request that started it goes away while the mint
// waits for the database; the other still gets the token, it is the only
// one minted, and it is reused afterwards.
func TestSingleFlightSurvivesACancelledLeader(t *testing.T) {
	env, g := gated(t)
	ac := client(t, env, env.Account.ID, env.Secret)
	release := g.arm()
	defer release()
	leaderCtx, cancel := context.WithCancel(t.Context())
	leader := make(chan error, 1)
	go func() { _, err := env.App.IssueToken(leaderCtx, ac, ""); leader <- err }()
	<-g.entered // the leader's mint is in its transaction
	follower := make(chan *oauth.TokenResponse, 1)
	go func() {
		res, err := env.App.IssueToken(context.Background(), ac, "")
		if err != nil {
			t.Error(err)
		}
		follower <- res
	}()
	time.Sleep(50 * time.Millisecond) // the follower has joined the flight
	cancel()
	if err := <-leader; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled leader got %v", err)
	}
	release()
	res := <-follower
	if res == nil {
		t.Fatal("the follower got no token")
	}
	if again := issue(t, env, ac); again.AccessToken != res.AccessToken {
		t.Fatal("the token the follower got is not reused")
	}
	if n := issuedEvents(t, env); n != 1 {
		t.Fatalf("%d tokens minted, want 1", n)
	}
}

// TestGroupCommitWithAFailingMember queues mints of several accounts into
// one transaction while the committer is busy. A member refused on its own
// (its account deleted meanwhile) fails alone; a member whose write fails
// the transaction is retried apart, so the others still get their tokens.
func TestGroupCommitWithAFailingMember(t *testing.T) {
	env, g := gated(t)
	accounts := map[string]app.Actor{}
	for _, name := range []string{"busy", "fine", "deleted", "broken"} {
		sa, secret, err := env.App.CreateServiceAccount(t.Context(), env.Admin, "acme", app.ServiceAccountInput{Name: name, Role: tollgate.RoleViewer, TokenTTLSeconds: 300})
		if err != nil {
			t.Fatal(err)
		}
		accounts[name] = client(t, env, sa.ID, secret)
	}
	g.mu.Lock()
	g.failFor = accounts["broken"].ID
	g.mu.Unlock()
	release := g.arm()
	type result struct {
		name string
		res  *oauth.TokenResponse
		err  error
	}
	results := make(chan result, 4)
	mint := func(name string) {
		res, err := env.App.IssueToken(context.Background(), accounts[name], "")
		results <- result{name, res, err}
	}
	go mint("busy")
	<-g.entered // the committer holds busy's batch; the rest queue
	for _, name := range []string{"fine", "deleted", "broken"} {
		go mint(name)
	}
	time.Sleep(100 * time.Millisecond) // all three are queued: one batch
	if err := env.Raw.InTx(t.Context(), func(q tollgate.Queries) error {
		return q.DeleteServiceAccount(t.Context(), env.Account.OrgID, accounts["deleted"].ID)
	}); err != nil {
		t.Fatal(err)
	}
	release()
	got := map[string]result{}
	for range 4 {
		r := <-results
		got[r.name] = r
	}
	for _, name := range []string{"busy", "fine"} {
		if got[name].err != nil || got[name].res.AccessToken == "" {
			t.Errorf("%s: %v", name, got[name].err)
		}
	}
	if err := got["deleted"].err; oauth.CodeOf(err) != oauth.CodeInvalidClient {
		t.Errorf("deleted: %v, want invalid_client", err)
	}
	if err := got["broken"].err; !errors.Is(err, errInjected) {
		t.Errorf("broken: %v, want the injected failure", err)
	}
	if n := issuedEvents(t, env); n != 2 {
		t.Fatalf("%d access_token.issued events, want 2 (busy and fine)", n)
	}
}

// TestReuseNeedsTheCurrentRole: a token whose role claim is not the
// account's current role is not handed out again, even when it was issued
// after the account's last change. (On PostgreSQL a mint that read the
// account just before a role change committed stores such a token.)
func TestReuseNeedsTheCurrentRole(t *testing.T) {
	clock := stacktest.NewClock()
	env := stacktest.New(t, stacktest.Options{Clock: clock})
	sa, secret, err := env.App.CreateServiceAccount(t.Context(), env.Admin, "acme", app.ServiceAccountInput{Name: "ops", Role: tollgate.RoleAdmin, TokenTTLSeconds: 3600})
	if err != nil {
		t.Fatal(err)
	}
	first := issue(t, env, client(t, env, sa.ID, secret))
	// The race's outcome: the role changed, reuse_after did not move past
	// the token, and no process was told.
	sa.Role = tollgate.RoleViewer
	if err := env.Raw.InTx(t.Context(), func(q tollgate.Queries) error { return q.UpdateServiceAccount(t.Context(), sa) }); err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * time.Second) // past the caches' TTL
	got := issue(t, env, client(t, env, sa.ID, secret))
	cl, err := oauth.ClaimsOf(got.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken == first.AccessToken || cl.Role != "viewer" || got.Scope != "viewer" {
		t.Fatalf("after the role became viewer: same token %v, role claim %s", got.AccessToken == first.AccessToken, cl.Role)
	}
}
