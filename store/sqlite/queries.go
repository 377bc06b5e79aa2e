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

const orgColumns = `id, slug, name, token_reuse_floor_seconds, max_token_ttl_seconds, api_token_max_lifetime_seconds, no_public_tokens, no_user_token_import, created_at`

// orgDest returns where to scan orgColumns into o, and what then sets the
// fields that need converting.
func orgDest(o *tollgate.Org) ([]any, func()) {
	var created int64
	return []any{&o.ID, &o.Slug, &o.Name, &o.Settings.TokenReuseFloorSeconds, &o.Settings.MaxTokenTTLSeconds, &o.Settings.APITokenMaxLifetimeSeconds, &o.Settings.NoPublicTokens, &o.Settings.NoUserTokenImport, &created}, func() { o.CreatedAt = fromMicros(created) }
}

func scanOrg(row sqlq.Row) (*tollgate.Org, error) {
	var o tollgate.Org
	dest, done := orgDest(&o)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	done()
	return &o, nil
}

func (q *queries) CreateOrg(ctx context.Context, o *tollgate.Org) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO orgs (`+orgColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.ID, o.Slug, o.Name, o.Settings.TokenReuseFloorSeconds, o.Settings.MaxTokenTTLSeconds, o.Settings.APITokenMaxLifetimeSeconds,
		o.Settings.NoPublicTokens, o.Settings.NoUserTokenImport, micros(o.CreatedAt))
	return classify(err, "organization")
}

func (q *queries) GetOrg(ctx context.Context, id string) (*tollgate.Org, error) {
	o, err := scanOrg(q.q.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = ?`, id))
	return o, classify(err, "organization")
}

func (q *queries) GetOrgBySlug(ctx context.Context, slug string) (*tollgate.Org, error) {
	o, err := scanOrg(q.q.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM orgs WHERE slug = ?`, slug))
	return o, classify(err, "organization")
}

func (q *queries) UpdateOrg(ctx context.Context, o *tollgate.Org) error {
	res, err := q.q.ExecContext(ctx, `UPDATE orgs SET name = ?, token_reuse_floor_seconds = ?, max_token_ttl_seconds = ?,
		api_token_max_lifetime_seconds = ?, no_public_tokens = ?, no_user_token_import = ? WHERE id = ?`,
		o.Name, o.Settings.TokenReuseFloorSeconds, o.Settings.MaxTokenTTLSeconds, o.Settings.APITokenMaxLifetimeSeconds,
		o.Settings.NoPublicTokens, o.Settings.NoUserTokenImport, o.ID)
	return mustAffect(res, err, "organization")
}

const userColumns = `id, email, name, password_hash, platform_admin, created_at`

func scanUser(row sqlq.Row) (*tollgate.User, error) {
	var u tollgate.User
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.PlatformAdmin, &created); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicros(created)
	return &u, nil
}

func (q *queries) CreateUser(ctx context.Context, u *tollgate.User) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, u.PasswordHash, u.PlatformAdmin, micros(u.CreatedAt))
	return classify(err, "user")
}

func (q *queries) GetUser(ctx context.Context, id string) (*tollgate.User, error) {
	u, err := scanUser(q.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	return u, classify(err, "user")
}

func (q *queries) GetUserByEmail(ctx context.Context, email string) (*tollgate.User, error) {
	u, err := scanUser(q.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
	return u, classify(err, "user")
}

func (q *queries) HasUsers(ctx context.Context) (bool, error) {
	var ok bool
	err := q.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&ok)
	return ok, classify(err, "user")
}

func (q *queries) CreateMember(ctx context.Context, m *tollgate.Member) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO members (org_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)`,
		m.OrgID, m.UserID, string(m.Role), micros(m.JoinedAt))
	return classify(err, "member")
}

