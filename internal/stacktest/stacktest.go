// Package stacktest builds the whole Tollgate stack for tests, in-process,
// on a real store: a fresh SQLite file, or a fresh PostgreSQL schema
// (pgtest) when asked. It bootstraps the organization acme, its super
// admin admin@example.com (password AdminPassword), and one viewer service
// account.
package stacktest

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/authn"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/internal/stack"
	"github.com/tollgate/tollgate/internal/testenv"
	"github.com/tollgate/tollgate/store/postgres"
	"github.com/tollgate/tollgate/store/postgres/pgtest"
	"github.com/tollgate/tollgate/store/sqlite"
)

// Issuer is the issuer of every test stack.
const Issuer = "http://tollgate.test"

// AdminPassword is the bootstrap admin's password.
const AdminPassword = "admin-password-1"

// Cheap are argon2 parameters that make tests fast.
var Cheap = credential.Argon2Params{Memory: 64, Time: 1, Threads: 1}

// Options tune a test stack.
type Options struct {
	// Postgres runs on a fresh PostgreSQL schema instead of SQLite; the
	// test skips (or, in CI, fails) without TOLLGATE_TEST_POSTGRES.
	Postgres bool
	// Clock is the stack's clock (default: the system clock).
	Clock tollgate.Clock
	// CacheTTL, Limits, TrustedProxies and UsageFlushEvery are passed to
	// the stack.
	CacheTTL        time.Duration
	Limits          authn.Limits
	TrustedProxies  []netip.Prefix
	ForwardedHeader string
	UsageFlushEvery time.Duration
	// FederationInsecureIssuers are test issuers' http origins
	// (internal/oidctest) that federated credentials may name.
	FederationInsecureIssuers []string
	// WebhookInsecureURLs are test receivers' http origins webhooks may
	// use, and WebhookRetry the waits between attempts.
	WebhookInsecureURLs []string
	WebhookRetry        []time.Duration
	// Log receives the stack's log (default: discarded).
	Log *slog.Logger
	// Wrap, when set, wraps the store the stack uses, to count or slow
	// its calls (the bootstrap's included).
	Wrap func(tollgate.Store) tollgate.Store
}

// Env is a running stack with its bootstrap principals.
type Env struct {
	*stack.Stack
	// Raw is the store itself, unwrapped.
	Raw tollgate.Store
	// Admin is the bootstrap super admin, as a session actor.
	Admin app.Actor
	// Account is the viewer service account "fuzz", with its secret.
	Account *tollgate.ServiceAccount
	Secret  string
}

// New builds a stack for t and closes it when t ends.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	var s interface {
		tollgate.Store
		Migrate(context.Context) ([]int, error)
	}
	var err error
	if o.Postgres {
		s, err = postgres.Open(t.Context(), pgtest.URL(t))
	} else {
		s, err = sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "t.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	kr, err := credential.NewKeyring(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	var used tollgate.Store = s
	if o.Wrap != nil {
		used = o.Wrap(s)
	}
	st, err := stack.New(t.Context(), used, stack.Config{Issuer: Issuer, Keyring: kr, Clock: o.Clock, CacheTTL: o.CacheTTL,
		Argon2: Cheap, Limits: o.Limits, TrustedProxies: o.TrustedProxies, ForwardedHeader: o.ForwardedHeader, Log: o.Log, UsageFlushEvery: o.UsageFlushEvery,
		FederationInsecureIssuers: o.FederationInsecureIssuers, WebhookInsecureURLs: o.WebhookInsecureURLs, WebhookRetry: o.WebhookRetry})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	res, err := st.App.Bootstrap(t.Context(), "acme", "admin@example.com", AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	admin := app.Actor{Type: tollgate.PrincipalUser, ID: res.User.ID, Name: res.User.Email, PlatformAdmin: true}
	sa, secret, err := st.App.CreateServiceAccount(t.Context(), admin, "acme", app.ServiceAccountInput{Name: "fuzz", Role: tollgate.RoleViewer, TokenTTLSeconds: 300})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Stack: st, Raw: s, Admin: admin, Account: sa, Secret: secret}
}

// Stores returns one stack per store available: SQLite always, and
// PostgreSQL when TOLLGATE_TEST_POSTGRES is set (required in CI), by name.
// Fuzz targets use it so that every input meets both stores.
func Stores(t testing.TB, o Options) map[string]*Env {
	t.Helper()
	envs := map[string]*Env{"sqlite": New(t, o)}
	if testenv.Has(t, "TOLLGATE_TEST_POSTGRES") {
		o.Postgres = true
		envs["postgres"] = New(t, o)
	}
	return envs
}

// UnknownAPIToken returns a well-formed private API token that names
// nothing.
func UnknownAPIToken() string { return credential.NewCredential(credential.PrefixPrivateToken) }

// UnknownClientID returns a well-formed client ID that names no account.
func UnknownClientID() string { return tollgate.NewID(tollgate.PrefixServiceAccount, time.Now()) }
