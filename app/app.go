package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
)

// Config tunes the use cases. Zero values take the defaults noted.
type Config struct {
	// Issuer is the public base URL, used to build invitation links.
	Issuer string
	// SessionIdle ends a session unused this long (default 12 h).
	SessionIdle time.Duration
	// SessionMax ends a session this long after sign-in (default 7 days).
	SessionMax time.Duration
	// Argon2 are the password hashing parameters (default
	// credential.DefaultArgon2).
	Argon2 credential.Argon2Params
	// SignInLimits bound failed sign-ins (default DefaultSignInLimits).
	SignInLimits SignInLimits
	// Keys hash client secrets; required for service accounts.
	Keys *credential.Keyring
	// ServiceAccountEmailDomain ends service accounts' email addresses
	// (default tollgate.DefaultServiceAccountEmailDomain).
	ServiceAccountEmailDomain string
	// ServiceAccountChanged, when set, is called with an account's ID after
	// a change to it commits, so that caches of it are dropped.
	ServiceAccountChanged func(id string)
	// APITokenChanged, when set, is called with a token's keyed hash after
	// a change to it (update, reassignment, revocation) commits.
	APITokenChanged func(hash []byte)
}

// App runs the use cases against a store.
type App struct {
	store   tollgate.Store
	clock   tollgate.Clock
	cfg     Config
	log     *slog.Logger
	limiter *failureLimiter
	// dummyHash is verified against when a sign-in names an unknown email,
	// so that the answer takes as long as for a known one.
	dummyHash string
}

// New returns an App. clock may be nil for the system clock.
func New(store tollgate.Store, clock tollgate.Clock, cfg Config, log *slog.Logger) *App {
	if clock == nil {
		clock = tollgate.SystemClock{}
	}
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = 12 * time.Hour
	}
	if cfg.SessionMax == 0 {
		cfg.SessionMax = 7 * 24 * time.Hour
	}
	if cfg.Argon2 == (credential.Argon2Params{}) {
		cfg.Argon2 = credential.DefaultArgon2
	}
	if cfg.ServiceAccountEmailDomain == "" {
		cfg.ServiceAccountEmailDomain = tollgate.DefaultServiceAccountEmailDomain
	}
	if cfg.SignInLimits == (SignInLimits{}) {
		cfg.SignInLimits = DefaultSignInLimits
	}
	return &App{
		store:     store,
		clock:     clock,
		cfg:       cfg,
		log:       log,
		limiter:   newFailureLimiter(cfg.SignInLimits),
		dummyHash: credential.HashPassword(credential.NewPassword(), cfg.Argon2),
	}
}

// changed reports a committed change to a service account.
func (a *App) changed(id string) {
	if a.cfg.ServiceAccountChanged != nil {
		a.cfg.ServiceAccountChanged(id)
	}
}

// tokenChanged reports a committed change to an API token.
func (a *App) tokenChanged(hash []byte) {
	if a.cfg.APITokenChanged != nil {
		a.cfg.APITokenChanged(hash)
	}
}

// Ready returns an error unless the store answers.
func (a *App) Ready(ctx context.Context) error { return a.store.Ping(ctx) }

// now returns the clock's time at store precision.
func (a *App) now() time.Time { return tollgate.Timestamp(a.clock.Now()) }

// Actor is who is calling, with where the call came from for the audit
// log: a user signed in with a session; a machine presenting a bearer
// credential (an API token or access token), which acts in the
// credential's org with the credential's role (Credential and OrgID set);
// or anonymous.
type Actor struct {
	Type          tollgate.PrincipalType // tollgate.PrincipalUser, PrincipalServiceAccount, or PrincipalAnonymous
	ID            string
	Name          string
	PlatformAdmin bool
	IP            string
	UserAgent     string
	// Credential, OrgID and Role are set for bearer credentials.
	Credential string
	OrgID      string
	Role       tollgate.Role
}

// Session reports whether the actor is a person signed in with a session.
func (ac Actor) Session() bool { return ac.Type == tollgate.PrincipalUser && ac.Credential == "" }

// Anonymous returns an actor that has not authenticated.
func Anonymous(ip, userAgent string) Actor {
	return Actor{Type: tollgate.PrincipalAnonymous, IP: ip, UserAgent: userAgent}
}

func (ac Actor) principal() tollgate.Principal {
	return tollgate.Principal{Type: ac.Type, ID: ac.ID, Name: ac.Name}
}

// audit appends an event recording what actor did to target in org, inside
// the transaction q.
func (a *App) audit(ctx context.Context, q tollgate.Queries, ac Actor, orgID, action string, target tollgate.Principal, details map[string]any) error {
	return q.AppendAuditEvent(ctx, tollgate.NewAuditEvent(a.clock.Now(), orgID, ac.principal(), action, target, ac.IP, ac.UserAgent, details))
}

// authorize resolves the org by slug and checks that ac may act in it with
// at least role min: a session user through their membership, a bearer
// credential only in its own org and with its own role. A missing org and
// a non-member (or another org's credential) both get ENotFound.
func (a *App) authorize(ctx context.Context, q tollgate.Queries, ac Actor, slug string, min tollgate.Role) (*tollgate.Org, tollgate.Role, error) {
	notFound := tollgate.Errorf(tollgate.ENotFound, "organization %q not found", slug)
	if ac.Type == tollgate.PrincipalAnonymous {
		return nil, "", errUnauthenticated
	}
	if tollgate.ValidateSlug(slug) != nil || (ac.Type != tollgate.PrincipalUser && ac.Credential == "") {
		return nil, "", notFound
	}
	org, err := q.GetOrgBySlug(ctx, slug)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, "", notFound
	} else if err != nil {
		return nil, "", err
	}
	role := ac.Role
	if ac.Credential != "" {
		if org.ID != ac.OrgID {
			return nil, "", notFound
		}
	} else {
		m, err := q.GetMember(ctx, org.ID, ac.ID)
		if tollgate.ErrorCode(err) == tollgate.ENotFound {
			return nil, "", notFound
		} else if err != nil {
			return nil, "", err
		}
		role = m.Role
	}
	if !role.AtLeast(min) {
		return nil, "", tollgate.Errorf(tollgate.EForbidden, "this needs the %s role or higher in %s; you are %s", min, slug, role)
	}
	return org, role, nil
}

var errUnauthenticated = tollgate.Errorf(tollgate.EUnauthenticated, "sign in first")
