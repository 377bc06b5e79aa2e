package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// runHealthcheck probes a running server's /readyz: exit 0 when it answers
// 200, 1 otherwise (for a container's or a supervisor's health check).
// The default URL is http:// + --addr (TOLLGATE_ADDR) + /readyz, or
// https:// when the server serves TLS (--tls-cert, TOLLGATE_TLS_CERT, the
// variable serve reads): the probe then trusts exactly the certificate in
// that file, whatever name it was issued for, since a probe on loopback
// cannot use the public name it carries.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("healthcheck", stderr)
	addr := fs.String("addr", envOr(getenv, "TOLLGATE_ADDR", "127.0.0.1:8080"), "the server's listen address (env TOLLGATE_ADDR)")
	certFile := fs.String("tls-cert", getenv("TOLLGATE_TLS_CERT"), "the server's PEM certificate: probe over https and trust exactly this certificate (env TOLLGATE_TLS_CERT)")
	target := fs.String("url", "", "the URL to probe (default http://<addr>/readyz, https:// with --tls-cert)")
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
		scheme := "http://"
		if *certFile != "" {
			scheme = "https://"
		}
		u = scheme + host + "/readyz"
	}
	client := http.DefaultClient
	if *certFile != "" && strings.HasPrefix(u, "https://") {
		pinned, err := leafOf(*certFile)
		if err != nil {
			return &usageError{msg: fmt.Sprintf("--tls-cert: %v", err)}
		}
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			MinVersion: tls.VersionTLS12,
			// The name is not checked (the probe dials loopback); the
			// certificate is: it must be the one in the file, byte for byte.
			InsecureSkipVerify: true,
			VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
				if len(raw) == 0 || !bytes.Equal(raw[0], pinned) {
					return errors.New("the server's certificate is not the one in --tls-cert")
				}
				return nil
			},
		}}}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &usageError{msg: fmt.Sprintf("--url: %v", err)}
	}
	resp, err := client.Do(req)
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

// leafOf is the DER of the first certificate in a PEM file.
func leafOf(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			return nil, fmt.Errorf("%s holds no PEM certificate", path)
		}
		if block.Type == "CERTIFICATE" {
			return block.Bytes, nil
		}
	}
}
