package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/internal/stacktest"
)

// TestWebhookSlowReceiver: a receiver that takes its time answering holds
// back only its own deliveries. Another webhook's event, made while the
// slow one is being sent, arrives at once, not after the slow answer.
func TestWebhookSlowReceiver(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	fast := make(chan string, 100)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		} else {
			fast <- r.Header.Get("webhook-id")
		}
		w.WriteHeader(204)
	}))
	defer rcv.Close()
	defer free()
	env := stacktest.New(t, stacktest.Options{Clock: stacktest.NewClock(), WebhookInsecureURLs: []string{rcv.URL}})
	h := env.Handler
	admin := consoleSession(t, h)
	call := func(method, path string, body any) (int, map[string]any) {
		t.Helper()
		return asJSON(t, h, admin, method, "/api/v1/orgs/acme"+path, body)
	}
	if code, v := call("POST", "/webhooks", map[string]any{"url": rcv.URL + "/slow", "events": []string{"token.created"}}); code != 201 {
		t.Fatalf("slow webhook: %d %v", code, v)
	}
	if code, v := call("POST", "/webhooks", map[string]any{"url": rcv.URL + "/fast", "events": []string{"token.revoked"}}); code != 201 {
		t.Fatalf("fast webhook: %d %v", code, v)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { env.Webhooks.Run(ctx, 10*time.Millisecond); close(done) }()
	defer func() { free(); cancel(); <-done }()

	// The slow receiver gets its event and sits on it.
	_, tok := call("POST", "/tokens", map[string]any{"name": "ci", "service_account_id": env.Account.ID, "kind": "private"})
	time.Sleep(200 * time.Millisecond)
	// Meanwhile an event for the fast one is made: it arrives at once.
	if code, _ := call("DELETE", "/tokens/"+tok["id"].(string), nil); code != 204 {
		t.Fatalf("revoke: %d", code)
	}
	select {
	case id := <-fast:
		if !strings.HasPrefix(id, "msg_") {
			t.Fatalf("webhook-id %q", id)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the fast receiver's event waited for the slow receiver's answer")
	}
}

// TestWebhookShutdownMidSend: an attempt cut short because Tollgate shuts
// down is not the receiver's failure: the delivery stays pending, due at
// once, even when the schedule's next try would pass the 24-hour deadline.
func TestWebhookShutdownMidSend(t *testing.T) {
	got, stop := make(chan struct{}, 10), make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer rcv.Close()
	release := sync.OnceFunc(func() { close(stop) })
	defer release()
	clock := stacktest.NewClock()
	env := stacktest.New(t, stacktest.Options{Clock: clock, WebhookInsecureURLs: []string{rcv.URL}})
	h := env.Handler
	admin := consoleSession(t, h)
	code, hook := asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/webhooks", map[string]any{"url": rcv.URL + "/hook", "events": []string{"token.created"}})
	if code != 201 {
		t.Fatalf("webhook: %d %v", code, hook)
	}
	asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/tokens", map[string]any{"name": "ci", "service_account_id": env.Account.ID, "kind": "private"})
	clock.Add(24*time.Hour - 2*time.Second) // the last try before the deadline
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-got; cancel() }() // the process stops while the receiver holds the request
	if n, err := env.Webhooks.DeliverDue(ctx); n != 1 {
		t.Fatalf("deliver: %d %v", n, err)
	}
	admin = consoleSession(t, h)
	_, ds := asJSON(t, h, admin, "GET", "/api/v1/orgs/acme/webhooks/"+hook["id"].(string)+"/deliveries", nil)
	d := ds["items"].([]any)[0].(map[string]any)
	if d["status"] != "pending" {
		t.Fatalf("after a shutdown mid-send: %v", d)
	}
	release() // the receiver answers from now on
	if n, err := env.Webhooks.DeliverDue(t.Context()); n != 1 || err != nil {
		t.Fatalf("not due again at once: %d %v", n, err)
	}
}

// TestWebhookURLNotInAudit: a webhook's URL may hold the receiver's own
// token, so only a super admin reads it; the audit log, which admins read
// and which other webhooks receive, names its origin only.
func TestWebhookURLNotInAudit(t *testing.T) {
	env := stacktest.New(t, stacktest.Options{})
	h := env.Handler
	admin := consoleSession(t, h)
	const secretPath = "/services/T000/B000/receiver-token-123"
	code, hook := asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/webhooks", map[string]any{"url": "https://hooks.example.com" + secretPath, "events": []string{"*"}})
	if code != 201 {
		t.Fatalf("webhook: %d %v", code, hook)
	}
	id := hook["id"].(string)
	asJSON(t, h, admin, "PATCH", "/api/v1/orgs/acme/webhooks/"+id, map[string]any{"url": "https://hooks.example.com" + secretPath + "-2"})
	asJSON(t, h, admin, "DELETE", "/api/v1/orgs/acme/webhooks/"+id, nil)
	adm := memberSession(t, h, admin, "acme", "admin@acme.example", "admin")
	for _, action := range []string{"webhook.created", "webhook.updated", "webhook.deleted"} {
		code, evs := asJSON(t, h, adm, "GET", "/api/v1/orgs/acme/audit-events?action="+action, nil)
		raw, _ := json.Marshal(evs)
		if code != 200 || len(evs["items"].([]any)) != 1 || strings.Contains(string(raw), "receiver-token") || !strings.Contains(string(raw), "https://hooks.example.com") {
			t.Errorf("%s as an admin reads it: %d %s", action, code, raw)
		}
	}
}
