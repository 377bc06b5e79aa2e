package server_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/internal/stacktest"
	"github.com/tollgate/tollgate/internal/testenv"
)

// receiver is a webhook endpoint on 127.0.0.1 that records what it is
// sent and answers fail (0: 204).
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	fail atomic.Int32
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Header.Clone(), body})
		rc.mu.Unlock()
		if code := rc.fail.Load(); code != 0 {
			if code == 302 {
				w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
			}
			w.WriteHeader(int(code))
			return
		}
		w.WriteHeader(204)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// verify checks a request's Standard Webhooks signature with secret, as
// the specification writes it: HMAC-SHA256 over "id.timestamp.body" with
// the base64-decoded secret, sent as "v1,<base64>".
func verify(t *testing.T, secret string, r received) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.header.Get("webhook-id") + "." + r.header.Get("webhook-timestamp") + "." + string(r.body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if got := r.header.Get("webhook-signature"); !hmac.Equal([]byte(got), []byte(want)) || !strings.HasPrefix(r.header.Get("webhook-id"), "msg_") {
		t.Fatalf("signature %q, want %q (id %q)", got, want, r.header.Get("webhook-id"))
	}
}

type hookEnv struct {
	*stacktest.Env
	clock *stacktest.Clock
	rc    *receiver
}

func hookStores(t *testing.T) map[string]hookEnv {
	t.Helper()
	mk := func(postgres bool) hookEnv {
		rc := newReceiver(t)
		clock := stacktest.NewClock()
		env := stacktest.New(t, stacktest.Options{Clock: clock, Postgres: postgres, WebhookInsecureURLs: []string{rc.URL},
			WebhookRetry: []time.Duration{5 * time.Second, time.Minute}})
		return hookEnv{env, clock, rc}
	}
	out := map[string]hookEnv{"sqlite": mk(false)}
	if testenv.Has(t, "TOLLGATE_TEST_POSTGRES") {
		out["postgres"] = mk(true)
	}
	return out
}