func (q *queries) GetMember(ctx context.Context, orgID, userID string) (*tollgate.Member, error) {
	var m tollgate.Member
	var joined int64
	err := q.q.QueryRowContext(ctx, `SELECT org_id, user_id, role, joined_at FROM members WHERE org_id = ? AND user_id = ?`,
		orgID, userID).Scan(&m.OrgID, &m.UserID, &m.Role, &joined)
	if err != nil {
		return nil, classify(err, "member")
	}
	m.JoinedAt = fromMicros(joined)
	return &m, nil
}

// memberViewSelect lists members with their user's email and name and the
// number of API tokens they own in the org (rule A7).
const memberViewSelect = `SELECT m.org_id, m.user_id, m.role, m.joined_at, u.email, u.name,
	(SELECT COUNT(*) FROM api_tokens t WHERE t.org_id = m.org_id AND t.user_id = m.user_id)
	FROM members m JOIN users u ON u.id = m.user_id`

// memberEmail is the email column member searches range over and order
// by.
const memberEmail = "u.email"

func scanMemberView(row sqlq.Row) (*tollgate.MemberView, error) {
	var v tollgate.MemberView
	var joined int64
	if err := row.Scan(&v.OrgID, &v.UserID, &v.Role, &joined, &v.Email, &v.Name, &v.OwnedTokenCount); err != nil {
		return nil, err
	}
	v.JoinedAt = fromMicros(joined)
	return &v, nil
}

func (q *queries) GetMemberView(ctx context.Context, orgID, userID string) (*tollgate.MemberView, error) {
	v, err := scanMemberView(q.q.QueryRowContext(ctx, memberViewSelect+` WHERE m.org_id = ? AND m.user_id = ?`, orgID, userID))
	return v, classify(err, "member")
}

func (q *queries) ListMembers(ctx context.Context, orgID string, f tollgate.MemberFilter, p tollgate.Page) ([]tollgate.MemberView, string, error) {
	b := sqlq.New(placeholder, memberViewSelect).Where("m.org_id = %s", orgID)
	if f.Query != "" {
		byEmail, emailArgs := sqlq.InRange(memberEmail, tollgate.EmailRange(f.Query))
		byName, nameArgs := sqlq.InRange("lower(u.name)", tollgate.NameRange(f.Query))
		b.Where("(("+byEmail+") OR ("+byName+"))", append(emailArgs, nameArgs...)...)
		if err := b.AfterName(p.Cursor, "("+memberEmail+", u.id) > (%s, %s)"); err != nil {
			return nil, "", err
		}
		b.Then(" ORDER BY " + memberEmail + ", u.id")
		return page(ctx, q.q, b, p.Limit, scanMemberView, tollgate.ByName(tollgate.MemberSearchKey), "member")
	}
	if err := b.After(p.Cursor, "(m.joined_at, m.user_id) > (%s, %s)", microsAny); err != nil {
		return nil, "", err
	}
	b.Then(" ORDER BY m.joined_at, m.user_id")
	return page(ctx, q.q, b, p.Limit, scanMemberView, tollgate.ByTime(tollgate.MemberKey), "member")
}

func (q *queries) UpdateMemberRole(ctx context.Context, orgID, userID string, role tollgate.Role) error {
	res, err := q.q.ExecContext(ctx, `UPDATE members SET role = ? WHERE org_id = ? AND user_id = ?`, string(role), orgID, userID)
	return mustAffect(res, err, "member")
}

func (q *queries) DeleteMember(ctx context.Context, orgID, userID string) error {
	res, err := q.q.ExecContext(ctx, `DELETE FROM members WHERE org_id = ? AND user_id = ?`, orgID, userID)
	return mustAffect(res, err, "member")
}

func (q *queries) CountMembersWithRole(ctx context.Context, orgID string, role tollgate.Role) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM members WHERE org_id = ? AND role = ?`, orgID, string(role)).Scan(&n)
	return n, classify(err, "member")
}

func (q *queries) ListMemberships(ctx context.Context, userID string) ([]tollgate.Membership, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT o.id, o.slug, m.role FROM members m JOIN orgs o ON o.id = m.org_id
		WHERE m.user_id = ? ORDER BY o.slug`, userID)
	if err != nil {
		return nil, classify(err, "membership")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, func(row sqlq.Row) (*tollgate.Membership, error) {
		var m tollgate.Membership
		return &m, row.Scan(&m.OrgID, &m.OrgSlug, &m.Role)
	})
	if out == nil {
		out = []tollgate.Membership{}
	}
	return out, classify(err, "membership")
}

