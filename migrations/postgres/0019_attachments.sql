-- Documents attached to a case: a reply letter, a mediation agreement, what a constituent
-- brought. Kept in the database, so that a backup carries them and every `serve` process sees
-- them. PostgreSQL dialect; ../sqlite/ has the same.

-- `key_id` and `nonce` are set when the file is encrypted with the data key (whenever a key is
-- configured; always for kinds that carry personal data). Then `name` and `note` are sealed
-- too (`KEYID:NONCE:CIPHERTEXT`, hex), since a file's name can name a person.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    note TEXT,
    uploaded_by TEXT NOT NULL,
    uploaded_role TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    key_id TEXT,
    nonce BYTEA,
    content BYTEA NOT NULL
);
CREATE INDEX attachments_case ON attachments (case_id, uploaded_at);

-- Append-only: a corrected letter is a new attachment. Key rotation disables the trigger for
-- its own transaction, as it does for the history.
CREATE FUNCTION attachments_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'attachments are append-only: % is refused', TG_OP;
END;
$$;

CREATE TRIGGER attachments_no_update BEFORE UPDATE OR DELETE ON attachments
FOR EACH ROW EXECUTE FUNCTION attachments_append_only();

CREATE TRIGGER attachments_no_truncate BEFORE TRUNCATE ON attachments
FOR EACH STATEMENT EXECUTE FUNCTION attachments_append_only();
