package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/internal/sqlq"
)

const saColumns = `id, org_id, name, email, description, role, token_ttl_seconds, status, created_at, created_by, last_used_at, reuse_after, require_dpop`

// saDest returns where to scan saColumns into sa, and what then sets the
// fields that need converting.
func saDest(sa *tollgate.ServiceAccount) ([]any, func()) {
	var created, reuse int64
	var used sql.NullInt64
	return []any{&sa.ID, &sa.OrgID, &sa.Name, &sa.Email, &sa.Description, &sa.Role, &sa.TokenTTLSeconds, &sa.Status,
			&created, &sa.CreatedBy, &used, &reuse, &sa.RequireDPoP}, func() {
			sa.CreatedAt, sa.LastUsedAt, sa.ReuseAfter = fromMicros(created), fromNullMicros(used), fromMicros(reuse)
		}
}

func scanServiceAccount(row sqlq.Row) (*tollgate.ServiceAccount, error) {
	var sa tollgate.ServiceAccount
	dest, done := saDest(&sa)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	done()
	return &sa, nil
}

func (q *queries) CreateServiceAccount(ctx context.Context, sa *tollgate.ServiceAccount) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO service_accounts (`+saColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sa.ID, sa.OrgID, sa.Name, sa.Email, sa.Description, string(sa.Role), sa.TokenTTLSeconds, sa.Status,
		micros(sa.CreatedAt), sa.CreatedBy, nullMicros(sa.LastUsedAt), micros(sa.ReuseAfter), sa.RequireDPoP)
	return classify(err, "service account")
}

func (q *queries) GetServiceAccount(ctx context.Context, orgID, id string) (*tollgate.ServiceAccount, error) {
	sa, err := scanServiceAccount(q.q.QueryRowContext(ctx, `SELECT `+saColumns+` FROM service_accounts WHERE org_id = ? AND id = ?`, orgID, id))
	return sa, classify(err, "service account")
}

func (q *queries) GetServiceAccountByID(ctx context.Context, id string) (*tollgate.ServiceAccount, error) {
	sa, err := scanServiceAccount(q.q.QueryRowContext(ctx, `SELECT `+saColumns+` FROM service_accounts WHERE id = ?`, id))
	return sa, classify(err, "service account")
}

func (q *queries) GetServiceAccountAndOrg(ctx context.Context, id string) (*tollgate.ServiceAccount, *tollgate.Org, error) {
	var sa tollgate.ServiceAccount
	var o tollgate.Org
	sd, saDone := saDest(&sa)
	od, orgDone := orgDest(&o)
	err := q.q.QueryRowContext(ctx, `SELECT `+sqlq.Qualify("sa", saColumns)+`, `+sqlq.Qualify("o", orgColumns)+
		` FROM service_accounts sa JOIN orgs o ON o.id = sa.org_id WHERE sa.id = ?`, id).Scan(append(sd, od...)...)
	if err != nil {
		return nil, nil, classify(err, "service account")
	}
	saDone()
	orgDone()
	return &sa, &o, nil
}

func (q *queries) ListServiceAccounts(ctx context.Context, orgID string, f tollgate.ServiceAccountFilter, p tollgate.Page) ([]tollgate.ServiceAccount, string, error) {
	b := sqlq.New(placeholder, `SELECT `+saColumns+` FROM service_accounts`).Where("org_id = %s", orgID)
	if f.Query != "" {
		names, emails, byEmail := f.Ranges()
		b.WhereRange("lower(name)", names)
		if byEmail {
			b.WhereRange("email", emails)
		}
		if err := b.AfterName(p.Cursor, "(lower(name), id) > (%s, %s)"); err != nil {
			return nil, "", err
		}
		b.Then(" ORDER BY lower(name), id")
		return page(ctx, q.q, b, p.Limit, scanServiceAccount, tollgate.ByName(tollgate.ServiceAccountSearchKey), "service account")
	}
	if err := b.After(p.Cursor, "(created_at, id) > (%s, %s)", microsAny); err != nil {
		return nil, "", err
	}
	b.Then(" ORDER BY created_at, id")
	return page(ctx, q.q, b, p.Limit, scanServiceAccount, tollgate.ByTime(tollgate.ServiceAccountKey), "service account")
}

func (q *queries) UpdateServiceAccount(ctx context.Context, sa *tollgate.ServiceAccount) error {
	res, err := q.q.ExecContext(ctx, `UPDATE service_accounts SET description = ?, role = ?, status = ?, reuse_after = ?, require_dpop = ? WHERE org_id = ? AND id = ?`,
		sa.Description, string(sa.Role), sa.Status, micros(sa.ReuseAfter), sa.RequireDPoP, sa.OrgID, sa.ID)
	return mustAffect(res, err, "service account")
}

func (q *queries) TouchServiceAccount(ctx context.Context, id string, t time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE service_accounts SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?`, micros(t), id)
	return mustAffect(res, err, "service account")
}

