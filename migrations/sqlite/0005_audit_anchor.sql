-- Where the audit chain starts after old records were pruned under the retention setting: the
-- last pruned record's number and hash, so that what remains still verifies.
CREATE TABLE audit_anchor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    pruned_at INTEGER NOT NULL
);
