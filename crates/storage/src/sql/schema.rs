//! The schema and the database itself: migrations (with the data migrations that need Rust),
//! the health check, and SQLite's online backup.

use jiff::Timestamp;
use sqlx::AssertSqlSafe;

use super::*;
use crate::crypto::Keyring;
use crate::migrate::MIGRATIONS;
use crate::{Error, Result, Schema};

/// The key of the turn migrations take across processes.
const MIGRATION_TURN: i64 = 4242000001;

/// The tables the runner keeps: the versions applied, and the checksum of each one's text as
/// it was applied (a separate table, so that databases from before checksums need no
/// change to the first).
const RUNNER_TABLES: &str = "CREATE TABLE IF NOT EXISTS schema_migrations \
     (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL); \
     CREATE TABLE IF NOT EXISTS schema_checksums (version BIGINT PRIMARY KEY, checksum TEXT NOT NULL)";

/// A migration's text as applied, as sqlx's migrator keeps it: SHA-256, in hex.
fn checksum(sql: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(sql.as_bytes()))
}

impl SqlStore {
    /// The versions applied, after checking them against this binary's migrations: none newer
    /// than it knows, and each one's text unchanged since it was applied. A version applied
    /// before checksums were kept gets its checksum now. Creates the runner's tables if need
    /// be (in `tx`: a dry run rolls them back).
    async fn check_applied(&self, tx: &mut WriteTx) -> Result<Vec<i64>> {
        sqlx::raw_sql(RUNNER_TABLES).execute(&mut **tx).await?;
        let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
            .fetch_all(&mut **tx)
            .await?;
        let binary = MIGRATIONS.last().map_or(0, |m| m.version);
        if let Some(&database) = done.iter().max()
            && database > binary
        {
            return Err(Error::SchemaNewer { database, binary });
        }
        let recorded: Vec<(i64, String)> =
            sqlx::query_as("SELECT version, checksum FROM schema_checksums")
                .fetch_all(&mut **tx)
                .await?;
        for m in MIGRATIONS.iter().filter(|m| done.contains(&m.version)) {
            let now = checksum(self.backend.migration_sql(m));
            match recorded.iter().find(|(v, _)| *v == m.version) {
                Some((_, kept)) if *kept != now => {
                    return Err(Error::MigrationChanged {
                        version: m.version,
                        name: m.name,
                        recorded: kept.clone(),
                        now,
                    });
                }
                Some(_) => {}
                None => {
                    sqlx::query("INSERT INTO schema_checksums (version, checksum) VALUES ($1, $2)")
                        .bind(m.version)
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(done)
    }

    /// The newest migration applied to this database, read without changing anything (a
    /// backup is checked before it replaces a database); `None` for one never migrated.
    pub async fn schema_version(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar::<_, Option<i64>>("SELECT max(version) FROM schema_migrations")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// The migrations `migrate` would apply, in order, after the same checks; changes
    /// nothing (`duban migrate --dry-run`).
    pub async fn pending_migrations(&self) -> Result<Vec<(i64, &'static str)>> {
        let mut tx = self.begin().await?;
        let done = self.check_applied(&mut tx).await;
        tx.rollback().await?;
        let done = done?;
        Ok(MIGRATIONS
            .iter()
            .filter(|m| !done.contains(&m.version))
            .map(|m| (m.version, m.name))
            .collect())
    }

    /// An online, consistent copy of an SQLite database into `path` (`VACUUM INTO`), in the
    /// page size the store's connections ask for (`sqlite_options`). PostgreSQL is backed up
    /// with its own tool, `pg_dump`.
    pub async fn sqlite_backup(&self, path: &std::path::Path) -> Result<()> {
        if self.backend.online_copy() != OnlineCopy::VacuumInto {
            return Err(Error::Url(
                "VACUUM INTO is for SQLite; this database is copied with its own tools".into(),
            ));
        }
        let path = path
            .to_str()
            .ok_or_else(|| Error::Url("the backup path must be UTF-8".into()))?;
        // Created empty and private first, which VACUUM INTO accepts: the copy holds everything
        // the database does and must be no more readable than it.
        crate::private::create_private(std::path::Path::new(path))?;
        // A path is not a bindable value in VACUUM INTO; quote it as an SQL string literal.
        let sql = format!("VACUUM INTO '{}'", path.replace('\'', "''"));
        if let Err(e) = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&self.pool).await {
            // No empty file left behind: the next backup would refuse to overwrite it.
            let _ = std::fs::remove_file(path);
            return Err(e.into());
        }
        Ok(())
    }
}

impl Schema for SqlStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<Vec<i64>> {
        let mut tx = self.begin().await?;
        // Several processes starting at once: one migrates, the others wait and find it done.
        if let Some(turn) = self.backend.turn_across_processes(MIGRATION_TURN) {
            sqlx::raw_sql(AssertSqlSafe(turn)).execute(&mut *tx).await?;
        }
        let done = self.check_applied(&mut tx).await?;
        let mut applied = Vec::new();
        for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
            let sql = self.backend.migration_sql(m);
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(ms(Timestamp::now()))
            .execute(&mut *tx)
            .await?;
            // A migration applied again (its version row removed by hand) records its text
            // afresh.
            sqlx::query(
                "INSERT INTO schema_checksums (version, checksum) VALUES ($1, $2) \
                 ON CONFLICT (version) DO UPDATE SET checksum = excluded.checksum",
            )
            .bind(m.version)
            .bind(checksum(sql))
            .execute(&mut *tx)
            .await?;
            applied.push(m.version);
        }
        // Every case's projection and figures rebuilt from its events: when they were first
        // kept (7), when what they count changed (20: late extensions), and when deputies'
        // ratings began to be kept beside them (22), and when the steps the workflow files'
        // report sections count began to be kept (23).
        if [7, 20, 22, 23].iter().any(|v| applied.contains(v)) {
            Self::refold_cases(&mut tx).await?;
        }
        // Data migrations that rewrite what is append-only, each recorded in the audit log.
        let audit_key = self.keys.as_ref().map(Keyring::audit_key);
        let mut remasked = 0;
        if applied.contains(&12) {
            crate::audit::key_the_chain(&mut tx, audit_key).await?;
        }
        if applied.contains(&13) {
            remasked = crate::remask::remask_events(&mut tx, audit_key).await?;
        }
        tx.commit().await?;
        if remasked > 0 {
            // The unmasked text must not outlive the rewrite on disk: SQLite zeroed what it
            // freed (secure_delete, in the migration), and the log's old frames go with a
            // truncating checkpoint; PostgreSQL's old row versions go when the table is
            // rewritten. Backups taken before still hold it (docs/operations.md).
            sqlx::raw_sql(AssertSqlSafe(compact(self.backend, "case_events")))
                .execute(&self.pool)
                .await?;
        }
        Ok(applied)
    }
}