func (q *queries) DeleteServiceAccount(ctx context.Context, orgID, id string) error {
	res, err := q.q.ExecContext(ctx, `DELETE FROM service_accounts WHERE org_id = ? AND id = ?`, orgID, id)
	return mustAffect(res, err, "service account")
}

func (q *queries) CreateClientSecret(ctx context.Context, s *tollgate.ClientSecret) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO client_secrets (id, service_account_id, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		s.ID, s.ServiceAccountID, s.Hash, micros(s.CreatedAt), nullMicros(s.ExpiresAt))
	return classify(err, "client secret")
}

func (q *queries) ListClientSecrets(ctx context.Context, serviceAccountID string) ([]tollgate.ClientSecret, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, service_account_id, hash, created_at, expires_at FROM client_secrets
		WHERE service_account_id = ? ORDER BY created_at DESC, id DESC`, serviceAccountID)
	if err != nil {
		return nil, classify(err, "client secret")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanClientSecret)
	return out, classify(err, "client secret")
}

func (q *queries) GetClientSecretByHash(ctx context.Context, hash []byte) (*tollgate.ClientSecret, error) {
	s, err := scanClientSecret(q.q.QueryRowContext(ctx, `SELECT id, service_account_id, hash, created_at, expires_at FROM client_secrets WHERE hash = ?`, hash))
	return s, classify(err, "client secret")
}

func scanClientSecret(row sqlq.Row) (*tollgate.ClientSecret, error) {
	var s tollgate.ClientSecret
	var created int64
	var expires sql.NullInt64
	if err := row.Scan(&s.ID, &s.ServiceAccountID, &s.Hash, &created, &expires); err != nil {
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt = fromMicros(created), fromNullMicros(expires)
	return &s, nil
}

func (q *queries) ExpireClientSecret(ctx context.Context, id string, t time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE client_secrets SET expires_at = ? WHERE id = ?`, micros(t), id)
	return mustAffect(res, err, "client secret")
}

func (q *queries) DeleteClientSecretsExpiredBefore(ctx context.Context, serviceAccountID string, t time.Time) error {
	_, err := q.q.ExecContext(ctx, `DELETE FROM client_secrets WHERE service_account_id = ? AND expires_at < ?`, serviceAccountID, micros(t))
	return classify(err, "client secret")
}

const atColumns = `id, org_id, service_account_id, secret_id, key_id, issued_at, expires_at, revoked_at, sealed, jkt`

func scanAccessToken(row sqlq.Row) (*tollgate.AccessToken, error) {
	var t tollgate.AccessToken
	var issued, expires int64
	var revoked sql.NullInt64
	if err := row.Scan(&t.ID, &t.OrgID, &t.ServiceAccountID, &t.SecretID, &t.KeyID, &issued, &expires, &revoked, &t.Sealed, &t.JKT); err != nil {
		return nil, err
	}
	t.IssuedAt, t.ExpiresAt, t.RevokedAt = fromMicros(issued), fromMicros(expires), fromNullMicros(revoked)
	return &t, nil
}

