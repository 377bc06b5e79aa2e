-- API tokens: owned by a service account, or (imported legacy tokens) by a user.

CREATE TABLE api_tokens (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('public', 'private')),
    domains            TEXT NOT NULL, -- JSON array of canonical origins
    role               TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    -- Deleting a service account deletes its tokens (S8).
    service_account_id TEXT REFERENCES service_accounts (id) ON DELETE CASCADE,
    user_id            TEXT REFERENCES users (id),
    hash               BLOB NOT NULL UNIQUE,
    expires_at         INTEGER,
    created_at         INTEGER NOT NULL,
    created_by         TEXT NOT NULL,
    last_used_at       INTEGER,
    last_used_origin   TEXT NOT NULL DEFAULT '',
    CHECK ((service_account_id IS NULL) <> (user_id IS NULL))
) STRICT;
CREATE INDEX api_tokens_by_created ON api_tokens (org_id, created_at, id);
CREATE INDEX api_tokens_by_account ON api_tokens (service_account_id);
CREATE INDEX api_tokens_by_user ON api_tokens (org_id, user_id);
