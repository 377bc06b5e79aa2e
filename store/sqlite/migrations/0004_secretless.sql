-- Credentials without shared secrets (K1–K3): public keys for
-- private_key_jwt, federated credentials, the replay cache of assertion
-- and DPoP proof jtis, and DPoP binding.

ALTER TABLE service_accounts ADD COLUMN require_dpop INTEGER NOT NULL DEFAULT 0 CHECK (require_dpop IN (0, 1));

CREATE TABLE client_keys (
    id                 TEXT PRIMARY KEY,
    service_account_id TEXT NOT NULL REFERENCES service_accounts (id) ON DELETE CASCADE,
    kid                TEXT NOT NULL,
    algorithm          TEXT NOT NULL,
    thumbprint         TEXT NOT NULL,
    jwk                TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    created_by         TEXT NOT NULL,
    expires_at         INTEGER,
    last_used_at       INTEGER
) STRICT;
CREATE UNIQUE INDEX client_keys_kid ON client_keys (service_account_id, kid);
CREATE UNIQUE INDEX client_keys_thumbprint ON client_keys (service_account_id, thumbprint);

CREATE TABLE federated_credentials (
    id                 TEXT PRIMARY KEY,
    service_account_id TEXT NOT NULL REFERENCES service_accounts (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    issuer             TEXT NOT NULL,
    audience           TEXT NOT NULL,
    subject            TEXT NOT NULL,
    claims             TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    created_by         TEXT NOT NULL,
    last_used_at       INTEGER
) STRICT;
CREATE UNIQUE INDEX federated_credentials_name ON federated_credentials (service_account_id, lower(name));

-- A key is a jti with what it belongs to; it is kept until it expires.
CREATE TABLE used_once (
    key        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX used_once_by_expiry ON used_once (expires_at);

ALTER TABLE access_tokens ADD COLUMN jkt TEXT NOT NULL DEFAULT '';
DROP INDEX access_tokens_latest;
CREATE INDEX access_tokens_latest ON access_tokens (service_account_id, jkt, issued_at DESC);