func (q *queries) CreateAccessToken(ctx context.Context, t *tollgate.AccessToken) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO access_tokens (`+atColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.OrgID, t.ServiceAccountID, t.SecretID, t.KeyID, micros(t.IssuedAt), micros(t.ExpiresAt), nullMicros(t.RevokedAt), t.Sealed, t.JKT)
	return classify(err, "access token")
}

func (q *queries) GetAccessToken(ctx context.Context, id string) (*tollgate.AccessToken, error) {
	t, err := scanAccessToken(q.q.QueryRowContext(ctx, `SELECT `+atColumns+` FROM access_tokens WHERE id = ?`, id))
	return t, classify(err, "access token")
}

func (q *queries) LatestAccessToken(ctx context.Context, serviceAccountID, jkt string) (*tollgate.AccessToken, error) {
	t, err := scanAccessToken(q.q.QueryRowContext(ctx, `SELECT `+atColumns+` FROM access_tokens
		WHERE service_account_id = ? AND jkt = ? ORDER BY issued_at DESC, id DESC LIMIT 1`, serviceAccountID, jkt))
	return t, classify(err, "access token")
}

func (q *queries) RevokeAccessToken(ctx context.Context, id string, t time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE access_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, micros(t), id)
	return mustAffect(res, err, "access token")
}

func (q *queries) RevokeAccessTokensOf(ctx context.Context, serviceAccountID string, t time.Time) ([]tollgate.AccessToken, error) {
	rows, err := q.q.QueryContext(ctx, `UPDATE access_tokens SET revoked_at = ?
		WHERE service_account_id = ? AND revoked_at IS NULL AND expires_at > ? RETURNING `+atColumns, micros(t), serviceAccountID, micros(t))
	if err != nil {
		return nil, classify(err, "access token")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanAccessToken)
	return out, classify(err, "access token")
}

func (q *queries) RevokeAccessTokensOfSecret(ctx context.Context, serviceAccountID, secretID string, t time.Time) ([]tollgate.AccessToken, error) {
	rows, err := q.q.QueryContext(ctx, `UPDATE access_tokens SET revoked_at = ?
		WHERE service_account_id = ? AND secret_id = ? AND revoked_at IS NULL AND expires_at > ? RETURNING `+atColumns,
		micros(t), serviceAccountID, secretID, micros(t))
	if err != nil {
		return nil, classify(err, "access token")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanAccessToken)
	return out, classify(err, "access token")
}

func (q *queries) DeleteAccessTokensExpiredBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM access_tokens WHERE expires_at < ?`, micros(t))
	if err != nil {
		return 0, classify(err, "access token")
	}
	n, err := res.RowsAffected()
	return int(n), classify(err, "access token")
}

func (q *queries) CreateSigningKey(ctx context.Context, k *tollgate.SigningKey) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO signing_keys (id, algorithm, public_key, private_sealed, created_at, retired_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.PublicKey, k.PrivateSealed, micros(k.CreatedAt), nullMicros(k.RetiredAt))
	return classify(err, "signing key")
}

func (q *queries) ListSigningKeys(ctx context.Context) ([]tollgate.SigningKey, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, algorithm, public_key, private_sealed, created_at, retired_at FROM signing_keys
		ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, classify(err, "signing key")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanSigningKey)
	return out, classify(err, "signing key")
}

func scanSigningKey(row sqlq.Row) (*tollgate.SigningKey, error) {
	var k tollgate.SigningKey
	var created int64
	var retired sql.NullInt64
	if err := row.Scan(&k.ID, &k.Algorithm, &k.PublicKey, &k.PrivateSealed, &created, &retired); err != nil {
		return nil, err
	}
	k.CreatedAt, k.RetiredAt = fromMicros(created), fromNullMicros(retired)
	return &k, nil
}

func (q *queries) RetireSigningKey(ctx context.Context, id string, t time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE signing_keys SET retired_at = coalesce(retired_at, ?) WHERE id = ?`, micros(t), id)
	return mustAffect(res, err, "signing key")
}

func (q *queries) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM signing_keys WHERE retired_at < ?`, micros(t))
	if err != nil {
		return 0, classify(err, "signing key")
	}
	n, err := res.RowsAffected()
	return int(n), classify(err, "signing key")
}
