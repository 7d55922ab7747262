-- The audit chain's links become HMAC-SHA256 under a key kept outside the database (derived from
-- the keys file), so that nobody with only the database can recompute them after an edit. The
-- schema does not change: the records written under the plain SHA-256 chain are re-linked by the
-- migration runner (`audit::key_the_chain`), which needs the keys, after checking the old chain.
SELECT 1;
