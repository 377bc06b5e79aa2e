package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// runHealthcheck probes a running server's /readyz: exit 0 when it answers
// 200, 1 otherwise (for a container's or a supervisor's health check).
// The default URL is http:// + --addr (TOLLGATE_ADDR) + /readyz.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("healthcheck", stderr)
	addr := fs.String("addr", envOr(getenv, "TOLLGATE_ADDR", "127.0.0.1:8080"), "the server's listen address (env TOLLGATE_ADDR)")
	target := fs.String("url", "", "the URL to probe (default http://<addr>/readyz)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	u := *target
	if u == "" {
		host := *addr
		if strings.HasPrefix(host, ":") || strings.HasPrefix(host, "0.0.0.0:") || strings.HasPrefix(host, "[::]:") {
			host = "127.0.0.1" + host[strings.LastIndexByte(host, ':'):] // a wildcard listener answers on loopback
		}
		u = "http://" + host + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &usageError{msg: fmt.Sprintf("--url: %v", err)}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s answered %s", u, resp.Status)
	}
	fmt.Fprintln(stdout, "ready")
	return nil
}
