-- Reminder delivery: contact details, e-mail and webhook deliveries as claimable jobs, and a
-- record of every attempt. PostgreSQL dialect; ../sqlite/ has the same tables.

ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE orgs ADD COLUMN email TEXT;
ALTER TABLE orgs ADD COLUMN webhook_url TEXT;
-- The webhook's HMAC secret, encrypted with the personal-data key (`KEYID:NONCE:CIPHERTEXT`, hex).
ALTER TABLE orgs ADD COLUMN webhook_secret TEXT;

-- One message to one address over one channel. `id` is derived from the reminder occurrence,
-- channel and address, so enqueueing twice is a no-op; it is also the idempotency key the
-- receiver sees.
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    reminder_key TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    address TEXT NOT NULL,
    org_code TEXT,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'claimed', 'sent', 'dead')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX deliveries_due ON deliveries (channel, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_claimed ON deliveries (lease_expires_at) WHERE status = 'claimed';
CREATE INDEX deliveries_dead ON deliveries (created_at) WHERE status = 'dead';

CREATE TABLE delivery_attempts (
    delivery_id TEXT NOT NULL REFERENCES deliveries (id),
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    owner TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'failed', 'dead')),
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE INDEX reminders_claimed ON reminders (lease_expires_at) WHERE status = 'claimed';

-- Resolving "the lead department" or "role:leader" to people.
CREATE INDEX users_org ON users (org_code);
CREATE INDEX users_role ON users (role);
