package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/internal/sqlq"
)

const webhookColumns = `id, org_id, url, events, description, secret, created_at, created_by`

func scanWebhook(row sqlq.Row) (*tollgate.Webhook, error) {
	var w tollgate.Webhook
	var events string
	if err := row.Scan(&w.ID, &w.OrgID, &w.URL, &events, &w.Description, &w.Sealed, &w.CreatedAt, &w.CreatedBy); err != nil {
		return nil, err
	}
	w.CreatedAt = w.CreatedAt.UTC()
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return nil, fmt.Errorf("postgres: events of webhook %s: %w", w.ID, err)
	}
	return &w, nil
}

func (q *queries) CreateWebhook(ctx context.Context, w *tollgate.Webhook) error {
	events, err := json.Marshal(w.Events)
	if err != nil {
		return err
	}
	_, err = q.q.Exec(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		w.ID, w.OrgID, w.URL, string(events), w.Description, w.Sealed, w.CreatedAt, w.CreatedBy)
	return classify(err, "webhook")
}

func (q *queries) GetWebhook(ctx context.Context, orgID, id string) (*tollgate.Webhook, error) {
	w, err := scanWebhook(q.q.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE org_id = $1 AND id = $2`, orgID, id))
	return w, classify(err, "webhook")
}

func (q *queries) ListWebhooks(ctx context.Context, orgID string) ([]tollgate.Webhook, error) {
	rows, err := q.q.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE org_id = $1 ORDER BY created_at, id`, orgID)
	if err != nil {
		return nil, classify(err, "webhook")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanWebhook)
	return out, classify(err, "webhook")
}

func (q *queries) UpdateWebhook(ctx context.Context, w *tollgate.Webhook) error {
	events, err := json.Marshal(w.Events)
	if err != nil {
		return err
	}
	tag, err := q.q.Exec(ctx, `UPDATE webhooks SET url = $1, events = $2, description = $3 WHERE org_id = $4 AND id = $5`,
		w.URL, string(events), w.Description, w.OrgID, w.ID)
	return mustAffect(tag, err, "webhook")
}

func (q *queries) DeleteWebhook(ctx context.Context, orgID, id string) error {
	tag, err := q.q.Exec(ctx, `DELETE FROM webhooks WHERE org_id = $1 AND id = $2`, orgID, id)
	return mustAffect(tag, err, "webhook")
}

func (q *queries) EnqueueWebhookMessage(ctx context.Context, m *tollgate.WebhookMessage, webhookIDs []string) error {
	if len(webhookIDs) == 0 {
		return nil
	}
	if _, err := q.q.Exec(ctx, `INSERT INTO webhook_messages (id, org_id, event, payload, created_at) VALUES ($1, $2, $3, $4, $5)`,
		m.ID, m.OrgID, m.Event, m.Payload, m.CreatedAt); err != nil {
		return classify(err, "webhook message")
	}
	_, err := q.q.Exec(ctx, `INSERT INTO webhook_deliveries (webhook_id, message_id, event, status, next_attempt_at, created_at)
		SELECT id, $2, $3, 'pending', $4, $4 FROM unnest($1::text[]) AS id`, webhookIDs, m.ID, m.Event, m.CreatedAt)
	return classify(err, "webhook delivery")
}

const deliveryColumns = `webhook_id, message_id, event, status, attempts, next_attempt_at, last_attempt_at, response_status, last_error, created_at`

func scanDelivery(row sqlq.Row) (*tollgate.WebhookDelivery, error) {
	var d tollgate.WebhookDelivery
	if err := row.Scan(&d.WebhookID, &d.MessageID, &d.Event, &d.Status, &d.Attempts, &d.NextAttemptAt, &d.LastAttemptAt, &d.ResponseStatus, &d.LastError, &d.CreatedAt); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.CreatedAt = d.NextAttemptAt.UTC(), d.CreatedAt.UTC()
	if d.LastAttemptAt != nil {
		t := d.LastAttemptAt.UTC()
		d.LastAttemptAt = &t
	}
	return &d, nil
}

