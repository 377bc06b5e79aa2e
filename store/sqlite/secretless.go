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

const ckColumns = `id, service_account_id, kid, algorithm, thumbprint, jwk, created_at, created_by, expires_at, last_used_at`

func scanClientKey(row sqlq.Row) (*tollgate.ClientKey, error) {
	var k tollgate.ClientKey
	var jwk string
	var created int64
	var expires, used sql.NullInt64
	if err := row.Scan(&k.ID, &k.ServiceAccountID, &k.KeyID, &k.Algorithm, &k.Thumbprint, &jwk, &created, &k.CreatedBy, &expires, &used); err != nil {
		return nil, err
	}
	k.JWK, k.CreatedAt, k.ExpiresAt, k.LastUsedAt = []byte(jwk), fromMicros(created), fromNullMicros(expires), fromNullMicros(used)
	return &k, nil
}

func (q *queries) CreateClientKey(ctx context.Context, k *tollgate.ClientKey) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO client_keys (`+ckColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.ServiceAccountID, k.KeyID, k.Algorithm, k.Thumbprint, string(k.JWK), micros(k.CreatedAt), k.CreatedBy,
		nullMicros(k.ExpiresAt), nullMicros(k.LastUsedAt))
	return classify(err, "key")
}

func (q *queries) ListClientKeys(ctx context.Context, serviceAccountID string) ([]tollgate.ClientKey, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+ckColumns+` FROM client_keys WHERE service_account_id = ? ORDER BY created_at, id`, serviceAccountID)
	if err != nil {
		return nil, classify(err, "key")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanClientKey)
	return out, classify(err, "key")
}

func (q *queries) DeleteClientKey(ctx context.Context, serviceAccountID, id string) error {
	res, err := q.q.ExecContext(ctx, `DELETE FROM client_keys WHERE service_account_id = ? AND id = ?`, serviceAccountID, id)
	return mustAffect(res, err, "key")
}

func (q *queries) TouchClientKey(ctx context.Context, id string, t time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE client_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?`, micros(t), id)
	return mustAffect(res, err, "key")
}

const fcColumns = `id, service_account_id, name, issuer, audience, subject, claims, created_at, created_by, last_used_at`

func scanFederated(row sqlq.Row) (*tollgate.FederatedCredential, error) {
	var fc tollgate.FederatedCredential
	var claims string
	var created int64
	var used sql.NullInt64
	if err := row.Scan(&fc.ID, &fc.ServiceAccountID, &fc.Name, &fc.Issuer, &fc.Audience, &fc.Subject, &claims, &created, &fc.CreatedBy, &used); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(claims), &fc.Claims); err != nil {
		return nil, fmt.Errorf("sqlite: claims of federated credential %s: %w", fc.ID, err)
	}
	fc.CreatedAt, fc.LastUsedAt = fromMicros(created), fromNullMicros(used)
	return &fc, nil
}

func (q *queries) CreateFederatedCredential(ctx context.Context, fc *tollgate.FederatedCredential) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO federated_credentials (`+fcColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		fc.ID, fc.ServiceAccountID, fc.Name, fc.Issuer, fc.Audience, fc.Subject, string(fc.ClaimsJSON()), micros(fc.CreatedAt), fc.CreatedBy,
		nullMicros(fc.LastUsedAt))
	return classify(err, "federated credential")
}

func (q *queries) ListFederatedCredentials(ctx context.Context, serviceAccountID string) ([]tollgate.FederatedCredential, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+fcColumns+` FROM federated_credentials WHERE service_account_id = ? ORDER BY created_at, id`, serviceAccountID)
	if err != nil {
		return nil, classify(err, "federated credential")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanFederated)
	return out, classify(err, "federated credential")
}

func (q *queries) DeleteFederatedCredential(ctx context.Context, serviceAccountID, id string) error {
	res, err := q.q.ExecContext(ctx, `DELETE FROM federated_credentials WHERE service_account_id = ? AND id = ?`, serviceAccountID, id)
	return mustAffect(res, err, "federated credential")
}

func (q *queries) TouchFederatedCredential(ctx context.Context, id string, t time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE federated_credentials SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?`, micros(t), id)
	return mustAffect(res, err, "federated credential")
}

func (q *queries) UseOnce(ctx context.Context, key string, now, expires time.Time) error {
	// An expired record is taken over; a live one makes the insert a no-op.
	res, err := q.q.ExecContext(ctx, `INSERT INTO used_once (key, expires_at) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_once.expires_at <= ?`, key, micros(expires), micros(now))
	if err != nil {
		return classify(err, "jti")
	}
	if n, err := res.RowsAffected(); err != nil {
		return classify(err, "jti")
	} else if n == 0 {
		return tollgate.Errorf(tollgate.EConflict, "this jti was used already")
	}
	return nil
}

func (q *queries) DeleteUsedBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM used_once WHERE expires_at < ?`, micros(t))
	if err != nil {
		return 0, classify(err, "jti")
	}
	n, err := res.RowsAffected()
	return int(n), classify(err, "jti")
}
