-- Bearer tokens, the notification inbox, the record of personal-data reveals, and the index
-- behind staff's list of all cases. PostgreSQL dialect; ../sqlite/ has the same tables.

-- Tokens are stored as SHA-256 hashes: a leaked table grants no access. `id` is public and
-- names a token for listing and revoking.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL REFERENCES users (login),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
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
    escalate BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_recipient ON notifications (recipient, created_at, id);

-- Every full view of a case's personal data: who, when, which fields, and why.
CREATE TABLE personal_data_access (
    case_id TEXT NOT NULL REFERENCES cases (id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    fields TEXT NOT NULL,
    reason TEXT NOT NULL,
    request_id TEXT
);
CREATE INDEX personal_data_access_case ON personal_data_access (case_id, at);

CREATE INDEX cases_filed ON cases (filed_at, id);
