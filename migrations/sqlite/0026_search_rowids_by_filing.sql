-- A search over every case, in the order of filing, finds where its page lies in the
-- full-text index's own order instead of reading every row its words match: each row's rowid
-- is now the second its case was filed in times 2^29, plus its place among that second's rows
-- (`ROWIDS_PER_SECOND` and `filing_window` in crates/storage/src/sql/search.rs).
--
-- The rows are written again with such rowids, and each second's rows are counted in
-- `case_search_seconds`. New rows go in through the view `case_search_new`, whose trigger
-- counts them and gives them their rowids: looking up the seconds by key always uses it,
-- where a range over the table's rowids was scanned whole when its statistics were stale.
CREATE VIRTUAL TABLE case_search_ordered USING fts5(case_id UNINDEXED, doc, pairs, filed_at UNINDEXED, tokenize = 'trigram');
INSERT INTO case_search_ordered (rowid, case_id, doc, pairs, filed_at)
SELECT max(filed_at, 0) / 1000 * 536870912
       + row_number() OVER (PARTITION BY max(filed_at, 0) / 1000 ORDER BY filed_at, case_id) - 1,
       case_id, doc, pairs, filed_at
FROM case_search;
DROP TABLE case_search;
ALTER TABLE case_search_ordered RENAME TO case_search;

CREATE TABLE case_search_seconds (
    second INTEGER PRIMARY KEY,
    used INTEGER NOT NULL
);
INSERT INTO case_search_seconds (second, used)
SELECT max(filed_at, 0) / 1000, count(*) FROM case_search GROUP BY max(filed_at, 0) / 1000;

CREATE VIEW case_search_new (case_id, doc, pairs, filed_at) AS
SELECT case_id, doc, pairs, filed_at FROM case_search;
CREATE TRIGGER case_search_new_insert INSTEAD OF INSERT ON case_search_new BEGIN
    INSERT INTO case_search_seconds (second, used) VALUES (max(NEW.filed_at, 0) / 1000, 1)
    ON CONFLICT (second) DO UPDATE SET used = used + 1;
    INSERT INTO case_search (rowid, case_id, doc, pairs, filed_at)
    SELECT second * 536870912 + used - 1, NEW.case_id, NEW.doc, NEW.pairs, NEW.filed_at
    FROM case_search_seconds WHERE second = max(NEW.filed_at, 0) / 1000;
END;
