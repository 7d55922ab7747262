//! Web sign-in records: each user's password hash, consecutive failures and lock, and browser
//! sessions. Hashing and policy live in the service; this keeps the rows.

use std::future::Future;

use jiff::Timestamp;
use sqlx::Row;

use crate::sql::{from_ms, ms};
use crate::{Result, SqlStore, User};

/// What a sign-in attempt is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: User,
    /// The argon2id PHC string, or `None` when no password was ever set.
    pub password_hash: Option<String>,
    pub password_changed_at: Option<Timestamp>,
    /// Wrong passwords since the last success or lock.
    pub failed_logins: u32,
    pub locked_until: Option<Timestamp>,
}

/// A browser session, found by the SHA-256 of its cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    pub login: String,
    /// The token every form of this session must carry.
    pub csrf: String,
    /// The client address that signed in.
    pub source: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

pub trait Accounts: Send + Sync {
    /// Sets a user's password hash and clears any failures and lock. False if no such user.
    fn set_password(
        &self,
        login: &str,
        hash: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;
    fn credentials(&self, login: &str) -> impl Future<Output = Result<Option<Credentials>>> + Send;
    /// Counts one more wrong password. At `threshold` in a row the user is locked until
    /// `lock_until` and the count starts again. Returns the lock, if this failure set one.
    fn login_failed(
        &self,
        login: &str,
        threshold: u32,
        lock_until: Timestamp,
    ) -> impl Future<Output = Result<Option<Timestamp>>> + Send;
    /// A successful sign-in: failures and lock are cleared.
    fn login_succeeded(&self, login: &str) -> impl Future<Output = Result<()>> + Send;
    fn create_session(&self, s: &Session) -> impl Future<Output = Result<()>> + Send;
    /// The live session with this id hash, and its user.
    fn session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<(Session, User)>>> + Send;
    fn delete_session(&self, id_hash: &str) -> impl Future<Output = Result<()>> + Send;
    /// Every user, by role and login: for choosing people in forms.
    fn people(&self) -> impl Future<Output = Result<Vec<User>>> + Send;
    /// Removes expired sessions; returns how many.
    fn purge_sessions(&self, now: Timestamp) -> impl Future<Output = Result<u64>> + Send;
}

fn opt_ts(v: Option<i64>) -> Result<Option<Timestamp>> {
    v.map(from_ms).transpose()
}

impl Accounts for SqlStore {
    async fn set_password(&self, login: &str, hash: &str, at: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, failed_logins = 0, \
             locked_until = NULL WHERE login = $3",
        )
        .bind(hash.to_string())
        .bind(ms(at))
        .bind(login.to_string())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn credentials(&self, login: &str) -> Result<Option<Credentials>> {
        let Some(row) = sqlx::query(
            "SELECT login, role, org_code, name, password_hash, password_changed_at, \
             failed_logins, locked_until FROM users WHERE login = $1",
        )
        .bind(login.to_string())
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        Ok(Some(Credentials {
            user: crate::sql::user_from_row(&row)?,
            password_hash: row.try_get("password_hash")?,
            password_changed_at: opt_ts(row.try_get("password_changed_at")?)?,
            failed_logins: u32::try_from(row.try_get::<i32, _>("failed_logins")?).unwrap_or(0),
            locked_until: opt_ts(row.try_get("locked_until")?)?,
        }))
    }

    async fn login_failed(
        &self,
        login: &str,
        threshold: u32,
        lock_until: Timestamp,
    ) -> Result<Option<Timestamp>> {
        // One statement, so that concurrent wrong guesses cannot both read the same count.
        let row = sqlx::query(
            "UPDATE users SET \
               locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END, \
               failed_logins = CASE WHEN failed_logins + 1 >= $1 THEN 0 ELSE failed_logins + 1 END \
             WHERE login = $3 RETURNING failed_logins, locked_until",
        )
        .bind(i32::try_from(threshold).unwrap_or(i32::MAX))
        .bind(ms(lock_until))
        .bind(login.to_string())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let locked = opt_ts(row.try_get("locked_until")?)?;
        let count: i32 = row.try_get("failed_logins")?;
        Ok(if count == 0 && locked == Some(lock_until) {
            locked
        } else {
            None
        })
    }

    async fn login_succeeded(&self, login: &str) -> Result<()> {
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE login = $1")
            .bind(login.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn create_session(&self, s: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id, login, csrf, source, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(s.id_hash.clone())
        .bind(s.login.clone())
        .bind(s.csrf.clone())
        .bind(s.source.clone())
        .bind(ms(s.created_at))
        .bind(ms(s.expires_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn session(&self, id_hash: &str, now: Timestamp) -> Result<Option<(Session, User)>> {
        let Some(row) = sqlx::query(
            "SELECT s.id, s.login, s.csrf, s.source, s.created_at, s.expires_at, \
             u.role, u.org_code, u.name FROM sessions s JOIN users u ON u.login = s.login \
             WHERE s.id = $1 AND s.expires_at > $2",
        )
        .bind(id_hash.to_string())
        .bind(ms(now))
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let session = Session {
            id_hash: row.try_get("id")?,
            login: row.try_get("login")?,
            csrf: row.try_get("csrf")?,
            source: row.try_get("source")?,
            created_at: from_ms(row.try_get("created_at")?)?,
            expires_at: from_ms(row.try_get("expires_at")?)?,
        };
        Ok(Some((session, crate::sql::user_from_row(&row)?)))
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id_hash.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn people(&self) -> Result<Vec<User>> {
        let rows =
            sqlx::query("SELECT login, role, org_code, name FROM users ORDER BY role, login")
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(crate::sql::user_from_row).collect()
    }

    async fn purge_sessions(&self, now: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(ms(now))
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
