-- Indexes for what scanned whole tables (TestQueriesUseIndexes): pruning
-- sessions, and the CORS preflight's "does any public token list this
-- origin", which now reads api_token_origins, kept by triggers from each
-- public token's domains.

CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_browser_by_last_seen ON sessions (last_seen_at) WHERE kind = 'browser';

CREATE TABLE api_token_origins (
    origin   TEXT NOT NULL,
    token_id TEXT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    PRIMARY KEY (origin, token_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX api_token_origins_by_token ON api_token_origins (token_id);

INSERT OR IGNORE INTO api_token_origins (origin, token_id)
    SELECT json_each.value, api_tokens.id FROM api_tokens, json_each(api_tokens.domains) WHERE api_tokens.kind = 'public';

CREATE TRIGGER api_token_origins_insert AFTER INSERT ON api_tokens WHEN NEW.kind = 'public' BEGIN
    INSERT OR IGNORE INTO api_token_origins (origin, token_id) SELECT value, NEW.id FROM json_each(NEW.domains);
END;

CREATE TRIGGER api_token_origins_update AFTER UPDATE OF domains, kind ON api_tokens BEGIN
    DELETE FROM api_token_origins WHERE token_id = NEW.id;
    INSERT OR IGNORE INTO api_token_origins (origin, token_id) SELECT value, NEW.id FROM json_each(NEW.domains) WHERE NEW.kind = 'public';
END;
