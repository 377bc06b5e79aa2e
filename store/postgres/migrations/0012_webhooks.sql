-- Webhooks (P2, issue 13): subscriptions, the outbox of messages written in
-- the transaction of each event, one delivery per message and webhook with
-- its attempts, and the notices already sent (token.expiring,
-- secret.grace_ending) so that each is sent once.
CREATE TABLE webhooks (
    id          text PRIMARY KEY,
    org_id      text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    url         text NOT NULL,
    events      text NOT NULL, -- JSON array of event names, or ["*"]
    description text NOT NULL,
    secret      bytea NOT NULL, -- whsec_ secret, sealed with the key file
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL
);
CREATE INDEX webhooks_by_org ON webhooks (org_id, created_at, id);

CREATE TABLE webhook_messages (
    id         text PRIMARY KEY,
    org_id     text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    event      text NOT NULL,
    payload    bytea NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE webhook_deliveries (
    webhook_id      text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    message_id      text NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    event           text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_attempt_at timestamptz,
    response_status integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (webhook_id, message_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at, message_id);
CREATE INDEX webhook_deliveries_by_message ON webhook_deliveries (message_id);

CREATE TABLE webhook_attempts (
    webhook_id      text NOT NULL,
    message_id      text NOT NULL,
    n               integer NOT NULL,
    at              timestamptz NOT NULL,
    response_status integer NOT NULL,
    error           text NOT NULL,
    duration_ms     integer NOT NULL,
    PRIMARY KEY (webhook_id, message_id, n),
    FOREIGN KEY (webhook_id, message_id) REFERENCES webhook_deliveries (webhook_id, message_id) ON DELETE CASCADE
);

CREATE TABLE webhook_notices (
    subject_id text NOT NULL,
    kind       text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (subject_id, kind)
);
CREATE INDEX api_tokens_by_expiry ON api_tokens (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX client_secrets_by_expiry ON client_secrets (expires_at) WHERE expires_at IS NOT NULL;
