package app

import (
	"context"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/keys"
	"github.com/tollgate/tollgate/oauth"
)

// Config tunes the use cases. Zero values take the defaults noted.
type Config struct {
	// Issuer is the public base URL: invitation links, the token
	// endpoint's URL and the iss of access tokens.
	Issuer string
	// Audience is the aud of access tokens (default: Issuer).
	Audience string
	// Sessions bound sessions (default tollgate.DefaultSessionPolicy).
	Sessions tollgate.SessionPolicy
	// Argon2 are the password hashing parameters (default
	// credential.DefaultArgon2).
	Argon2 credential.Argon2Params
	// Keyring hashes client secrets and tokens and seals issued tokens;
	// required for service accounts and tokens.
	Keyring *credential.Keyring
	// Signing signs access tokens; required for the token endpoint.
	Signing *keys.Manager
	// ServiceAccountEmailDomain ends service accounts' email addresses
	// (default tollgate.DefaultServiceAccountEmailDomain).
	ServiceAccountEmailDomain string
	// ReuseMemoTTL bounds how long this process hands out an account's
	// current token from memory before reading the latest one again
	// (default 1 s): how long a token minted by another replica can go
	// unseen here.
	ReuseMemoTTL time.Duration
	// Metrics registers the app's metrics (nil: kept unregistered).
	Metrics prometheus.Registerer
	// FederationInsecureIssuers are the http origins federated
	// credentials may name as issuers (tests only, K2).
	FederationInsecureIssuers []string
	// WebhookInsecureURLs are the exact http://127.0.0.1:PORT origins
	// webhooks may use (tests only, P2); every other URL is https to a
	// public address.
	WebhookInsecureURLs []string
	// WebhookRetry is the wait before each retry of a failed delivery
	// (default DefaultWebhookRetry); the last wait repeats until
	// tollgate.WebhookDeliveryDeadline after the event.
	WebhookRetry []time.Duration
}

// App runs the use cases against a store.
type App struct {
	store   tollgate.Store
	clock   tollgate.Clock
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	issuer  *issuer
}

// New returns an App. clock may be nil for the system clock. Close it after
// the HTTP server has finished its requests.
func New(store tollgate.Store, clock tollgate.Clock, cfg Config, log *slog.Logger) *App {
	if clock == nil {
		clock = tollgate.SystemClock{}
	}
	if cfg.Sessions == (tollgate.SessionPolicy{}) {
		cfg.Sessions = tollgate.DefaultSessionPolicy
	}
	if cfg.Argon2 == (credential.Argon2Params{}) {
		cfg.Argon2 = credential.DefaultArgon2
	}
	if cfg.ServiceAccountEmailDomain == "" {
		cfg.ServiceAccountEmailDomain = tollgate.DefaultServiceAccountEmailDomain
	}
	if cfg.ReuseMemoTTL == 0 {
		cfg.ReuseMemoTTL = time.Second
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	if cfg.Audience == "" {
		cfg.Audience = cfg.Issuer
	}
	reg := cfg.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	a := &App{store: store, clock: clock, cfg: cfg, log: log, metrics: newMetrics(reg)}
	a.issuer = newIssuer(a)
	a.issuer.registerMemo(reg)
	return a
}

// Close stops the committer of new tokens after the batch it is running;
// token requests after Close fail.
func (a *App) Close() { a.issuer.close() }

// Argon2 returns the password hashing parameters.
func (a *App) Argon2() credential.Argon2Params { return a.cfg.Argon2 }

// changed broadcasts committed changes, so that every process drops what
// it cached of them. A failed broadcast is logged: the other processes
// then see the change when their caches expire.
func (a *App) changed(ctx context.Context, changes ...tollgate.Change) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	for _, c := range changes {
		if c.Kind == tollgate.ChangeServiceAccount {
			a.issuer.forget(c.ID)
		}
		if err := a.store.Broadcast(ctx, c.Key()); err != nil {
			a.log.WarnContext(ctx, "broadcasting a change", "change", c.Key(), "err", err)
		}
	}
}

// Ready returns an error unless the store answers.
func (a *App) Ready(ctx context.Context) error { return a.store.Ping(ctx) }

// now returns the clock's time at store precision.
func (a *App) now() time.Time { return tollgate.Timestamp(a.clock.Now()) }

