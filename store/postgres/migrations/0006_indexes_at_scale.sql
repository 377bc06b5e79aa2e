-- Indexes for what scanned whole tables: pruning sessions, and the CORS
-- preflight's "does any public token list this origin" (domains ? origin,
-- which a GIN index over public tokens' domains answers).

CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_browser_by_last_seen ON sessions (last_seen_at) WHERE kind = 'browser';
CREATE INDEX api_tokens_public_domains ON api_tokens USING gin (domains) WHERE kind = 'public';
