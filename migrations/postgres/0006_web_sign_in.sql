-- Web sign-in: a password per user (an argon2id PHC string), the count of consecutive failed
-- sign-ins and the lock they cause, and browser sessions (stored by the SHA-256 of the cookie,
-- so a copy of the database does not hold live sessions).
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN password_changed_at BIGINT;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until BIGINT;

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL REFERENCES users (login),
    csrf TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_login ON sessions (login);
