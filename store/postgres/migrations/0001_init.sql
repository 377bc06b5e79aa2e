-- Foundation: organizations, users, members, invitations, sessions, audit.

CREATE TABLE orgs (
    id                        text PRIMARY KEY,
    slug                      text NOT NULL UNIQUE,
    name                      text NOT NULL,
    token_reuse_floor_seconds integer NOT NULL DEFAULT 0,
    created_at                timestamptz NOT NULL
);

CREATE TABLE users (
    id             text PRIMARY KEY,
    email          text NOT NULL UNIQUE,
    name           text NOT NULL,
    password_hash  text NOT NULL,
    platform_admin boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL
);

CREATE TABLE members (
    org_id    text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id   text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      text NOT NULL CHECK (role IN ('super_admin', 'admin', 'member', 'viewer')),
    joined_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX members_by_joined ON members (org_id, joined_at, user_id);
CREATE INDEX members_by_user ON members (user_id);

CREATE TABLE invitations (
    id          text PRIMARY KEY,
    org_id      text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email       text NOT NULL,
    role        text NOT NULL CHECK (role IN ('super_admin', 'admin', 'member', 'viewer')),
    token_hash  bytea NOT NULL UNIQUE,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz
);
CREATE INDEX invitations_by_email ON invitations (org_id, email);

CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Audit events outlive what they describe: no foreign keys.
CREATE TABLE audit_events (
    id          text PRIMARY KEY,
    time        timestamptz NOT NULL,
    org_id      text,
    actor_type  text NOT NULL,
    actor_id    text NOT NULL,
    actor_name  text NOT NULL,
    action      text NOT NULL,
    target_type text NOT NULL,
    target_id   text NOT NULL,
    target_name text NOT NULL,
    ip          text NOT NULL,
    user_agent  text NOT NULL,
    details     jsonb NOT NULL
);
CREATE INDEX audit_by_org ON audit_events (org_id, time DESC, id DESC);
CREATE INDEX audit_by_actor ON audit_events (org_id, actor_id, time DESC, id DESC);
CREATE INDEX audit_by_target ON audit_events (org_id, target_id, time DESC, id DESC);
CREATE INDEX audit_by_action ON audit_events (org_id, action, time DESC, id DESC);