// TestWebhooks runs P2 on each store, on a clock the test moves: a
// webhook hears the events it subscribed to, signed; a delivery that
// fails is retried on the schedule until it arrives, and its attempts are
// listed; one that keeps failing is given up after 24 hours; the secret is
// shown once.
func TestWebhooks(t *testing.T) {
	for name, env := range hookStores(t) {
		t.Run(name, func(t *testing.T) {
			h, rc := env.Handler, env.rc
			admin := consoleSession(t, h)
			call := func(method, path string, body any) (int, map[string]any) {
				t.Helper()
				return asJSON(t, h, admin, method, "/api/v1/orgs/acme"+path, body)
			}
			deliver := func() int {
				t.Helper()
				n, err := env.Webhooks.DeliverDue(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			code, hook := call("POST", "/webhooks", map[string]any{"url": rc.URL + "/hook", "events": []string{"token.created", "token.revoked"}, "description": "CI"})
			if code != 201 || !strings.HasPrefix(hook["secret"].(string), "whsec_") || hook["id"] == nil {
				t.Fatalf("create: %d %v", code, hook)
			}
			id, secret := hook["id"].(string), hook["secret"].(string)
			if _, got := call("GET", "/webhooks/"+id, nil); got["secret"] != nil || got["url"] != rc.URL+"/hook" {
				t.Fatalf("the secret is shown again: %v", got)
			}

			// An event it wants arrives, signed; one it does not want does not.
			_, tok := call("POST", "/tokens", map[string]any{"name": "ci", "service_account_id": env.Account.ID, "kind": "private"})
			call("POST", "/invitations", map[string]any{"email": "x@example.com", "role": "viewer"})
			if n := deliver(); n != 1 {
				t.Fatalf("%d deliveries due, want 1", n)
			}
			got := rc.all()
			if len(got) != 1 {
				t.Fatalf("received %d", len(got))
			}
			verify(t, secret, got[0])
			var msg struct {
				Type string
				Data struct {
					Action string
					Target struct{ ID string }
					Actor  struct{ Type string }
				}
			}
			if err := json.Unmarshal(got[0].body, &msg); err != nil || msg.Type != "token.created" || msg.Data.Target.ID != tok["id"] || msg.Data.Actor.Type != "user" {
				t.Fatalf("payload %s: %+v", got[0].body, msg)
			}
			if got[0].header.Get("Content-Type") != "application/json" {
				t.Fatalf("headers: %v", got[0].header)
			}

			// The receiver is down: the delivery waits for its schedule.
			rc.fail.Store(503)
			env.clock.Add(time.Second) // deliveries list newest first
			call("DELETE", "/tokens/"+tok["id"].(string), nil)
			deliver()
			if n := deliver(); n != 0 {
				t.Fatalf("retried before its time: %d", n)
			}
			env.clock.Add(6 * time.Second)
			if n := deliver(); n != 1 {
				t.Fatalf("the first retry: %d", n)
			}
			rc.fail.Store(0)
			env.clock.Add(2 * time.Minute)
			if n := deliver(); n != 1 {
				t.Fatalf("the second retry: %d", n)
			}
			got = rc.all()
			if len(got) != 4 || got[1].header.Get("webhook-id") != got[3].header.Get("webhook-id") {
				t.Fatalf("received %d; the retries keep the message's ID", len(got))
			}
			verify(t, secret, got[3])
			_, ds := call("GET", "/webhooks/"+id+"/deliveries", nil)
			items := ds["items"].([]any)
			last := items[0].(map[string]any)
			if len(items) != 2 || last["event"] != "token.revoked" || last["status"] != "delivered" || last["attempts"] != 3.0 || last["response_status"] != 204.0 {
				t.Fatalf("deliveries: %v", items)
			}
			hist := last["history"].([]any)
			if len(hist) != 3 || hist[0].(map[string]any)["response_status"] != 503.0 || hist[0].(map[string]any)["error"] != "the receiver answered 503" ||
				hist[2].(map[string]any)["response_status"] != 204.0 {
				t.Fatalf("attempts: %v", hist)
			}

			// A receiver that keeps failing is given up after 24 hours.
			rc.fail.Store(500)
			call("POST", "/tokens", map[string]any{"name": "doomed", "service_account_id": env.Account.ID, "kind": "private"})
			for range 30 {
				deliver()
				env.clock.Add(time.Hour)
				admin = consoleSession(t, h) // sessions idle out meanwhile
			}
			_, ds = call("GET", "/webhooks/"+id+"/deliveries?limit=1", nil)
			if d := ds["items"].([]any)[0].(map[string]any); d["status"] != "failed" || d["next_attempt_at"] != nil || d["attempts"].(float64) < 20 {
				t.Fatalf("after 30 hours: %v", d)
			}
			// Redirects are not followed.
			rc.fail.Store(302)
			call("POST", "/tokens", map[string]any{"name": "moved", "service_account_id": env.Account.ID, "kind": "private"})
			before := len(rc.all())
			deliver()
			if after := len(rc.all()); after != before+1 {
				t.Fatalf("a redirect was followed: %d requests", after-before)
			}
			_, ds = call("GET", "/webhooks/"+id+"/deliveries?limit=1", nil)
			if d := ds["items"].([]any)[0].(map[string]any); !strings.Contains(d["last_error"].(string), "redirect") || d["status"] != "pending" {
				t.Fatalf("after a redirect: %v", d)
			}

			// Deleting the webhook takes its deliveries, and is audited.
			if code, _ := call("DELETE", "/webhooks/"+id, nil); code != 204 {
				t.Fatalf("delete: %d", code)
			}
			if code, _ := call("GET", "/webhooks/"+id+"/deliveries", nil); code != 404 {
				t.Fatalf("deliveries of a deleted webhook: %d", code)
			}
			if n, _ := auditCount(t, env.Env, "webhook.deleted", rc.URL); n != 1 { // named by its origin
				t.Fatalf("webhook.deleted events: %d", n)
			}
		})
	}
}

// TestWebhookRefusals: URLs that are not https to a public address, bad
// event lists, and too many webhooks are refused with the rule; only a
// super admin of the org sees or changes webhooks.
func TestWebhookRefusals(t *testing.T) {
	for name, env := range hookStores(t) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			mk := func(url string, events ...string) (int, map[string]any) {
				if events == nil {
					events = []string{"*"}
				}
				return asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/webhooks", map[string]any{"url": url, "events": events})
			}
			for _, c := range []struct {
				url    string
				events []string
				field  string
				detail string
			}{
				{"http://hooks.example.com/x", nil, "url", "must use https"},
				{"https://127.0.0.1:8443/x", nil, "url", "private or local address"},
				{"https://10.1.2.3/x", nil, "url", "private or local address"},
				{"https://[::1]/x", nil, "url", "private or local address"},
				{"https://169.254.169.254/latest/meta-data", nil, "url", "private or local address"},
				{"https://localhost/x", nil, "url", "this machine"},
				{"https://hooks.example.com:99999/x", nil, "url", "port"},
				{"https://hooks.example.com:0/x", nil, "url", "port"},
				{"https://user:pw@hooks.example.com/", nil, "url", "user name or password"},
				{"hooks.example.com/x", nil, "url", "full URL"},
				{"https://hooks.example.com/x#frag", nil, "url", "fragment"},
				{"", nil, "url", "required"},
				{"https://hooks.example.com/x", []string{}, "events", "at least one"},
				{"https://hooks.example.com/x", []string{"token.created", "*"}, "events", "alone"},
				{"https://hooks.example.com/x", []string{"token.stolen"}, "events", "not an event"},
			} {
				code, v := mk(c.url, c.events...)
				if code != 422 || v["field"] != c.field || !strings.Contains(v["detail"].(string), c.detail) {
					t.Errorf("%q %v: %d %v", c.url, c.events, code, v)
				}
			}
			var first string
			for i := range 20 {
				code, v := mk("https://hooks.example.com/"+string(rune('a'+i)), "token.created", "token.expiring", "secret.grace_ending")
				if code != 201 {
					t.Fatalf("webhook %d: %d %v", i, code, v)
				}
				if i == 0 {
					first = v["id"].(string)
				}
			}
			if code, v := mk("https://hooks.example.com/one-too-many"); code != 409 {
				t.Errorf("the 21st webhook: %d %v", code, v)
			}
			code, v := asJSON(t, h, admin, "PATCH", "/api/v1/orgs/acme/webhooks/"+first, map[string]any{"url": "http://hooks.example.com/"})
			if code != 422 || v["field"] != "url" {
				t.Errorf("PATCH to http: %d %v", code, v)
			}

			// Roles and tenants.
			if code, v := asJSON(t, h, admin, "POST", "/api/v1/orgs", map[string]any{"slug": "other", "name": "Other"}); code != 201 {
				t.Fatalf("org: %d %v", code, v)
			}
			outsider := memberSession(t, h, admin, "other", "boss@other.example", "super_admin")
			adm := memberSession(t, h, admin, "acme", "admin@acme.example", "admin")
			for who, c := range map[string]struct {
				cookie *http.Cookie
				status int
			}{"admin": {adm, 403}, "another org's super admin": {outsider, 404}} {
				for _, r := range []struct {
					method, path string
					body         any
				}{
					{"GET", "/api/v1/orgs/acme/webhooks", nil},
					{"POST", "/api/v1/orgs/acme/webhooks", map[string]any{"url": "https://hooks.example.com/z", "events": []string{"*"}}},
					{"GET", "/api/v1/orgs/acme/webhooks/" + first, nil},
					{"PATCH", "/api/v1/orgs/acme/webhooks/" + first, map[string]any{"description": "x"}},
					{"DELETE", "/api/v1/orgs/acme/webhooks/" + first, nil},
					{"GET", "/api/v1/orgs/acme/webhooks/" + first + "/deliveries", nil},
				} {
					if code, v := asJSON(t, h, c.cookie, r.method, r.path, r.body); code != c.status {
						t.Errorf("%s: %s %s: %d %v", who, r.method, r.path, code, v)
					}
				}
			}
			// Another org's webhook ID names nothing in this org.
			code, other := asJSON(t, h, outsider, "POST", "/api/v1/orgs/other/webhooks", map[string]any{"url": "https://hooks.example.com/o", "events": []string{"*"}})
			if code != 201 {
				t.Fatalf("other org's webhook: %d %v", code, other)
			}
			if code, _ := asJSON(t, h, admin, "GET", "/api/v1/orgs/acme/webhooks/"+other["id"].(string), nil); code != 404 {
				t.Errorf("another org's webhook through acme: %d", code)
			}
		})
	}
}

