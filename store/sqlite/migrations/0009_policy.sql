-- Organization policy (P1, issue 13). Zero is the default of each: no cap,
-- no maximum lifetime, public tokens and imports allowed (the flags are
-- stored negated so that the default is 0).
ALTER TABLE orgs ADD COLUMN max_token_ttl_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN api_token_max_lifetime_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN no_public_tokens INTEGER NOT NULL DEFAULT 0 CHECK (no_public_tokens IN (0, 1));
ALTER TABLE orgs ADD COLUMN no_user_token_import INTEGER NOT NULL DEFAULT 0 CHECK (no_user_token_import IN (0, 1));
