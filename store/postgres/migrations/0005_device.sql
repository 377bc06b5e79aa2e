-- People at the command line (`tollgate login`, RFC 8628): sessions gain
-- a public ID, a kind (browser or cli) and where they started; device
-- authorizations hold the grant's state, with both codes hashed.

ALTER TABLE sessions ADD COLUMN id text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN kind text NOT NULL DEFAULT 'browser' CHECK (kind IN ('browser', 'cli'));
ALTER TABLE sessions ADD COLUMN ip text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent text NOT NULL DEFAULT '';
-- Sessions from before this migration get a random public ID.
UPDATE sessions SET id = 'ses_' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 26);
CREATE UNIQUE INDEX sessions_id ON sessions (id);

CREATE TABLE device_authorizations (
    id               text PRIMARY KEY,
    device_code_hash bytea NOT NULL UNIQUE,
    user_code_hash   bytea NOT NULL UNIQUE,
    client_id        text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'redeemed')),
    user_id          text REFERENCES users (id) ON DELETE CASCADE,
    ip               text NOT NULL,
    user_agent       text NOT NULL,
    interval_seconds integer NOT NULL,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    polled_at        timestamptz,
    decided_at       timestamptz
);
CREATE INDEX device_authorizations_by_expiry ON device_authorizations (expires_at);
