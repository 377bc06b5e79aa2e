package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/tollgate/tollgate/internal/stacktest"
	"github.com/tollgate/tollgate/internal/testenv"
)

// nginxConf puts nginx in front of an upstream, asking Tollgate's /check
// about every request with auth_request, and passing the identity headers
// on. It is the configuration the README documents, with test paths.
var nginxConf = template.Must(template.New("nginx").Parse(`
daemon off;
master_process off;
worker_processes 1;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log info;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path {{.Dir}}/body;
	proxy_temp_path {{.Dir}}/proxy;
	fastcgi_temp_path {{.Dir}}/fastcgi;
	uwsgi_temp_path {{.Dir}}/uwsgi;
	scgi_temp_path {{.Dir}}/scgi;
	server {
		listen 127.0.0.1:{{.Port}};
		location / {
			auth_request /_tollgate;
			auth_request_set $tollgate_status $upstream_status;
			auth_request_set $tollgate_retry_after $upstream_http_retry_after;
			error_page 500 = @tollgate_error;
			auth_request_set $tollgate_org $upstream_http_x_tollgate_org;
			auth_request_set $tollgate_subject $upstream_http_x_tollgate_subject;
			auth_request_set $tollgate_role $upstream_http_x_tollgate_role;
			auth_request_set $tollgate_credential $upstream_http_x_tollgate_credential;
			proxy_set_header X-Tollgate-Org $tollgate_org;
			proxy_set_header X-Tollgate-Subject $tollgate_subject;
			proxy_set_header X-Tollgate-Role $tollgate_role;
			proxy_set_header X-Tollgate-Credential $tollgate_credential;
			proxy_pass {{.Upstream}};
		}
		location = /_tollgate {
			internal;
			proxy_pass {{.Tollgate}}/check;
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
			proxy_set_header X-Original-URI $request_uri;
			proxy_set_header X-Original-Method $request_method;
			proxy_set_header X-Forwarded-For $remote_addr;
		}
		location @tollgate_error {
			if ($tollgate_status = 429) {
				add_header Retry-After $tollgate_retry_after always;
				return 429;
			}
			return 503;
		}
	}
}
`))

// startNginx runs the nginx binary named by TOLLGATE_TEST_NGINX in front
// of upstream, with Tollgate at tollgate; it skips without the variable
// unless TOLLGATE_TEST_NGINX_REQUIRED=1.
func startNginx(t *testing.T, tollgate, upstream string) string {
	t.Helper()
	bin := testenv.Require(t, "TOLLGATE_TEST_NGINX", "an nginx binary (Debian: /usr/sbin/nginx)")
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	f, err := os.Create(filepath.Join(dir, "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := nginxConf.Execute(f, map[string]any{"Dir": dir, "Port": port, "Tollgate": tollgate, "Upstream": upstream}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(15 * time.Second); ; {
		if c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://")); err == nil {
			c.Close()
			return base
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not start:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNginxGateway: a real nginx with auth_request to /check, in front of
// a small upstream. Private tokens pass; public tokens pass from a listed
// origin and are refused (403) from another; a revoked token is refused
// (401); the identity headers reach the upstream. nginx forwards the
// client's address, so the limit on unknown tokens is the client's, not
// the gateway's, and passes on 429 with Retry-After.
func TestNginxGateway(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{
			"org": r.Header.Get("X-Tollgate-Org"), "subject": r.Header.Get("X-Tollgate-Subject"),
			"role": r.Header.Get("X-Tollgate-Role"), "credential": r.Header.Get("X-Tollgate-Credential"), "path": r.URL.Path})
	}))
	defer upstream.Close()
	ts := startServer(t, databases(t)["sqlite"](t), map[string]string{"TOLLGATE_LIMIT_BEARER": "2/1m"}) // 2 unknown a minute per address
	gw := startNginx(t, ts.URL, upstream.URL)

	admin := loggedIn(t, ts)
	sa := newSA(t, admin, "acme", "storefront", 300, "member")["id"].(string)
	priv := newToken(t, admin, "acme", sa, "private")
	pub := newToken(t, admin, "acme", sa, "public", "https://shop.example.com")

	callFrom := func(c *http.Client, token string, headers ...string) (int, map[string]string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("GET", gw+"/things/42?x=1", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body, resp.Header
	}
	call := func(token string, headers ...string) (int, map[string]string) {
		t.Helper()
		st, body, _ := callFrom(http.DefaultClient, token, headers...)
		return st, body
	}

	status, body := call(priv["token"].(string))
	if status != 200 || body["subject"] != sa || body["role"] != "member" || body["credential"] != priv["id"] || body["org"] == "" || body["path"] != "/things/42" {
		t.Fatalf("private token through nginx: %d %v", status, body)
	}
	if status, _ := call(pub["token"].(string), "Origin", "https://shop.example.com"); status != 200 {
		t.Fatalf("public token from its origin: %d", status)
	}
	if status, body := call(pub["token"].(string), "Referer", "https://shop.example.com/cart?item=1"); status != 200 || body["role"] != "viewer" {
		t.Fatalf("public token with a Referer of its origin: %d %v", status, body)
	}
	if status, _ := call(pub["token"].(string), "Origin", "https://evil.example.com"); status != 403 {
		t.Fatalf("public token from another origin: %d, want 403", status)
	}
	if status, _ := call(pub["token"].(string)); status != 403 {
		t.Fatalf("public token without an origin: %d, want 403", status)
	}
	if status, _ := call(""); status != 401 {
		t.Fatalf("no token: %d, want 401", status)
	}
	admin.do("DELETE", "/api/v1/orgs/acme/tokens/"+priv["id"].(string), nil).want(t, 204)
	if status, _ := call(priv["token"].(string)); status != 401 {
		t.Fatalf("revoked token: %d, want 401", status)
	}

	// 127.0.0.2 tries unknown tokens until its limit; 127.0.0.3, behind the
	// same nginx, is not held back by that.
	guesser, other := stacktest.ClientFrom("127.0.0.2"), stacktest.ClientFrom("127.0.0.3")
	var h http.Header
	for range 3 {
		status, _, h = callFrom(guesser, stacktest.UnknownAPIToken())
	}
	if status != 429 || h.Get("Retry-After") == "" {
		t.Fatalf("the third unknown token from one client: %d (Retry-After %q), want 429", status, h.Get("Retry-After"))
	}
	fresh := newToken(t, admin, "acme", sa, "private")["token"].(string) // not cached anywhere yet
	if status, _, _ := callFrom(other, fresh); status != 200 {
		t.Fatalf("another client behind the same gateway: %d, want 200", status)
	}
}
