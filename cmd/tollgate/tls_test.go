package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/internal/stacktest"
)

// testCA signs leaf certificates for 127.0.0.1.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Tollgate test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue writes a certificate for 127.0.0.1 with serial, and its key, as
// PEM files (replacing them atomically, as certificate tools do).
func (ca *testCA) issue(t *testing.T, certPath, keyPath string, serial int64) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	writeAtomic(t, certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeAtomic(t, keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
}

func writeAtomic(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// serveTLS runs "tollgate serve" with TLS from the files and returns its
// https base URL once /readyz answers, and a stop function.
func serveTLS(t *testing.T, pool *x509.CertPool, env map[string]string) (string, *http.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &stacktest.SyncBuffer{}
	done := make(chan error, 1)
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return map[string]string{"TOLLGATE_BOOTSTRAP_PASSWORD": adminPassword, "TOLLGATE_SHUTDOWN_DRAIN": "0"}[k]
	}
	db := filepath.Join(t.TempDir(), "tollgate.db")
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, getenv, strings.NewReader(""), io.Discard, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("server exited: %v\n%s", err, stderr)
		default:
		}
		if m := listeningRE.FindStringSubmatch(stderr.String()); m != nil {
			base := "https://" + m[1]
			if resp, err := client.Get(base + "/readyz"); err == nil {
				resp.Body.Close()
				return base, client
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("not ready\n%s", stderr)
	return "", nil
}

// servedSerial is the serial number of the certificate the server presents.
func servedSerial(t *testing.T, base string, pool *x509.CertPool) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestNativeTLS checks O1: HTTPS from --tls-cert/--tls-key, TLS 1.2 and
// up, HSTS and Secure cookies (the issuer defaults to https), the pair
// reloaded when its files change, a broken change ignored, and clear
// errors for a missing or mismatched pair.
func TestNativeTLS(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	ca := newTestCA(t)
	ca.issue(t, certPath, keyPath, 100)
	base, client := serveTLS(t, ca.pool, map[string]string{"TOLLGATE_TLS_CERT": certPath, "TOLLGATE_TLS_KEY": keyPath})

	resp, err := client.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"admin@example.com","password":"`+adminPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("sign-in over TLS: %d %+v", resp.StatusCode, resp.TLS)
	}
	if h := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=") {
		t.Fatalf("no HSTS: %q", h)
	}
	if c := resp.Cookies(); len(c) == 0 || !c[0].Secure || !c[0].HttpOnly {
		t.Fatalf("session cookie %+v, want Secure and HttpOnly", c)
	}
	md, err := client.Get(base + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(md.Body)
	md.Body.Close()
	if !strings.Contains(string(b), `"issuer":"`+base+`"`) {
		t.Fatalf("the issuer is not the https URL: %s", b)
	}
	// TLS 1.1 is refused.
	if c, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), &tls.Config{RootCAs: ca.pool, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}

	// A renewed pair is served without a restart.
	if got := servedSerial(t, base, ca.pool); got != 100 {
		t.Fatalf("serving serial %d, want 100", got)
	}
	ca.issue(t, certPath, keyPath, 101)
	waitSerial(t, base, ca.pool, 101)
	// A key that does not match its certificate is not taken: the
	// previous pair stays in service.
	ca.issue(t, filepath.Join(dir, "next.crt"), filepath.Join(dir, "next.key"), 102)
	next, _ := os.ReadFile(filepath.Join(dir, "next.crt"))
	writeAtomic(t, certPath, next) // certificate 102 with key 101's
	time.Sleep(3 * certReloadEvery / 2)
	if got := servedSerial(t, base, ca.pool); got != 101 {
		t.Fatalf("after a mismatched change, serving serial %d, want the previous 101", got)
	}
	nextKey, _ := os.ReadFile(filepath.Join(dir, "next.key"))
	writeAtomic(t, keyPath, nextKey) // now a matching pair again
	waitSerial(t, base, ca.pool, 102)
}

