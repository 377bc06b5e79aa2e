package app_test

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/internal/stacktest"
	"github.com/tollgate/tollgate/store/sqlite"
)

func newApp(t *testing.T) (*app.App, *stacktest.Clock, tollgate.Store, app.Actor) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	clock := stacktest.NewClock()
	a := app.New(s, clock, app.Config{Issuer: "https://tollgate.example", Sessions: tollgate.SessionPolicy{Idle: time.Hour, Max: 8 * time.Hour}, Argon2: stacktest.Cheap},
		slog.New(slog.DiscardHandler))
	t.Cleanup(a.Close)
	res, err := a.Bootstrap(t.Context(), "acme", "admin@example.com", "admin-password-1")
	if err != nil {
		t.Fatal(err)
	}
	admin := app.Actor{Type: tollgate.PrincipalUser, ID: res.User.ID, Name: res.User.Email, PlatformAdmin: true, IP: "192.0.2.7", UserAgent: "test-browser"}
	return a, clock, s, admin
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := tollgate.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

var browser = app.Anonymous("192.0.2.7", "test-browser")

func TestPruneSessions(t *testing.T) {
	a, clock, _, admin := newApp(t)
	for range 3 {
		if _, _, err := a.StartSession(t.Context(), admin); err != nil {
			t.Fatal(err)
		}
	}
	clock.Add(2 * time.Hour)
	if n, err := a.PruneSessions(t.Context()); err != nil || n != 3 {
		t.Fatalf("PruneSessions = %d, %v; want 3", n, err)
	}
}

func TestStartSessionNeedsAUser(t *testing.T) {
	a, _, _, admin := newApp(t)
	_, _, err := a.StartSession(t.Context(), browser)
	wantCode(t, err, tollgate.EUnauthenticated)
	machine := admin
	machine.Credential = &app.Credential{Kind: tollgate.CredentialAPIToken}
	_, _, err = a.StartSession(t.Context(), machine)
	wantCode(t, err, tollgate.EUnauthenticated)
}

func TestInvitationExpiresAfterSevenDays(t *testing.T) {
	a, clock, _, admin := newApp(t)
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

// TestExistingUserJoinsOnlyAsThemselves: an invitation for an email that
// has an account is accepted only by that user (whom authn resolves by
// their password), never by whoever holds the link.
func TestExistingUserJoinsOnlyAsThemselves(t *testing.T) {
	a, _, _, admin := newApp(t)
	if _, err := a.CreateOrg(t.Context(), admin, "beta", "Beta"); err != nil {
		t.Fatal(err)
	}
	bob, err := a.Invite(t.Context(), admin, "acme", "bob@example.com", tollgate.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.AcceptInvitation(t.Context(), browser, bob.Token, "Bob", "bob-password-123"); err != nil {
		t.Fatal(err)
	}
	inv, err := a.Invite(t.Context(), admin, "beta", "bob@example.com", tollgate.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = a.AcceptInvitation(t.Context(), browser, inv.Token, "", "")
	wantCode(t, err, tollgate.EUnauthenticated)
	_, _, err = a.AcceptInvitation(t.Context(), admin, inv.Token, "", "")
	wantCode(t, err, tollgate.EUnauthenticated)
}
