-- Duban schema, SQLite dialect. The same tables and columns as ../postgres/0001_initial.sql;
-- instants are INTEGER milliseconds since the Unix epoch (UTC) in both dialects, flags are 0/1.

CREATE TABLE orgs (
    code TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('department', 'station', 'court', 'committee')),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    login TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    org_code TEXT REFERENCES orgs (code),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- The projection of each case's events; `projection` holds the whole case as JSON, the other
-- columns are copies that the lists filter and sort on.
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    workflow_version INTEGER NOT NULL,
    workflow_digest TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    is_open INTEGER NOT NULL,
    is_key INTEGER NOT NULL DEFAULT 0,
    year INTEGER NOT NULL,
    filed_at INTEGER NOT NULL,
    entered_at INTEGER NOT NULL,
    -- The current deadline's end, or the largest INTEGER when the state has none, so that
    -- keyset pagination by (due_key, id) needs no NULL handling.
    due_key INTEGER NOT NULL,
    due_date TEXT,
    filer TEXT NOT NULL,
    supervisor TEXT,
    idempotency_key TEXT,
    request_hash TEXT,
    projection TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (filer, idempotency_key)
);
CREATE INDEX cases_open_due ON cases (due_key, id) WHERE is_open = 1;
CREATE INDEX cases_key ON cases (filed_at, id) WHERE is_key = 1;
CREATE INDEX cases_kind_year ON cases (kind, year, filed_at, id);

-- Who fills each party of a case (filer, cosigners, station, lead_department, co_departments,
-- supervisor, mediators, court …), with copies of the case's open flag and due key so that a
-- department's inbox or a deputy's list is one index range.
CREATE TABLE case_parties (
    case_id TEXT NOT NULL REFERENCES cases (id),
    party TEXT NOT NULL,
    member TEXT NOT NULL,
    is_open INTEGER NOT NULL,
    due_key INTEGER NOT NULL,
    filed_at INTEGER NOT NULL,
    PRIMARY KEY (case_id, party, member)
);
CREATE INDEX case_parties_member ON case_parties (member, filed_at, case_id);
CREATE INDEX case_parties_open ON case_parties (member, due_key, case_id) WHERE is_open = 1;

-- The append-only history. `detail` holds what the event set (parties, deadline, duties).
CREATE TABLE case_events (
    case_id TEXT NOT NULL REFERENCES cases (id),
    seq INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_org TEXT,
    on_behalf_of TEXT,
    at INTEGER NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    payload TEXT NOT NULL,
    detail TEXT NOT NULL,
    request_id TEXT,
    PRIMARY KEY (case_id, seq)
);
CREATE INDEX case_events_at ON case_events (case_id, at);

CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case_events is append-only: events are never updated');
END;

CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case_events is append-only: events are never deleted');
END;

-- Reminders written in the same transaction as the action that starts or stops a clock.
-- `duty` is '' for the state's own deadline.
CREATE TABLE reminders (
    case_id TEXT NOT NULL REFERENCES cases (id),
    reminder_key TEXT NOT NULL,
    state TEXT NOT NULL,
    duty TEXT NOT NULL,
    rule INTEGER NOT NULL,
    fire_at INTEGER NOT NULL,
    due_date TEXT,
    notify TEXT NOT NULL,
    repeat_every_days INTEGER,
    escalate INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'cancelled', 'claimed', 'sent', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (case_id, reminder_key)
);
CREATE INDEX reminders_pending ON reminders (fire_at) WHERE status = 'pending';

-- Constituents' personal data, encrypted (AES-256-GCM); `id_number_hash` is a keyed hash of
-- the ID number (blind index) to find repeat petitions without decrypting.
CREATE TABLE personal_data (
    case_id TEXT NOT NULL REFERENCES cases (id),
    seq INTEGER NOT NULL,
    field TEXT NOT NULL,
    key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    id_number_hash TEXT,
    PRIMARY KEY (case_id, seq, field)
);
CREATE INDEX personal_data_id_hash ON personal_data (id_number_hash) WHERE id_number_hash IS NOT NULL;
