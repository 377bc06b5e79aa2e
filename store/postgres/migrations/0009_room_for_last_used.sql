-- Last-used times (A8) are written in place, a few thousand rows at each
-- usage flush, at random among millions. An UPDATE that changes no indexed
-- column is a heap-only (HOT) update, touching no index, only when the
-- row's page has room for the new version: pages filled to the brim (COPY,
-- or years of inserts) made every such update a new row version on another
-- page plus an entry in each of the table's seven indexes, which is what
-- slowed a cold /check over ten million tokens (tollgate-bench scale: 1.2%
-- of the updates were HOT). A fifth of each page is left free for them.
-- This applies to pages written from now on; VACUUM FULL rewrites the rest.

ALTER TABLE api_tokens SET (fillfactor = 80);
ALTER TABLE service_accounts SET (fillfactor = 80);
