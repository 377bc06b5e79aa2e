package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/internal/sqlq"
)

const deviceColumns = `id, device_code_hash, user_code_hash, client_id, status, coalesce(user_id, ''), ip, user_agent, interval_seconds, created_at, expires_at, polled_at, decided_at`

func scanDevice(row sqlq.Row) (*tollgate.DeviceAuthorization, error) {
	var d tollgate.DeviceAuthorization
	var interval int64
	var polled, decided *time.Time
	if err := row.Scan(&d.ID, &d.DeviceCodeHash, &d.UserCodeHash, &d.ClientID, &d.Status, &d.UserID, &d.IP, &d.UserAgent,
		&interval, &d.CreatedAt, &d.ExpiresAt, &polled, &decided); err != nil {
		return nil, err
	}
	d.Interval = time.Duration(interval) * time.Second
	d.CreatedAt, d.ExpiresAt = d.CreatedAt.UTC(), d.ExpiresAt.UTC()
	if polled != nil {
		d.PolledAt = polled.UTC()
	}
	if decided != nil {
		d.DecidedAt = decided.UTC()
	}
	return &d, nil
}

func (q *queries) CreateDeviceAuthorization(ctx context.Context, d *tollgate.DeviceAuthorization) error {
	_, err := q.q.Exec(ctx, `INSERT INTO device_authorizations (id, device_code_hash, user_code_hash, client_id, status, ip, user_agent, interval_seconds, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		d.ID, d.DeviceCodeHash, d.UserCodeHash, d.ClientID, string(d.Status), d.IP, d.UserAgent, int64(d.Interval/time.Second), d.CreatedAt, d.ExpiresAt)
	return classify(err, "device authorization")
}

func (q *queries) GetDeviceAuthorizationByDeviceCode(ctx context.Context, hash []byte) (*tollgate.DeviceAuthorization, error) {
	d, err := scanDevice(q.q.QueryRow(ctx, `SELECT `+deviceColumns+` FROM device_authorizations WHERE device_code_hash = $1`, hash))
	return d, classify(err, "device authorization")
}

func (q *queries) GetDeviceAuthorizationByUserCode(ctx context.Context, hash []byte) (*tollgate.DeviceAuthorization, error) {
	d, err := scanDevice(q.q.QueryRow(ctx, `SELECT `+deviceColumns+` FROM device_authorizations WHERE user_code_hash = $1`, hash))
	return d, classify(err, "device authorization")
}

func (q *queries) PollDeviceAuthorization(ctx context.Context, id string, t time.Time, interval time.Duration) error {
	tag, err := q.q.Exec(ctx, `UPDATE device_authorizations SET polled_at = $1, interval_seconds = $2 WHERE id = $3`, t, int64(interval/time.Second), id)
	return mustAffect(tag, err, "device authorization")
}

func (q *queries) DecideDeviceAuthorization(ctx context.Context, id string, status tollgate.DeviceStatus, userID string, t time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE device_authorizations SET status = $1, user_id = $2, decided_at = $3 WHERE id = $4 AND status = 'pending'`,
		string(status), userID, t, id)
	return q.transitioned(ctx, tag, err, id, "was answered already")
}

func (q *queries) RedeemDeviceAuthorization(ctx context.Context, id string) error {
	tag, err := q.q.Exec(ctx, `UPDATE device_authorizations SET status = 'redeemed' WHERE id = $1 AND status = 'approved'`, id)
	return q.transitioned(ctx, tag, err, id, "is not approved, or was used already")
}

// transitioned turns a conditional update's result into ENotFound (no
// such authorization) or EConflict (it was not in the state the update
// needs).
func (q *queries) transitioned(ctx context.Context, tag pgconn.CommandTag, err error, id, conflict string) error {
	if err != nil || tag.RowsAffected() > 0 {
		return classify(err, "device authorization")
	}
	var n int
	if err := q.q.QueryRow(ctx, `SELECT COUNT(*) FROM device_authorizations WHERE id = $1`, id).Scan(&n); err != nil {
		return classify(err, "device authorization")
	}
	if n == 0 {
		return tollgate.Errorf(tollgate.ENotFound, "device authorization not found")
	}
	return tollgate.Errorf(tollgate.EConflict, "the device authorization %s", conflict)
}

func (q *queries) DeleteDeviceAuthorizationsBefore(ctx context.Context, t time.Time) (int, error) {
	tag, err := q.q.Exec(ctx, `DELETE FROM device_authorizations WHERE expires_at < $1`, t)
	if err != nil {
		return 0, classify(err, "device authorization")
	}
	return int(tag.RowsAffected()), nil
}
