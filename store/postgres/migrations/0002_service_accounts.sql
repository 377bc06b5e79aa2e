-- Service accounts, their client secrets, issued access tokens, signing keys.

CREATE TABLE service_accounts (
    id                text PRIMARY KEY,
    org_id            text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name              text NOT NULL,
    email             text NOT NULL,
    description       text NOT NULL,
    role              text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    token_ttl_seconds integer NOT NULL CHECK (token_ttl_seconds BETWEEN 300 AND 2592000),
    status            text NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at        timestamptz NOT NULL,
    created_by        text NOT NULL,
    last_used_at      timestamptz,
    reuse_after       timestamptz NOT NULL
);
-- Names are unique in an org ignoring case (rule S2).
CREATE UNIQUE INDEX service_accounts_name ON service_accounts (org_id, lower(name));
CREATE INDEX service_accounts_by_created ON service_accounts (org_id, created_at, id);

CREATE TABLE client_secrets (
    id                 text PRIMARY KEY,
    service_account_id text NOT NULL REFERENCES service_accounts (id) ON DELETE CASCADE,
    hash               bytea NOT NULL,
    created_at         timestamptz NOT NULL,
    expires_at         timestamptz
);
CREATE INDEX client_secrets_by_account ON client_secrets (service_account_id, created_at);

CREATE TABLE access_tokens (
    id                 text PRIMARY KEY,
    org_id             text NOT NULL,
    service_account_id text NOT NULL REFERENCES service_accounts (id) ON DELETE CASCADE,
    secret_id          text NOT NULL,
    key_id             text NOT NULL,
    issued_at          timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL,
    revoked_at         timestamptz,
    sealed             bytea NOT NULL
);
CREATE INDEX access_tokens_latest ON access_tokens (service_account_id, issued_at DESC);
CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);

CREATE TABLE signing_keys (
    id             text PRIMARY KEY,
    algorithm      text NOT NULL,
    public_key     bytea NOT NULL,
    private_sealed bytea NOT NULL,
    created_at     timestamptz NOT NULL,
    retired_at     timestamptz
);
