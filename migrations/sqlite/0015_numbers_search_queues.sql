-- Case numbers people can quote (建议〔2024〕007号), unique within a kind: the sequence of each
-- kind and year is one row, taken in the filing's own transaction.
ALTER TABLE cases ADD COLUMN number TEXT;
CREATE UNIQUE INDEX cases_number ON cases (kind, number) WHERE number IS NOT NULL;
-- The cases from before numbers, which start-up numbers and indexes in filing order: found
-- without reading the others, and gone from the index as each gets its number.
CREATE INDEX cases_unnumbered ON cases (filed_at, id) WHERE number IS NULL;
CREATE TABLE case_numbers (
    kind TEXT NOT NULL,
    year INTEGER NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (kind, year)
);

-- Search by any substring of two or more characters of a case's number, title and body. The
-- trigram tokenizer finds three characters and more; two characters, common words in Chinese,
-- are found in `pairs`, which holds each distinct pair of the text between bars (|道路|路交|):
-- the three characters `|道路` and `道路|` are then in the same index.
CREATE VIRTUAL TABLE case_search USING fts5(case_id UNINDEXED, doc, pairs, tokenize = 'trigram');

-- A notice of what happened (新交办) rides on the reminders' outbox, with its headline.
ALTER TABLE reminders ADD COLUMN headline TEXT;

-- The unread count in every page's header is one index range.
CREATE INDEX notifications_unread ON notifications (recipient) WHERE read_at IS NULL;

-- Whose move it is (the `awaiting` party) follows the case's deadline too, for the queues.
DROP TRIGGER cases_inbox_copy;
CREATE TRIGGER cases_inbox_copy AFTER UPDATE OF is_open, due_key ON cases
WHEN old.is_open <> new.is_open OR old.due_key <> new.due_key
BEGIN
    UPDATE case_parties SET is_open = new.is_open, due_key = new.due_key
    WHERE case_id = new.id AND party IN ('lead_department', 'co_departments', 'awaiting');
END;