// TestWebhooksInTheConsole: a super admin adds a webhook on the console,
// sees its secret once, its deliveries and their attempts, changes its
// events with a refusal shown by the field, and deletes it; an admin is
// refused and a cross-site post does nothing.
func TestWebhooksInTheConsole(t *testing.T) {
	for name, env := range hookStores(t) {
		t.Run(name, func(t *testing.T) {
			h, rc := env.Handler, env.rc
			cookie := consoleSession(t, h)
			if page := get(h, "/orgs/acme/settings", cookie).Body.String(); !strings.Contains(page, `href="/orgs/acme/webhooks"`) {
				t.Fatalf("Settings does not link to Webhooks")
			}
			if rec := form(h, "/orgs/acme/webhooks", url.Values{"url": {"http://hooks.example.com/"}, "scope": {"all"}}, cookie); rec.Code != 422 ||
				!strings.Contains(rec.Body.String(), "must use https") || !strings.Contains(rec.Body.String(), `id="hook-url-error"`) {
				t.Fatalf("an http URL: %d", rec.Code)
			}
			rec := shown(t, h, form(h, "/orgs/acme/webhooks", url.Values{"url": {rc.URL + "/c"}, "scope": {"some"}, "event": {"token.created", "token.expiring"}, "description": {"console"}}, cookie), cookie)
			body := rec.Body.String()
			if rec.Code != 200 || !strings.Contains(body, `id="hook-secret"`) || !strings.Contains(body, "whsec_") || rec.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("create: %d %s", rec.Code, body)
			}
			id := regexp.MustCompile(`/orgs/acme/webhooks/(wh_[0-9a-z]+)`).FindStringSubmatch(body)[1]
			show := "/orgs/acme/webhooks/" + id
			if rec := get(h, show, cookie); rec.Code != 200 {
				t.Fatalf("GET %s: %d %v %s", show, rec.Code, rec.Header(), rec.Body)
			}
			if page := get(h, show, cookie).Body.String(); strings.Contains(page, "whsec_") || !strings.Contains(page, "No deliveries yet") {
				t.Fatalf("the webhook's page shows the secret, or deliveries: %s", page)
			}
			rc.fail.Store(503)
			asJSON(t, h, cookie, "POST", "/api/v1/orgs/acme/tokens", map[string]any{"name": "t", "service_account_id": env.Account.ID, "kind": "private"})
			if _, err := env.Webhooks.DeliverDue(t.Context()); err != nil {
				t.Fatal(err)
			}
			page := get(h, show, cookie).Body.String()
			for _, want := range []string{`data-status="pending"`, "token.created", "503 Service Unavailable", "the receiver answered 503", "next try"} {
				if !strings.Contains(page, want) {
					t.Errorf("deliveries lack %q", want)
				}
			}
			if rec := form(h, show, url.Values{"url": {rc.URL + "/c"}, "scope": {"some"}, "event": {"token.stolen"}}, cookie); rec.Code != 422 ||
				!strings.Contains(rec.Body.String(), `id="hook-events-error"`) {
				t.Fatalf("an unknown event: %d", rec.Code)
			}
			if rec := form(h, show, url.Values{"url": {rc.URL + "/c2"}, "scope": {"all"}}, cookie); rec.Code != http.StatusSeeOther {
				t.Fatalf("edit: %d %s", rec.Code, rec.Body)
			}
			if _, v := asJSON(t, h, cookie, "GET", "/api/v1/orgs/acme/webhooks/"+id, nil); v["url"] != rc.URL+"/c2" || v["events"].([]any)[0] != "*" {
				t.Fatalf("after the edit: %v", v)
			}
			// An admin sees none of it; a cross-site post is refused.
			adm := memberSession(t, h, cookie, "acme", "admin@acme.example", "admin")
			for _, p := range []string{"/orgs/acme/webhooks", show} {
				if rec := get(h, p, adm); rec.Code != 403 {
					t.Errorf("admin GET %s: %d", p, rec.Code)
				}
			}
			if rec := form(h, show+"/delete", url.Values{}, adm); rec.Code != 403 {
				t.Errorf("admin delete: %d", rec.Code)
			}
			if rec := form(h, show+"/delete", url.Values{}, cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); rec.Code != 403 {
				t.Errorf("cross-site delete: %d", rec.Code)
			}
			if rec := form(h, show+"/delete", url.Values{}, cookie); rec.Code != http.StatusSeeOther {
				t.Fatalf("delete: %d", rec.Code)
			}
			if page := get(h, "/orgs/acme/webhooks?notice=deleted", cookie).Body.String(); !strings.Contains(page, "No webhooks yet.") {
				t.Fatalf("after delete: %s", page)
			}
		})
	}
}