func (q *queries) ListWebhookDeliveries(ctx context.Context, webhookID string, p tollgate.Page) ([]tollgate.WebhookDelivery, string, error) {
	b := sqlq.New(placeholder, `SELECT `+deliveryColumns+` FROM webhook_deliveries`).Where("webhook_id = %s", webhookID)
	if err := b.After(p.Cursor, "(created_at, message_id) < (%s, %s)", timeAny); err != nil {
		return nil, "", err
	}
	b.Then(" ORDER BY created_at DESC, message_id DESC")
	out, next, err := page(ctx, q.q, b, p.Limit, scanDelivery, tollgate.ByTime(tollgate.WebhookDeliveryKey), "webhook delivery")
	if err != nil {
		return nil, "", err
	}
	for i := range out {
		if out[i].History, err = q.attempts(ctx, &out[i]); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

func (q *queries) attempts(ctx context.Context, d *tollgate.WebhookDelivery) ([]tollgate.WebhookAttempt, error) {
	rows, err := q.q.Query(ctx, `SELECT at, response_status, error, duration_ms FROM webhook_attempts
		WHERE webhook_id = $1 AND message_id = $2 ORDER BY n`, d.WebhookID, d.MessageID)
	if err != nil {
		return nil, classify(err, "webhook attempt")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, func(row sqlq.Row) (*tollgate.WebhookAttempt, error) {
		var a tollgate.WebhookAttempt
		if err := row.Scan(&a.At, &a.ResponseStatus, &a.Error, &a.DurationMillis); err != nil {
			return nil, err
		}
		a.At = a.At.UTC()
		return &a, nil
	})
	return out, classify(err, "webhook attempt")
}

func (q *queries) RecordWebhookAttempt(ctx context.Context, r *tollgate.WebhookResult) error {
	a := r.Attempt
	tag, err := q.q.Exec(ctx, `UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, last_attempt_at = $3,
		response_status = $4, last_error = $5 WHERE webhook_id = $6 AND message_id = $7`,
		string(r.Status), r.Next, a.At, a.ResponseStatus, a.Error, r.WebhookID, r.MessageID)
	if err := mustAffect(tag, err, "webhook delivery"); err != nil {
		return err
	}
	_, err = q.q.Exec(ctx, `INSERT INTO webhook_attempts (webhook_id, message_id, n, at, response_status, error, duration_ms)
		VALUES ($1, $2, (SELECT count(*) + 1 FROM webhook_attempts WHERE webhook_id = $1 AND message_id = $2), $3, $4, $5, $6)`,
		r.WebhookID, r.MessageID, a.At, a.ResponseStatus, a.Error, a.DurationMillis)
	return classify(err, "webhook attempt")
}

// ClaimWebhookDeliveries takes the due deliveries in one statement, out
// of any transaction: rows another process is claiming are skipped (FOR
// UPDATE SKIP LOCKED), and a row it claimed meanwhile is re-read and no
// longer due, so each delivery goes to one process.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]tollgate.WebhookSend, error) {
	rows, err := s.pool.Query(ctx, `WITH due AS (
			SELECT webhook_id, message_id FROM webhook_deliveries
			WHERE status = 'pending' AND next_attempt_at <= $1
			ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
		UPDATE webhook_deliveries d SET attempts = d.attempts + 1, next_attempt_at = $2
		FROM due, webhooks w, webhook_messages m
		WHERE d.webhook_id = due.webhook_id AND d.message_id = due.message_id AND w.id = d.webhook_id AND m.id = d.message_id
		RETURNING `+sqlq.Qualify("d", deliveryColumns)+`, w.url, w.secret, m.payload`, now, leaseUntil, limit)
	if err != nil {
		return nil, classify(err, "webhook delivery")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, func(row sqlq.Row) (*tollgate.WebhookSend, error) {
		var send tollgate.WebhookSend
		d := &send.Delivery
		if err := row.Scan(&d.WebhookID, &d.MessageID, &d.Event, &d.Status, &d.Attempts, &d.NextAttemptAt, &d.LastAttemptAt,
			&d.ResponseStatus, &d.LastError, &d.CreatedAt, &send.URL, &send.Sealed, &send.Payload); err != nil {
			return nil, err
		}
		d.NextAttemptAt, d.CreatedAt = d.NextAttemptAt.UTC(), d.CreatedAt.UTC()
		return &send, nil
	})
	return out, classify(err, "webhook delivery")
}

func (q *queries) MarkNotice(ctx context.Context, subjectID, kind string, at time.Time) (bool, error) {
	tag, err := q.q.Exec(ctx, `INSERT INTO webhook_notices (subject_id, kind, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		subjectID, kind, at)
	if err != nil {
		return false, classify(err, "notice")
	}
	return tag.RowsAffected() == 1, nil
}

func (q *queries) ListExpiringTokens(ctx context.Context, from, to time.Time, kind string, limit int) ([]tollgate.APIToken, error) {
	rows, err := q.q.Query(ctx, `SELECT id, org_id, name, expires_at FROM api_tokens t
		WHERE expires_at > $1 AND expires_at <= $2
		AND NOT EXISTS (SELECT 1 FROM webhook_notices n WHERE n.subject_id = t.id AND n.kind = $3)
		ORDER BY expires_at, id LIMIT $4`, from, to, kind, limit)
	if err != nil {
		return nil, classify(err, "API token")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, func(row sqlq.Row) (*tollgate.APIToken, error) {
		var t tollgate.APIToken
		var exp time.Time
		if err := row.Scan(&t.ID, &t.OrgID, &t.Name, &exp); err != nil {
			return nil, err
		}
		exp = exp.UTC()
		t.ExpiresAt = &exp
		return &t, nil
	})
	return out, classify(err, "API token")
}

func (q *queries) ListEndingSecrets(ctx context.Context, from, to time.Time, kind string, limit int) ([]tollgate.ClientSecret, error) {
	rows, err := q.q.Query(ctx, `SELECT id, service_account_id, hash, created_at, expires_at FROM client_secrets s
		WHERE expires_at > $1 AND expires_at <= $2
		AND NOT EXISTS (SELECT 1 FROM webhook_notices n WHERE n.subject_id = s.id AND n.kind = $3)
		ORDER BY expires_at, id LIMIT $4`, from, to, kind, limit)
	if err != nil {
		return nil, classify(err, "client secret")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanClientSecret)
	return out, classify(err, "client secret")
}

func (q *queries) DeleteWebhookHistoryBefore(ctx context.Context, t time.Time) (int, error) {
	tag, err := q.q.Exec(ctx, `DELETE FROM webhook_messages WHERE created_at < $1`, t)
	if err != nil {
		return 0, classify(err, "webhook message")
	}
	if _, err := q.q.Exec(ctx, `DELETE FROM webhook_notices WHERE created_at < $1`, t); err != nil {
		return 0, classify(err, "notice")
	}
	return int(tag.RowsAffected()), nil
}
