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

// tokenSelected are a token's own columns as selected; its owner's name
// follows them in every select (scanToken).
const tokenSelected = `t.id, t.org_id, t.name, t.description, t.kind, t.domains, t.role, t.service_account_id, t.user_id, t.hash,
	t.expires_at, t.created_at, t.created_by, t.last_used_at, t.last_used_origin`

const tokenSelect = `SELECT ` + tokenSelected + `, coalesce(sa.name, u.email, '')
	FROM api_tokens t LEFT JOIN service_accounts sa ON sa.id = t.service_account_id LEFT JOIN users u ON u.id = t.user_id`

func scanToken(row sqlq.Row) (*tollgate.APITokenView, error) {
	var v tollgate.APITokenView
	dest, done := tokenDest(&v)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	return &v, done()
}

// tokenDest returns where to scan tokenSelected and the owner's name into
// v, and what then sets the fields that need converting.
func tokenDest(v *tollgate.APITokenView) ([]any, func() error) {
	var domains string
	var saID, userID sql.NullString
	var expires, used sql.NullInt64
	var created int64
	return []any{&v.ID, &v.OrgID, &v.Name, &v.Description, &v.Kind, &domains, &v.Role, &saID, &userID, &v.Hash,
			&expires, &created, &v.CreatedBy, &used, &v.LastUsedOrigin, &v.OwnerName}, func() error {
			if err := json.Unmarshal([]byte(domains), &v.Domains); err != nil {
				return fmt.Errorf("sqlite: domains of token %s: %w", v.ID, err)
			}
			v.OwnerType, v.OwnerID = tollgate.PrincipalServiceAccount, saID.String
			if userID.Valid {
				v.OwnerType, v.OwnerID = tollgate.PrincipalUser, userID.String
			}
			v.ExpiresAt, v.CreatedAt, v.LastUsedAt = fromNullMicros(expires), fromMicros(created), fromNullMicros(used)
			return nil
		}
}

// owner splits a token's owner into the two columns.
func owner(t *tollgate.APIToken) (saID, userID any) {
	if t.OwnerType == tollgate.PrincipalUser {
		return nil, t.OwnerID
	}
	return t.OwnerID, nil
}

func domainsJSON(d []string) string {
	if d == nil {
		d = []string{}
	}
	b, _ := json.Marshal(d)
	return string(b)
}

func (q *queries) CreateAPIToken(ctx context.Context, t *tollgate.APIToken) error {
	sa, user := owner(t)
	_, err := q.q.ExecContext(ctx, `INSERT INTO api_tokens (id, org_id, name, description, kind, domains, role, service_account_id, user_id,
		hash, expires_at, created_at, created_by, last_used_at, last_used_origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.OrgID, t.Name, t.Description, t.Kind, domainsJSON(t.Domains), string(t.Role), sa, user, t.Hash,
		nullMicros(t.ExpiresAt), micros(t.CreatedAt), t.CreatedBy, nullMicros(t.LastUsedAt), t.LastUsedOrigin)
	return classify(err, "API token")
}

func (q *queries) GetAPIToken(ctx context.Context, orgID, id string) (*tollgate.APITokenView, error) {
	v, err := scanToken(q.q.QueryRowContext(ctx, tokenSelect+` WHERE t.org_id = ? AND t.id = ?`, orgID, id))
	return v, classify(err, "API token")
}

func (q *queries) GetAPITokenByHash(ctx context.Context, hash []byte) (*tollgate.APITokenView, error) {
	v, err := scanToken(q.q.QueryRowContext(ctx, tokenSelect+` WHERE t.hash = ?`, hash))
	return v, classify(err, "API token")
}

func (q *queries) GetAccountTokenByHash(ctx context.Context, hash []byte) (*tollgate.AccountToken, error) {
	var at tollgate.AccountToken
	td, tokenDone := tokenDest(&at.Token)
	sd, saDone := saDest(&at.Account)
	od, orgDone := orgDest(&at.Org)
	err := q.q.QueryRowContext(ctx, `SELECT `+tokenSelected+`, sa.name, `+sqlq.Qualify("sa", saColumns)+`, `+sqlq.Qualify("o", orgColumns)+`
		FROM api_tokens t JOIN service_accounts sa ON sa.id = t.service_account_id JOIN orgs o ON o.id = sa.org_id
		WHERE t.hash = ?`, hash).Scan(append(append(td, sd...), od...)...)
	if err != nil {
		return nil, classify(err, "API token")
	}
	saDone()
	orgDone()
	return &at, tokenDone()
}

func (q *queries) ListAPITokens(ctx context.Context, orgID string, f tollgate.APITokenFilter, p tollgate.Page) ([]tollgate.APITokenView, string, error) {
	b := sqlq.New(placeholder, tokenSelect).Where("t.org_id = %s", orgID)
	if f.OwnerID != "" {
		// An owner is an account or a user: naming its one column lets
		// the index of that owner's tokens serve, where an OR of both
		// would read every token of the org.
		if tollgate.HasPrefix(f.OwnerID, tollgate.PrefixServiceAccount) {
			b.Where("t.service_account_id = %s", f.OwnerID)
		} else {
			b.Where("t.user_id = %s", f.OwnerID)
		}
	}
	if f.Kind != "" {
		b.Where("t.kind = %s", string(f.Kind))
	}
	if f.Query != "" {
		b.WhereRange("lower(t.name)", tollgate.NameRange(f.Query))
		if err := b.AfterName(p.Cursor, "("+"lower(t.name)"+", t.id) > (%s, %s)"); err != nil {
			return nil, "", err
		}
		b.Then(" ORDER BY " + "lower(t.name)" + ", t.id")
		return page(ctx, q.q, b, p.Limit, scanToken, tollgate.ByName(tollgate.APITokenSearchKey), "API token")
	}
	if err := b.After(p.Cursor, "(t.created_at, t.id) > (%s, %s)", microsAny); err != nil {
		return nil, "", err
	}
	b.Then(" ORDER BY t.created_at, t.id")
	return page(ctx, q.q, b, p.Limit, scanToken, tollgate.ByTime(tollgate.APITokenKey), "API token")
}

func (q *queries) UpdateAPIToken(ctx context.Context, t *tollgate.APIToken) error {
	sa, user := owner(t)
	res, err := q.q.ExecContext(ctx, `UPDATE api_tokens SET name = ?, description = ?, domains = ?, role = ?, service_account_id = ?, user_id = ?,
		expires_at = ? WHERE org_id = ? AND id = ?`, t.Name, t.Description, domainsJSON(t.Domains), string(t.Role), sa, user,
		nullMicros(t.ExpiresAt), t.OrgID, t.ID)
	return mustAffect(res, err, "API token")
}

func (q *queries) DeleteAPIToken(ctx context.Context, orgID, id string) error {
	res, err := q.q.ExecContext(ctx, `DELETE FROM api_tokens WHERE org_id = ? AND id = ?`, orgID, id)
	return mustAffect(res, err, "API token")
}

func (q *queries) TouchAPIToken(ctx context.Context, id string, t time.Time, origin string) error {
	res, err := q.q.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ?, last_used_origin = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, micros(t), origin, id, micros(t))
	if err != nil {
		return classify(err, "API token")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		return classify(q.q.QueryRowContext(ctx, `SELECT 1 FROM api_tokens WHERE id = ?`, id).Scan(&one), "API token")
	}
	return nil
}

func (q *queries) PublicOriginListed(ctx context.Context, origin string) (bool, error) {
	var ok bool
	err := q.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM api_token_origins WHERE origin = ?)`, origin).Scan(&ok)
	return ok, classify(err, "API token")
}