// TestWebhookNotices: an API token is announced 7 days and 1 day before it
// expires, a rotated secret 1 day before its grace period ends, each once
// however many scans run.
func TestWebhookNotices(t *testing.T) {
	for name, env := range hookStores(t) {
		t.Run(name, func(t *testing.T) {
			h, rc := env.Handler, env.rc
			admin := consoleSession(t, h)
			code, hook := asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/webhooks", map[string]any{"url": rc.URL + "/n",
				"events": []string{"token.expiring", "secret.grace_ending"}})
			if code != 201 {
				t.Fatalf("webhook: %d %v", code, hook)
			}
			day := 24 * time.Hour
			exp := env.clock.Now().Add(3 * day).Format(time.RFC3339)
			_, tok := asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/tokens", map[string]any{"name": "short", "service_account_id": env.Account.ID,
				"kind": "private", "expires_at": exp})
			asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/tokens", map[string]any{"name": "long", "service_account_id": env.Account.ID,
				"kind": "private", "expires_at": env.clock.Now().Add(30 * day).Format(time.RFC3339)})
			scan := func() []map[string]any {
				t.Helper()
				for range 2 { // a second scan sends nothing more
					if err := env.Webhooks.ScanNotices(t.Context()); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := env.Webhooks.DeliverDue(t.Context()); err != nil {
					t.Fatal(err)
				}
				var out []map[string]any
				for _, r := range rc.all() {
					var m map[string]any
					json.Unmarshal(r.body, &m)
					verify(t, hook["secret"].(string), r)
					out = append(out, m)
				}
				return out
			}
			got := scan()
			if len(got) != 1 || got[0]["type"] != "token.expiring" {
				t.Fatalf("first scan: %v", got)
			}
			if d := got[0]["data"].(map[string]any); d["id"] != tok["id"] || d["notice"] != "7d" || d["name"] != "short" {
				t.Fatalf("the 7-day notice: %v", d)
			}
			env.clock.Add(2*day + time.Hour)
			admin = consoleSession(t, h)
			code, _ = asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/service-accounts/"+env.Account.ID+"/secrets", map[string]any{"grace_period_seconds": 12 * 3600})
			if code != 200 && code != 201 {
				t.Fatalf("rotate: %d", code)
			}
			got = scan()
			if len(got) != 3 {
				t.Fatalf("after 2 days and a rotation: %v", got)
			}
			types := map[string]map[string]any{}
			for _, m := range got[1:] {
				types[m["type"].(string)] = m["data"].(map[string]any)
			}
			if d := types["token.expiring"]; d == nil || d["notice"] != "1d" || d["id"] != tok["id"] {
				t.Errorf("the 1-day notice: %v", types)
			}
			if d := types["secret.grace_ending"]; d == nil || d["service_account_id"] != env.Account.ID || d["secret_id"] == "" {
				t.Errorf("the grace notice: %v", types)
			}
		})
	}
}

