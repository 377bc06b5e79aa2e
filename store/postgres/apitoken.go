package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/internal/sqlq"
)

// tokenSelected are a token's own columns as selected; its owner's name
// follows them in every select (scanToken).
const tokenSelected = `t.id, t.org_id, t.name, t.description, t.kind, t.domains::text, t.role, t.service_account_id, t.user_id, t.hash,
	t.expires_at, t.created_at, t.created_by, t.last_used_at, t.last_used_origin`

const tokenSelect = `SELECT ` + tokenSelected + `, COALESCE(sa.name, u.email, '')
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
	var saID, userID *string
	return []any{&v.ID, &v.OrgID, &v.Name, &v.Description, &v.Kind, &domains, &v.Role, &saID, &userID, &v.Hash,
			&v.ExpiresAt, &v.CreatedAt, &v.CreatedBy, &v.LastUsedAt, &v.LastUsedOrigin, &v.OwnerName}, func() error {
			if err := json.Unmarshal([]byte(domains), &v.Domains); err != nil {
				return fmt.Errorf("postgres: domains of token %s: %w", v.ID, err)
			}
			if userID != nil {
				v.OwnerType, v.OwnerID = tollgate.PrincipalUser, *userID
			} else if saID != nil {
				v.OwnerType, v.OwnerID = tollgate.PrincipalServiceAccount, *saID
			}
			v.ExpiresAt, v.CreatedAt, v.LastUsedAt = utcPtr(v.ExpiresAt), v.CreatedAt.UTC(), utcPtr(v.LastUsedAt)
			return nil
		}
}

// owner splits a token's owner into the two columns.
func owner(t *tollgate.APIToken) (saID, userID *string) {
	id := t.OwnerID
	if t.OwnerType == tollgate.PrincipalUser {
		return nil, &id
	}
	return &id, nil
}

// tokenColumns are the columns of an inserted API token.
const tokenColumns = `id, org_id, name, description, kind, domains, role, service_account_id, user_id, hash, expires_at, created_at, created_by, last_used_at, last_used_origin`

func domainsJSON(d []string) string {
	if d == nil {
		d = []string{}
	}
	b, _ := json.Marshal(d)
	return string(b)
}

func (q *queries) CreateAPIToken(ctx context.Context, t *tollgate.APIToken) error {
	sa, user := owner(t)
	_, err := q.q.Exec(ctx, `INSERT INTO api_tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		t.ID, t.OrgID, t.Name, t.Description, t.Kind, domainsJSON(t.Domains), string(t.Role), sa, user, t.Hash,
		t.ExpiresAt, t.CreatedAt, t.CreatedBy, t.LastUsedAt, t.LastUsedOrigin)
	return classify(err, "API token")
}

func (q *queries) GetAPIToken(ctx context.Context, orgID, id string) (*tollgate.APITokenView, error) {
	v, err := scanToken(q.q.QueryRow(ctx, tokenSelect+` WHERE t.org_id = $1 AND t.id = $2`, orgID, id))
	return v, classify(err, "API token")
}

func (q *queries) GetAPITokenByHash(ctx context.Context, hash []byte) (*tollgate.APITokenView, error) {
	v, err := scanToken(q.q.QueryRow(ctx, tokenSelect+` WHERE t.hash = $1`, hash))
	return v, classify(err, "API token")
}

func (q *queries) GetAccountTokenByHash(ctx context.Context, hash []byte) (*tollgate.AccountToken, error) {
	var at tollgate.AccountToken
	td, tokenDone := tokenDest(&at.Token)
	sd, saDone := saDest(&at.Account)
	od, orgDone := orgDest(&at.Org)
	err := q.q.QueryRow(ctx, `SELECT `+tokenSelected+`, sa.name, `+sqlq.Qualify("sa", saColumns)+`, `+sqlq.Qualify("o", orgColumns)+`
		FROM api_tokens t JOIN service_accounts sa ON sa.id = t.service_account_id JOIN orgs o ON o.id = sa.org_id
		WHERE t.hash = $1`, hash).Scan(append(append(td, sd...), od...)...)
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
		b.WhereRange(folded("t.name"), tollgate.NameRange(f.Query))
		if err := b.AfterName(p.Cursor, "("+folded("t.name")+", t.id) > (%s, %s)"); err != nil {
			return nil, "", err
		}
		b.Then(" ORDER BY " + folded("t.name") + ", t.id")
		return page(ctx, q.q, b, p.Limit, scanToken, tollgate.ByName(tollgate.APITokenSearchKey), "API token")
	}
	if err := b.After(p.Cursor, "(t.created_at, t.id) > (%s, %s)", timeAny); err != nil {
		return nil, "", err
	}
	b.Then(" ORDER BY t.created_at, t.id")
	return page(ctx, q.q, b, p.Limit, scanToken, tollgate.ByTime(tollgate.APITokenKey), "API token")
}

func (q *queries) UpdateAPIToken(ctx context.Context, t *tollgate.APIToken) error {
	sa, user := owner(t)
	tag, err := q.q.Exec(ctx, `UPDATE api_tokens SET name = $1, description = $2, domains = $3::jsonb, role = $4, service_account_id = $5, user_id = $6,
		expires_at = $7 WHERE org_id = $8 AND id = $9`, t.Name, t.Description, domainsJSON(t.Domains), string(t.Role), sa, user,
		t.ExpiresAt, t.OrgID, t.ID)
	return mustAffect(tag, err, "API token")
}

func (q *queries) DeleteAPIToken(ctx context.Context, orgID, id string) error {
	tag, err := q.q.Exec(ctx, `DELETE FROM api_tokens WHERE org_id = $1 AND id = $2`, orgID, id)
	return mustAffect(tag, err, "API token")
}

func (q *queries) TouchAPIToken(ctx context.Context, id string, t time.Time, origin string) error {
	tag, err := q.q.Exec(ctx, `UPDATE api_tokens SET last_used_at = $1, last_used_origin = $2
		WHERE id = $3 AND (last_used_at IS NULL OR last_used_at < $1)`, t, origin, id)
	if err != nil {
		return classify(err, "API token")
	}
	if tag.RowsAffected() == 0 {
		var one int
		return classify(q.q.QueryRow(ctx, `SELECT 1 FROM api_tokens WHERE id = $1`, id).Scan(&one), "API token")
	}
	return nil
}

func (q *queries) PublicOriginListed(ctx context.Context, origin string) (bool, error) {
	var ok bool
	err := q.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_tokens WHERE kind = 'public' AND domains ? $1)`, origin).Scan(&ok)
	return ok, classify(err, "API token")
}
