package authn_test

import (
	"testing"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/authn"
	"github.com/tollgate/tollgate/internal/stacktest"
)

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := tollgate.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

var browser = authn.Request{Door: "api", IP: "192.0.2.7", UserAgent: "test-browser"}

// signIn signs the admin in and returns the session request.
func signIn(t *testing.T, env *stacktest.Env) authn.Request {
	t.Helper()
	ac, err := env.Authn.Password(t.Context(), browser, "admin@example.com", stacktest.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := env.App.StartSession(t.Context(), ac)
	if err != nil {
		t.Fatal(err)
	}
	req := browser
	req.Session = token
	return req
}

func TestSessionIdleExpiry(t *testing.T) {
	clock := stacktest.NewClock()
	env := stacktest.New(t, stacktest.Options{Clock: clock})
	req := signIn(t, env)
	// Each use within the idle window (12 hours) keeps the session alive past it.
	for range 3 {
		clock.Add(11 * time.Hour)
		if ac, err := env.Authn.Caller(t.Context(), req); err != nil || !ac.Session() || ac.ID != env.Admin.ID || ac.IP != "192.0.2.7" {
			t.Fatalf("session while in use: %+v, %v", ac, err)
		}
	}
	clock.Add(12 * time.Hour)
	_, err := env.Authn.Caller(t.Context(), req)
	wantCode(t, err, tollgate.EUnauthenticated)
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	clock := stacktest.NewClock()
	env := stacktest.New(t, stacktest.Options{Clock: clock})
	req := signIn(t, env)
	var err error
	for range 16 { // used every 11 hours: never idle, but 7 days pass
		clock.Add(11 * time.Hour)
		_, err = env.Authn.Caller(t.Context(), req)
	}
	wantCode(t, err, tollgate.EUnauthenticated)
	if n, err := env.App.PruneSessions(t.Context()); err != nil || n != 0 {
		t.Fatalf("PruneSessions = %d, %v: the ended session should have been deleted on use", n, err)
	}
}

func TestSignOut(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	req := signIn(t, env)
	if err := env.App.SignOut(t.Context(), req.Session); err != nil {
		t.Fatal(err)
	}
	_, err := env.Authn.Caller(t.Context(), req)
	wantCode(t, err, tollgate.EUnauthenticated)
}

// TestOtherAuthorizationSchemesAreIgnored: a Basic or Negotiate header,
// which browsers add by themselves behind some proxies, authenticates
// nothing: the session cookie decides, and without one the caller is
// anonymous.
func TestOtherAuthorizationSchemesAreIgnored(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	req := signIn(t, env)
	req.Authorization = "Basic YWxpY2U6c2VjcmV0"
	ac, err := env.Authn.Caller(t.Context(), req)
	if err != nil || !ac.Session() || ac.Credential != nil {
		t.Fatalf("Basic with a cookie: %+v, %v", ac, err)
	}
	req.Session = ""
	if ac, err := env.Authn.Caller(t.Context(), req); err != nil || ac.Type != tollgate.PrincipalAnonymous {
		t.Fatalf("Basic alone: %+v, %v", ac, err)
	}
}

func TestFailedSignInsAreAuditedInEveryOrgOfTheUser(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	_, err := env.Authn.Password(t.Context(), browser, "Admin@Example.com", "wrong-password")
	wantCode(t, err, tollgate.EUnauthenticated)
	org, err := env.Raw.GetOrgBySlug(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := env.Raw.ListAuditEvents(t.Context(), org.ID, tollgate.AuditFilter{Action: tollgate.ActionSessionFailed}, tollgate.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].IP != "192.0.2.7" || evs[0].Actor.Type != tollgate.PrincipalAnonymous || evs[0].Actor.ID != "" ||
		evs[0].Details["email"] != "admin@example.com" || evs[0].Target.Name != "admin@example.com" {
		t.Fatalf("session.failed events: %+v", evs)
	}
	for k, v := range evs[0].Details {
		if v == "wrong-password" {
			t.Fatalf("the password reached the audit log under %q", k)
		}
	}
}

// TestGuessedSessionCookiesAreLimited: random session cookies are limited
// per address like unknown bearer tokens, while a session this process has
// seen still works from that address.
func TestGuessedSessionCookiesAreLimited(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{Limits: authn.Limits{Bearer: authn.Rate{N: 2, Per: time.Minute}}})
	req := signIn(t, env)
	if _, err := env.Authn.Caller(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	guess := req
	var err error
	for range 3 {
		guess.Session = stacktest.UnknownAPIToken()[4:47]
		_, err = env.Authn.Caller(t.Context(), guess)
	}
	wantCode(t, err, tollgate.ERateLimited)
	if ac, err := env.Authn.Caller(t.Context(), req); err != nil || !ac.Session() {
		t.Fatalf("the real session from the limited address: %+v, %v", ac, err)
	}
	// A session that ended stays refused, from memory.
	if err := env.App.SignOut(t.Context(), req.Session); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, err := env.Authn.Caller(t.Context(), req)
		wantCode(t, err, tollgate.EUnauthenticated)
	}
}
