//! The security audit log: an append-only chain of records, each hashed with the one before, so
//! that tampering anywhere is detected by [`Audit::verify_audit`].

use std::future::Future;

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::sql::{Backend, from_ms, ms};
use crate::{Result, SqlStore};

/// One security event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at: Timestamp,
    /// The user, or `-` when unknown (a bad token).
    pub actor: String,
    pub role: String,
    /// The client address, or `cli` for the command line.
    pub source: String,
    /// `token_created`, `token_revoked`, `auth_failed`, `denied`, `reveal`, `export`, `backup`,
    /// `restore`, `keys_rotated` …
    pub action: String,
    /// What it was about (a case id, a token id, a kind and year).
    pub target: String,
    /// `ok` or `refused`.
    pub outcome: String,
    pub detail: String,
}

/// The first record's predecessor.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of a record: SHA-256 over the previous hash and every field, length-prefixed so that
/// no two different records hash alike.
pub fn chain_hash(prev: &str, seq: i64, r: &AuditRecord) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &seq.to_string(),
        &ms(r.at).to_string(),
        &r.actor,
        &r.role,
        &r.source,
        &r.action,
        &r.target,
        &r.outcome,
        &r.detail,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every record links to the one before: `records` checked.
    Intact { records: u64 },
    /// The chain breaks at this record.
    Broken { seq: i64, reason: String },
}

pub trait Audit: Send + Sync {
    /// Appends a record to the chain.
    fn audit(&self, record: &AuditRecord) -> impl Future<Output = Result<()>> + Send;
    /// Recomputes the whole chain.
    fn verify_audit(&self) -> impl Future<Output = Result<Verdict>> + Send;
    /// Deletes records older than `before`, keeping the chain verifiable from an anchor (the
    /// last deleted record's number and hash). Returns how many were deleted.
    fn prune_audit(&self, before: Timestamp) -> impl Future<Output = Result<u64>> + Send;
    /// The newest records, newest first.
    fn audit_tail(
        &self,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(i64, AuditRecord)>>> + Send;
}

fn record(r: &sqlx::any::AnyRow) -> Result<(i64, AuditRecord)> {
    Ok((
        r.try_get("seq")?,
        AuditRecord {
            at: from_ms(r.try_get("at")?)?,
            actor: r.try_get("actor")?,
            role: r.try_get("role")?,
            source: r.try_get("source")?,
            action: r.try_get("action")?,
            target: r.try_get("target")?,
            outcome: r.try_get("outcome")?,
            detail: r.try_get("detail")?,
        },
    ))
}

impl Audit for SqlStore {
    async fn audit(&self, r: &AuditRecord) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if self.backend() == Backend::Postgres {
            // Appends take turns, so that each links to the one committed before it.
            sqlx::raw_sql("SELECT pg_advisory_xact_lock(4242000002)")
                .execute(&mut *tx)
                .await?;
        }
        let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let (prev_seq, prev_hash) = match last {
            Some(row) => (
                row.try_get::<i64, _>("seq")?,
                row.try_get::<String, _>("hash")?,
            ),
            None => (0, GENESIS.to_string()),
        };
        let seq = prev_seq + 1;
        let hash = chain_hash(&prev_hash, seq, r);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, role, source, action, target, outcome, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(seq)
        .bind(ms(r.at))
        .bind(r.actor.clone())
        .bind(r.role.clone())
        .bind(r.source.clone())
        .bind(r.action.clone())
        .bind(r.target.clone())
        .bind(r.outcome.clone())
        .bind(r.detail.clone())
        .bind(prev_hash)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn verify_audit(&self) -> Result<Verdict> {
        let rows = sqlx::query("SELECT seq, at, actor, role, source, action, target, outcome, detail, prev_hash, hash FROM audit_log ORDER BY seq")
            .fetch_all(self.pool())
            .await?;
        // After pruning, the chain starts at the anchor.
        let anchor = sqlx::query("SELECT seq, hash FROM audit_anchor WHERE id = 1")
            .fetch_optional(self.pool())
            .await?;
        let (first, mut prev) = match anchor {
            Some(a) => (
                a.try_get::<i64, _>("seq")? + 1,
                a.try_get::<String, _>("hash")?,
            ),
            None => (1, GENESIS.to_string()),
        };
        for (expected_seq, row) in (first..).zip(rows.iter()) {
            let (seq, r) = record(row)?;
            let stored_prev: String = row.try_get("prev_hash")?;
            let stored: String = row.try_get("hash")?;
            if seq != expected_seq {
                return Ok(Verdict::Broken {
                    seq,
                    reason: format!("record {expected_seq} is missing"),
                });
            }
            if stored_prev != prev {
                return Ok(Verdict::Broken {
                    seq,
                    reason: "it does not link to the record before it".into(),
                });
            }
            if chain_hash(&prev, seq, &r) != stored {
                return Ok(Verdict::Broken {
                    seq,
                    reason: "its contents do not match its hash".into(),
                });
            }
            prev = stored;
        }
        Ok(Verdict::Intact {
            records: rows.len() as u64,
        })
    }

    async fn prune_audit(&self, before: Timestamp) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let last =
            sqlx::query("SELECT seq, hash FROM audit_log WHERE at < $1 ORDER BY seq DESC LIMIT 1")
                .bind(ms(before))
                .fetch_optional(&mut *tx)
                .await?;
        let Some(last) = last else {
            tx.rollback().await?;
            return Ok(0);
        };
        let (seq, hash): (i64, String) = (last.try_get("seq")?, last.try_get("hash")?);
        // The append-only trigger is lifted for this transaction only: pruning under the
        // retention setting is the one deletion the log allows.
        let (off, on) = match self.backend() {
            Backend::Postgres => (
                "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
                "ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update",
            ),
            Backend::Sqlite => (
                "DROP TRIGGER audit_log_no_delete",
                "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
                 BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: records are never deleted'); END",
            ),
        };
        sqlx::raw_sql(off).execute(&mut *tx).await?;
        let deleted = sqlx::query("DELETE FROM audit_log WHERE seq <= $1")
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        sqlx::raw_sql(on).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO audit_anchor (id, seq, hash, pruned_at) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, pruned_at = excluded.pruned_at",
        )
        .bind(seq)
        .bind(hash)
        .bind(ms(Timestamp::now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(deleted.rows_affected())
    }

    async fn audit_tail(&self, limit: u32) -> Result<Vec<(i64, AuditRecord)>> {
        let rows = sqlx::query("SELECT seq, at, actor, role, source, action, target, outcome, detail FROM audit_log ORDER BY seq DESC LIMIT $1")
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(record).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_depends_on_every_field_and_the_predecessor() {
        let r = AuditRecord {
            at: Timestamp::UNIX_EPOCH,
            actor: "a".into(),
            role: "staff".into(),
            source: "cli".into(),
            action: "export".into(),
            target: "petition 2024".into(),
            outcome: "ok".into(),
            detail: String::new(),
        };
        let base = chain_hash(GENESIS, 1, &r);
        assert_ne!(base, chain_hash(GENESIS, 2, &r));
        assert_ne!(base, chain_hash(&"1".repeat(64), 1, &r));
        let mut other = r.clone();
        other.detail = "x".into();
        assert_ne!(base, chain_hash(GENESIS, 1, &other));
        // Moving characters between fields changes the hash too.
        let mut shifted = r.clone();
        shifted.actor = "as".into();
        shifted.role = "taff".into();
        assert_ne!(base, chain_hash(GENESIS, 1, &shifted));
    }
}
