package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/tollgate/tollgate/internal/stacktest"
	"github.com/tollgate/tollgate/server"
	"github.com/tollgate/tollgate/store/postgres/pgtest"
)

// adminPassword is the bootstrap password of every test server.
const adminPassword = "correct-horse-battery-staple"

// testServer is a Tollgate started through run(), as the binary would be.
type testServer struct {
	URL    string
	DB     string
	stderr *stacktest.SyncBuffer
	stop   func() error
	// kill ends a server process at once (SIGKILL), as a crash would;
	// startProcess's servers only.
	kill func()
}

var listeningRE = regexp.MustCompile(`Tollgate is listening on (127\.0\.0\.1:\d+)`)

// startServer runs "tollgate serve" in-process on a free loopback port
// against db and waits until /readyz answers 200. The server is stopped
// (gracefully, and checked to return nil) when the test ends.
func startServer(t *testing.T, db string, env map[string]string) *testServer {
	t.Helper()
	// No drain unless a test asks: every test server stops at its end.
	defaults := map[string]string{"TOLLGATE_BOOTSTRAP_PASSWORD": adminPassword, "TOLLGATE_SHUTDOWN_DRAIN": "0"}
	if isPostgres(db) {
		defaults["TOLLGATE_KEY_FILE"] = newKeyFile(t)
	}
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return defaults[k]
	}
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &stacktest.SyncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, getenv, strings.NewReader(""), io.Discard, stderr)
	}()
	ts := &testServer{DB: db, stderr: stderr}
	var once sync.Once
	var stopErr error
	ts.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(40 * time.Second):
				stopErr = errors.New("server did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := ts.stop(); err != nil {
			t.Errorf("server stopped with %v\n%s", err, stderr)
		}
	})
	waitReady(t, ts, done)
	return ts
}

// waitReady waits until the server has printed its address and /readyz
// answers 200, and fails the test if it exits first or takes a minute.
func waitReady(t *testing.T, ts *testServer, exited <-chan error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case err := <-exited:
			t.Fatalf("server exited early: %v\n%s", err, ts.stderr)
		default:
		}
		if m := listeningRE.FindStringSubmatch(ts.stderr.String()); m != nil {
			ts.URL = "http://" + m[1]
			if resp, err := http.Get(ts.URL + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready in time\n%s", ts.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// execServeEnv makes the test binary run "tollgate serve" (see TestMain).
const execServeEnv = "TOLLGATE_TEST_EXEC_SERVE"

// startProcess runs "tollgate serve" as a separate OS process (this test
// binary, re-executed) on a free port against db, waits for /readyz, and
// stops it with SIGINT when the test ends, checking that it exits 0.
func startProcess(t *testing.T, db string, env map[string]string) *testServer {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--addr", "127.0.0.1:0", "--db", db)
	cmd.Env = append(os.Environ(), execServeEnv+"=1", "TOLLGATE_BOOTSTRAP_PASSWORD="+adminPassword, "TOLLGATE_SHUTDOWN_DRAIN=0")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr := &stacktest.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ts := &testServer{DB: db, stderr: stderr}
	var once sync.Once
	var stopErr error
	ts.kill = func() {
		once.Do(func() {
			cmd.Process.Kill()
			<-exited
		})
	}
	ts.stop = func() error {
		once.Do(func() {
			cmd.Process.Signal(os.Interrupt)
			select {
			case stopErr = <-exited:
			case <-time.After(40 * time.Second):
				cmd.Process.Kill()
				stopErr = errors.New("process did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := ts.stop(); err != nil {
			t.Errorf("server process exited with %v\n%s", err, stderr)
		}
	})
	waitReady(t, ts, exited)
	return ts
}

// newKeyFile writes a fresh key file for servers that share a database.
func newKeyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tollgate.key")
	if err := os.WriteFile(path, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// databases returns the databases the end-to-end tests run against: a
// fresh SQLite file, and a fresh PostgreSQL schema when
// TOLLGATE_TEST_POSTGRES is set.
func databases(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "tollgate.db") },
		"postgres": func(t *testing.T) string { return pgtest.URL(t) },
	}
}

// openapiRouter finds the OpenAPI operation of a request.
var openapiRouter = sync.OnceValues(func() (routers.Router, error) {
	// JSON Lines bodies validate as the array of their lines.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		dec := json.NewDecoder(r)
		dec.UseNumber()
		lines := []any{}
		for {
			var v any
			if err := dec.Decode(&v); err == io.EOF {
				return lines, nil
			} else if err != nil {
				return nil, err
			}
			lines = append(lines, v)
		}
	})
	doc, err := server.OpenAPI()
	if err != nil {
		return nil, err
	}
	// The servers entry ("/", the issuer) is for generated clients; test
	// servers listen on ephemeral ports, so paths are matched on any host.
	doc.Servers = nil
	return legacy.NewRouter(doc)
})

