package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/internal/sqlq"
)

const deviceColumns = `id, device_code_hash, user_code_hash, client_id, status, coalesce(user_id, ''), ip, user_agent, interval_seconds, created_at, expires_at, polled_at, decided_at`

func scanDevice(row sqlq.Row) (*tollgate.DeviceAuthorization, error) {
	var d tollgate.DeviceAuthorization
	var interval, created, expires int64
	var polled, decided sql.NullInt64
	if err := row.Scan(&d.ID, &d.DeviceCodeHash, &d.UserCodeHash, &d.ClientID, &d.Status, &d.UserID, &d.IP, &d.UserAgent,
		&interval, &created, &expires, &polled, &decided); err != nil {
		return nil, err
	}
	d.Interval = time.Duration(interval) * time.Second
	d.CreatedAt, d.ExpiresAt = fromMicros(created), fromMicros(expires)
	if polled.Valid {
		d.PolledAt = fromMicros(polled.Int64)
	}
	if decided.Valid {
		d.DecidedAt = fromMicros(decided.Int64)
	}
	return &d, nil
}

func (q *queries) CreateDeviceAuthorization(ctx context.Context, d *tollgate.DeviceAuthorization) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO device_authorizations (id, device_code_hash, user_code_hash, client_id, status, ip, user_agent, interval_seconds, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.DeviceCodeHash, d.UserCodeHash, d.ClientID, string(d.Status), d.IP, d.UserAgent, int64(d.Interval/time.Second), micros(d.CreatedAt), micros(d.ExpiresAt))
	return classify(err, "device authorization")
}

func (q *queries) GetDeviceAuthorizationByDeviceCode(ctx context.Context, hash []byte) (*tollgate.DeviceAuthorization, error) {
	d, err := scanDevice(q.q.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM device_authorizations WHERE device_code_hash = ?`, hash))
	return d, classify(err, "device authorization")
}

func (q *queries) GetDeviceAuthorizationByUserCode(ctx context.Context, hash []byte) (*tollgate.DeviceAuthorization, error) {
	d, err := scanDevice(q.q.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM device_authorizations WHERE user_code_hash = ?`, hash))
	return d, classify(err, "device authorization")
}

func (q *queries) PollDeviceAuthorization(ctx context.Context, id string, t time.Time, interval time.Duration) error {
	res, err := q.q.ExecContext(ctx, `UPDATE device_authorizations SET polled_at = ?, interval_seconds = ? WHERE id = ?`, micros(t), int64(interval/time.Second), id)
	return mustAffect(res, err, "device authorization")
}

func (q *queries) DecideDeviceAuthorization(ctx context.Context, id string, status tollgate.DeviceStatus, userID string, t time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE device_authorizations SET status = ?, user_id = ?, decided_at = ? WHERE id = ? AND status = 'pending'`,
		string(status), userID, micros(t), id)
	return q.transitioned(ctx, res, err, id, "was answered already")
}

func (q *queries) RedeemDeviceAuthorization(ctx context.Context, id string) error {
	res, err := q.q.ExecContext(ctx, `UPDATE device_authorizations SET status = 'redeemed' WHERE id = ? AND status = 'approved'`, id)
	return q.transitioned(ctx, res, err, id, "is not approved, or was used already")
}

// transitioned turns a conditional update's result into ENotFound (no
// such authorization) or EConflict (it was not in the state the update
// needs).
func (q *queries) transitioned(ctx context.Context, res sql.Result, err error, id, conflict string) error {
	if err != nil {
		return classify(err, "device authorization")
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return classify(err, "device authorization")
	}
	var n int
	if err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM device_authorizations WHERE id = ?`, id).Scan(&n); err != nil {
		return classify(err, "device authorization")
	}
	if n == 0 {
		return tollgate.Errorf(tollgate.ENotFound, "device authorization not found")
	}
	return tollgate.Errorf(tollgate.EConflict, "the device authorization %s", conflict)
}

func (q *queries) DeleteDeviceAuthorizationsBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM device_authorizations WHERE expires_at < ?`, micros(t))
	if err != nil {
		return 0, classify(err, "device authorization")
	}
	n, err := res.RowsAffected()
	return int(n), classify(err, "device authorization")
}