// TestLeakReportFiresTheWebhook: a credential.leaked event reaches the
// org's webhook, with where the token was found, and a false positive
// sends nothing.
func TestLeakReportFiresTheWebhook(t *testing.T) {
	for name, env := range hookStores(t) {
		t.Run(name, func(t *testing.T) {
			h, rc := env.Handler, env.rc
			admin := consoleSession(t, h)
			_, hook := asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/webhooks", map[string]any{"url": rc.URL + "/leaks", "events": []string{"credential.leaked"}})
			_, tok := asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/tokens", map[string]any{"name": "leaky", "service_account_id": env.Account.ID, "kind": "private"})
			report(t, h, "203.0.113.4", []map[string]string{
				{"token": tok["token"].(string), "type": "tollgate_api_token", "url": "https://github.com/acme/app/blob/main/.env", "source": "content"},
				{"token": stacktest.UnknownAPIToken(), "type": "tollgate_api_token", "url": "https://example.com/x", "source": "content"}})
			if _, err := env.Webhooks.DeliverDue(t.Context()); err != nil {
				t.Fatal(err)
			}
			got := rc.all()
			if len(got) != 1 {
				t.Fatalf("%d deliveries, want 1", len(got))
			}
			verify(t, hook["secret"].(string), got[0])
			var msg struct {
				Type string
				Data struct {
					Target  struct{ ID string }
					Details map[string]any
				}
			}
			if err := json.Unmarshal(got[0].body, &msg); err != nil || msg.Type != "credential.leaked" || msg.Data.Target.ID != tok["id"] ||
				msg.Data.Details["url"] != "https://github.com/acme/app/blob/main/.env" {
				t.Fatalf("the message: %s", got[0].body)
			}
		})
	}
}

