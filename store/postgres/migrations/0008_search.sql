-- Search (issue 12, item 4): a list searched by a name prefix reads one
-- range of an index in name order, lower(name) >= q AND lower(name) < q'
-- (q' being q with its last character incremented), and stops at a page:
-- never a scan, whatever the table's size. The expressions are in the "C"
-- collation: it orders by byte, so that a prefix is one range whatever the
-- database's collation, and its lower() folds ASCII letters only, as
-- tollgate.FoldCase and SQLite do. A member search reads the org's members
-- (people, bounded by the org) through their primary key.

CREATE INDEX service_accounts_by_name ON service_accounts (org_id, lower(name COLLATE "C"), id);
CREATE INDEX api_tokens_by_name ON api_tokens (org_id, lower(name COLLATE "C"), id);
