-- Administration without a shell: people and organisations disabled rather than deleted, a
-- password an administrator reset, and tokens that expire. SQLite dialect; ../postgres/ has the same.

-- Nothing is deleted: histories keep the names they recorded, so a leaver is disabled. A
-- disabled person, or anyone of a disabled organisation, cannot sign in or use a token.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
ALTER TABLE orgs ADD COLUMN disabled_at INTEGER;
-- Set when an administrator resets a password: the person must choose a new one at their next
-- sign-in, so that the administrator never knows the password in use.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
-- A token may be given for a while only (a contractor, an integration on trial).
ALTER TABLE tokens ADD COLUMN expires_at INTEGER;

-- A notice about no case: an administrator's role changed, and every other administrator is
-- told. SQLite cannot drop a NOT NULL in place: the table is rebuilt under the same name, with
-- its indexes.
CREATE TABLE notifications_copy AS SELECT * FROM notifications;
DROP TABLE notifications;
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    case_id TEXT REFERENCES cases (id),
    reminder_key TEXT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    escalate INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
INSERT INTO notifications SELECT * FROM notifications_copy;
DROP TABLE notifications_copy;
CREATE INDEX notifications_recipient ON notifications (recipient, created_at, id);
CREATE INDEX notifications_unread ON notifications (recipient) WHERE read_at IS NULL;
CREATE INDEX notifications_case ON notifications (case_id, created_at);
