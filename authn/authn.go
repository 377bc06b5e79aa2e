package authn

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/federation"
	"github.com/tollgate/tollgate/keys"
)

// Config tunes the Authenticator. Zero values take the defaults noted.
type Config struct {
	// Issuer is the iss of the access tokens this server accepts: its
	// public base URL.
	Issuer string
	// CacheTTL bounds how long a process trusts what it cached about a
	// credential or its owner before reading it again (default 1 s): the
	// longest a change made by another replica can go unseen here if its
	// broadcast is lost. Changes made through this process are seen at
	// once, and other replicas' through the store's Broadcaster.
	CacheTTL time.Duration
	// NegativeTTL is how long a well-formed credential that is unknown is
	// answered from memory (default 5 minutes, R3). Importing a token
	// forgets it at once.
	NegativeTTL time.Duration
	// Sessions bound sessions (default tollgate.DefaultSessionPolicy).
	Sessions tollgate.SessionPolicy
	// Limits bound failed authentication (default DefaultLimits).
	Limits Limits
	// UsageFlushEvery is how often last-used times are written (default
	// 5 s; the API shows a use within that, A8).
	UsageFlushEvery time.Duration
	// Metrics registers the boundary's metrics (nil: kept unregistered).
	Metrics prometheus.Registerer
	// Federation fetches the keys of the external issuers federated
	// credentials trust (default: a fetcher with federation's defaults,
	// https issuers only).
	Federation *federation.Fetcher
}

// Authenticator is the one authentication boundary.
type Authenticator struct {
	store   tollgate.Store
	app     *app.App
	keys    *keys.Manager
	keyring *credential.Keyring
	clock   tollgate.Clock
	cfg     Config
	log     *slog.Logger
	metrics *metrics

	password, client, bearer *limiter
	device, userCode, leak   *limiter
	deviceCode               *limiter // refused polls of the device grant, at Limits.Bearer
	federation               *federation.Fetcher

	mu sync.Mutex
	// gen counts invalidations: a load that began before one does not
	// store what it read, which may be what the invalidation replaced.
	gen       uint64
	clients   *cache[*clientEntry]            // by service account ID
	secrets   *cache[[]tollgate.ClientSecret] // by service account ID
	trusts    *cache[*trustEntry]             // keys and federated credentials, by service account ID
	members   *cache[tollgate.Role]           // by org ID/user ID
	creds     *cache[*credEntry]              // by keyed hash of the presented string
	negative  *cache[struct{}]                // unknown well-formed credentials: keyed hash, "client:" ID, "session:" kind and hash, "device_code:" client ID and keyed hash
	sessions  *cache[struct{}]                // sessions this process has seen valid, by "session:" kind and hash
	preflight *cache[bool]                    // by origin
	polling   map[string]struct{}             // device codes being polled now, by keyed hash
	usage     usage
	sampler   sampler
	// orgs shares one copy of each org among the cached accounts
	// (internOrg): a million cached accounts in a thousand orgs need a
	// thousand copies, not a million. Guarded by orgsMu.
	orgsMu sync.Mutex
	orgs   map[string]*tollgate.Org

	// refusals counts the loads that found a credential gone, and refused
	// holds, by keyed hash, the count at its latest: a load of it that
	// began before does not cache what it read (loadCred). Guarded by mu.
	refusals uint64
	refused  *cache[uint64]

	// dummy is compared with when a client ID is unknown, and dummyPassword
	// verified when an email is, so that both take the same work as a
	// wrong secret or password.
	dummy         []byte
	dummyPassword string

	onceJobs chan *onceJob // the replay log's queue (once.go)

	quit    chan struct{}
	stopped sync.WaitGroup
	once    sync.Once
}

