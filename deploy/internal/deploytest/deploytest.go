// Package deploytest runs Tollgate the way the deployment files in deploy/
// describe it: it builds the binary from the parent module, starts it as
// an OS process with a given environment, waits for /readyz, and talks to
// it as a client would.
package deploytest

import (
	"bytes"
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
	"syscall"
	"testing"
	"time"

	"github.com/tollgate/tollgate/internal/stacktest"
	"github.com/tollgate/tollgate/store/postgres/pgtest"
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

// PostgresURL is a fresh PostgreSQL schema of TOLLGATE_TEST_POSTGRES for
// the test (the parent module's pgtest.URL).
func PostgresURL(t testing.TB) string {
	t.Helper()
	return pgtest.URL(t)
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
type Buffer = stacktest.SyncBuffer

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
	m := oauthPost(t, base+"/oauth2/token", id, secret, url.Values{"grant_type": {"client_credentials"}})
	if m["access_token"] == nil {
		t.Fatalf("token at %s: %v", base, m)
	}
	return m
}

// Introspect asks base whether tok is active (RFC 7662), authenticating
// as the client.
func Introspect(t testing.TB, base, id, secret, tok string) map[string]any {
	t.Helper()
	return oauthPost(t, base+"/oauth2/introspect", id, secret, url.Values{"token": {tok}})
}

// oauthPost posts form to an OAuth endpoint with client_secret_basic and
// returns its 200 JSON answer, failing the test on any other.
func oauthPost(t testing.TB, endpoint, id, secret string, form url.Values) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", endpoint, strings.NewReader(form.Encode()))
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
		t.Fatalf("POST %s: %d %s", endpoint, resp.StatusCode, b)
	}
	return m
}
