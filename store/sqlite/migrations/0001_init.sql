-- Foundation: organizations, users, members, invitations, sessions, audit.
-- Times are INTEGER microseconds since the Unix epoch, UTC.

CREATE TABLE orgs (
    id                        TEXT PRIMARY KEY,
    slug                      TEXT NOT NULL UNIQUE,
    name                      TEXT NOT NULL,
    token_reuse_floor_seconds INTEGER NOT NULL DEFAULT 0,
    created_at                INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    platform_admin INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE members (
    org_id    TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      TEXT NOT NULL CHECK (role IN ('super_admin', 'admin', 'member', 'viewer')),
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
) STRICT;
CREATE INDEX members_by_joined ON members (org_id, joined_at, user_id);
CREATE INDEX members_by_user ON members (user_id);

CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('super_admin', 'admin', 'member', 'viewer')),
    token_hash  BLOB NOT NULL UNIQUE,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER
) STRICT;
CREATE INDEX invitations_by_email ON invitations (org_id, email);

CREATE TABLE sessions (
    id_hash      BLOB PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Audit events outlive what they describe: no foreign keys.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    time        INTEGER NOT NULL,
    org_id      TEXT,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    target_name TEXT NOT NULL,
    ip          TEXT NOT NULL,
    user_agent  TEXT NOT NULL,
    details     TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_org ON audit_events (org_id, time DESC, id DESC);
CREATE INDEX audit_by_actor ON audit_events (org_id, actor_id, time DESC, id DESC);
CREATE INDEX audit_by_target ON audit_events (org_id, target_id, time DESC, id DESC);
CREATE INDEX audit_by_action ON audit_events (org_id, action, time DESC, id DESC);
