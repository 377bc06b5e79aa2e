-- Credentials without shared secrets (K1–K3): public keys for
-- private_key_jwt, federated credentials, the replay cache of assertion
-- and DPoP proof jtis, and DPoP binding.

ALTER TABLE service_accounts ADD COLUMN require_dpop boolean NOT NULL DEFAULT false;

CREATE TABLE client_keys (
    id                 text PRIMARY KEY,
    service_account_id text NOT NULL REFERENCES service_accounts (id) ON DELETE CASCADE,
    kid                text NOT NULL,
    algorithm          text NOT NULL,
    thumbprint         text NOT NULL,
    jwk                text NOT NULL,
    created_at         timestamptz NOT NULL,
    created_by         text NOT NULL,
    expires_at         timestamptz,
    last_used_at       timestamptz
);
CREATE UNIQUE INDEX client_keys_kid ON client_keys (service_account_id, kid);
CREATE UNIQUE INDEX client_keys_thumbprint ON client_keys (service_account_id, thumbprint);

CREATE TABLE federated_credentials (
    id                 text PRIMARY KEY,
    service_account_id text NOT NULL REFERENCES service_accounts (id) ON DELETE CASCADE,
    name               text NOT NULL,
    issuer             text NOT NULL,
    audience           text NOT NULL,
    subject            text NOT NULL,
    claims             jsonb NOT NULL,
    created_at         timestamptz NOT NULL,
    created_by         text NOT NULL,
    last_used_at       timestamptz
);
CREATE UNIQUE INDEX federated_credentials_name ON federated_credentials (service_account_id, lower(name));

-- A key is a jti with what it belongs to; it is kept until it expires.
CREATE TABLE used_once (
    key        text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX used_once_by_expiry ON used_once (expires_at);

ALTER TABLE access_tokens ADD COLUMN jkt text NOT NULL DEFAULT '';
DROP INDEX access_tokens_latest;
CREATE INDEX access_tokens_latest ON access_tokens (service_account_id, jkt, issued_at DESC);
