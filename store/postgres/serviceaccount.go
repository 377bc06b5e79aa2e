package postgres

import (
	"context"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/internal/sqlq"
)

const saColumns = `id, org_id, name, email, description, role, token_ttl_seconds, status, created_at, created_by, last_used_at, reuse_after, require_dpop`

// saDest returns where to scan saColumns into sa, and what then puts its
// times in UTC.
func saDest(sa *tollgate.ServiceAccount) ([]any, func()) {
	return []any{&sa.ID, &sa.OrgID, &sa.Name, &sa.Email, &sa.Description, &sa.Role, &sa.TokenTTLSeconds, &sa.Status,
			&sa.CreatedAt, &sa.CreatedBy, &sa.LastUsedAt, &sa.ReuseAfter, &sa.RequireDPoP}, func() {
			sa.CreatedAt, sa.LastUsedAt, sa.ReuseAfter = sa.CreatedAt.UTC(), utcPtr(sa.LastUsedAt), sa.ReuseAfter.UTC()
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

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (q *queries) CreateServiceAccount(ctx context.Context, sa *tollgate.ServiceAccount) error {
	_, err := q.q.Exec(ctx, `INSERT INTO service_accounts (`+saColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		sa.ID, sa.OrgID, sa.Name, sa.Email, sa.Description, string(sa.Role), sa.TokenTTLSeconds, sa.Status,
		sa.CreatedAt, sa.CreatedBy, sa.LastUsedAt, sa.ReuseAfter, sa.RequireDPoP)
	return classify(err, "service account")
}

func (q *queries) GetServiceAccount(ctx context.Context, orgID, id string) (*tollgate.ServiceAccount, error) {
	sa, err := scanServiceAccount(q.q.QueryRow(ctx, `SELECT `+saColumns+` FROM service_accounts WHERE org_id = $1 AND id = $2`, orgID, id))
	return sa, classify(err, "service account")
}

func (q *queries) GetServiceAccountAndOrg(ctx context.Context, id string) (*tollgate.ServiceAccount, *tollgate.Org, error) {
	var sa tollgate.ServiceAccount
	var o tollgate.Org
	sd, saDone := saDest(&sa)
	od, orgDone := orgDest(&o)
	err := q.q.QueryRow(ctx, `SELECT `+sqlq.Qualify("sa", saColumns)+`, `+sqlq.Qualify("o", orgColumns)+
		` FROM service_accounts sa JOIN orgs o ON o.id = sa.org_id WHERE sa.id = $1`, id).Scan(append(sd, od...)...)
	if err != nil {
		return nil, nil, classify(err, "service account")
	}
	saDone()
	orgDone()
	return &sa, &o, nil
}

func (q *queries) GetServiceAccountByID(ctx context.Context, id string) (*tollgate.ServiceAccount, error) {
	sa, err := scanServiceAccount(q.q.QueryRow(ctx, `SELECT `+saColumns+` FROM service_accounts WHERE id = $1`, id))
	return sa, classify(err, "service account")
}

func (q *queries) ListServiceAccounts(ctx context.Context, orgID string, f tollgate.ServiceAccountFilter, p tollgate.Page) ([]tollgate.ServiceAccount, string, error) {
	b := sqlq.New(placeholder, `SELECT `+saColumns+` FROM service_accounts`).Where("org_id = %s", orgID)
	if f.Query != "" {
		names, emails, byEmail := f.Ranges()
		b.WhereRange(folded("name"), names)
		if byEmail {
			b.WhereRange(`email COLLATE "C"`, emails)
		}
		if err := b.AfterName(p.Cursor, "("+folded("name")+", id) > (%s, %s)"); err != nil {
			return nil, "", err
		}
		b.Then(" ORDER BY " + folded("name") + ", id")
		return page(ctx, q.q, b, p.Limit, scanServiceAccount, tollgate.ByName(tollgate.ServiceAccountSearchKey), "service account")
	}
	if err := b.After(p.Cursor, "(created_at, id) > (%s, %s)", timeAny); err != nil {
		return nil, "", err
	}
	b.Then(" ORDER BY created_at, id")
	return page(ctx, q.q, b, p.Limit, scanServiceAccount, tollgate.ByTime(tollgate.ServiceAccountKey), "service account")
}

func (q *queries) UpdateServiceAccount(ctx context.Context, sa *tollgate.ServiceAccount) error {
	tag, err := q.q.Exec(ctx, `UPDATE service_accounts SET description = $1, role = $2, status = $3, reuse_after = $4, require_dpop = $5 WHERE org_id = $6 AND id = $7`,
		sa.Description, string(sa.Role), sa.Status, sa.ReuseAfter, sa.RequireDPoP, sa.OrgID, sa.ID)
	return mustAffect(tag, err, "service account")
}

func (q *queries) TouchServiceAccount(ctx context.Context, id string, t time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE service_accounts SET last_used_at = GREATEST(last_used_at, $1) WHERE id = $2`, t, id)
	return mustAffect(tag, err, "service account")
}

func (q *queries) DeleteServiceAccount(ctx context.Context, orgID, id string) error {
	tag, err := q.q.Exec(ctx, `DELETE FROM service_accounts WHERE org_id = $1 AND id = $2`, orgID, id)
	return mustAffect(tag, err, "service account")
}

func (q *queries) CreateClientSecret(ctx context.Context, s *tollgate.ClientSecret) error {
	_, err := q.q.Exec(ctx, `INSERT INTO client_secrets (id, service_account_id, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		s.ID, s.ServiceAccountID, s.Hash, s.CreatedAt, s.ExpiresAt)
	return classify(err, "client secret")
}

func (q *queries) ListClientSecrets(ctx context.Context, serviceAccountID string) ([]tollgate.ClientSecret, error) {
	rows, err := q.q.Query(ctx, `SELECT id, service_account_id, hash, created_at, expires_at FROM client_secrets
		WHERE service_account_id = $1 ORDER BY created_at DESC, id DESC`, serviceAccountID)
	if err != nil {
		return nil, classify(err, "client secret")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanClientSecret)
	return out, classify(err, "client secret")
}

func (q *queries) GetClientSecretByHash(ctx context.Context, hash []byte) (*tollgate.ClientSecret, error) {
	s, err := scanClientSecret(q.q.QueryRow(ctx, `SELECT id, service_account_id, hash, created_at, expires_at FROM client_secrets WHERE hash = $1`, hash))
	return s, classify(err, "client secret")
}

func scanClientSecret(row sqlq.Row) (*tollgate.ClientSecret, error) {
	var s tollgate.ClientSecret
	if err := row.Scan(&s.ID, &s.ServiceAccountID, &s.Hash, &s.CreatedAt, &s.ExpiresAt); err != nil {
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), utcPtr(s.ExpiresAt)
	return &s, nil
}

func (q *queries) ExpireClientSecret(ctx context.Context, id string, t time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE client_secrets SET expires_at = $1 WHERE id = $2`, t, id)
	return mustAffect(tag, err, "client secret")
}

func (q *queries) DeleteClientSecretsExpiredBefore(ctx context.Context, serviceAccountID string, t time.Time) error {
	_, err := q.q.Exec(ctx, `DELETE FROM client_secrets WHERE service_account_id = $1 AND expires_at < $2`, serviceAccountID, t)
	return classify(err, "client secret")
}

const atColumns = `id, org_id, service_account_id, secret_id, key_id, issued_at, expires_at, revoked_at, sealed, jkt`

func scanAccessToken(row sqlq.Row) (*tollgate.AccessToken, error) {
	var t tollgate.AccessToken
	if err := row.Scan(&t.ID, &t.OrgID, &t.ServiceAccountID, &t.SecretID, &t.KeyID, &t.IssuedAt, &t.ExpiresAt, &t.RevokedAt, &t.Sealed, &t.JKT); err != nil {
		return nil, err
	}
	t.IssuedAt, t.ExpiresAt, t.RevokedAt = t.IssuedAt.UTC(), t.ExpiresAt.UTC(), utcPtr(t.RevokedAt)
	return &t, nil
}

func (q *queries) CreateAccessToken(ctx context.Context, t *tollgate.AccessToken) error {
	_, err := q.q.Exec(ctx, `INSERT INTO access_tokens (`+atColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		t.ID, t.OrgID, t.ServiceAccountID, t.SecretID, t.KeyID, t.IssuedAt, t.ExpiresAt, t.RevokedAt, t.Sealed, t.JKT)
	return classify(err, "access token")
}

func (q *queries) GetAccessToken(ctx context.Context, id string) (*tollgate.AccessToken, error) {
	t, err := scanAccessToken(q.q.QueryRow(ctx, `SELECT `+atColumns+` FROM access_tokens WHERE id = $1`, id))
	return t, classify(err, "access token")
}

func (q *queries) LatestAccessToken(ctx context.Context, serviceAccountID, jkt string) (*tollgate.AccessToken, error) {
	t, err := scanAccessToken(q.q.QueryRow(ctx, `SELECT `+atColumns+` FROM access_tokens
		WHERE service_account_id = $1 AND jkt = $2 ORDER BY issued_at DESC, id DESC LIMIT 1`, serviceAccountID, jkt))
	return t, classify(err, "access token")
}

func (q *queries) RevokeAccessToken(ctx context.Context, id string, t time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`, t, id)
	return mustAffect(tag, err, "access token")
}

func (q *queries) RevokeAccessTokensOf(ctx context.Context, serviceAccountID string, t time.Time) ([]tollgate.AccessToken, error) {
	rows, err := q.q.Query(ctx, `UPDATE access_tokens SET revoked_at = $1
		WHERE service_account_id = $2 AND revoked_at IS NULL AND expires_at > $1 RETURNING `+atColumns, t, serviceAccountID)
	if err != nil {
		return nil, classify(err, "access token")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanAccessToken)
	return out, classify(err, "access token")
}

func (q *queries) RevokeAccessTokensOfSecret(ctx context.Context, serviceAccountID, secretID string, t time.Time) ([]tollgate.AccessToken, error) {
	rows, err := q.q.Query(ctx, `UPDATE access_tokens SET revoked_at = $1
		WHERE service_account_id = $2 AND secret_id = $3 AND revoked_at IS NULL AND expires_at > $1 RETURNING `+atColumns, t, serviceAccountID, secretID)
	if err != nil {
		return nil, classify(err, "access token")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanAccessToken)
	return out, classify(err, "access token")
}

func (q *queries) DeleteAccessTokensExpiredBefore(ctx context.Context, t time.Time) (int, error) {
	tag, err := q.q.Exec(ctx, `DELETE FROM access_tokens WHERE expires_at < $1`, t)
	if err != nil {
		return 0, classify(err, "access token")
	}
	return int(tag.RowsAffected()), nil
}

func (q *queries) CreateSigningKey(ctx context.Context, k *tollgate.SigningKey) error {
	_, err := q.q.Exec(ctx, `INSERT INTO signing_keys (id, algorithm, public_key, private_sealed, created_at, retired_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.Algorithm, k.PublicKey, k.PrivateSealed, k.CreatedAt, k.RetiredAt)
	return classify(err, "signing key")
}

func (q *queries) ListSigningKeys(ctx context.Context) ([]tollgate.SigningKey, error) {
	rows, err := q.q.Query(ctx, `SELECT id, algorithm, public_key, private_sealed, created_at, retired_at FROM signing_keys
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
	if err := row.Scan(&k.ID, &k.Algorithm, &k.PublicKey, &k.PrivateSealed, &k.CreatedAt, &k.RetiredAt); err != nil {
		return nil, err
	}
	k.CreatedAt, k.RetiredAt = k.CreatedAt.UTC(), utcPtr(k.RetiredAt)
	return &k, nil
}

func (q *queries) RetireSigningKey(ctx context.Context, id string, t time.Time) error {
	tag, err := q.q.Exec(ctx, `UPDATE signing_keys SET retired_at = COALESCE(retired_at, $1) WHERE id = $2`, t, id)
	return mustAffect(tag, err, "signing key")
}

func (q *queries) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int, error) {
	tag, err := q.q.Exec(ctx, `DELETE FROM signing_keys WHERE retired_at < $1`, t)
	if err != nil {
		return 0, classify(err, "signing key")
	}
	return int(tag.RowsAffected()), nil
}