func waitSerial(t *testing.T, base string, pool *x509.CertPool, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for servedSerial(t, base, pool) != want {
		if time.Now().After(deadline) {
			t.Fatalf("the server never presented serial %d", want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTLSConfigurationErrors: a missing file, a mismatched pair and half
// a pair are refused at start, each in one clear line.
func TestTLSConfigurationErrors(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	ca.issue(t, filepath.Join(dir, "a.crt"), filepath.Join(dir, "a.key"), 1)
	ca.issue(t, filepath.Join(dir, "b.crt"), filepath.Join(dir, "b.key"), 2)
	for _, tc := range []struct {
		name, cert, key, want string
		usage                 bool
	}{
		{"missing certificate", filepath.Join(dir, "none.crt"), filepath.Join(dir, "a.key"), "--tls-cert: " + filepath.Join(dir, "none.crt") + " does not exist", false},
		{"missing key", filepath.Join(dir, "a.crt"), filepath.Join(dir, "none.key"), "--tls-key: " + filepath.Join(dir, "none.key") + " does not exist", false},
		{"mismatched pair", filepath.Join(dir, "a.crt"), filepath.Join(dir, "b.key"), "are not a certificate and its private key", false},
		{"certificate only", filepath.Join(dir, "a.crt"), "", "--tls-cert and --tls-key go together", true},
	} {
		env := map[string]string{"TOLLGATE_TLS_CERT": tc.cert, "TOLLGATE_TLS_KEY": tc.key, "TOLLGATE_BOOTSTRAP_PASSWORD": adminPassword}
		err := run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "t.db")},
			func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line saying %q", tc.name, err, tc.want)
		}
		var ue *usageError
		if isUsage := errors.As(err, &ue); isUsage != tc.usage {
			t.Errorf("%s: usage error %v, want %v", tc.name, isUsage, tc.usage)
		}
	}
}

// TestHealthcheckOverTLS: with TOLLGATE_TLS_CERT (as the image's health
// check sees serve's environment), "tollgate healthcheck" probes https on
// loopback and trusts exactly that certificate: a server presenting
// another one, even from the same CA, is not healthy.
func TestHealthcheckOverTLS(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	ca := newTestCA(t)
	ca.issue(t, certPath, keyPath, 200)
	base, _ := serveTLS(t, ca.pool, map[string]string{"TOLLGATE_TLS_CERT": certPath, "TOLLGATE_TLS_KEY": keyPath})
	addr := strings.TrimPrefix(base, "https://")
	port := addr[strings.LastIndexByte(addr, ':'):]
	hc := func(env map[string]string, args ...string) int {
		err := run(t.Context(), append([]string{"healthcheck", "--timeout", "3s"}, args...), func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, io.Discard)
		return exitCode(err, io.Discard)
	}
	if got := hc(map[string]string{"TOLLGATE_ADDR": "0.0.0.0" + port, "TOLLGATE_TLS_CERT": certPath}); got != 0 {
		t.Fatalf("healthcheck over TLS of a ready server: exit %d", got)
	}
	if got := hc(map[string]string{"TOLLGATE_ADDR": addr}); got != 1 {
		t.Fatalf("healthcheck over plain http of a TLS server: exit %d, want 1", got)
	}
	other := filepath.Join(dir, "other.crt")
	ca.issue(t, other, filepath.Join(dir, "other.key"), 201)
	if got := hc(map[string]string{"TOLLGATE_ADDR": addr, "TOLLGATE_TLS_CERT": other}); got != 1 {
		t.Fatalf("healthcheck pinning another certificate: exit %d, want 1", got)
	}
	if got := hc(map[string]string{"TOLLGATE_ADDR": addr, "TOLLGATE_TLS_CERT": filepath.Join(dir, "missing.crt")}); got != 2 {
		t.Fatalf("healthcheck with a missing certificate file: exit %d, want 2", got)
	}
}