// New returns an Authenticator. It listens to the store's broadcasts for
// invalidations and flushes last-used times until Close.
func New(store tollgate.Store, a *app.App, km *keys.Manager, kr *credential.Keyring, clock tollgate.Clock, cfg Config, log *slog.Logger) *Authenticator {
	if clock == nil {
		clock = tollgate.SystemClock{}
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = time.Second
	}
	if cfg.NegativeTTL == 0 {
		cfg.NegativeTTL = 5 * time.Minute
	}
	if cfg.Sessions == (tollgate.SessionPolicy{}) {
		cfg.Sessions = tollgate.DefaultSessionPolicy
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	if cfg.Limits.Device == (Rate{}) {
		cfg.Limits.Device = DefaultLimits.Device
	}
	if cfg.Limits.Leak == (Rate{}) {
		cfg.Limits.Leak = DefaultLimits.Leak
	}
	if cfg.Limits.UserCode == (Rate{}) {
		cfg.Limits.UserCode = DefaultLimits.UserCode
	}
	if cfg.UsageFlushEvery == 0 {
		cfg.UsageFlushEvery = 5 * time.Second
	}
	if cfg.Federation == nil {
		cfg.Federation = federation.New(federation.Config{Clock: clock})
	}
	reg := cfg.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	au := &Authenticator{store: store, app: a, keys: km, keyring: kr, clock: clock, cfg: cfg, log: log,
		password: newLimiter("password", cfg.Limits.Password), client: newLimiter("client", cfg.Limits.Client), bearer: newAddressLimiter("bearer", cfg.Limits.Bearer),
		device: newAddressLimiter("device", cfg.Limits.Device), leak: newAddressLimiter("leak_report", cfg.Limits.Leak), userCode: newLimiter("user_code", cfg.Limits.UserCode),
		deviceCode: newAddressLimiter("device_code", cfg.Limits.Bearer), clients: newCache[*clientEntry](), orgs: map[string]*tollgate.Org{}, secrets: newCache[[]tollgate.ClientSecret](), trusts: newCache[*trustEntry](), members: newCache[tollgate.Role](), creds: newCache[*credEntry](),
		negative: newCache[struct{}](), refused: newCache[uint64](), sessions: newCache[struct{}](), preflight: newCache[bool](), polling: map[string]struct{}{}, usage: newUsage(),
		dummy: kr.Hash("tollgate: no such client"), dummyPassword: credential.HashPassword(credential.NewPassword(), a.Argon2()),
		federation: cfg.Federation, onceJobs: make(chan *onceJob, maxOnceBatch), quit: make(chan struct{})}
	au.metrics = newMetrics(reg, au)
	au.sampler = sampler{last: map[string]*sampled{}, events: make(chan rateEvent, 256)}
	ctx, cancel := context.WithCancel(context.Background())
	au.stopped.Go(func() { au.listen(ctx) })
	au.stopped.Go(func() { au.flushLoop(); cancel() })
	au.stopped.Go(au.writeSampled)
	au.stopped.Go(au.onceLoop)
	return au
}

// Close stops listening and writes the last-used times still in memory.
// Call it after the HTTP server has finished its requests.
func (a *Authenticator) Close() {
	a.once.Do(func() { close(a.quit) })
	a.stopped.Wait()
}

// Request is what an HTTP request presented, read off it by the server:
// the credentials, and where the request came from.
type Request struct {
	// Door names the endpoint, for metrics and audit: "api", "console",
	// "check", "token", "introspect", "revoke".
	Door string
	// Authorization is the Authorization header.
	Authorization string
	// Session is the session cookie's value.
	Session string
	// Form is the body of an OAuth endpoint.
	Form url.Values
	// Origin is the web origin (canonical; "" when none), for public API
	// tokens (A4).
	Origin string
	// IP is the client's address (from a trusted proxy's header, R4),
	// UserAgent its User-Agent.
	IP, UserAgent string
	// Header is the whole request's header, read-only, and Trusted says
	// whether its peer is a trusted proxy, whose forwarding headers count:
	// for credential types that read more of the request than the fields
	// above (a DPoP proof and the forwarded method and URI it signs).
	Header  http.Header
	Trusted bool
	// Method and URI are the method and absolute URI of the request a
	// credential is presented for, which a DPoP proof must name: the
	// request's own (at the issuer's URL), or, at /check and
	// introspection, what a trusted gateway forwarded ("" when it
	// forwarded none).
	Method, URI string
}

func (r *Request) anonymous() app.Actor { return app.Anonymous(r.IP, r.UserAgent) }

// now is the clock's time.
func (a *Authenticator) now() time.Time { return a.clock.Now() }

// loadGen returns the invalidation generation a load begins at.
func (a *Authenticator) loadGen() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.gen
}

// install stores a loaded value with put, unless an invalidation happened
// since the load began at gen: what was read may be what it replaced.
func (a *Authenticator) install(gen uint64, put func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gen == gen {
		put()
	}
}

// lookup returns c's value of key while it is younger than CacheTTL, else
// what load reads, which it caches (see install).
func lookup[V any](a *Authenticator, c *cache[V], key string, load func() (V, error)) (V, error) {
	now := a.now()
	a.mu.Lock()
	v, ok := c.get(key, now, a.cfg.CacheTTL)
	gen := a.gen
	a.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	a.install(gen, func() { c.put(key, v, now) })
	return v, nil
}
