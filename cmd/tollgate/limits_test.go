package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/credential"
)

// TestSlowloris opens 200 connections that send their headers a byte at a
// time. A normal request still succeeds meanwhile, and each slow
// connection is closed once --read-header-timeout passes (R5).
func TestSlowloris(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), map[string]string{"TOLLGATE_READ_HEADER_TIMEOUT": "1s"})
	addr := strings.TrimPrefix(ts.URL, "http://")
	const n = 200
	closed := make(chan time.Duration, n)
	var wg sync.WaitGroup
	for range n {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		wg.Go(func() {
			start := time.Now()
			msg := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 1000)
			for i := range len(msg) {
				if _, err := conn.Write([]byte{msg[i]}); err != nil {
					closed <- time.Since(start)
					return
				}
				conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				if _, err := conn.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
					closed <- time.Since(start) // the server closed it
					return
				}
			}
			closed <- -1 // never closed: the whole message went through
		})
	}
	time.Sleep(300 * time.Millisecond) // all 200 are dribbling
	start := time.Now()
	resp, err := http.Get(ts.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || time.Since(start) > 2*time.Second {
		t.Fatalf("a normal request among slow ones: %d after %v", resp.StatusCode, time.Since(start))
	}
	wg.Wait()
	close(closed)
	for d := range closed {
		if d < 0 || d > 5*time.Second {
			t.Fatalf("a slow connection was not cut off by the header timeout (%v)", d)
		}
	}
}

// isTimeout reports whether err is our read deadline passing (the server
// said nothing yet), as opposed to the server closing the connection.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestOversizedRequests: headers over --max-header-bytes get 431, bodies
// over a route's limit 413, each in the route's format (R5).
func TestOversizedRequests(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), map[string]string{"TOLLGATE_MAX_HEADER_BYTES": "8192"})
	req, _ := http.NewRequest("GET", ts.URL+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("b", 16<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("16 KiB of headers: %d, want 431", resp.StatusCode)
	}
	for _, tc := range []struct{ path, contentType, body, want string }{
		{"/oauth2/token", "application/x-www-form-urlencoded", "grant_type=client_credentials&scope=" + strings.Repeat("x", 17<<10), `"error":"invalid_request"`},
		{"/api/v1/session", "application/json", `{"email":"` + strings.Repeat("x", 65<<10) + `"}`, `"code":"invalid"`},
		{"/signin", "application/x-www-form-urlencoded", "email=" + strings.Repeat("x", 65<<10), "larger than"},
	} {
		resp, err := http.Post(ts.URL+tc.path, tc.contentType, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s with %d bytes: %d %.200s", tc.path, len(tc.body), resp.StatusCode, b)
		}
	}
}

// TestShutdownDrains: on SIGTERM the server keeps serving for
// --shutdown-drain while /readyz answers 503, so that a load balancer stops
// sending and connections already on their way are answered, not reset;
// then it stops accepting and returns.
func TestShutdownDrains(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), map[string]string{"TOLLGATE_SHUTDOWN_DRAIN": "1s"})
	stopped := make(chan error, 1)
	begun := time.Now()
	go func() { stopped <- ts.stop() }()
	time.Sleep(100 * time.Millisecond)
	fresh := func() *http.Client {
		return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	}
	status := func(path string) (int, error) {
		resp, err := fresh().Get(ts.URL + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if st, err := status("/readyz"); err != nil || st != 503 {
		t.Fatalf("/readyz while draining: %d %v, want 503", st, err)
	}
	// A burst of new connections during the drain: every one is answered.
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			if st, err := status("/healthz"); err != nil || st != 200 {
				errs <- fmt.Errorf("%d %v", st, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a request during the drain: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("run returned %v", err)
	}
	if took := time.Since(begun); took < time.Second {
		t.Fatalf("stopped after %v, before the drain ended", took)
	}
	if _, err := status("/healthz"); err == nil {
		t.Fatal("a connection was accepted after the drain")
	}
}

// TestOAuthRateLimitMatchesTheDocument: a client over its limit gets 429
// with Retry-After and error slow_down, as the OpenAPI document says (the
// call validates the answer against it).
func TestOAuthRateLimitMatchesTheDocument(t *testing.T) {
	ts := startServer(t, databases(t)["sqlite"](t), map[string]string{"TOLLGATE_LIMIT_CLIENT": "1/1m"})
	admin := loggedIn(t, ts)
	id := newSA(t, admin, "acme", "limited", 300, "viewer")["id"].(string)
	wrong := credential.NewCredential(credential.PrefixClientSecret)
	form := func() url.Values { return url.Values{"grant_type": {"client_credentials"}} }
	if status, _, _ := oauthCall(t, ts.URL, "/oauth2/token", id, wrong, false, form()); status != 401 {
		t.Fatalf("first wrong secret: %d", status)
	}
	status, body, h := oauthCall(t, ts.URL, "/oauth2/token", id, wrong, true, form())
	if status != 429 || body["error"] != "slow_down" || h.Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d %v %v", status, body, h)
	}
}