// client is a browser-like API client: it keeps its session cookie, and
// checks every /api/ response against the OpenAPI document, so that the
// document cannot drift from what the server does.
type client struct {
	t    *testing.T
	base string
	http *http.Client
	// bearer, when set, is sent as Authorization: Bearer on every call.
	bearer string
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// response is a finished API call.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r *response) JSON() map[string]any {
	var m map[string]any
	json.Unmarshal(r.Body, &m)
	return m
}

func (r *response) String() string { return fmt.Sprintf("%d %.500s", r.Status, r.Body) }

// do sends a request with a JSON body (nil for none, a string sent as is)
// and validates the response against the OpenAPI document.
func (c *client) do(method, path string, body any, headers ...string) *response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
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
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	validate(c.t, req, r)
	return r
}

// validate checks a response against the OpenAPI document: admin API
// errors must be problem+json, and every documented operation's answer
// must match its schema, undocumented statuses included.
func validate(t *testing.T, req *http.Request, r *response) {
	t.Helper()
	api := strings.HasPrefix(req.URL.Path, "/api/")
	if api && r.Status >= 400 {
		if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s %s: error response has Content-Type %q, want application/problem+json", req.Method, req.URL.Path, ct)
		}
		var p map[string]any
		if err := json.Unmarshal(r.Body, &p); err != nil || p["code"] == nil || p["status"] != float64(r.Status) {
			t.Errorf("%s %s: problem body %s does not carry code and status", req.Method, req.URL.Path, r.Body)
		}
	}
	router, err := openapiRouter()
	if err != nil {
		t.Fatal(err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		// Only the deliberate no-route answers may be outside the document.
		if r.Status != http.StatusNotFound && r.Status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s answered %d but is not in the OpenAPI document: %v", req.Method, req.URL.Path, r.Status, err)
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:  r.Status,
		Header:  r.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(r.Body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s: response does not match the OpenAPI document: %v\nbody: %.500s", req.Method, req.URL.Path, err, r.Body)
	}
}

// want fails the test unless the response has the status (and, for
// errors, the code).
func (r *response) want(t *testing.T, status int, code ...string) *response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %.500s", r.Status, status, r.Body)
	}
	if len(code) > 0 && r.JSON()["code"] != code[0] {
		t.Fatalf("code %v, want %s: %s", r.JSON()["code"], code[0], r.Body)
	}
	return r
}

// signIn signs the client in and returns the session response.
func (c *client) signIn(email, password string) map[string]any {
	c.t.Helper()
	return c.do("POST", "/api/v1/session", map[string]string{"email": email, "password": password}).want(c.t, 200).JSON()
}

// invite has inviter invite email with role into org, the invitee accept,
// and returns the invitee's signed-in client and user ID.
func invite(t *testing.T, ts *testServer, inviter *client, org, email, role string) (*client, string) {
	t.Helper()
	inv := inviter.do("POST", "/api/v1/orgs/"+org+"/invitations", map[string]string{"email": email, "role": role}).want(t, 201).JSON()
	c := newClient(t, ts.URL)
	s := c.do("POST", "/api/v1/invitations/accept", map[string]string{"token": inv["token"].(string), "name": "User " + email,
		"password": "password-of-" + email}).want(t, 200).JSON()
	return c, s["user"].(map[string]any)["id"].(string)
}
