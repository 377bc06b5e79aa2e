package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

func webhookTests() []namedTest {
	return []namedTest{
		{"Webhooks", testWebhooks},
		{"WebhookOutbox", testWebhookOutbox},
		{"WebhookClaimsAreExclusive", testWebhookClaimsAreExclusive},
		{"Notices", testNotices},
	}
}

func mkWebhook(t *testing.T, s tollgate.Queries, org *tollgate.Org, url string, at time.Time) *tollgate.Webhook {
	t.Helper()
	w := &tollgate.Webhook{ID: tollgate.NewID(tollgate.PrefixWebhook, at), OrgID: org.ID, URL: url, Events: []string{"token.created", "token.revoked"},
		Description: "d", Sealed: []byte("sealed-" + url), CreatedAt: at, CreatedBy: "usr_x"}
	must(t, s.CreateWebhook(t.Context(), w))
	return w
}

func testWebhooks(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o, other := mkOrg(t, s, "hooked"), mkOrg(t, s, "elsewhere")
	a := mkWebhook(t, s, o, "https://a.example.com/hook", base)
	b := mkWebhook(t, s, o, "https://b.example.com/hook", base.Add(time.Second))
	mkWebhook(t, s, other, "https://c.example.com/hook", base)
	got, err := s.GetWebhook(ctx, o.ID, a.ID)
	must(t, err)
	if got.URL != a.URL || len(got.Events) != 2 || got.Events[1] != "token.revoked" || string(got.Sealed) != string(a.Sealed) || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("GetWebhook: %+v", got)
	}
	_, err = s.GetWebhook(ctx, other.ID, a.ID)
	wantCode(t, err, tollgate.ENotFound) // another org's ID names nothing
	list, err := s.ListWebhooks(ctx, o.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("ListWebhooks: %+v", list)
	}
	a.URL, a.Events, a.Description = "https://a2.example.com/", []string{tollgate.EventAll}, "all of it"
	must(t, s.UpdateWebhook(ctx, a))
	got, _ = s.GetWebhook(ctx, o.ID, a.ID)
	if got.URL != a.URL || len(got.Events) != 1 || got.Events[0] != "*" || got.Description != "all of it" {
		t.Fatalf("after UpdateWebhook: %+v", got)
	}
	wantCode(t, s.UpdateWebhook(ctx, &tollgate.Webhook{ID: a.ID, OrgID: other.ID, Events: []string{}}), tollgate.ENotFound)
	wantCode(t, s.DeleteWebhook(ctx, other.ID, a.ID), tollgate.ENotFound)
	must(t, s.DeleteWebhook(ctx, o.ID, a.ID))
	wantCode(t, s.DeleteWebhook(ctx, o.ID, a.ID), tollgate.ENotFound)
}

