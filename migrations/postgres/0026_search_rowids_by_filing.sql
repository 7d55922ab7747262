-- Nothing changes on PostgreSQL. On SQLite the full-text index's rowids now run in the order
-- of filing, so that a search finds its page in the index's own order; PostgreSQL's trigram
-- index yields an unordered bitmap of rows, each of which is read to be checked anyway.
SELECT 1;
