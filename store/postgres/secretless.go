package postgres

import (
	"context"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/internal/sqlq"
)

const ckColumns = `id, service_account_id, kid, algorithm, thumbprint, jwk, created_at, created_by, expires_at, last_used_at`

func scanClientKey(row sqlq.Row) (*tollgate.ClientKey, error) {
	var k tollgate.ClientKey
	var jwk string
	if err := row.Scan(&k.ID, &k.ServiceAccountID, &k.KeyID, &k.Algorithm, &k.Thumbprint, &jwk, &k.CreatedAt, &k.CreatedBy, &k.ExpiresAt, &k.LastUsedAt); err != nil {
		return nil, err
	}
	k.JWK, k.CreatedAt, k.ExpiresAt, k.LastUsedAt = []byte(jwk), k.CreatedAt.UTC(), utcPtr(k.ExpiresAt), utcPtr(k.LastUsedAt)
	return &k, nil
}

func (q *queries) CreateClientKey(ctx context.Context, k *tollgate.ClientKey) error {
	_, err := q.q.Exec(ctx, `INSERT INTO client_keys (`+ckColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		k.ID, k.ServiceAccountID, k.KeyID, k.Algorithm, k.Thumbprint, string(k.JWK), k.CreatedAt, k.CreatedBy, k.ExpiresAt, k.LastUsedAt)
	return classify(err, "key")
}

func (q *queries) ListClientKeys(ctx context.Context, serviceAccountID string) ([]tollgate.ClientKey, error) {
	rows, err := q.q.Query(ctx, `SELECT `+ckColumns+` FROM client_keys WHERE service_account_id = $1 ORDER BY created_at, id`, serviceAccountID)
	if err != nil {
		return nil, classify(err, "key")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanClientKey)
	return out, classify(err, "key")
}

func (q *queries) DeleteClientKey(ctx context.Context, serviceAccountID, id string) error {
	tag, err := q.q.Exec(ctx, `DELETE FROM client_keys WHERE service_account_id = $1 AND id = $2`, serviceAccountID, id)
	return mustAffect(tag, err, "key")
}

func (q *queries) TouchClientKey(ctx context.Context, id string, t time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE client_keys SET last_used_at = GREATEST(last_used_at, $1) WHERE id = $2`, t, id)
	return mustAffect(tag, err, "key")
}

const fcColumns = `id, service_account_id, name, issuer, audience, subject, claims, created_at, created_by, last_used_at`

func scanFederated(row sqlq.Row) (*tollgate.FederatedCredential, error) {
	var fc tollgate.FederatedCredential
	if err := row.Scan(&fc.ID, &fc.ServiceAccountID, &fc.Name, &fc.Issuer, &fc.Audience, &fc.Subject, &fc.Claims, &fc.CreatedAt, &fc.CreatedBy, &fc.LastUsedAt); err != nil {
		return nil, err
	}
	fc.CreatedAt, fc.LastUsedAt = fc.CreatedAt.UTC(), utcPtr(fc.LastUsedAt)
	return &fc, nil
}

func (q *queries) CreateFederatedCredential(ctx context.Context, fc *tollgate.FederatedCredential) error {
	_, err := q.q.Exec(ctx, `INSERT INTO federated_credentials (`+fcColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		fc.ID, fc.ServiceAccountID, fc.Name, fc.Issuer, fc.Audience, fc.Subject, string(fc.ClaimsJSON()), fc.CreatedAt, fc.CreatedBy, fc.LastUsedAt)
	return classify(err, "federated credential")
}

func (q *queries) ListFederatedCredentials(ctx context.Context, serviceAccountID string) ([]tollgate.FederatedCredential, error) {
	rows, err := q.q.Query(ctx, `SELECT `+fcColumns+` FROM federated_credentials WHERE service_account_id = $1 ORDER BY created_at, id`, serviceAccountID)
	if err != nil {
		return nil, classify(err, "federated credential")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanFederated)
	return out, classify(err, "federated credential")
}

func (q *queries) DeleteFederatedCredential(ctx context.Context, serviceAccountID, id string) error {
	tag, err := q.q.Exec(ctx, `DELETE FROM federated_credentials WHERE service_account_id = $1 AND id = $2`, serviceAccountID, id)
	return mustAffect(tag, err, "federated credential")
}

func (q *queries) TouchFederatedCredential(ctx context.Context, id string, t time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE federated_credentials SET last_used_at = GREATEST(last_used_at, $1) WHERE id = $2`, t, id)
	return mustAffect(tag, err, "federated credential")
}

func (q *queries) UseOnce(ctx context.Context, key string, now, expires time.Time) error {
	// An expired record is taken over; a live one makes the insert a no-op.
	tag, err := q.q.Exec(ctx, `INSERT INTO used_once (key, expires_at) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_once.expires_at <= $3`, key, expires, now)
	if err != nil {
		return classify(err, "jti")
	}
	if tag.RowsAffected() == 0 {
		return tollgate.Errorf(tollgate.EConflict, "this jti was used already")
	}
	return nil
}

func (q *queries) DeleteUsedBefore(ctx context.Context, t time.Time) (int, error) {
	tag, err := q.q.Exec(ctx, `DELETE FROM used_once WHERE expires_at < $1`, t)
	return int(tag.RowsAffected()), classify(err, "jti")
}
