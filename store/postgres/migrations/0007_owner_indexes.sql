-- The tokens of one owner are listed in the order of the list, through
-- the index of that owner: a filter by owner read every token of the org
-- before (tollgate-bench scale), and sorted a user's.

DROP INDEX api_tokens_by_account;
CREATE INDEX api_tokens_by_account ON api_tokens (service_account_id, created_at, id);
DROP INDEX api_tokens_by_user;
CREATE INDEX api_tokens_by_user ON api_tokens (org_id, user_id, created_at, id);
