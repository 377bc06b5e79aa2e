package sqlite

import (
	"context"
	"database/sql"
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
	var created int64
	if err := row.Scan(&w.ID, &w.OrgID, &w.URL, &events, &w.Description, &w.Sealed, &created, &w.CreatedBy); err != nil {
		return nil, err
	}
	w.CreatedAt = fromMicros(created)
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return nil, fmt.Errorf("sqlite: events of webhook %s: %w", w.ID, err)
	}
	return &w, nil
}

func (q *queries) CreateWebhook(ctx context.Context, w *tollgate.Webhook) error {
	events, err := json.Marshal(w.Events)
	if err != nil {
		return err
	}
	_, err = q.q.ExecContext(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		w.ID, w.OrgID, w.URL, string(events), w.Description, w.Sealed, micros(w.CreatedAt), w.CreatedBy)
	return classify(err, "webhook")
}

func (q *queries) GetWebhook(ctx context.Context, orgID, id string) (*tollgate.Webhook, error) {
	w, err := scanWebhook(q.q.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE org_id = ? AND id = ?`, orgID, id))
	return w, classify(err, "webhook")
}

func (q *queries) ListWebhooks(ctx context.Context, orgID string) ([]tollgate.Webhook, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE org_id = ? ORDER BY created_at, id`, orgID)
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
	res, err := q.q.ExecContext(ctx, `UPDATE webhooks SET url = ?, events = ?, description = ? WHERE org_id = ? AND id = ?`,
		w.URL, string(events), w.Description, w.OrgID, w.ID)
	return mustAffect(res, err, "webhook")
}

func (q *queries) DeleteWebhook(ctx context.Context, orgID, id string) error {
	res, err := q.q.ExecContext(ctx, `DELETE FROM webhooks WHERE org_id = ? AND id = ?`, orgID, id)
	return mustAffect(res, err, "webhook")
}

func (q *queries) EnqueueWebhookMessage(ctx context.Context, m *tollgate.WebhookMessage, webhookIDs []string) error {
	if len(webhookIDs) == 0 {
		return nil
	}
	at := micros(m.CreatedAt)
	if _, err := q.q.ExecContext(ctx, `INSERT INTO webhook_messages (id, org_id, event, payload, created_at) VALUES (?, ?, ?, ?, ?)`,
		m.ID, m.OrgID, m.Event, m.Payload, at); err != nil {
		return classify(err, "webhook message")
	}
	for _, id := range webhookIDs {
		if _, err := q.q.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, message_id, event, status, next_attempt_at, created_at)
			VALUES (?, ?, ?, 'pending', ?, ?)`, id, m.ID, m.Event, at, at); err != nil {
			return classify(err, "webhook delivery")
		}
	}
	return nil
}

const deliveryColumns = `webhook_id, message_id, event, status, attempts, next_attempt_at, last_attempt_at, response_status, last_error, created_at`

func scanDelivery(row sqlq.Row) (*tollgate.WebhookDelivery, error) {
	var d tollgate.WebhookDelivery
	var next, created int64
	var last sql.NullInt64
	if err := row.Scan(&d.WebhookID, &d.MessageID, &d.Event, &d.Status, &d.Attempts, &next, &last, &d.ResponseStatus, &d.LastError, &created); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.CreatedAt = fromMicros(next), fromMicros(created)
	if last.Valid {
		t := fromMicros(last.Int64)
		d.LastAttemptAt = &t
	}
	return &d, nil
}

func (q *queries) ListWebhookDeliveries(ctx context.Context, webhookID string, p tollgate.Page) ([]tollgate.WebhookDelivery, string, error) {
	b := sqlq.New(placeholder, `SELECT `+deliveryColumns+` FROM webhook_deliveries`).Where("webhook_id = %s", webhookID)
	if err := b.After(p.Cursor, "(created_at, message_id) < (%s, %s)", microsAny); err != nil {
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
	rows, err := q.q.QueryContext(ctx, `SELECT at, response_status, error, duration_ms FROM webhook_attempts
		WHERE webhook_id = ? AND message_id = ? ORDER BY n`, d.WebhookID, d.MessageID)
	if err != nil {
		return nil, classify(err, "webhook attempt")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, func(row sqlq.Row) (*tollgate.WebhookAttempt, error) {
		var a tollgate.WebhookAttempt
		var at int64
		if err := row.Scan(&at, &a.ResponseStatus, &a.Error, &a.DurationMillis); err != nil {
			return nil, err
		}
		a.At = fromMicros(at)
		return &a, nil
	})
	return out, classify(err, "webhook attempt")
}

func (q *queries) RecordWebhookAttempt(ctx context.Context, r *tollgate.WebhookResult) error {
	a := r.Attempt
	res, err := q.q.ExecContext(ctx, `UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, last_attempt_at = ?,
		response_status = ?, last_error = ? WHERE webhook_id = ? AND message_id = ?`,
		r.Status, micros(r.Next), micros(a.At), a.ResponseStatus, a.Error, r.WebhookID, r.MessageID)
	if err := mustAffect(res, err, "webhook delivery"); err != nil {
		return err
	}
	_, err = q.q.ExecContext(ctx, `INSERT INTO webhook_attempts (webhook_id, message_id, n, at, response_status, error, duration_ms)
		VALUES (?, ?, (SELECT count(*) + 1 FROM webhook_attempts WHERE webhook_id = ? AND message_id = ?), ?, ?, ?, ?)`,
		r.WebhookID, r.MessageID, r.WebhookID, r.MessageID, micros(a.At), a.ResponseStatus, a.Error, a.DurationMillis)
	return classify(err, "webhook attempt")
}

// ClaimWebhookDeliveries takes the due deliveries in one write
// transaction: SQLite runs one writer at a time, so no two claims overlap.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]tollgate.WebhookSend, error) {
	var out []tollgate.WebhookSend
	err := s.InTx(ctx, func(tq tollgate.Queries) error {
		q := tq.(*queries)
		out = nil
		rows, err := q.q.QueryContext(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?
			WHERE (webhook_id, message_id) IN (SELECT webhook_id, message_id FROM webhook_deliveries
				WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?)
			RETURNING `+deliveryColumns, micros(leaseUntil), micros(now), limit)
		if err != nil {
			return classify(err, "webhook delivery")
		}
		claimed, err := sqlq.All(rows, scanDelivery)
		rows.Close()
		if err != nil {
			return classify(err, "webhook delivery")
		}
		for _, d := range claimed {
			send := tollgate.WebhookSend{Delivery: d}
			if err := q.q.QueryRowContext(ctx, `SELECT w.url, w.secret, m.payload FROM webhooks w, webhook_messages m
				WHERE w.id = ? AND m.id = ?`, d.WebhookID, d.MessageID).Scan(&send.URL, &send.Sealed, &send.Payload); err != nil {
				return classify(err, "webhook delivery")
			}
			out = append(out, send)
		}
		return nil
	})
	return out, err
}

