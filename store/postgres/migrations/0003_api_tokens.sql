-- API tokens: owned by a service account, or (imported legacy tokens) by a user.

CREATE TABLE api_tokens (
    id                 text PRIMARY KEY,
    org_id             text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name               text NOT NULL,
    description        text NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('public', 'private')),
    domains            jsonb NOT NULL, -- array of canonical origins
    role               text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    -- Deleting a service account deletes its tokens (S8).
    service_account_id text REFERENCES service_accounts (id) ON DELETE CASCADE,
    user_id            text REFERENCES users (id),
    hash               bytea NOT NULL UNIQUE,
    expires_at         timestamptz,
    created_at         timestamptz NOT NULL,
    created_by         text NOT NULL,
    last_used_at       timestamptz,
    last_used_origin   text NOT NULL DEFAULT '',
    CHECK ((service_account_id IS NULL) <> (user_id IS NULL))
);
CREATE INDEX api_tokens_by_created ON api_tokens (org_id, created_at, id);
CREATE INDEX api_tokens_by_account ON api_tokens (service_account_id);
CREATE INDEX api_tokens_by_user ON api_tokens (org_id, user_id);
