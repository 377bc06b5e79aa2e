package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/server"
)

// shutdownGrace is how long in-flight requests get to finish after SIGINT
// or SIGTERM.
const shutdownGrace = 30 * time.Second

func runServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", envOr(getenv, "TOLLGATE_ADDR", "127.0.0.1:8080"), "listen address (env TOLLGATE_ADDR)")
	db := fs.String("db", envOr(getenv, "TOLLGATE_DB", "tollgate.db"), "database: a SQLite file path, or a postgres:// URL (env TOLLGATE_DB)")
	issuer := fs.String("issuer", getenv("TOLLGATE_ISSUER"), "public base URL (env TOLLGATE_ISSUER; default http://<addr>)")
	keyFile := fs.String("key-file", getenv("TOLLGATE_KEY_FILE"), "file of 32+ random bytes that key secret hashes and encrypt signing keys (env TOLLGATE_KEY_FILE; default tollgate.key beside the SQLite file; required with PostgreSQL)")
	saDomain := fs.String("sa-email-domain", envOr(getenv, "TOLLGATE_SA_EMAIL_DOMAIN", "serviceaccounts.tollgate.local"), "domain of service accounts' email addresses (env TOLLGATE_SA_EMAIL_DOMAIN)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	keyPath, err := keyFilePath(*keyFile, *db)
	if err != nil {
		return err
	}
	if *issuer != "" && !strings.HasPrefix(*issuer, "http://") && !strings.HasPrefix(*issuer, "https://") {
		return &usageError{msg: "--issuer must be an http:// or https:// URL"}
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	keys, err := loadKeyring(keyPath, !isPostgres(*db), stderr)
	if err != nil {
		return err
	}
	s, applied, err := openStore(ctx, *db)
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
	base := strings.TrimRight(*issuer, "/")
	if base == "" {
		base = "http://" + ln.Addr().String()
	}

	a := app.New(s, nil, app.Config{Issuer: base, Keys: keys, ServiceAccountEmailDomain: *saDomain}, log)
	if err := bootstrapIfEmpty(ctx, a, s, getenv, base, stderr); err != nil {
		return err
	}
	h, err := server.New(a, log, server.Config{Issuer: base})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	go pruneSessions(ctx, a, log)
	fmt.Fprintf(stderr, "Tollgate is listening on %s\n  API:     %s/api/v1 (sign in: POST %s/api/v1/session)\n  OpenAPI: %s/openapi.json\n",
		ln.Addr(), base, base, base)

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
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

// bootstrapIfEmpty creates the first organization and super admin on an
// empty database, from TOLLGATE_BOOTSTRAP_*, and prints the credentials
// once. A replica that loses the race to another one bootstrapping the same
// database carries on.
func bootstrapIfEmpty(ctx context.Context, a *app.App, s tollgate.Store, getenv func(string) string, base string, stderr io.Writer) error {
	n, err := s.CountUsers(ctx)
	if err != nil || n > 0 {
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
	fmt.Fprintf(stderr, "\nFirst start: created organization %q and its super admin.\n  sign in:  POST %s/api/v1/session\n  email:    %s\n  password: %s\nThe password is shown only this once.\n\n",
		res.Org.Slug, base, res.User.Email, shown)
	return nil
}

// pruneSessions deletes ended sessions every ten minutes until ctx ends.
func pruneSessions(ctx context.Context, a *app.App, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := a.PruneSessions(ctx); err != nil {
				log.Warn("pruning sessions", "err", err)
			} else if n > 0 {
				log.Info("pruned ended sessions", "count", n)
			}
		}
	}
}
