-- Group robots (企业微信, 钉钉) as organisations' contacts, people's mobile numbers for SMS,
-- and the channels' deliveries. PostgreSQL dialect; ../sqlite/ has the same.

-- A WeCom group robot's address (it carries the robot's key) and a DingTalk custom robot's
-- address with its signing secret, encrypted like the webhook's (`KEYID:NONCE:CIPHERTEXT`).
ALTER TABLE orgs ADD COLUMN wecom_url TEXT;
ALTER TABLE orgs ADD COLUMN dingtalk_url TEXT;
ALTER TABLE orgs ADD COLUMN dingtalk_secret TEXT;

-- A person's mobile number is personal data: encrypted with the data key, and shown masked.
-- SMS costs money and wakes people: it goes only to those who agreed to it.
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN phone_masked TEXT;
ALTER TABLE users ADD COLUMN sms_opt_in BIGINT NOT NULL DEFAULT 0;

-- For SMS, a delivery's address is the person's login: the number stays encrypted in `users`
-- until it is sent.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check
    CHECK (channel IN ('email', 'webhook', 'wecom', 'dingtalk', 'sms'));
-- The daily SMS cap counts one person's messages of one day.
CREATE INDEX deliveries_address ON deliveries (channel, address, created_at);
