-- Documents attached to a case: a reply letter, a mediation agreement, what a constituent
-- brought. Kept in the database, so that a backup carries them and every `serve` process sees
-- them. SQLite dialect; ../postgres/ has the same.

-- `key_id` and `nonce` are set when the file is encrypted with the data key (whenever a key is
-- configured; always for kinds that carry personal data). Then `name` and `note` are sealed
-- too (`KEYID:NONCE:CIPHERTEXT`, hex), since a file's name can name a person.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    note TEXT,
    uploaded_by TEXT NOT NULL,
    uploaded_role TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL,
    key_id TEXT,
    nonce BLOB,
    content BLOB NOT NULL
);
CREATE INDEX attachments_case ON attachments (case_id, uploaded_at);

-- Append-only: a corrected letter is a new attachment. Key rotation lifts the update trigger
-- for its own transaction, as it does for the history.
CREATE TRIGGER attachments_no_update BEFORE UPDATE ON attachments
BEGIN
    SELECT RAISE(ABORT, 'attachments are append-only: files are never replaced');
END;

CREATE TRIGGER attachments_no_delete BEFORE DELETE ON attachments
BEGIN
    SELECT RAISE(ABORT, 'attachments are append-only: files are never deleted');
END;
