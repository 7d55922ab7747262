-- Bearer tokens, the notification inbox, the record of personal-data reveals, and the index
-- behind staff's list of all cases. SQLite dialect; ../postgres/ has the same tables.

-- Tokens are stored as SHA-256 hashes: a leaked table grants no access. `id` is public and
-- names a token for listing and revoking.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL REFERENCES users (login),
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX tokens_login ON tokens (login, created_at);

-- Each person's reminder inbox, written by the scheduler when a reminder is delivered.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    reminder_key TEXT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    escalate INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX notifications_recipient ON notifications (recipient, created_at, id);

-- Every full view of a case's personal data: who, when, which fields, and why.
CREATE TABLE personal_data_access (
    case_id TEXT NOT NULL REFERENCES cases (id),
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    fields TEXT NOT NULL,
    reason TEXT NOT NULL,
    request_id TEXT
);
CREATE INDEX personal_data_access_case ON personal_data_access (case_id, at);

CREATE INDEX cases_filed ON cases (filed_at, id);
