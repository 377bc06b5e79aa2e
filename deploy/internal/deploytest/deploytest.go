// Package deploytest runs Tollgate the way the deployment files in deploy/
// describe it: it builds the binary from the parent module, starts it as
// an OS process with a given environment, waits for /readyz, and talks to
// it as a client would.
package deploytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RepoRoot is the directory of the parent module (github.com/tollgate/tollgate).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("deploytest: no caller information")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.HasPrefix(b, []byte("module github.com/tollgate/tollgate\n")) {
		t.Fatalf("deploytest: %s is not the tollgate module: %v", root, err)
	}
	return root
}

// Build builds ./cmd/tollgate of the parent module into a temporary
// directory and returns the binary's path.
func Build(t testing.TB) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "tollgate")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/tollgate")
	cmd.Dir = RepoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tollgate: %v\n%s", err, b)
	}
	return out
}

// Require returns the environment variable name, skipping the test when it
// is empty, or failing it when name+"_REQUIRED" is "1" (as in CI).
func Require(t testing.TB, name, hint string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv(name+"_REQUIRED") == "1" {
			t.Fatalf("%s is not set but %s_REQUIRED=1", name, name)
		}
		t.Skipf("set %s to %s to run this test", name, hint)
	}
	return v
}

// PostgresURL creates an empty schema in the database of
// TOLLGATE_TEST_POSTGRES, drops it when the test ends, and returns a URL
// whose connections use it as their search path (as the parent module's
// store/postgres/pgtest does).
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := Require(t, "TOLLGATE_TEST_POSTGRES", "a postgres:// URL")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to TOLLGATE_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	schema := "deploy_" + strings.ToLower(rand.Text()[:16])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TOLLGATE_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Buffer is an io.Writer safe for a process's output and a test's reads.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Process is a started Tollgate.
type Process struct {
	Name   string
	URL    string // http://ADDR
	Stderr *Buffer
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// Start runs argv with exactly env (no variable of the test's own
// environment but PATH and HOME) and stops it with SIGTERM when the test
// ends, failing the test unless it then exits 0. base is the URL it
// answers at.
func Start(t testing.TB, name, base string, env map[string]string, argv ...string) *Process {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &Process{Name: name, URL: base, Stderr: &Buffer{}, cmd: cmd, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Stderr, p.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("%s: %v\n%s", name, err, p.Stderr)
		}
	})
	return p
}

// Stop sends SIGTERM, as systemd, Docker and the kubelet do, and waits for
// the exit: an error unless it is 0 within a minute.
func (p *Process) Stop() error {
	select {
	case <-p.exited:
		return p.exitErr()
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.exitErr()
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("did not stop within a minute of SIGTERM")
	}
}

func (p *Process) exitErr() error {
	if p.err != nil {
		return fmt.Errorf("exited with %v", p.err)
	}
	return nil
}

// WaitReady waits until the process has printed its "listening" banner
// and GET /readyz answers 200, failing the test if the
// process exits first or a minute passes.
func (p *Process) WaitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case <-p.exited:
			t.Fatalf("%s exited before it was ready: %v\n%s", p.Name, p.err, p.Stderr)
		default:
		}
		// The banner comes after the bootstrap's output; it is read from
		// a pipe, so it can lag behind the first answers.
		if strings.Contains(p.Stderr.String(), "Tollgate is listening on") {
			if resp, err := http.Get(p.URL + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within a minute\n%s", p.Name, p.Stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var passwordRE = regexp.MustCompile(`(?m)^\s*password:\s+(\S+)\s*$`)

// BootstrapPassword returns the super admin's password that a first start
// printed, or "" when this process did not bootstrap.
func (p *Process) BootstrapPassword() string {
	if m := passwordRE.FindStringSubmatch(p.Stderr.String()); m != nil {
		return m[1]
	}
	return ""
}

// Client is an admin API client with a session cookie.
type Client struct {
	t    testing.TB
	base string
	http *http.Client
}

// SignIn signs in at base and returns the signed-in client.
func SignIn(t testing.TB, base, email, password string) *Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &Client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	c.Do("POST", "/api/v1/session", map[string]string{"email": email, "password": password}, 200)
	return c
}

// Do sends a JSON request, fails the test unless the answer has status
// want, and returns the decoded body.
func (c *Client) Do(method, path string, body any, want int) map[string]any {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s%s: %d, want %d: %.500s", method, c.base, path, resp.StatusCode, want, b)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// ClientCredentials gets an access token with the client_credentials grant
// (client_secret_basic) and returns the token response.
func ClientCredentials(t testing.TB, base, id, secret string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(b, &m) != nil || m["access_token"] == nil {
		t.Fatalf("token at %s: %d %s", base, resp.StatusCode, b)
	}
	return m
}

// Introspect asks base whether tok is active (RFC 7662), authenticating
// as the client.
func Introspect(t testing.TB, base, id, secret, tok string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/oauth2/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(b, &m) != nil {
		t.Fatalf("introspect at %s: %d %s", base, resp.StatusCode, b)
	}
	return m
}
