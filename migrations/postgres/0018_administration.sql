-- Administration without a shell: people and organisations disabled rather than deleted, a
-- password an administrator reset, and tokens that expire. PostgreSQL dialect; ../sqlite/ has the same.

-- Nothing is deleted: histories keep the names they recorded, so a leaver is disabled. A
-- disabled person, or anyone of a disabled organisation, cannot sign in or use a token.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
ALTER TABLE orgs ADD COLUMN disabled_at BIGINT;
-- Set when an administrator resets a password: the person must choose a new one at their next
-- sign-in, so that the administrator never knows the password in use.
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
-- A token may be given for a while only (a contractor, an integration on trial).
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;

-- A notice about no case: an administrator's role changed, and every other administrator is
-- told.
ALTER TABLE notifications ALTER COLUMN case_id DROP NOT NULL;