func (q *queries) CreateInvitation(ctx context.Context, inv *tollgate.Invitation) error {
	if _, err := q.q.ExecContext(ctx, `DELETE FROM invitations WHERE org_id = ? AND email = ? AND accepted_at IS NULL`,
		inv.OrgID, inv.Email); err != nil {
		return classify(err, "invitation")
	}
	_, err := q.q.ExecContext(ctx, `INSERT INTO invitations (id, org_id, email, role, token_hash, created_by, created_at, expires_at, accepted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inv.ID, inv.OrgID, inv.Email, string(inv.Role), inv.TokenHash, inv.CreatedBy, micros(inv.CreatedAt), micros(inv.ExpiresAt), nullMicros(inv.AcceptedAt))
	return classify(err, "invitation")
}

func (q *queries) GetInvitationByTokenHash(ctx context.Context, hash []byte) (*tollgate.Invitation, error) {
	var inv tollgate.Invitation
	var created, expires int64
	var accepted sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT id, org_id, email, role, token_hash, created_by, created_at, expires_at, accepted_at
		FROM invitations WHERE token_hash = ?`, hash).Scan(&inv.ID, &inv.OrgID, &inv.Email, &inv.Role, &inv.TokenHash,
		&inv.CreatedBy, &created, &expires, &accepted)
	if err != nil {
		return nil, classify(err, "invitation")
	}
	inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt = fromMicros(created), fromMicros(expires), fromNullMicros(accepted)
	return &inv, nil
}

func (q *queries) AcceptInvitation(ctx context.Context, id string, t time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE invitations SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL`, micros(t), id)
	if err := mustAffect(res, err, "invitation"); err != nil {
		if tollgate.ErrorCode(err) != tollgate.ENotFound {
			return err
		}
		var n int
		if err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM invitations WHERE id = ?`, id).Scan(&n); err != nil {
			return classify(err, "invitation")
		}
		if n > 0 {
			return tollgate.Errorf(tollgate.EConflict, "invitation was accepted already")
		}
		return err
	}
	return nil
}

const sessionColumns = `id_hash, id, user_id, kind, ip, user_agent, created_at, last_seen_at, expires_at`

func scanSession(row sqlq.Row) (*tollgate.Session, error) {
	var s tollgate.Session
	var created, seen, expires int64
	if err := row.Scan(&s.IDHash, &s.ID, &s.UserID, &s.Kind, &s.IP, &s.UserAgent, &created, &seen, &expires); err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	return &s, nil
}

func (q *queries) CreateSession(ctx context.Context, s *tollgate.Session) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.IDHash, s.ID, s.UserID, string(s.Kind), s.IP, s.UserAgent, micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt))
	return classify(err, "session")
}

func (q *queries) GetSession(ctx context.Context, idHash []byte) (*tollgate.Session, error) {
	s, err := scanSession(q.q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id_hash = ?`, idHash))
	return s, classify(err, "session")
}

func (q *queries) ListSessions(ctx context.Context, userID string) ([]tollgate.Session, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE user_id = ? ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, classify(err, "session")
	}
	defer rows.Close()
	out, err := sqlq.All(rows, scanSession)
	return out, classify(err, "session")
}

func (q *queries) DeleteSessionByID(ctx context.Context, userID, id string) error {
	res, err := q.q.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id = ?`, userID, id)
	return mustAffect(res, err, "session")
}

func (q *queries) TouchSession(ctx context.Context, idHash []byte, t time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, micros(t), idHash)
	return mustAffect(res, err, "session")
}

func (q *queries) DeleteSession(ctx context.Context, idHash []byte) error {
	res, err := q.q.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash)
	return mustAffect(res, err, "session")
}

