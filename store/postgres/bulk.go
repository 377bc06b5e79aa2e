package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate"
)

// LoadBulk inserts b in one transaction with COPY, table by table, in the
// order rows refer to each other. It uses the columns the store's own
// inserts use, so that a copied row reads back as an inserted one.
func (s *Store) LoadBulk(ctx context.Context, b *tollgate.Bulk) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	copies := []struct {
		table, columns string
		rows           [][]any
	}{
		{"orgs", orgColumns, rowsOf(b.Orgs, func(o *tollgate.Org) []any {
			return []any{o.ID, o.Slug, o.Name, o.Settings.TokenReuseFloorSeconds, o.Settings.MaxTokenTTLSeconds,
				o.Settings.APITokenMaxLifetimeSeconds, o.Settings.NoPublicTokens, o.Settings.NoUserTokenImport, o.CreatedAt}
		})},
		{"service_accounts", saColumns, rowsOf(b.ServiceAccounts, func(sa *tollgate.ServiceAccount) []any {
			return []any{sa.ID, sa.OrgID, sa.Name, sa.Email, sa.Description, string(sa.Role), sa.TokenTTLSeconds, string(sa.Status),
				sa.CreatedAt, sa.CreatedBy, sa.LastUsedAt, sa.ReuseAfter, sa.RequireDPoP}
		})},
		{"api_tokens", tokenColumns, rowsOf(b.APITokens, func(t *tollgate.APIToken) []any {
			sa, user := owner(t)
			return []any{t.ID, t.OrgID, t.Name, t.Description, string(t.Kind), domainsJSON(t.Domains), string(t.Role), sa, user, t.Hash,
				t.ExpiresAt, t.CreatedAt, t.CreatedBy, t.LastUsedAt, t.LastUsedOrigin}
		})},
	}
	events := make([][]any, len(b.AuditEvents))
	for i := range b.AuditEvents {
		e := &b.AuditEvents[i]
		details, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("postgres: audit details: %w", err)
		}
		var org *string
		if e.OrgID != "" {
			org = &e.OrgID
		}
		events[i] = []any{e.ID, e.Time, org, string(e.Actor.Type), e.Actor.ID, e.Actor.Name, e.Action,
			string(e.Target.Type), e.Target.ID, e.Target.Name, e.IP, e.UserAgent, string(details)}
	}
	copies = append(copies, struct {
		table, columns string
		rows           [][]any
	}{"audit_events", auditColumns, events})
	for _, c := range copies {
		if len(c.rows) == 0 {
			continue
		}
		cols := strings.Split(c.columns, ", ")
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, cols, pgx.CopyFromRows(c.rows)); err != nil {
			return classify(err, c.table)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// rowsOf turns each item of items into a row of values.
func rowsOf[T any](items []T, row func(*T) []any) [][]any {
	out := make([][]any, len(items))
	for i := range items {
		out[i] = row(&items[i])
	}
	return out
}
