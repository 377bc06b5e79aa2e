-- Leaked-credential reports (P3, issue 13) name a client secret by itself:
-- its keyed hash finds it without the account.
CREATE INDEX client_secrets_by_hash ON client_secrets (hash);
