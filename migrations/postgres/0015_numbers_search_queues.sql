-- Case numbers people can quote (建议〔2024〕007号), unique within a kind: the sequence of each
-- kind and year is one row, taken in the filing's own transaction (its row lock orders
-- concurrent filings, in one process or several).
ALTER TABLE cases ADD COLUMN number TEXT;
CREATE UNIQUE INDEX cases_number ON cases (kind, number) WHERE number IS NOT NULL;
-- The cases from before numbers, which start-up numbers and indexes in filing order: found
-- without reading the others, and gone from the index as each gets its number.
CREATE INDEX cases_unnumbered ON cases (filed_at, id) WHERE number IS NULL;
CREATE TABLE case_numbers (
    kind TEXT NOT NULL,
    year BIGINT NOT NULL,
    last BIGINT NOT NULL,
    PRIMARY KEY (kind, year)
);

-- Search by any substring of two or more characters of a case's number, title and body, on
-- pg_trgm's GIN indexes. Trigrams find three characters and more; two characters, common words
-- in Chinese, are found in `pairs`, which holds each distinct pair of the text between bars
-- (|道路|路交|): `LIKE '%|道路|%'` then has the trigrams `|道路` and `道路|` to look up.
-- Creating the extension needs a role allowed to; if this fails, run
-- `CREATE EXTENSION pg_trgm;` as a superuser in this database and start duban again.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE case_search (
    case_id TEXT PRIMARY KEY REFERENCES cases (id),
    doc TEXT NOT NULL,
    pairs TEXT NOT NULL
);
CREATE INDEX case_search_doc ON case_search USING gin (doc gin_trgm_ops);
CREATE INDEX case_search_pairs ON case_search USING gin (pairs gin_trgm_ops);

-- A notice of what happened (新交办) rides on the reminders' outbox, with its headline.
ALTER TABLE reminders ADD COLUMN headline TEXT;

-- The unread count in every page's header is one index range.
CREATE INDEX notifications_unread ON notifications (recipient) WHERE read_at IS NULL;