// TestMintsInOneBatchEachReachTheWebhook: mints committed together (the
// token endpoint's group commit reads the org's webhooks once for the
// batch) each write their access_token.issued message.
func TestMintsInOneBatchEachReachTheWebhook(t *testing.T) {
	for name, env := range hookStores(t) {
		t.Run(name, func(t *testing.T) {
			h := env.Handler
			admin := consoleSession(t, h)
			asJSON(t, h, admin, "POST", "/api/v1/orgs/acme/webhooks", map[string]any{"url": env.rc.URL + "/m", "events": []string{"access_token.issued"}})
			type cred struct{ id, secret string }
			var creds []cred
			for i := range 8 {
				sa, secret, err := env.App.CreateServiceAccount(t.Context(), env.Admin, "acme", app.ServiceAccountInput{Name: "m" + string(rune('a'+i)), Role: tollgate.RoleViewer, TokenTTLSeconds: 300})
				if err != nil {
					t.Fatal(err)
				}
				creds = append(creds, cred{sa.ID, secret})
			}
			var wg sync.WaitGroup
			for _, c := range creds {
				wg.Go(func() { accessToken(t, h, c.id, c.secret) })
			}
			wg.Wait()
			for n := 0; n < 8; {
				k, err := env.Webhooks.DeliverDue(t.Context())
				if err != nil || k == 0 {
					t.Fatalf("after %d deliveries: %d %v", n, k, err)
				}
				n += k
			}
			seen := map[string]bool{}
			for _, r := range env.rc.all() {
				var m struct {
					Data struct{ Actor struct{ ID string } }
				}
				json.Unmarshal(r.body, &m)
				seen[m.Data.Actor.ID] = true
			}
			if len(seen) != 8 {
				t.Fatalf("messages for %d accounts, want 8", len(seen))
			}
		})
	}
}
