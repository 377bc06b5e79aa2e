package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/oauth"
)

// Config configures the HTTP layer.
type Config struct {
	// Issuer is the public base URL. Session cookies are Secure when it is
	// https.
	Issuer string
	// SessionMax is how long the session cookie is kept by the browser; it
	// should match the app's absolute session lifetime.
	SessionMax time.Duration
	// MaxBodyBytes caps a request body (default 64 KiB).
	MaxBodyBytes int64
	// Metrics serves /metrics (Prometheus); nil leaves it out.
	Metrics http.Handler
	// OAuthMetrics counts OAuth error answers.
	OAuthMetrics *oauth.Metrics
	// TrustedProxies are the gateways whose X-Forwarded-Origin and
	// X-Original-Origin headers /check believes (default: loopback).
	TrustedProxies []netip.Prefix
}

// Server holds what handlers need.
type Server struct {
	app          *app.App
	oauth        *oauth.Service
	oauthMetrics *oauth.Metrics
	log          *slog.Logger
	cfg          Config
	openapi      []byte
}

// New returns the complete Tollgate HTTP handler.
func New(a *app.App, o *oauth.Service, log *slog.Logger, cfg Config) (http.Handler, error) {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.TrustedProxies == nil {
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	if cfg.SessionMax == 0 {
		cfg.SessionMax = 7 * 24 * time.Hour
	}
	doc, err := OpenAPIJSON()
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s := &Server{app: a, oauth: o, oauthMetrics: cfg.OAuthMetrics, log: log, cfg: cfg, openapi: doc}
	return s.routes(), nil
}

func (s *Server) secureCookies() bool { return strings.HasPrefix(s.cfg.Issuer, "https://") }
