package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/authn"
	"github.com/tollgate/tollgate/keys"
)

// Config configures the HTTP layer.
type Config struct {
	// Issuer is the public base URL. Session cookies are Secure when it is
	// https.
	Issuer string
	// SessionMax is how long the session cookie is kept by the browser; it
	// should match the app's absolute session lifetime.
	SessionMax time.Duration
	// MaxBodyBytes caps an admin API or console body (default 64 KiB).
	MaxBodyBytes int64
	// Metrics serves /metrics (Prometheus); nil leaves it out.
	Metrics http.Handler
	// Registerer registers the HTTP layer's own metrics (nil: kept
	// unregistered).
	Registerer prometheus.Registerer
	// TrustedProxies are the gateways whose forwarding headers are
	// believed: the client address in Forwarded or X-Forwarded-For, and
	// /check's X-Forwarded-Origin and X-Original-Origin (default:
	// loopback).
	TrustedProxies []netip.Prefix
	// ForwardedHeader is the one header trusted proxies record the client
	// address in: HeaderXForwardedFor (the default) or HeaderForwarded.
	ForwardedHeader string
	// ForwardedTarget is the one family of headers a trusted gateway
	// forwards the original request's method and URI in, which DPoP
	// proofs are checked against at /check: TargetXForwarded (the
	// default: X-Forwarded-Method, -Proto, -Host and -Uri, as Traefik and
	// Caddy send them) or TargetXOriginal (X-Original-Method and an
	// absolute X-Original-URL, as ingress-nginx sends them).
	ForwardedTarget string
	// Draining, when set and true, makes /readyz answer 503: the process is
	// shutting down and load balancers should stop sending.
	Draining func() bool
}

// Server holds what handlers need.
type Server struct {
	app     *app.App
	authn   *authn.Authenticator
	keys    *keys.Manager
	log     *slog.Logger
	cfg     Config
	openapi []byte
	metrics *metrics
}

// New returns the complete Tollgate HTTP handler: a and au serve the use
// cases and the authentication boundary, km the JWKS.
func New(a *app.App, au *authn.Authenticator, km *keys.Manager, log *slog.Logger, cfg Config) (http.Handler, error) {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.TrustedProxies == nil {
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	switch cfg.ForwardedHeader {
	case "":
		cfg.ForwardedHeader = HeaderXForwardedFor
	case HeaderXForwardedFor, HeaderForwarded:
	default:
		return nil, fmt.Errorf("server: the forwarded header must be %s or %s, not %q", HeaderXForwardedFor, HeaderForwarded, cfg.ForwardedHeader)
	}
	switch cfg.ForwardedTarget {
	case "":
		cfg.ForwardedTarget = TargetXForwarded
	case TargetXForwarded, TargetXOriginal:
	default:
		return nil, fmt.Errorf("server: the forwarded target must be %s or %s, not %q", TargetXForwarded, TargetXOriginal, cfg.ForwardedTarget)
	}
	if cfg.SessionMax == 0 {
		cfg.SessionMax = 7 * 24 * time.Hour
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	doc, err := OpenAPIJSON()
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	reg := cfg.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s := &Server{app: a, authn: au, keys: km, log: log, cfg: cfg, openapi: doc, metrics: newMetrics(reg)}
	return s.routes(), nil
}

func (s *Server) secureCookies() bool { return strings.HasPrefix(s.cfg.Issuer, "https://") }