func (q *queries) DeleteSessionsBefore(ctx context.Context, expiredBefore, idleBefore time.Time) (int, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ? OR (kind = 'browser' AND last_seen_at < ?)`, micros(expiredBefore), micros(idleBefore))
	if err != nil {
		return 0, classify(err, "session")
	}
	n, err := res.RowsAffected()
	return int(n), classify(err, "session")
}

func (q *queries) AppendAuditEvent(ctx context.Context, e *tollgate.AuditEvent) error {
	details, err := json.Marshal(e.Details)
	if err != nil {
		return fmt.Errorf("sqlite: audit details: %w", err)
	}
	var org any
	if e.OrgID != "" {
		org = e.OrgID
	}
	_, err = q.q.ExecContext(ctx, `INSERT INTO audit_events (id, time, org_id, actor_type, actor_id, actor_name, action,
		target_type, target_id, target_name, ip, user_agent, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, micros(e.Time), org, e.Actor.Type, e.Actor.ID, e.Actor.Name, e.Action,
		e.Target.Type, e.Target.ID, e.Target.Name, e.IP, e.UserAgent, string(details))
	return classify(err, "audit event")
}

func (q *queries) ListAuditEvents(ctx context.Context, orgID string, f tollgate.AuditFilter, p tollgate.Page) ([]tollgate.AuditEvent, string, error) {
	b := sqlq.New(placeholder, `SELECT id, time, org_id, actor_type, actor_id, actor_name, action,
		target_type, target_id, target_name, ip, user_agent, details FROM audit_events`).Where("org_id = %s", orgID)
	if f.ActorID != "" {
		b.Where("actor_id = %s", f.ActorID)
	}
	if f.Action != "" {
		b.Where("action = %s", f.Action)
	}
	if f.TargetID != "" {
		b.Where("target_id = %s", f.TargetID)
	}
	if !f.Since.IsZero() {
		b.Where("time >= %s", micros(f.Since))
	}
	if !f.Until.IsZero() {
		b.Where("time < %s", micros(f.Until))
	}
	if err := b.After(p.Cursor, "(time, id) < (%s, %s)", microsAny); err != nil {
		return nil, "", err
	}
	b.Then(" ORDER BY time DESC, id DESC")
	return page(ctx, q.q, b, p.Limit, scanAuditEvent, tollgate.ByTime(tollgate.AuditEventKey), "audit event")
}

func scanAuditEvent(row sqlq.Row) (*tollgate.AuditEvent, error) {
	var e tollgate.AuditEvent
	var t int64
	var org sql.NullString
	var details string
	if err := row.Scan(&e.ID, &t, &org, &e.Actor.Type, &e.Actor.ID, &e.Actor.Name, &e.Action,
		&e.Target.Type, &e.Target.ID, &e.Target.Name, &e.IP, &e.UserAgent, &details); err != nil {
		return nil, err
	}
	e.Time, e.OrgID = fromMicros(t), org.String
	if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
		return nil, fmt.Errorf("sqlite: audit details of %s: %w", e.ID, err)
	}
	return &e, nil
}

func (q *queries) FindPolicyViolations(ctx context.Context, orgID string, rules []tollgate.ViolationQuery, now time.Time, limit int) ([]tollgate.PolicyViolation, error) {
	out, err := sqlq.Violations(rules, func(r tollgate.ViolationQuery) (*sqlq.Query, *sqlq.Query) {
		return sqlq.Violation(placeholder, microsAny, orgID, r, now, limit)
	}, func(b *sqlq.Query) (n int, err error) {
		err = q.q.QueryRowContext(ctx, b.SQL(), b.Args()...).Scan(&n)
		return n, err
	}, func(b *sqlq.Query) ([]sqlq.IDName, error) {
		rows, err := q.q.QueryContext(ctx, b.SQL(), b.Args()...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		return sqlq.All(rows, sqlq.ScanIDName)
	})
	return out, classify(err, "organization")
}