// testWebhookOutbox: a message is written with one pending delivery per
// webhook; a claim takes the due ones with what sending needs and makes
// them due again only at the lease; attempts are recorded with their
// history; deleting a webhook takes its deliveries.
func testWebhookOutbox(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "outbox")
	a := mkWebhook(t, s, o, "https://a.example.com/hook", base)
	b := mkWebhook(t, s, o, "https://b.example.com/hook", base)
	m := &tollgate.WebhookMessage{ID: tollgate.NewID(tollgate.PrefixWebhookMessage, base), OrgID: o.ID, Event: "token.created",
		Payload: []byte(`{"type":"token.created"}`), CreatedAt: base}
	must(t, s.InTx(ctx, func(q tollgate.Queries) error { return q.EnqueueWebhookMessage(ctx, m, []string{a.ID, b.ID}) }))
	must(t, s.InTx(ctx, func(q tollgate.Queries) error {
		return q.EnqueueWebhookMessage(ctx, &tollgate.WebhookMessage{ID: "msg_none", OrgID: o.ID, Event: "x", Payload: []byte("{}"), CreatedAt: base}, nil)
	}))
	if got, err := s.ClaimWebhookDeliveries(ctx, base.Add(-time.Second), base.Add(time.Minute), 10); err != nil || len(got) != 0 {
		t.Fatalf("claim before due: %v %v", got, err)
	}
	lease := base.Add(time.Minute)
	got, err := s.ClaimWebhookDeliveries(ctx, base, lease, 10)
	must(t, err)
	if len(got) != 2 {
		t.Fatalf("claimed %d deliveries, want 2", len(got))
	}
	for _, send := range got {
		d := send.Delivery
		w := map[string]*tollgate.Webhook{a.ID: a, b.ID: b}[d.WebhookID]
		if w == nil || d.MessageID != m.ID || d.Attempts != 1 || !d.NextAttemptAt.Equal(lease) || d.Status != tollgate.DeliveryPending ||
			send.URL != w.URL || string(send.Sealed) != string(w.Sealed) || string(send.Payload) != string(m.Payload) || d.Event != "token.created" {
			t.Fatalf("claimed %+v", send)
		}
	}
	if again, _ := s.ClaimWebhookDeliveries(ctx, lease.Add(-time.Microsecond), lease.Add(time.Hour), 10); len(again) != 0 {
		t.Fatalf("claimed again within the lease: %+v", again)
	}
	// a fails, then is delivered; b fails for good.
	at := base.Add(time.Second)
	must(t, s.InTx(ctx, func(q tollgate.Queries) error {
		return q.RecordWebhookAttempt(ctx, &tollgate.WebhookResult{WebhookID: a.ID, MessageID: m.ID, Status: tollgate.DeliveryPending, Next: at.Add(5 * time.Second),
			Attempt: tollgate.WebhookAttempt{At: at, ResponseStatus: 503, Error: "the receiver answered 503", DurationMillis: 12}})
	}))
	again, err := s.ClaimWebhookDeliveries(ctx, at.Add(5*time.Second), at.Add(time.Minute), 10)
	must(t, err)
	if len(again) != 1 || again[0].Delivery.WebhookID != a.ID || again[0].Delivery.Attempts != 2 {
		t.Fatalf("the retry: %+v", again)
	}
	must(t, s.InTx(ctx, func(q tollgate.Queries) error {
		if err := q.RecordWebhookAttempt(ctx, &tollgate.WebhookResult{WebhookID: a.ID, MessageID: m.ID, Status: tollgate.DeliveryDelivered, Next: at.Add(6 * time.Second),
			Attempt: tollgate.WebhookAttempt{At: at.Add(6 * time.Second), ResponseStatus: 204, DurationMillis: 3}}); err != nil {
			return err
		}
		return q.RecordWebhookAttempt(ctx, &tollgate.WebhookResult{WebhookID: b.ID, MessageID: m.ID, Status: tollgate.DeliveryFailed, Next: at,
			Attempt: tollgate.WebhookAttempt{At: at, Error: "connection refused"}})
	}))
	ds, next, err := s.ListWebhookDeliveries(ctx, a.ID, tollgate.Page{Limit: 10})
	must(t, err)
	if len(ds) != 1 || next != "" {
		t.Fatalf("deliveries of a: %+v %q", ds, next)
	}
	d := ds[0]
	if d.Status != tollgate.DeliveryDelivered || d.Attempts != 2 || d.ResponseStatus != 204 || d.LastError != "" || d.LastAttemptAt == nil ||
		len(d.History) != 2 || d.History[0].ResponseStatus != 503 || d.History[0].DurationMillis != 12 || d.History[1].ResponseStatus != 204 {
		t.Fatalf("delivery of a: %+v", d)
	}
	if got, _ := s.ClaimWebhookDeliveries(ctx, base.Add(48*time.Hour), base.Add(49*time.Hour), 10); len(got) != 0 {
		t.Fatalf("delivered and failed deliveries are claimed again: %+v", got)
	}
	must(t, s.DeleteWebhook(ctx, o.ID, a.ID))
	wantCode(t, s.InTx(ctx, func(q tollgate.Queries) error {
		return q.RecordWebhookAttempt(ctx, &tollgate.WebhookResult{WebhookID: a.ID, MessageID: m.ID, Status: tollgate.DeliveryDelivered, Next: at,
			Attempt: tollgate.WebhookAttempt{At: at}})
	}), tollgate.ENotFound)

	// Pages go newest first, and stay stable.
	for i := range 5 {
		mi := &tollgate.WebhookMessage{ID: tollgate.NewID(tollgate.PrefixWebhookMessage, base.Add(time.Duration(i+1)*time.Minute)), OrgID: o.ID,
			Event: "token.revoked", Payload: []byte("{}"), CreatedAt: base.Add(time.Duration(i+1) * time.Minute)}
		must(t, s.InTx(ctx, func(q tollgate.Queries) error { return q.EnqueueWebhookMessage(ctx, mi, []string{b.ID}) }))
	}
	var seen []string
	cursor := ""
	for {
		page, next, err := s.ListWebhookDeliveries(ctx, b.ID, tollgate.Page{Limit: 2, Cursor: cursor})
		must(t, err)
		for _, d := range page {
			seen = append(seen, d.MessageID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 6 || seen[5] != m.ID {
		t.Fatalf("pages: %v", seen)
	}
	// Pruning by age takes the first message with its deliveries, and
	// keeps the later ones.
	n, err := s.DeleteWebhookHistoryBefore(ctx, base.Add(30*time.Second))
	must(t, err)
	if n != 1 {
		t.Fatalf("pruned %d messages, want 1", n)
	}
	left, _, err := s.ListWebhookDeliveries(ctx, b.ID, tollgate.Page{Limit: 10})
	must(t, err)
	if len(left) != 5 {
		t.Fatalf("%d deliveries left, want 5", len(left))
	}
}

// testWebhookClaimsAreExclusive: 8 claimers at once share 40 due
// deliveries with none taken twice.
func testWebhookClaimsAreExclusive(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "race")
	w := mkWebhook(t, s, o, "https://a.example.com/hook", base)
	for i := range 40 {
		m := &tollgate.WebhookMessage{ID: fmt.Sprintf("msg_%02d", i), OrgID: o.ID, Event: "token.created", Payload: []byte("{}"), CreatedAt: base}
		must(t, s.InTx(ctx, func(q tollgate.Queries) error { return q.EnqueueWebhookMessage(ctx, m, []string{w.ID}) }))
	}
	var mu sync.Mutex
	taken := map[string]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				got, err := s.ClaimWebhookDeliveries(ctx, base, base.Add(time.Minute), 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, g := range got {
					taken[g.Delivery.MessageID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(taken) != 40 {
		t.Fatalf("%d deliveries claimed, want 40", len(taken))
	}
	for id, n := range taken {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
}

// testNotices: a notice is marked once; expiring tokens and ending
// secrets are found in their window, until noticed.
func testNotices(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	o := mkOrg(t, s, "notices")
	sa := mkServiceAccount(t, s, o, "bot", base)
	soon, later := base.Add(6*24*time.Hour), base.Add(8*24*time.Hour)
	mk := func(name string, exp *time.Time) string {
		tok := &tollgate.APIToken{ID: tollgate.NewID(tollgate.PrefixAPIToken, base), OrgID: o.ID, Name: name, Kind: tollgate.KindPrivate, Domains: []string{},
			Role: tollgate.RoleViewer, OwnerType: tollgate.PrincipalServiceAccount, OwnerID: sa.ID, Hash: hash(name), ExpiresAt: exp, CreatedAt: base, CreatedBy: "usr_x"}
		must(t, s.CreateAPIToken(ctx, tok))
		return tok.ID
	}
	in := mk("soon", &soon)
	mk("later", &later)
	mk("never", nil)
	week := base.Add(7 * 24 * time.Hour)
	got, err := s.ListExpiringTokens(ctx, base, week, "token.expiring.7d", 10)
	must(t, err)
	if len(got) != 1 || got[0].ID != in || got[0].OrgID != o.ID || got[0].Name != "soon" || !got[0].ExpiresAt.Equal(soon) {
		t.Fatalf("expiring: %+v", got)
	}
	first, err := s.MarkNotice(ctx, in, "token.expiring.7d", base)
	must(t, err)
	second, err := s.MarkNotice(ctx, in, "token.expiring.7d", base)
	must(t, err)
	if !first || second {
		t.Fatalf("MarkNotice: %v then %v", first, second)
	}
	if got, _ := s.ListExpiringTokens(ctx, base, week, "token.expiring.7d", 10); len(got) != 0 {
		t.Fatalf("a noticed token is listed again: %+v", got)
	}
	if got, _ := s.ListExpiringTokens(ctx, base, week, "token.expiring.1d", 10); len(got) != 1 {
		t.Fatalf("another notice kind: %+v", got)
	}
	sec := &tollgate.ClientSecret{ID: tollgate.NewID(tollgate.PrefixClientSecret, base), ServiceAccountID: sa.ID, Hash: hash("sec"), CreatedAt: base}
	must(t, s.CreateClientSecret(ctx, sec))
	must(t, s.ExpireClientSecret(ctx, sec.ID, base.Add(12*time.Hour)))
	secs, err := s.ListEndingSecrets(ctx, base, base.Add(24*time.Hour), "secret.grace_ending", 10)
	must(t, err)
	if len(secs) != 1 || secs[0].ID != sec.ID || secs[0].ServiceAccountID != sa.ID {
		t.Fatalf("ending secrets: %+v", secs)
	}
}
