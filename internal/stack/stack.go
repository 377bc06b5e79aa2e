// Package stack assembles Tollgate over a store: the signing keys, the use
// cases (app), the authentication boundary (authn) and the HTTP handler
// (server). The serve command and the tests that need the whole stack
// build it here, in one way.
package stack

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/authn"
	"github.com/tollgate/tollgate/credential"
	"github.com/tollgate/tollgate/federation"
	"github.com/tollgate/tollgate/keys"
	"github.com/tollgate/tollgate/server"
	"github.com/tollgate/tollgate/webhook"
)

// Config is what the assembly needs besides the store. Zero values take
// each package's defaults.
type Config struct {
	// Issuer is the public base URL (required).
	Issuer string
	// Audience is the aud of access tokens (default: Issuer).
	Audience string
	// Keyring keys secret hashes and seals data at rest (required).
	Keyring *credential.Keyring
	// Clock tells the time (default: the system clock).
	Clock tollgate.Clock
	// CacheTTL bounds what a process trusts from its caches.
	CacheTTL time.Duration
	// Argon2 are the password hashing parameters.
	Argon2 credential.Argon2Params
	// ServiceAccountEmailDomain ends service accounts' emails.
	ServiceAccountEmailDomain string
	// Limits bound failed authentication.
	Limits authn.Limits
	// UsageFlushEvery is how often last-used times are written.
	UsageFlushEvery time.Duration
	// TrustedProxies are the gateways whose forwarding headers count, and
	// ForwardedHeader the one they record the client in.
	TrustedProxies  []netip.Prefix
	ForwardedHeader string
	// ForwardedTarget is the family of headers gateways forward the
	// original method and URI in (server.TargetXForwarded or
	// server.TargetXOriginal).
	ForwardedTarget string
	// Registry collects the metrics; /metrics serves it (default: a new
	// registry).
	Registry *prometheus.Registry
	// MetricsElsewhere leaves /metrics out of Handler: the caller serves
	// Stack.Metrics on another listener (serve --admin-addr).
	MetricsElsewhere bool
	// Version and Revision label tollgate_build_info (default: what the
	// binary's build information says).
	Version, Revision string
	// Log is the logger (default: discard).
	Log *slog.Logger
	// Draining, when set and true, makes /readyz answer 503.
	Draining func() bool
	// FederationInsecureIssuers are the exact http://127.0.0.1:PORT
	// origins federated credentials may name as issuers (tests only).
	FederationInsecureIssuers []string
	// WebhookInsecureURLs are the exact http://127.0.0.1:PORT origins
	// webhooks may use (tests only), and WebhookRetry the waits between
	// attempts (default app.DefaultWebhookRetry).
	WebhookInsecureURLs []string
	WebhookRetry        []time.Duration
}

// Stack is an assembled Tollgate.
type Stack struct {
	Store    tollgate.Store
	Keys     *keys.Manager
	App      *app.App
	Authn    *authn.Authenticator
	Handler  http.Handler
	Registry *prometheus.Registry
	// Metrics serves the registry in the Prometheus formats.
	Metrics http.Handler
	// Webhooks sends the webhook outbox; serve runs it (Run), tests call
	// DeliverDue and ScanNotices.
	Webhooks *app.Dispatcher
}

// New assembles Tollgate over s, loading (or creating) its signing keys.
// Close it after the HTTP server has finished its requests; the store
// stays the caller's.
func New(ctx context.Context, s tollgate.Store, cfg Config) (*Stack, error) {
	if cfg.Clock == nil {
		cfg.Clock = tollgate.SystemClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	km := keys.New(s, cfg.Keyring, cfg.Clock)
	if err := km.Load(ctx); err != nil {
		return nil, err
	}
	a := app.New(s, cfg.Clock, app.Config{Issuer: cfg.Issuer, Audience: cfg.Audience, Keyring: cfg.Keyring, Signing: km,
		Argon2: cfg.Argon2, ServiceAccountEmailDomain: cfg.ServiceAccountEmailDomain, ReuseMemoTTL: cfg.CacheTTL,
		Metrics: cfg.Registry, FederationInsecureIssuers: cfg.FederationInsecureIssuers,
		WebhookInsecureURLs: cfg.WebhookInsecureURLs, WebhookRetry: cfg.WebhookRetry}, cfg.Log)
	au := authn.New(s, a, km, cfg.Keyring, cfg.Clock, authn.Config{Issuer: cfg.Issuer, CacheTTL: cfg.CacheTTL,
		Limits: cfg.Limits, UsageFlushEvery: cfg.UsageFlushEvery, Metrics: cfg.Registry,
		Federation: federation.New(federation.Config{Insecure: cfg.FederationInsecureIssuers, Clock: cfg.Clock})}, cfg.Log)
	metrics := promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})
	scfg := server.Config{Issuer: cfg.Issuer, TrustedProxies: cfg.TrustedProxies, ForwardedHeader: cfg.ForwardedHeader, ForwardedTarget: cfg.ForwardedTarget,
		Registerer: cfg.Registry, Metrics: metrics, Draining: cfg.Draining}
	if cfg.MetricsElsewhere {
		scfg.Metrics = nil
	}
	h, err := server.New(a, au, km, cfg.Log, scfg)
	if err == nil {
		err = register(cfg, s, km)
	}
	if err != nil {
		au.Close()
		a.Close()
		return nil, err
	}
	return &Stack{Store: s, Keys: km, App: a, Authn: au, Handler: h, Registry: cfg.Registry, Metrics: metrics,
		Webhooks: a.NewDispatcher(webhook.NewSender(cfg.WebhookInsecureURLs))}, nil
}

// register adds the metrics that belong to no one package: the build's,
// the signing key's age, and the store's connection pool when the store
// exports it.
func register(cfg Config, s tollgate.Store, km *keys.Manager) error {
	version, revision := cfg.Version, cfg.Revision
	if bi, ok := debug.ReadBuildInfo(); ok {
		if version == "" {
			version = bi.Main.Version
		}
		for _, st := range bi.Settings {
			if st.Key == "vcs.revision" && revision == "" {
				revision = st.Value
			}
		}
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tollgate_build_info",
		Help: "Always 1, labelled with the build: version, VCS revision and Go version."}, []string{"version", "revision", "go_version"})
	build.WithLabelValues(version, revision, runtime.Version()).Set(1)
	keyAge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tollgate_signing_key_age_seconds",
		Help: "Age of the key access tokens are signed with, as this process last read the keys (rotation resets it)."}, func() float64 {
		created, ok := km.CurrentCreatedAt()
		if !ok {
			return 0
		}
		return cfg.Clock.Now().Sub(created).Seconds()
	})
	cs := []prometheus.Collector{build, keyAge}
	if c, ok := s.(interface{ Collector() prometheus.Collector }); ok {
		cs = append(cs, c.Collector())
	}
	for _, c := range cs {
		if err := cfg.Registry.Register(c); err != nil {
			return fmt.Errorf("stack: metrics: %w", err)
		}
	}
	return nil
}

// Close stops the boundary (writing the last-used times it holds) and the
// token committer.
func (s *Stack) Close() {
	s.Authn.Close()
	s.App.Close()
}