// Actor is who is calling, as the authn package resolved it, with where
// the call came from for the audit log: a person signed in with a session
// (Type user, Credential nil); a machine that presented a credential,
// which acts in the credential's org with the credential's role; or
// anonymous.
type Actor struct {
	Type          tollgate.PrincipalType // user, service_account or anonymous
	ID            string
	Name          string
	PlatformAdmin bool // a session of the bootstrap user
	IP            string
	UserAgent     string
	// Credential is what a machine authenticated with; nil for a session
	// and for anonymous.
	Credential *Credential
	// SessionID is the public ID of a person's session ("" otherwise),
	// and Via is ViaCLI when that session is a CLI session (`tollgate
	// login`): the person acts with their own roles, and their audit
	// events say "via": "cli".
	SessionID string
	Via       string
}

// Credential is a credential the authn package accepted, with what it may
// do: always in OrgID, with Role.
type Credential struct {
	Kind tollgate.CredentialKind
	// ID is the API token's ID, the access token's jti, or the ID of the
	// client secret, client key or federated credential a client
	// authenticated with.
	ID    string
	OrgID string
	// Role is the credential's effective role: never above its owner's
	// current role, never super_admin.
	Role tollgate.Role
	// Public is set for a public API token, admitted from a listed origin.
	Public bool
	// Hash is the keyed hash of a token an OAuth client asks about
	// (authn.Inspect), the key of caches and of its Change on revocation.
	Hash []byte
	// Account and Org are the owning service account and its org as they
	// are now, for credentials of service accounts. They are shared with
	// the boundary's cache: read them, never change them.
	Account *tollgate.ServiceAccount
	Org     *tollgate.Org
	// Claims are an access token's.
	Claims *oauth.Claims
	// Method is how an OAuth client authenticated: client_secret_basic,
	// client_secret_post, private_key_jwt, or federated.
	Method string
	// ExternalIssuer and ExternalSubject are the iss and sub of the
	// external token a federated client presented.
	ExternalIssuer, ExternalSubject string
	// JKT is the thumbprint of the DPoP key whose proof came with the
	// token request ("" without one, K3).
	JKT string
}

// Session reports whether the actor is a person signed in with a session.
func (ac Actor) Session() bool { return ac.Type == tollgate.PrincipalUser && ac.Credential == nil }

// Anonymous returns an actor that has not authenticated.
func Anonymous(ip, userAgent string) Actor {
	return Actor{Type: tollgate.PrincipalAnonymous, IP: ip, UserAgent: userAgent}
}

func (ac Actor) principal() tollgate.Principal {
	return tollgate.Principal{Type: ac.Type, ID: ac.ID, Name: ac.Name}
}

// audit appends an event recording what actor did to target in org, inside
// the transaction q, and writes it to the outbox of the org's webhooks that
// want it (P2).
func (a *App) audit(ctx context.Context, q tollgate.Queries, ac Actor, orgID, action string, target tollgate.Principal, details map[string]any) error {
	if ac.Via != "" {
		with := make(map[string]any, len(details)+1)
		maps.Copy(with, details)
		with["via"] = ac.Via
		details = with
	}
	e := tollgate.NewAuditEvent(a.clock.Now(), orgID, ac.principal(), action, target, ac.IP, ac.UserAgent, details)
	if err := q.AppendAuditEvent(ctx, e); err != nil {
		return err
	}
	return a.enqueue(ctx, q, orgID, action, auditPayload(e))
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
	if tollgate.ValidateSlug(slug) != nil || (ac.Type != tollgate.PrincipalUser && ac.Credential == nil) {
		return nil, "", notFound
	}
	org, err := q.GetOrgBySlug(ctx, slug)
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil, "", notFound
	} else if err != nil {
		return nil, "", err
	}
	var role tollgate.Role
	if ac.Credential != nil {
		if org.ID != ac.Credential.OrgID {
			return nil, "", notFound
		}
		role = ac.Credential.Role
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

// SealValue protects a value the console hands a browser to keep for a
// moment (a page shown once) with the key file, bound to context; only
// OpenValue with the same context reads it, on any replica.
func (a *App) SealValue(b []byte, context string) []byte {
	return a.cfg.Keyring.Seal(b, "console:"+context)
}

// OpenValue reads what SealValue sealed under context.
func (a *App) OpenValue(sealed []byte, context string) ([]byte, error) {
	return a.cfg.Keyring.Open(sealed, "console:"+context)
}
