-- Search (issue 12, item 4): a list searched by a name prefix reads one
-- range of an index in name order, lower(name) >= q AND lower(name) < q'
-- (q' being q with its last character incremented), and stops at a page:
-- never a scan, whatever the table's size. lower() folds ASCII letters
-- only, as tollgate.FoldCase does. Service accounts range over the unique
-- (org_id, lower(name)) index of 0002. A member search reads the org's
-- members (people, bounded by the org) through their primary key.

CREATE INDEX api_tokens_by_name ON api_tokens (org_id, lower(name), id);
