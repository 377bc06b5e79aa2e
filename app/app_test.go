package app_test

import (
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/store/sqlite"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var cheap = credential.Argon2Params{Memory: 64, Time: 1, Threads: 1}

func newApp(t *testing.T) (*app.App, *fakeClock, tollgate.Store) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	a := app.New(s, clock, app.Config{Issuer: "https://tollgate.example", SessionIdle: time.Hour, SessionMax: 8 * time.Hour, Argon2: cheap},
		slog.New(slog.DiscardHandler))
	if _, err := a.Bootstrap(t.Context(), "acme", "admin@example.com", "admin-password-1"); err != nil {
		t.Fatal(err)
	}
	return a, clock, s
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := tollgate.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

var browser = app.Anonymous("192.0.2.7", "test-browser")

func TestSessionIdleExpiry(t *testing.T) {
	a, clock, _ := newApp(t)
	token, _, err := a.SignIn(t.Context(), browser, "admin@example.com", "admin-password-1")
	if err != nil {
		t.Fatal(err)
	}
	// Each use within the idle window keeps the session alive past it.
	for range 3 {
		clock.Add(50 * time.Minute)
		if _, err := a.Authenticate(t.Context(), token, "", ""); err != nil {
			t.Fatalf("session ended while in use: %v", err)
		}
	}
	clock.Add(time.Hour)
	_, err = a.Authenticate(t.Context(), token, "", "")
	wantCode(t, err, tollgate.EUnauthenticated)
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	a, clock, _ := newApp(t)
	token, _, err := a.SignIn(t.Context(), browser, "admin@example.com", "admin-password-1")
	if err != nil {
		t.Fatal(err)
	}
	for range 9 { // used every 55 minutes: never idle, but 8 hours pass
		clock.Add(55 * time.Minute)
		_, err = a.Authenticate(t.Context(), token, "", "")
	}
	wantCode(t, err, tollgate.EUnauthenticated)
	if n, err := a.PruneSessions(t.Context()); err != nil || n != 0 {
		t.Fatalf("PruneSessions = %d, %v: the ended session should have been deleted on use", n, err)
	}
}

func TestPruneSessions(t *testing.T) {
	a, clock, _ := newApp(t)
	for range 3 {
		if _, _, err := a.SignIn(t.Context(), browser, "admin@example.com", "admin-password-1"); err != nil {
			t.Fatal(err)
		}
	}
	clock.Add(2 * time.Hour)
	if n, err := a.PruneSessions(t.Context()); err != nil || n != 3 {
		t.Fatalf("PruneSessions = %d, %v; want 3", n, err)
	}
}

func TestSignOut(t *testing.T) {
	a, _, _ := newApp(t)
	token, _, err := a.SignIn(t.Context(), browser, "admin@example.com", "admin-password-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SignOut(t.Context(), token); err != nil {
		t.Fatal(err)
	}
	_, err = a.Authenticate(t.Context(), token, "", "")
	wantCode(t, err, tollgate.EUnauthenticated)
}

func TestInvitationExpiresAfterSevenDays(t *testing.T) {
	a, clock, _ := newApp(t)
	token, _, err := a.SignIn(t.Context(), browser, "admin@example.com", "admin-password-1")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := a.Authenticate(t.Context(), token, "192.0.2.7", "test-browser")
	if err != nil {
		t.Fatal(err)
	}
	early, err := a.Invite(t.Context(), admin, "acme", "early@example.com", tollgate.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	late, err := a.Invite(t.Context(), admin, "acme", "late@example.com", tollgate.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := late.Invitation.ExpiresAt.Sub(clock.Now()), 7*24*time.Hour; got != want {
		t.Fatalf("invitation lifetime %v, want %v", got, want)
	}
	if late.AcceptURL != "https://tollgate.example/invitations/accept?token="+late.Token {
		t.Fatalf("accept URL %q", late.AcceptURL)
	}
	clock.Add(7*24*time.Hour - time.Second)
	if _, _, err := a.AcceptInvitation(t.Context(), browser, early.Token, "Early", "early-password-1"); err != nil {
		t.Fatalf("accept one second before expiry: %v", err)
	}
	clock.Add(time.Second)
	_, _, err = a.AcceptInvitation(t.Context(), browser, late.Token, "Late", "late-password-1")
	wantCode(t, err, tollgate.EInvalid)
}

func TestFailedSignInsAreAuditedInEveryOrgOfTheUser(t *testing.T) {
	a, _, s := newApp(t)
	_, _, err := a.SignIn(t.Context(), browser, "Admin@Example.com", "wrong-password")
	wantCode(t, err, tollgate.EUnauthenticated)
	org, err := s.GetOrgBySlug(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := s.ListAuditEvents(t.Context(), org.ID, tollgate.AuditFilter{Action: tollgate.ActionSessionFailed}, tollgate.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].IP != "192.0.2.7" || evs[0].Actor.Name != "admin@example.com" {
		t.Fatalf("session.failed events: %+v", evs)
	}
	for k, v := range evs[0].Details {
		if v == "wrong-password" {
			t.Fatalf("the password reached the audit log under %q", k)
		}
	}
}
