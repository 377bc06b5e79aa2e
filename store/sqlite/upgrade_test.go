package sqlite

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store/internal/migrate"
)

// TestUpgradeKeepsSessionsAndOrigins applies the migrations up to 0005 by
// hand, stores what a database of that schema holds (a session, public
// and private tokens), then migrates the rest: existing sessions keep
// working as browser sessions with a public ID, 0006's origin listing is
// filled from the tokens already there, and 0008's name index finds them.
func TestUpgradeKeepsSessionsAndOrigins(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "tollgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	files, err := migrate.Files(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for _, m := range files {
		if m.Version > 4 {
			break
		}
		if _, err := s.db.ExecContext(ctx, m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if _, err := s.db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, 0)`, m.Version); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UnixMicro()
	for _, q := range []string{
		`INSERT INTO orgs (id, slug, name, token_reuse_floor_seconds, created_at) VALUES ('org_1', 'acme', 'acme', 0, 0)`,
		`INSERT INTO users (id, email, name, password_hash, platform_admin, created_at) VALUES ('usr_1', 'a@example.com', 'A', 'h', 0, 0)`,
		`INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) VALUES (x'01', 'usr_1', 0, ` + itoa(now) + `, ` + itoa(now+3600e6) + `)`,
		`INSERT INTO service_accounts (id, org_id, name, email, description, role, token_ttl_seconds, status, created_at, created_by, reuse_after)
			VALUES ('sa_1', 'org_1', 'bot', 'bot@x', '', 'viewer', 300, 'active', 0, 'usr_1', 0)`,
		`INSERT INTO api_tokens (id, org_id, name, description, kind, domains, role, service_account_id, hash, created_at, created_by)
			VALUES ('tok_1', 'org_1', 'site', '', 'public', '["https://a.example.com","https://b.example.com"]', 'viewer', 'sa_1', x'02', 0, 'usr_1')`,
		`INSERT INTO api_tokens (id, org_id, name, description, kind, domains, role, service_account_id, hash, created_at, created_by)
			VALUES ('tok_2', 'org_1', 'server', '', 'private', '[]', 'viewer', 'sa_1', x'03', 0, 'usr_1')`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	applied, err := s.Migrate(ctx)
	if err != nil || len(applied) != len(files)-4 {
		t.Fatalf("migrate applied %v, %v", applied, err)
	}
	sess, err := s.GetSession(ctx, []byte{1})
	if err != nil || sess.Kind != tollgate.SessionBrowser || !tollgate.HasPrefix(sess.ID, tollgate.PrefixSession) {
		t.Fatalf("the session after the upgrade: %+v, %v", sess, err)
	}
	for origin, want := range map[string]bool{"https://a.example.com": true, "https://b.example.com": true, "https://c.example.com": false} {
		if got, err := s.PublicOriginListed(ctx, origin); err != nil || got != want {
			t.Fatalf("PublicOriginListed(%s) after the upgrade = %v, %v", origin, got, err)
		}
	}
	found, _, err := s.ListAPITokens(ctx, "org_1", tollgate.APITokenFilter{Query: "SE"}, tollgate.Page{Limit: 10})
	if err != nil || len(found) != 1 || found[0].ID != "tok_2" {
		t.Fatalf("searching the tokens after the upgrade: %+v, %v", found, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