func (q *queries) MarkNotice(ctx context.Context, subjectID, kind string, at time.Time) (bool, error) {
	res, err := q.q.ExecContext(ctx, `INSERT INTO webhook_notices (subject_id, kind, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		subjectID, kind, micros(at))
	if err != nil {
		return false, classify(err, "notice")
	}
	n, err := res.RowsAffected()
	return n == 1, classify(err, "notice")
}

func (q *queries) ListExpiringTokens(ctx context.Context, from, to time.Time, kind string, limit int) ([]tollgate.APIToken, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, org_id, name, expires_at FROM api_tokens t
		WHERE expires_at > ? AND expires_at <= ?
		AND NOT EXISTS (SELECT 1 FROM webhook_notices n WHERE n.subject_id = t.id AND n.kind = ?)
		ORDER BY expires_at, id LIMIT ?`, micros(from), micros(to), kind, limit)
	if err != nil {
		return nil, classify(err, "API token")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, func(row sqlq.Row) (*tollgate.APIToken, error) {
		var t tollgate.APIToken
		var exp int64
		if err := row.Scan(&t.ID, &t.OrgID, &t.Name, &exp); err != nil {
			return nil, err
		}
		e := fromMicros(exp)
		t.ExpiresAt = &e
		return &t, nil
	})
	return out, classify(err, "API token")
}

func (q *queries) ListEndingSecrets(ctx context.Context, from, to time.Time, kind string, limit int) ([]tollgate.ClientSecret, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, service_account_id, hash, created_at, expires_at FROM client_secrets s
		WHERE expires_at > ? AND expires_at <= ?
		AND NOT EXISTS (SELECT 1 FROM webhook_notices n WHERE n.subject_id = s.id AND n.kind = ?)
		ORDER BY expires_at, id LIMIT ?`, micros(from), micros(to), kind, limit)
	if err != nil {
		return nil, classify(err, "client secret")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanClientSecret)
	return out, classify(err, "client secret")
}

func (q *queries) DeleteWebhookHistoryBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM webhook_messages WHERE created_at < ?`, micros(t))
	if err != nil {
		return 0, classify(err, "webhook message")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, classify(err, "webhook message")
	}
	if _, err := q.q.ExecContext(ctx, `DELETE FROM webhook_notices WHERE created_at < ?`, micros(t)); err != nil {
		return 0, classify(err, "notice")
	}
	return int(n), nil
}
