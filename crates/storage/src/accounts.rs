//! Web sign-in records: each user's password hash, the wrong passwords and locks per login as
//! typed (known or not), and browser sessions. Hashing and policy live in the service; this
//! keeps the rows.

use std::future::Future;

use jiff::Timestamp;
use sqlx::Row;

use crate::admin::active_user;
use crate::sql::{WriteTx, from_ms, ms};
use crate::{Result, SqlStore, User};

/// What a sign-in is checked against, and whether the person may act at all.
const CREDENTIALS: &str = concat!(
    "SELECT u.login, u.role, u.org_code, u.name, u.password_hash, u.password_changed_at, \
     u.must_change_password, CASE WHEN ",
    active_user!(),
    " THEN 0 ELSE 1 END AS disabled FROM users u WHERE u.login = $1"
);

/// A live session and its user, who must still be enabled: read on every page.
const SESSION: &str = concat!(
    "SELECT s.id, s.login, s.csrf, s.source, s.created_at, s.expires_at, \
     u.role, u.org_code, u.name FROM sessions s JOIN users u ON u.login = s.login \
     WHERE s.id = $1 AND s.expires_at > $2 AND ",
    active_user!()
);

/// What a sign-in attempt is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: User,
    /// The argon2id PHC string, or `None` when no password was ever set.
    pub password_hash: Option<String>,
    pub password_changed_at: Option<Timestamp>,
    /// They, or their organisation, are disabled: no password of theirs opens a session.
    pub disabled: bool,
    /// An administrator reset their password: it must be replaced before a session is made.
    pub must_change: bool,
}

/// What claiming a sign-in attempt came to ([`Accounts::claim_attempt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInAttempt {
    /// The login is locked until then: no password may be checked.
    Locked(Timestamp),
    /// The attempt is counted as a wrong password until it proves right: `failures` in a row
    /// now, and `locks` if this attempt is the one that reached the threshold (and locked).
    Counted { failures: u32, locks: bool },
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
    /// Sets a user's password hash, clears any failures and lock, and ends every session of
    /// theirs but `keep` (the one changing it), in one transaction. False if no such user.
    fn set_password(
        &self,
        login: &str,
        hash: &str,
        at: Timestamp,
        keep: Option<&str>,
    ) -> impl Future<Output = Result<bool>> + Send;
    fn credentials(&self, login: &str) -> impl Future<Output = Result<Option<Credentials>>> + Send;
    /// Claims one attempt at `login` (known or not) before its password is checked, in one
    /// statement: unless the login is locked at `now`, the attempt counts as a wrong password,
    /// and the one that reaches `threshold` in a row locks it until `lock_until`. So however
    /// many attempts run at once, at most `threshold` passwords are checked before the lock.
    fn claim_attempt(
        &self,
        login: &str,
        now: Timestamp,
        threshold: u32,
        lock_until: Timestamp,
    ) -> impl Future<Output = Result<SignInAttempt>> + Send;
    /// The claimed attempt's password was right: the count is cleared, unless another attempt
    /// locked the login meanwhile (then the lock is returned and stands). `own_lock`: this
    /// attempt's claim set the lock itself, which its right password lifts.
    fn attempt_succeeded(
        &self,
        login: &str,
        now: Timestamp,
        own_lock: bool,
    ) -> impl Future<Output = Result<Option<Timestamp>>> + Send;
    /// Ends every session of `login` but `keep`; returns how many ended.
    fn end_sessions(
        &self,
        login: &str,
        keep: Option<&str>,
    ) -> impl Future<Output = Result<u64>> + Send;
    /// Creates a session for a password checked against `checked_hash`, only if that is still
    /// the user's password: a sign-in whose check overlapped a password change makes no
    /// session from the old one. False if it was not made.
    fn create_session(
        &self,
        s: &Session,
        checked_hash: &str,
    ) -> impl Future<Output = Result<bool>> + Send;
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

/// Wrong passwords in a row are forgotten after a day with no attempt at that login.
const FORGET_AFTER_MS: i64 = 24 * 60 * 60 * 1000;

fn opt_ts(v: Option<i64>) -> Result<Option<Timestamp>> {
    v.map(from_ms).transpose()
}

impl Accounts for SqlStore {
    async fn set_password(
        &self,
        login: &str,
        hash: &str,
        at: Timestamp,
        keep: Option<&str>,
    ) -> Result<bool> {
        write_password(self, login, (hash, at), false, keep).await
    }

