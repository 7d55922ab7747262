-- Group robots (企业微信, 钉钉) as organisations' contacts, people's mobile numbers for SMS,
-- and the channels' deliveries. SQLite dialect; ../postgres/ has the same.

-- A WeCom group robot's address (it carries the robot's key) and a DingTalk custom robot's
-- address with its signing secret, encrypted like the webhook's (`KEYID:NONCE:CIPHERTEXT`).
ALTER TABLE orgs ADD COLUMN wecom_url TEXT;
ALTER TABLE orgs ADD COLUMN dingtalk_url TEXT;
ALTER TABLE orgs ADD COLUMN dingtalk_secret TEXT;

-- A person's mobile number is personal data: encrypted with the data key, and shown masked.
-- SMS costs money and wakes people: it goes only to those who agreed to it.
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN phone_masked TEXT;
ALTER TABLE users ADD COLUMN sms_opt_in INTEGER NOT NULL DEFAULT 0;

-- SQLite cannot change a CHECK in place: the table is rebuilt under the same name. The
-- attempts' foreign keys are checked at commit (deferred), when every delivery is back.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE deliveries_copy AS SELECT * FROM deliveries;
DROP TABLE deliveries;
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    reminder_key TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook', 'wecom', 'dingtalk', 'sms')),
    -- For SMS, the person's login: the number stays encrypted in `users` until it is sent.
    address TEXT NOT NULL,
    org_code TEXT,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'claimed', 'sent', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
INSERT INTO deliveries SELECT * FROM deliveries_copy;
DROP TABLE deliveries_copy;
CREATE INDEX deliveries_due ON deliveries (channel, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_claimed ON deliveries (lease_expires_at) WHERE status = 'claimed';
CREATE INDEX deliveries_dead ON deliveries (created_at) WHERE status = 'dead';
CREATE INDEX deliveries_case ON deliveries (case_id, created_at);
-- The daily SMS cap counts one person's messages of one day.
CREATE INDEX deliveries_address ON deliveries (channel, address, created_at);
