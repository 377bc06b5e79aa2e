package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// nodeReceiver is testdata/node/webhooks.mjs running: a webhook endpoint
// on 127.0.0.1 that verifies each delivery with the standardwebhooks npm
// package, an implementation independent of Tollgate's.
type nodeReceiver struct {
	URL string
	mu  sync.Mutex
	log []receipt
}

// receipt is one line the receiver printed about a request.
type receipt struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Verified bool   `json:"verified"`
	Refused  string `json:"refused"`
	Error    string `json:"error"`
}

func startNodeReceiver(t *testing.T) *nodeReceiver {
	t.Helper()
	node := nodeClients(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "webhooks.mjs")
	cmd.Dir = nodeDir
	cmd.Env = os.Environ()
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatalf("the receiver printed nothing: %v", lines.Err())
	}
	var first struct{ Port int }
	if err := json.Unmarshal(lines.Bytes(), &first); err != nil || first.Port == 0 {
		t.Fatalf("the receiver's first line: %q", lines.Bytes())
	}
	rc := &nodeReceiver{URL: fmt.Sprintf("http://127.0.0.1:%d", first.Port)}
	go func() {
		for lines.Scan() {
			var r receipt
			if json.Unmarshal(lines.Bytes(), &r) == nil {
				rc.mu.Lock()
				rc.log = append(rc.log, r)
				rc.mu.Unlock()
			}
		}
	}()
	return rc
}

// control sets the receiver's secret ("" keeps it) and how many
// deliveries it refuses next.
func (rc *nodeReceiver) control(t *testing.T, secret string, fail int) {
	t.Helper()
	body := map[string]any{"fail": fail}
	if secret != "" {
		body["secret"] = secret
	}
	b, _ := json.Marshal(body)
	resp, err := http.Post(rc.URL+"/_control", "application/json", strings.NewReader(string(b)))
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("receiver control: %v %v", resp, err)
	}
	resp.Body.Close()
}

func (rc *nodeReceiver) receipts() []receipt {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receipt(nil), rc.log...)
}

// waitVerified waits until the receiver has accepted n distinct messages
// of event typ, failing on any signature it refused, and returns them.
func (rc *nodeReceiver) waitVerified(t *testing.T, typ string, n int, within time.Duration) map[string]int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		seen := map[string]int{}
		for _, r := range rc.receipts() {
			if r.Error != "" {
				t.Fatalf("the standardwebhooks package refused a delivery: %+v", r)
			}
			if r.Verified && r.Type == typ {
				seen[r.ID]++
			}
		}
		if len(seen) >= n {
			return seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d verified %s messages after %v, want %d; receipts: %+v", len(seen), typ, within, n, rc.receipts())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// webhookEnv is what a server needs to send to the receiver quickly.
func webhookEnv(rc *nodeReceiver, extra map[string]string) map[string]string {
	env := map[string]string{"TOLLGATE_WEBHOOK_INSECURE_URLS": rc.URL, "TOLLGATE_WEBHOOK_RETRY": "150ms", "TOLLGATE_WEBHOOK_POLL": "50ms"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func createWebhook(t *testing.T, c *client, url string, events ...string) (id, secret string) {
	t.Helper()
	v := c.do("POST", "/api/v1/orgs/acme/webhooks", map[string]any{"url": url, "events": events}).want(t, 201).JSON()
	return v["id"].(string), v["secret"].(string)
}

// TestWebhookThroughFailuresAndRestart: a receiver that is down for
// three attempts still gets the event, verified by an independent
// Standard Webhooks implementation; an event queued while the receiver is
// down survives a restart of Tollgate and arrives after it.
func TestWebhookThroughFailuresAndRestart(t *testing.T) {
	rc := startNodeReceiver(t)
	db := databases(t)["sqlite"](t)
	ts := startProcess(t, db, webhookEnv(rc, nil))
	admin := newClient(t, ts.URL)
	admin.signIn("admin@example.com", adminPassword)
	id, secret := createWebhook(t, admin, rc.URL+"/hooks/tollgate", "service_account.created")
	rc.control(t, secret, 3)
	newSA(t, admin, "acme", "first", 300, "viewer")
	rc.waitVerified(t, "service_account.created", 1, 10*time.Second)
	// The receiver has it; Tollgate records the attempt just after.
	var d map[string]any
	waitFor(t, 5*time.Second, "the delivered attempt recorded", func() bool {
		d = admin.do("GET", "/api/v1/orgs/acme/webhooks/"+id+"/deliveries", nil).want(t, 200).JSON()["items"].([]any)[0].(map[string]any)
		return d["status"] != "pending"
	})
	if d["status"] != "delivered" || d["attempts"] != 4.0 || len(d["history"].([]any)) != 4 {
		t.Fatalf("the delivery after three refusals: %v", d)
	}

	// Down again: the next event waits in the outbox across a restart.
	rc.control(t, "", 1_000_000)
	newSA(t, admin, "acme", "second", 300, "viewer")
	waitFor(t, 10*time.Second, "a refused attempt", func() bool {
		for _, r := range rc.receipts() {
			if r.Refused != "" && r.ID != "" {
				return true
			}
		}
		return false
	})
	if err := ts.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	rc.control(t, "", 0)
	startProcess(t, db, webhookEnv(rc, nil)) // the same database, after the restart
	seen := rc.waitVerified(t, "service_account.created", 2, 15*time.Second)
	for msg, n := range seen {
		if n != 1 {
			t.Errorf("message %s verified %d times", msg, n)
		}
	}
}

// TestWebhookExactlyOnceAcrossReplicas: two replicas on one PostgreSQL
// database share one outbox; 40 events made on both arrive once each.
func TestWebhookExactlyOnceAcrossReplicas(t *testing.T) {
	rc := startNodeReceiver(t)
	db := databases(t)["postgres"](t)
	env := webhookEnv(rc, map[string]string{"TOLLGATE_KEY_FILE": newKeyFile(t), "TOLLGATE_ISSUER": "http://tollgate.test"})
	a := startProcess(t, db, env)
	b := startProcess(t, db, env)
	admin := newClient(t, a.URL)
	admin.signIn("admin@example.com", adminPassword)
	_, secret := createWebhook(t, admin, rc.URL+"/hooks", "token.created")
	rc.control(t, secret, 0)
	sa := newSA(t, admin, "acme", "many", 300, "viewer")["id"].(string)
	other := newClient(t, b.URL)
	other.signIn("admin@example.com", adminPassword)
	var wg sync.WaitGroup
	for i := range 40 {
		c := map[bool]*client{true: admin, false: other}[i%2 == 0]
		wg.Go(func() {
			c.do("POST", "/api/v1/orgs/acme/tokens", map[string]any{"name": fmt.Sprintf("t%02d", i), "service_account_id": sa, "kind": "private"})
		})
	}
	wg.Wait()
	rc.waitVerified(t, "token.created", 40, 20*time.Second)
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive by now
	seen := rc.waitVerified(t, "token.created", 40, time.Second)
	if len(seen) != 40 {
		t.Fatalf("%d messages, want 40", len(seen))
	}
	for msg, n := range seen {
		if n != 1 {
			t.Errorf("message %s delivered %d times", msg, n)
		}
	}
}

// waitFor polls cond until it holds, or fails the test after within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