    async fn credentials(&self, login: &str) -> Result<Option<Credentials>> {
        let Some(row) = sqlx::query(CREDENTIALS)
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
            disabled: row.try_get::<i64, _>("disabled")? != 0,
            must_change: row.try_get::<i64, _>("must_change_password")? != 0,
        }))
    }

    async fn claim_attempt(
        &self,
        login: &str,
        now: Timestamp,
        threshold: u32,
        lock_until: Timestamp,
    ) -> Result<SignInAttempt> {
        let threshold = i64::from(threshold.max(1));
        // One statement: the row is locked by the database while it is counted, so two
        // attempts never read the same count, in one process or several. A lock that has
        // expired starts the count again; a live one makes the statement change nothing.
        let row = sqlx::query(
            "INSERT INTO sign_in_guards (login, failures, locked_until, last_at) \
             VALUES ($1, 1, CASE WHEN 1 >= $2 THEN $3 ELSE NULL END, $4) \
             ON CONFLICT (login) DO UPDATE SET \
               failures = CASE WHEN sign_in_guards.locked_until IS NOT NULL \
                 OR sign_in_guards.last_at < $5 THEN 1 ELSE sign_in_guards.failures + 1 END, \
               locked_until = CASE WHEN (CASE WHEN sign_in_guards.locked_until IS NOT NULL \
                 OR sign_in_guards.last_at < $5 THEN 1 ELSE sign_in_guards.failures + 1 END) >= $2 \
                 THEN $3 ELSE NULL END, \
               last_at = $4 \
             WHERE sign_in_guards.locked_until IS NULL OR sign_in_guards.locked_until <= $4 \
             RETURNING failures, locked_until",
        )
        .bind(login.to_string())
        .bind(threshold)
        .bind(ms(lock_until))
        .bind(ms(now))
        .bind(ms(now) - FORGET_AFTER_MS)
        .fetch_optional(self.pool())
        .await?;
        if let Some(row) = row {
            let failures: i64 = row.try_get("failures")?;
            let locked: Option<i64> = row.try_get("locked_until")?;
            return Ok(SignInAttempt::Counted {
                failures: u32::try_from(failures).unwrap_or(u32::MAX),
                locks: locked.is_some(),
            });
        }
        let until: Option<i64> =
            sqlx::query_scalar("SELECT locked_until FROM sign_in_guards WHERE login = $1")
                .bind(login.to_string())
                .fetch_optional(self.pool())
                .await?
                .flatten();
        Ok(SignInAttempt::Locked(opt_ts(until)?.unwrap_or(lock_until)))
    }

    async fn attempt_succeeded(
        &self,
        login: &str,
        now: Timestamp,
        own_lock: bool,
    ) -> Result<Option<Timestamp>> {
        let done = if own_lock {
            sqlx::query("DELETE FROM sign_in_guards WHERE login = $1")
                .bind(login.to_string())
                .execute(self.pool())
                .await?
        } else {
            sqlx::query(
                "DELETE FROM sign_in_guards WHERE login = $1 \
                 AND (locked_until IS NULL OR locked_until <= $2)",
            )
            .bind(login.to_string())
            .bind(ms(now))
            .execute(self.pool())
            .await?
        };
        if done.rows_affected() > 0 {
            return Ok(None);
        }
        // Nothing cleared: either another right password cleared it first, or another attempt
        // locked the login after this one was claimed, and that lock stands.
        let until: Option<i64> = sqlx::query_scalar(
            "SELECT locked_until FROM sign_in_guards WHERE login = $1 AND locked_until > $2",
        )
        .bind(login.to_string())
        .bind(ms(now))
        .fetch_optional(self.pool())
        .await?
        .flatten();
        opt_ts(until)
    }

    async fn end_sessions(&self, login: &str, keep: Option<&str>) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let n = end_sessions_in(&mut tx, login, keep).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn create_session(&self, s: &Session, checked_hash: &str) -> Result<bool> {
        // One statement: the password's hash is compared in the same write as the insert, so
        // a change committed in between is seen.
        let done = sqlx::query(
            "INSERT INTO sessions (id, login, csrf, source, created_at, expires_at) \
             SELECT $1, $2, $3, $4, $5, $6 FROM users WHERE login = $2 AND password_hash = $7",
        )
        .bind(s.id_hash.clone())
        .bind(s.login.clone())
        .bind(s.csrf.clone())
        .bind(s.source.clone())
        .bind(ms(s.created_at))
        .bind(ms(s.expires_at))
        .bind(checked_hash.to_string())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn session(&self, id_hash: &str, now: Timestamp) -> Result<Option<(Session, User)>> {
        let Some(row) = sqlx::query(SESSION)
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
        // Expired locks go too, and counts with no attempt for a day: either would start again
        // anyway, and unknown logins that were guessed at leave no row behind for long.
        sqlx::query(
            "DELETE FROM sign_in_guards WHERE locked_until <= $1 \
             OR (locked_until IS NULL AND last_at < $2)",
        )
        .bind(ms(now))
        .bind(ms(now) - FORGET_AFTER_MS)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }
}

/// Puts a password hash in place, clears any failures and lock, and ends every session of
/// `login` but `keep`, in one transaction; `must_change` marks a password an administrator
/// reset (the person replaces it at sign-in). False if no such user.
pub(crate) async fn write_password(
    store: &SqlStore,
    login: &str,
    (hash, at): (&str, Timestamp),
    must_change: bool,
    keep: Option<&str>,
) -> Result<bool> {
    let mut tx = store.begin_write().await?;
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2, \
         must_change_password = $3 WHERE login = $4",
    )
    .bind(hash.to_string())
    .bind(ms(at))
    .bind(i64::from(must_change))
    .bind(login.to_string())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query("DELETE FROM sign_in_guards WHERE login = $1")
        .bind(login.to_string())
        .execute(&mut *tx)
        .await?;
    end_sessions_in(&mut tx, login, keep).await?;
    tx.commit().await?;
    Ok(true)
}

/// Ends every session of `login` but `keep` (a session id hash), in `tx`.
pub(crate) async fn end_sessions_in(
    tx: &mut WriteTx,
    login: &str,
    keep: Option<&str>,
) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE login = $1 AND id <> $2")
        .bind(login.to_string())
        .bind(keep.unwrap_or_default().to_string())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}
