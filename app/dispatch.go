package app

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/webhook"
)

// DefaultWebhookRetry is the wait before each retry, after the schedule
// the Standard Webhooks specification suggests: 5 seconds, 5 minutes, 30
// minutes, 2, 5 and 10 hours, then every 10 hours until the deadline.
var DefaultWebhookRetry = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour}

// Dispatcher sends the webhook outbox: at least once, with retries for
// tollgate.WebhookDeliveryDeadline, across restarts (the outbox is in the
// database), and from one process per delivery when replicas share a
// PostgreSQL database (ClaimWebhookDeliveries). It also sends the
// token.expiring and secret.grace_ending notices.
type Dispatcher struct {
	a      *App
	sender *webhook.Sender
	// Batch is how many deliveries one claim takes, sent at once, and
	// how many Run has in flight at most.
	Batch int
}

// NewDispatcher returns a dispatcher sending through sender.
func (a *App) NewDispatcher(sender *webhook.Sender) *Dispatcher {
	return &Dispatcher{a: a, sender: sender, Batch: 16}
}

// lease is how long a claimed delivery is left to the process that
// claimed it: one attempt's timeout and a margin. A process that dies
// meanwhile leaves it to whoever claims it after.
const lease = webhook.Timeout + 30*time.Second

// Run sends due deliveries every poll and scans for notices every
// minute, until ctx ends; it returns once the attempts in flight are
// recorded. At most Batch deliveries are in flight, and a slot is taken
// again as soon as its attempt ends: a receiver slow to answer holds back
// only its own deliveries, not those claimed with them. Errors are
// logged; the next round retries.
func (d *Dispatcher) Run(ctx context.Context, poll time.Duration) {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	var mu sync.Mutex
	inFlight := 0
	freed := make(chan struct{}, 1)
	lastScan := time.Time{}
	for {
		if time.Since(lastScan) >= time.Minute {
			lastScan = time.Now()
			if err := d.ScanNotices(ctx); err != nil && ctx.Err() == nil {
				d.a.log.WarnContext(ctx, "webhook notices", "err", err)
			}
		}
		for ctx.Err() == nil {
			mu.Lock()
			free := d.Batch - inFlight
			mu.Unlock()
			if free <= 0 {
				break
			}
			now := d.a.now()
			sends, err := d.a.store.ClaimWebhookDeliveries(ctx, now, now.Add(lease), free)
			if err != nil && ctx.Err() == nil {
				d.a.log.WarnContext(ctx, "webhook deliveries", "err", err)
			}
			mu.Lock()
			inFlight += len(sends)
			mu.Unlock()
			for i := range sends {
				wg.Go(func() {
					if err := d.attempt(ctx, &sends[i]); err != nil && ctx.Err() == nil {
						d.a.log.WarnContext(ctx, "webhook deliveries", "err", err)
					}
					mu.Lock()
					inFlight--
					mu.Unlock()
					select {
					case freed <- struct{}{}:
					default:
					}
				})
			}
			if err != nil || len(sends) < free {
				break // drained; a full claim means more may be due
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-freed:
		}
	}
}

// DeliverDue claims the deliveries due now (at most Batch), sends them at
// once, records each attempt and returns how many it attempted.
func (d *Dispatcher) DeliverDue(ctx context.Context) (int, error) {
	now := d.a.now()
	sends, err := d.a.store.ClaimWebhookDeliveries(ctx, now, now.Add(lease), d.Batch)
	if err != nil || len(sends) == 0 {
		return 0, err
	}
	errs := make([]error, len(sends))
	var wg sync.WaitGroup
	for i := range sends {
		wg.Go(func() { errs[i] = d.attempt(ctx, &sends[i]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return len(sends), err
		}
	}
	return len(sends), nil
}

// attempt sends one claimed delivery and records the outcome.
func (d *Dispatcher) attempt(ctx context.Context, s *tollgate.WebhookSend) error {
	del := &s.Delivery
	start := d.a.now()
	status, sendErr := 0, error(nil)
	secret, err := d.a.cfg.Keyring.Open(s.Sealed, del.WebhookID)
	if err != nil {
		sendErr = errSealed
	} else {
		status, sendErr = d.sender.Send(ctx, s.URL, string(secret), webhook.Message{ID: del.MessageID, Timestamp: start, Payload: s.Payload})
	}
	end := d.a.now()
	r := &tollgate.WebhookResult{WebhookID: del.WebhookID, MessageID: del.MessageID, Status: tollgate.DeliveryDelivered, Next: end,
		Attempt: tollgate.WebhookAttempt{At: start, ResponseStatus: status, DurationMillis: int(end.Sub(start) / time.Millisecond)}}
	switch {
	case sendErr != nil && ctx.Err() != nil:
		// Cut short by a shutdown, not failed by the receiver: due again
		// at once, whatever the schedule and the deadline say.
		r.Attempt.Error = tollgate.PlainCut(sendErr.Error(), 500)
		r.Status = tollgate.DeliveryPending
	case sendErr != nil:
		r.Attempt.Error = tollgate.PlainCut(sendErr.Error(), 500)
		r.Status, r.Next = d.retry(del, end)
	}
	d.a.metrics.webhookAttempts.WithLabelValues(string(r.Status)).Inc()
	// Recorded even when ctx ended meanwhile (a shutdown): the attempt
	// happened, and the delivery is due again at r.Next, not at the lease.
	rctx := context.WithoutCancel(ctx)
	err = d.a.store.InTx(rctx, func(q tollgate.Queries) error { return q.RecordWebhookAttempt(rctx, r) })
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		return nil // the webhook was deleted while the message was out
	}
	return err
}

var errSealed = tollgate.Errorf(tollgate.EInternal, "the webhook's secret cannot be unsealed with this key file")

// retry decides what follows a failed attempt: pending until the next
// wait of the schedule (with a tenth of jitter, so that receivers coming
// back are not met by every sender at once), or failed once that would
// pass the deadline.
func (d *Dispatcher) retry(del *tollgate.WebhookDelivery, now time.Time) (tollgate.DeliveryStatus, time.Time) {
	schedule := d.a.cfg.WebhookRetry
	if len(schedule) == 0 {
		schedule = DefaultWebhookRetry
	}
	wait := schedule[min(del.Attempts-1, len(schedule)-1)]
	wait += time.Duration(rand.Int64N(int64(wait)/10 + 1))
	next := now.Add(wait)
	if next.After(del.CreatedAt.Add(tollgate.WebhookDeliveryDeadline)) {
		return tollgate.DeliveryFailed, now
	}
	return tollgate.DeliveryPending, next
}

// noticeWindows are the notices and when each is sent: an API token 7
// days and 1 day before it expires, a rotated secret 1 day before its
// grace period ends.
var noticeWindows = []struct {
	kind   string
	from   time.Duration // the window is (now+from, now+to]
	to     time.Duration
	secret bool
}{
	{"token.expiring.7d", 24 * time.Hour, 7 * 24 * time.Hour, false},
	{"token.expiring.1d", 0, 24 * time.Hour, false},
	{"secret.grace_ending", 0, 24 * time.Hour, true},
}

// ScanNotices sends the notices now due, each once (MarkNotice), in the
// transaction that writes its message: on many replicas, one sends it.
func (d *Dispatcher) ScanNotices(ctx context.Context) error {
	const batch = 200
	now := d.a.now()
	for _, w := range noticeWindows {
		for range 50 { // at most 10,000 a window per scan; the next scan goes on
			var n int
			var err error
			if w.secret {
				n, err = d.secretNotices(ctx, now, w.kind, now.Add(w.from), now.Add(w.to), batch)
			} else {
				n, err = d.tokenNotices(ctx, now, w.kind, now.Add(w.from), now.Add(w.to), batch)
			}
			if err != nil {
				return err
			}
			if n < batch {
				break
			}
		}
	}
	return nil
}

type tokenNotice struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	OrgID     string    `json:"org_id"`
	ExpiresAt time.Time `json:"expires_at"`
	Notice    string    `json:"notice"` // "7d" or "1d"
}

type secretNotice struct {
	ServiceAccountID   string    `json:"service_account_id"`
	ServiceAccountName string    `json:"service_account_name"`
	OrgID              string    `json:"org_id"`
	SecretID           string    `json:"secret_id"`
	ExpiresAt          time.Time `json:"expires_at"`
}

func (d *Dispatcher) tokenNotices(ctx context.Context, now time.Time, kind string, from, to time.Time, limit int) (int, error) {
	toks, err := d.a.store.ListExpiringTokens(ctx, from, to, kind, limit)
	if err != nil {
		return 0, err
	}
	for _, t := range toks {
		err := d.a.store.InTx(ctx, func(q tollgate.Queries) error {
			if first, err := q.MarkNotice(ctx, t.ID, kind, now); err != nil || !first {
				return err
			}
			return d.a.enqueue(ctx, q, t.OrgID, tollgate.EventTokenExpiring,
				tokenNotice{ID: t.ID, Name: t.Name, OrgID: t.OrgID, ExpiresAt: *t.ExpiresAt, Notice: kind[len(kind)-2:]})
		})
		if err != nil {
			return 0, err
		}
	}
	return len(toks), nil
}

func (d *Dispatcher) secretNotices(ctx context.Context, now time.Time, kind string, from, to time.Time, limit int) (int, error) {
	secs, err := d.a.store.ListEndingSecrets(ctx, from, to, kind, limit)
	if err != nil {
		return 0, err
	}
	for _, s := range secs {
		err := d.a.store.InTx(ctx, func(q tollgate.Queries) error {
			if first, err := q.MarkNotice(ctx, s.ID, kind, now); err != nil || !first {
				return err
			}
			sa, err := q.GetServiceAccountByID(ctx, s.ServiceAccountID)
			if tollgate.ErrorCode(err) == tollgate.ENotFound {
				return nil
			} else if err != nil {
				return err
			}
			return d.a.enqueue(ctx, q, sa.OrgID, tollgate.EventSecretGraceEnding,
				secretNotice{ServiceAccountID: sa.ID, ServiceAccountName: sa.Name, OrgID: sa.OrgID, SecretID: s.ID, ExpiresAt: *s.ExpiresAt})
		})
		if err != nil {
			return 0, err
		}
	}
	return len(secs), nil
}
