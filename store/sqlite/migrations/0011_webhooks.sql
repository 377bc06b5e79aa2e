-- Webhooks (P2, issue 13): subscriptions, the outbox of messages written in
-- the transaction of each event, one delivery per message and webhook with
-- its attempts, and the notices already sent (token.expiring,
-- secret.grace_ending) so that each is sent once.
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL, -- JSON array of event names, or ["*"]
    description TEXT NOT NULL,
    secret      BLOB NOT NULL, -- whsec_ secret, sealed with the key file
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL
) STRICT;
CREATE INDEX webhooks_by_org ON webhooks (org_id, created_at, id);

CREATE TABLE webhook_messages (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    event      TEXT NOT NULL,
    payload    BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_deliveries (
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    response_status INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (webhook_id, message_id)
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at, message_id);
CREATE INDEX webhook_deliveries_by_message ON webhook_deliveries (message_id);

CREATE TABLE webhook_attempts (
    webhook_id      TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    n               INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    response_status INTEGER NOT NULL,
    error           TEXT NOT NULL,
    duration_ms     INTEGER NOT NULL,
    PRIMARY KEY (webhook_id, message_id, n),
    FOREIGN KEY (webhook_id, message_id) REFERENCES webhook_deliveries (webhook_id, message_id) ON DELETE CASCADE
) STRICT;

CREATE TABLE webhook_notices (
    subject_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, kind)
) STRICT;
CREATE INDEX api_tokens_by_expiry ON api_tokens (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX client_secrets_by_expiry ON client_secrets (expires_at) WHERE expires_at IS NOT NULL;
