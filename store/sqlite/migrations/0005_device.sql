-- People at the command line (`tollgate login`, RFC 8628): sessions gain
-- a public ID, a kind (browser or cli) and where they started; device
-- authorizations hold the grant's state, with both codes hashed.

ALTER TABLE sessions ADD COLUMN id TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'browser' CHECK (kind IN ('browser', 'cli'));
ALTER TABLE sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
-- Sessions from before this migration get a random public ID.
UPDATE sessions SET id = 'ses_' || substr(lower(hex(randomblob(13))), 1, 26);
CREATE UNIQUE INDEX sessions_id ON sessions (id);

CREATE TABLE device_authorizations (
    id               TEXT PRIMARY KEY,
    device_code_hash BLOB NOT NULL UNIQUE,
    user_code_hash   BLOB NOT NULL UNIQUE,
    client_id        TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'redeemed')),
    user_id          TEXT REFERENCES users (id) ON DELETE CASCADE,
    ip               TEXT NOT NULL,
    user_agent       TEXT NOT NULL,
    interval_seconds INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    polled_at        INTEGER,
    decided_at       INTEGER
) STRICT;
CREATE INDEX device_authorizations_by_expiry ON device_authorizations (expires_at);
