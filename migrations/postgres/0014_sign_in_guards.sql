-- Wrong passwords and locks are kept per login as typed, whether or not a user has it: an
-- unknown login is counted and locked like a known one, so the answers cannot tell them apart.
-- Each attempt claims its place here in one statement before any password is checked, so that
-- parallel guesses cannot pass the lock. The counts move from `users` to this table.
CREATE TABLE sign_in_guards (
    login TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until BIGINT,
    -- The latest attempt: a count with no attempt for a day is forgotten (and its row purged),
    -- so guesses at logins that do not exist leave nothing behind for long.
    last_at BIGINT NOT NULL DEFAULT 0
);
INSERT INTO sign_in_guards (login, failures, locked_until, last_at)
SELECT login, failed_logins, locked_until, (extract(epoch FROM now()) * 1000)::bigint FROM users
WHERE failed_logins > 0 OR locked_until IS NOT NULL;
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;
