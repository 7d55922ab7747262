-- The audit chain's links become HMAC-SHA256 under a key kept outside the database (derived from
-- the keys file), so that nobody with only the database can recompute them after an edit. The
-- anchor left by pruning is keyed too, or the oldest records could be deleted and the anchor
-- moved past them. The records written under the plain SHA-256 chain, and an anchor, are
-- re-linked by the migration runner (`audit::key_the_chain`), which needs the keys, after
-- checking the old chain.
ALTER TABLE audit_anchor ADD COLUMN mac TEXT;
