-- Organization policy (P1, issue 13). Zero is the default of each: no cap,
-- no maximum lifetime, public tokens and imports allowed (the flags are
-- stored negated so that the default is false).
ALTER TABLE orgs
    ADD COLUMN max_token_ttl_seconds integer NOT NULL DEFAULT 0,
    ADD COLUMN api_token_max_lifetime_seconds integer NOT NULL DEFAULT 0,
    ADD COLUMN no_public_tokens boolean NOT NULL DEFAULT false,
    ADD COLUMN no_user_token_import boolean NOT NULL DEFAULT false;
