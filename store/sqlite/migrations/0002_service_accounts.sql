-- Service accounts, their client secrets, issued access tokens, signing keys.

CREATE TABLE service_accounts (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    email             TEXT NOT NULL,
    description       TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    token_ttl_seconds INTEGER NOT NULL CHECK (token_ttl_seconds BETWEEN 300 AND 2592000),
    status            TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at        INTEGER NOT NULL,
    created_by        TEXT NOT NULL,
    last_used_at      INTEGER,
    reuse_after       INTEGER NOT NULL
) STRICT;
-- Names are unique in an org ignoring case (rule S2).
CREATE UNIQUE INDEX service_accounts_name ON service_accounts (org_id, lower(name));
CREATE INDEX service_accounts_by_created ON service_accounts (org_id, created_at, id);

CREATE TABLE client_secrets (
    id                 TEXT PRIMARY KEY,
    service_account_id TEXT NOT NULL REFERENCES service_accounts (id) ON DELETE CASCADE,
    hash               BLOB NOT NULL,
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER
) STRICT;
CREATE INDEX client_secrets_by_account ON client_secrets (service_account_id, created_at);

CREATE TABLE access_tokens (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL,
    service_account_id TEXT NOT NULL REFERENCES service_accounts (id) ON DELETE CASCADE,
    secret_id          TEXT NOT NULL,
    key_id             TEXT NOT NULL,
    issued_at          INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    revoked_at         INTEGER,
    sealed             BLOB NOT NULL
) STRICT;
CREATE INDEX access_tokens_latest ON access_tokens (service_account_id, issued_at DESC);
CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);

CREATE TABLE signing_keys (
    id             TEXT PRIMARY KEY,
    algorithm      TEXT NOT NULL,
    public_key     BLOB NOT NULL,
    private_sealed BLOB NOT NULL,
    created_at     INTEGER NOT NULL,
    retired_at     INTEGER
) STRICT;
