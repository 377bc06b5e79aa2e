package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"net/netip"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/authn"
	"github.com/tollgate/tollgate/internal/keyfile"
	"github.com/tollgate/tollgate/internal/logwriter"
	"github.com/tollgate/tollgate/internal/stack"
	"github.com/tollgate/tollgate/internal/telemetry"
	"github.com/tollgate/tollgate/keys"
	"github.com/tollgate/tollgate/server"
	"github.com/tollgate/tollgate/store/sqlite"
)

// shutdownGrace is how long in-flight requests get to finish after SIGINT
// or SIGTERM.
const shutdownGrace = 30 * time.Second

// certReloadEvery is how often the TLS certificate files are checked for
// a change.
const certReloadEvery = 2 * time.Second

// defaultMemoryLimit is the Go runtime's soft memory limit unless
// GOMEMLIMIT sets one. The process's RSS is this plus what lives outside
// the Go heap: SQLite's page caches (about 30 MiB) and the binary's own
// pages (about 25 MiB). Measured under a million tokens in rotation, 160
// MiB gave an RSS of 213 MiB; the target (DESIGN.md Z2) is under 200 MB.
// Full caches hold about 95 MiB, so the collector still has room.
const defaultMemoryLimit = 128 << 20

func runServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", envOr(getenv, "TOLLGATE_ADDR", "127.0.0.1:8080"), "listen address (env TOLLGATE_ADDR)")
	db := fs.String("db", envOr(getenv, "TOLLGATE_DB", "tollgate.db"), "database: a SQLite file path, or a postgres:// URL (env TOLLGATE_DB)")
	issuer := fs.String("issuer", getenv("TOLLGATE_ISSUER"), "public base URL (env TOLLGATE_ISSUER; default http://<addr>)")
	keyFile := fs.String("key-file", getenv("TOLLGATE_KEY_FILE"), "file of 32+ random bytes that key secret hashes and encrypt signing keys (env TOLLGATE_KEY_FILE; default tollgate.key beside the SQLite file; required with PostgreSQL)")
	audience := fs.String("audience", getenv("TOLLGATE_AUDIENCE"), "aud of access tokens (env TOLLGATE_AUDIENCE; default: the issuer)")
	ef := &envFlags{fs: fs, getenv: getenv}
	rotation := ef.duration("key-rotation", "TOLLGATE_KEY_ROTATION", 30*24*time.Hour, "rotate the signing key when it is this old")
	logFormat := fs.String("log-format", envOr(getenv, "TOLLGATE_LOG_FORMAT", "text"), "text (key=value lines) or json (one JSON object a line) (env TOLLGATE_LOG_FORMAT)")
	logLevel := fs.String("log-level", envOr(getenv, "TOLLGATE_LOG_LEVEL", "info"), "debug, info (one line per request), warn or error (env TOLLGATE_LOG_LEVEL)")
	proxies := fs.String("trusted-proxies", envOr(getenv, "TOLLGATE_TRUSTED_PROXIES", "127.0.0.0/8,::1/128"), "comma-separated CIDRs of the proxies and gateways whose forwarding headers count: the client address in Forwarded or X-Forwarded-For, and /check's X-Forwarded-Origin / X-Original-Origin (env TOLLGATE_TRUSTED_PROXIES)")
	fwdHeader := fs.String("forwarded-header", envOr(getenv, "TOLLGATE_FORWARDED_HEADER", server.HeaderXForwardedFor), "the one header trusted proxies record the client address in: X-Forwarded-For or Forwarded (the other is ignored) (env TOLLGATE_FORWARDED_HEADER)")
	fwdTarget := fs.String("forwarded-target", envOr(getenv, "TOLLGATE_FORWARDED_TARGET", server.TargetXForwarded), "the one family of headers trusted gateways forward the original method and URI in, which DPoP proofs are checked against at /check: x-forwarded (X-Forwarded-Method, -Proto, -Host, -Uri: Traefik, Caddy) or x-original (X-Original-Method and an absolute X-Original-URL: ingress-nginx) (env TOLLGATE_FORWARDED_TARGET)")
	cacheTTL := ef.duration("cache-ttl", "TOLLGATE_CACHE_TTL", time.Second, "how long a replica trusts cached credential state; with PostgreSQL, changes are also pushed to every replica at once")
	drain := ef.duration("shutdown-drain", "TOLLGATE_SHUTDOWN_DRAIN", 5*time.Second, "on SIGTERM or SIGINT, how long /readyz answers 503 while requests are still served, so that load balancers stop sending before the listener closes")
	readHeader := ef.duration("read-header-timeout", "TOLLGATE_READ_HEADER_TIMEOUT", 5*time.Second, "how long a client may take to send a request's headers")
	readBody := ef.duration("read-timeout", "TOLLGATE_READ_TIMEOUT", 30*time.Second, "how long a client may take to send a whole request")
	write := ef.duration("write-timeout", "TOLLGATE_WRITE_TIMEOUT", 30*time.Second, "how long a response may take (an audit export extends it as it streams)")
	idle := ef.duration("idle-timeout", "TOLLGATE_IDLE_TIMEOUT", 120*time.Second, "how long an idle keep-alive connection stays open")
	headerBytes := ef.integer("max-header-bytes", "TOLLGATE_MAX_HEADER_BYTES", 16<<10, "the most bytes of request headers; more is answered 431")
	limitPassword := ef.rate("limit-password", "TOLLGATE_LIMIT_PASSWORD", authn.DefaultLimits.Password, "failed passwords per email and client address (an address gets 10x over all emails); per process")
	limitClient := ef.rate("limit-client", "TOLLGATE_LIMIT_CLIENT", authn.DefaultLimits.Client, "failed client authentications per client ID and address (10x per address); per process")
	limitBearer := ef.rate("limit-bearer", "TOLLGATE_LIMIT_BEARER", authn.DefaultLimits.Bearer, "unknown bearer credentials per client address at /check and the admin API, and (counted apart) refused device-code polls at the token endpoint; per process")
	limitDevice := ef.rate("limit-device", "TOLLGATE_LIMIT_DEVICE", authn.DefaultLimits.Device, "device logins (tollgate login) started per client address; per process")
	limitLeak := ef.rate("limit-leak", "TOLLGATE_LIMIT_LEAK", authn.DefaultLimits.Leak, "leaked-credential reports (POST /api/v1/credentials/leaked) per client address; per process")
	saDomain := fs.String("sa-email-domain", envOr(getenv, "TOLLGATE_SA_EMAIL_DOMAIN", "serviceaccounts.tollgate.local"), "domain of service accounts' email addresses (env TOLLGATE_SA_EMAIL_DOMAIN)")
	tlsCert := fs.String("tls-cert", getenv("TOLLGATE_TLS_CERT"), "PEM certificate (chain) to serve HTTPS with, reloaded when the file changes; with --tls-key (env TOLLGATE_TLS_CERT)")
	tlsKey := fs.String("tls-key", getenv("TOLLGATE_TLS_KEY"), "PEM private key of --tls-cert (env TOLLGATE_TLS_KEY)")
	insecureIssuers := fs.String("federation-insecure-issuers", getenv("TOLLGATE_FEDERATION_INSECURE_ISSUERS"), "comma-separated exact http://127.0.0.1:PORT origins that federated credentials may name as issuers without https: for tests only (env TOLLGATE_FEDERATION_INSECURE_ISSUERS)")
	adminAddr := fs.String("admin-addr", getenv("TOLLGATE_ADMIN_ADDR"), "listen address of a second, operators' listener: /metrics moves there from --addr, and --pprof adds /debug/pprof/; keep it off the public network (env TOLLGATE_ADMIN_ADDR; default: none, /metrics on --addr)")
	webhookInsecure := fs.String("webhook-insecure-urls", getenv("TOLLGATE_WEBHOOK_INSECURE_URLS"), "comma-separated exact http://127.0.0.1:PORT origins webhooks may use without https and on loopback: for tests only (env TOLLGATE_WEBHOOK_INSECURE_URLS)")
	webhookRetry := fs.String("webhook-retry", getenv("TOLLGATE_WEBHOOK_RETRY"), "comma-separated waits before each retry of a failed webhook delivery; the last repeats until 24 hours after the event (default 5s,5m,30m,2h,5h,10h; env TOLLGATE_WEBHOOK_RETRY)")
	webhookPoll := ef.duration("webhook-poll", "TOLLGATE_WEBHOOK_POLL", time.Second, "how often the webhook outbox is read for deliveries due")
	pprof := ef.boolean("pprof", "TOLLGATE_PPROF", false, "serve Go's profiler at /debug/pprof/ on --admin-addr (never on --addr)")
	synchronous := fs.String("sqlite-synchronous", envOr(getenv, "TOLLGATE_SQLITE_SYNCHRONOUS", "FULL"), "SQLite durability: FULL (a committed write survives a power loss), NORMAL (faster; the last commits before a power loss can be lost), EXTRA or OFF (env TOLLGATE_SQLITE_SYNCHRONOUS)")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if err := ef.err(); err != nil {
		return err
	}
	if !slices.Contains(sqlite.SynchronousModes, strings.ToUpper(*synchronous)) {
		return &usageError{msg: "--sqlite-synchronous must be one of " + strings.Join(sqlite.SynchronousModes, ", ")}
	}
	switch strings.ToLower(*fwdHeader) {
	case "x-forwarded-for":
		*fwdHeader = server.HeaderXForwardedFor
	case "forwarded":
		*fwdHeader = server.HeaderForwarded
	default:
		return &usageError{msg: "--forwarded-header must be X-Forwarded-For or Forwarded"}
	}
	*fwdTarget = strings.ToLower(*fwdTarget)
	if *fwdTarget != server.TargetXForwarded && *fwdTarget != server.TargetXOriginal {
		return &usageError{msg: "--forwarded-target must be x-forwarded or x-original"}
	}
	var trusted []netip.Prefix
	for _, c := range strings.Split(*proxies, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return &usageError{msg: fmt.Sprintf("--trusted-proxies: %q is not a CIDR such as 10.0.0.0/8", c)}
		}
		trusted = append(trusted, p)
	}
	if !isDomain(*saDomain) {
		return &usageError{msg: fmt.Sprintf("--sa-email-domain: %q is not a domain name such as serviceaccounts.example.com", *saDomain)}
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return &usageError{msg: "--tls-cert and --tls-key go together: give both, or neither"}
	}
	if *pprof && *adminAddr == "" {
		return &usageError{msg: "--pprof needs --admin-addr: the profiler is never served on the public listener"}
	}
	insecure, err := loopbackOrigins("--federation-insecure-issuers", *insecureIssuers)
	if err != nil {
		return err
	}
	hookOrigins, err := loopbackOrigins("--webhook-insecure-urls", *webhookInsecure)
	if err != nil {
		return err
	}
	retry, err := durations("--webhook-retry", *webhookRetry)
	if err != nil {
		return err
	}
	keyPath, err := keyFilePath(*keyFile, *db)
	if err != nil {
		return err
	}
	if *issuer != "" && !strings.HasPrefix(*issuer, "http://") && !strings.HasPrefix(*issuer, "https://") {
		return &usageError{msg: "--issuer must be an http:// or https:// URL"}
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return &usageError{msg: "--log-level must be debug, info, warn or error"}
	}
	// From here on, everything serve writes to stderr, its log first,
	// goes through one batching writer (in order): an access log line
	// costs the request a copy, not a write to the pipe. The deferred
	// Close, which runs last, writes what is still pending.
	lw := logwriter.New(stderr)
	defer lw.Close()
	stderr = lw
	var handler slog.Handler
	switch strings.ToLower(*logFormat) {
	case "text":
		handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		return &usageError{msg: "--log-format must be text or json"}
	}
	log := slog.New(telemetry.LogHandler(handler))
	shutdownTracing, err := telemetry.Setup(ctx, getenv, versionString(), log)
	if errors.Is(err, telemetry.ErrConfig) {
		return &usageError{msg: err.Error()}
	} else if err != nil {
		return err
	}
	defer func() {
		// Spans still queued are sent, for a few seconds at most.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := shutdownTracing(sctx); err != nil {
			log.Warn("flushing traces", "err", err)
		}
	}()
	// The certificate pair is checked before anything touches the
	// database.
	var certs *certReloader
	if *tlsCert != "" {
		if certs, err = newCertReloader(*tlsCert, *tlsKey, log); err != nil {
			return err
		}
	}
	if getenv("GOGC") == "" {
		// Tollgate's live heap is small (caches of credentials) and its hot
		// paths allocate per request: collecting at 4x the live heap
		// instead of 2x halves GC work for a few tens of MB. GOGC overrides.
		debug.SetGCPercent(400)
	}
	if getenv("GOMEMLIMIT") == "" {
		// With its caches full (a gateway presenting a million tokens),
		// 4x the live heap would be several hundred MB: past this soft
		// limit the collector runs more often instead. GOMEMLIMIT
		// overrides.
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	keyring, err := keyfile.Load(keyPath, !isPostgres(*db), stderr)
	if err != nil {
		return err
	}
	s, applied, err := openStore(ctx, *db, sqlite.Synchronous(*synchronous))
	if err != nil {
		return err
	}
	defer s.Close()
	if len(applied) > 0 {
		log.Info("database migrated", "versions", fmt.Sprint(applied))
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	defer ln.Close()
	var adminLn net.Listener
	if *adminAddr != "" {
		if adminLn, err = net.Listen("tcp", *adminAddr); err != nil {
			return fmt.Errorf("listen on %s (--admin-addr): %w", *adminAddr, err)
		}
		defer adminLn.Close()
	}
	base := strings.TrimRight(*issuer, "/")
	if base == "" {
		scheme := "http://"
		if certs != nil {
			scheme = "https://"
		}
		host := ln.Addr().String()
		if ta, ok := ln.Addr().(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
			// A wildcard listener (0.0.0.0, a container's) has no name to
			// give out: localhost works from the host a port is published
			// on, and anything else needs --issuer.
			host = fmt.Sprintf("localhost:%d", ta.Port)
			log.Warn("no --issuer: using "+scheme+host+"; set --issuer (TOLLGATE_ISSUER) to the URL clients use", "addr", *addr)
		}
		base = scheme + host
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var draining atomic.Bool
	st, err := stack.New(ctx, s, stack.Config{Issuer: base, Audience: *audience, Keyring: keyring, CacheTTL: *cacheTTL,
		ServiceAccountEmailDomain: *saDomain, TrustedProxies: trusted, ForwardedHeader: *fwdHeader, ForwardedTarget: *fwdTarget, Registry: reg, Log: log, Draining: draining.Load,
		MetricsElsewhere: adminLn != nil, Version: versionString(),
		Limits: authn.Limits{Password: *limitPassword, Client: *limitClient, Bearer: *limitBearer, Device: *limitDevice, Leak: *limitLeak}, FederationInsecureIssuers: insecure,
		WebhookInsecureURLs: hookOrigins, WebhookRetry: retry})
	if err != nil {
		return err
	}
	defer st.Close() // after the HTTP server has finished its requests
	if err := bootstrapIfEmpty(ctx, st.App, s, getenv, base, stderr); err != nil {
		return err
	}
	// Slow or oversized requests cannot hold the server (R5): headers
	// must arrive within readHeader (slowloris), a whole request within
	// readBody, and idle connections close after idle. Bodies are capped
	// per route (64 KiB admin API and console, 16 KiB OAuth forms).
	srv := &http.Server{
		Handler:           st.Handler,
		ReadHeaderTimeout: *readHeader,
		ReadTimeout:       *readBody,
		WriteTimeout:      *write,
		IdleTimeout:       *idle,
		MaxHeaderBytes:    *headerBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	served := make(chan error, 1)
	if certs != nil {
		srv.TLSConfig = certs.tlsConfig()
		go certs.watch(ctx, certReloadEvery)
		go func() { served <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { served <- srv.Serve(ln) }()
	}
	// An early return (a listener failed, shutdown timed out) closes what
	// is still open before the stack below it closes; after Shutdown,
	// srv.Close does nothing.
	defer srv.Close()
	// The admin listener reports on its own channel, so that its end never
	// blocks on served; it closes on every return (scrapes and profiles
	// need no draining).
	adminServed := make(chan error, 1)
	if adminLn != nil {
		admin := adminServer(st.Metrics, *pprof, log)
		defer admin.Close()
		go func() { adminServed <- admin.Serve(adminLn) }()
	}
	go maintain(ctx, st.App, st.Keys, s, *rotation, log)
	// The dispatcher stops with ctx; the store closes only after it has
	// recorded the attempts it had in flight.
	webhooksCtx, stopWebhooks := context.WithCancel(ctx)
	webhooksDone := make(chan struct{})
	go func() { st.Webhooks.Run(webhooksCtx, *webhookPoll); close(webhooksDone) }()
	defer func() { stopWebhooks(); <-webhooksDone }()
	fmt.Fprintf(stderr, "Tollgate is listening on %s\n  console: %s/\n  API:     %s/api/v1 (OpenAPI: %s/openapi.json)\n",
		ln.Addr(), base, base, base)
	if adminLn != nil {
		fmt.Fprintf(stderr, "  metrics: http://%s/metrics\n", adminLn.Addr())
		if *pprof {
			fmt.Fprintf(stderr, "  pprof:   http://%s/debug/pprof/\n", adminLn.Addr())
		}
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case err := <-adminServed:
		return fmt.Errorf("serve: admin listener: %w", err)
	case <-ctx.Done():
	}
	// Drain: /readyz says 503 so that load balancers stop sending, while
	// everything else is still served (connections already queued are
	// answered, not reset) and each connection closes after its next
	// answer (Connection: close, server.closeWhileDraining: closing idle
	// ones now would race clients sending on them). Then the listener
	// closes.
	if *drain > 0 {
		log.Info("draining: /readyz answers 503", "for", drain.String())
		draining.Store(true)
		select {
		case <-time.After(*drain):
		case err := <-served:
			return fmt.Errorf("serve: %w", err)
		case err := <-adminServed:
			return fmt.Errorf("serve: admin listener: %w", err)
		}
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// adminServer is the operators' listener (--admin-addr): /metrics and,
// with pprof, Go's profiler; nothing else, and no credentials: it is
// meant for a private network or loopback. The profiler's cmdline
// endpoint is left out: a --db URL on the command line may hold the
// database password.
func adminServer(metrics http.Handler, pprof bool, log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	if pprof {
		mux.HandleFunc("/debug/pprof/", httppprof.Index)
		mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
	}
	// A CPU profile or trace takes as long as its seconds parameter asks.
	return &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
}

// bootstrapIfEmpty creates the first organization and super admin on an
// empty database, from TOLLGATE_BOOTSTRAP_*, and prints the credentials
// once. A replica that loses the race to another one bootstrapping the same
// database carries on.
func bootstrapIfEmpty(ctx context.Context, a *app.App, s tollgate.Store, getenv func(string) string, base string, stderr io.Writer) error {
	exists, err := s.HasUsers(ctx)
	if err != nil || exists {
		return err
	}
	password := getenv("TOLLGATE_BOOTSTRAP_PASSWORD")
	res, err := a.Bootstrap(ctx, envOr(getenv, "TOLLGATE_BOOTSTRAP_ORG", "acme"),
		envOr(getenv, "TOLLGATE_BOOTSTRAP_EMAIL", "admin@example.com"), password)
	if tollgate.ErrorCode(err) == tollgate.EConflict {
		return nil
	} else if err != nil {
		return fmt.Errorf("bootstrap: %s", tollgate.ErrorMessage(err))
	}
	shown := res.Password
	if password != "" {
		shown = "(from TOLLGATE_BOOTSTRAP_PASSWORD)"
	}
	fmt.Fprintf(stderr, "\nFirst start: created organization %q and its super admin.\n  sign in at: %s/\n  email:      %s\n  password:   %s\nThe password is shown only this once.\n\n",
		res.Org.Slug, base, res.User.Email, shown)
	return nil
}

// maintain runs the periodic chores until ctx ends: it rotates the signing
// key when it is older than rotation (checked hourly; replicas agree on one
// rotation), and deletes ended sessions, the records of access tokens
// that expired a day ago, and the expired jtis of the replay log.
// webhookHistory is how long webhook messages stay listed with their
// deliveries and attempts: long after the 24 hours they are tried.
const webhookHistory = 30 * 24 * time.Hour

func maintain(ctx context.Context, a *app.App, km *keys.Manager, s tollgate.Store, rotation time.Duration, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for tick := 0; ; tick++ {
		if tick%6 == 0 {
			if k, err := km.RotateIfDue(ctx, rotation); err != nil {
				log.Warn("rotating the signing key", "err", err)
			} else if k != nil {
				log.Info("rotated the signing key", "kid", k.ID)
			}
			if n, err := s.DeleteWebhookHistoryBefore(ctx, time.Now().Add(-webhookHistory)); err != nil {
				log.Warn("pruning the webhook outbox", "err", err)
			} else if n > 0 {
				log.Info("pruned old webhook messages", "count", n)
			}
			if n, err := s.DeleteAccessTokensExpiredBefore(ctx, time.Now().Add(-24*time.Hour)); err != nil {
				log.Warn("pruning expired access tokens", "err", err)
			} else if n > 0 {
				log.Info("pruned expired access tokens", "count", n)
			}
		}
		if n, err := a.PruneSessions(ctx); err != nil {
			log.Warn("pruning sessions", "err", err)
		} else if n > 0 {
			log.Info("pruned ended sessions", "count", n)
		}
		if n, err := s.DeleteUsedBefore(ctx, time.Now()); err != nil {
			log.Warn("pruning the replay log", "err", err)
		} else if n > 0 {
			log.Debug("pruned expired jtis from the replay log", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// loopbackOrigins parses a comma list of exact http origins on a loopback
// address with a port (http://127.0.0.1:8443), as the flag named allows
// for tests; anything else is a usage error.
func loopbackOrigins(flag, list string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(list, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		u, err := url.Parse(o)
		bad := err != nil || u.Scheme != "http" || u.Port() == "" || u.Path != "" || u.RawQuery != "" || u.User != nil || u.Fragment != ""
		if !bad {
			ip, perr := netip.ParseAddr(u.Hostname())
			bad = perr != nil || !ip.IsLoopback()
		}
		if bad {
			return nil, &usageError{msg: fmt.Sprintf("%s: %q is not an exact http://127.0.0.1:PORT origin", flag, o)}
		}
		out = append(out, o)
	}
	return out, nil
}

// durations reads a comma-separated list of positive durations; "" is
// none (the default).
func durations(flag, list string) ([]time.Duration, error) {
	var out []time.Duration
	for _, d := range strings.Split(list, ",") {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		v, err := time.ParseDuration(d)
		if err != nil || v <= 0 {
			return nil, &usageError{msg: fmt.Sprintf("%s: %q is not a positive duration such as 5s or 10m", flag, d)}
		}
		out = append(out, v)
	}
	return out, nil
}

// isDomain reports whether s is a DNS name: dot-separated labels of
// letters, digits and inner hyphens, 253 characters at most.
func isDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
