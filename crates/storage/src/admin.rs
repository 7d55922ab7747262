//! Administration: people and organisations listed, searched, changed, disabled and enabled
//! again, and passwords reset. Nothing is deleted: histories keep the names they recorded, so
//! a leaver is disabled, and a disabled person's sessions and tokens end in the same write.

use std::future::Future;

use duban_core::Role;
use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::accounts::end_sessions_in;
use crate::sql::{from_ms, ms, user_from_row};
use crate::{Error, Org, OrgKind, Result, SqlStore, User};

/// Whether the person a row of `users u` names may act now: not disabled, nor of a disabled
/// organisation. Every way in (a session, a token, a password) reads it. A macro, so that the
/// act path's constant statement (`sql/act.rs`) is put together from this text, not a copy.
macro_rules! active_user {
    () => {
        "u.disabled_at IS NULL AND NOT EXISTS \
         (SELECT 1 FROM orgs d WHERE d.code = u.org_code AND d.disabled_at IS NOT NULL)"
    };
}
pub(crate) use active_user;

/// [`active_user!`] as a string, for statements made at run time.
pub(crate) const ACTIVE_USER: &str = active_user!();

/// A person as administrators see them: who, how they are reached, and whether they may act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: User,
    pub email: Option<String>,
    /// The mobile number masked (`138****5678`); the number itself stays sealed.
    pub phone_masked: Option<String>,
    pub sms: bool,
    pub disabled_at: Option<Timestamp>,
    /// Their organisation is disabled, so they cannot act either.
    pub org_disabled: bool,
    /// An administrator reset their password: they must choose a new one at sign-in.
    pub must_change_password: bool,
    pub has_password: bool,
    pub created_at: Timestamp,
}

impl Account {
    /// Whether they may sign in and use their tokens.
    pub fn active(&self) -> bool {
        self.disabled_at.is_none() && !self.org_disabled
    }
}

/// Which people to list: words of the login or name, a role, an organisation, disabled or
/// not; ordered by login, from after `after`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeopleQuery {
    pub q: Option<String>,
    pub role: Option<Role>,
    pub org: Option<String>,
    pub disabled: Option<bool>,
    pub after: Option<String>,
    pub limit: u32,
}

/// An organisation as administrators see it: which contacts it has (never the addresses'
/// secrets), how many people, and whether it is disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgEntry {
    pub org: Org,
    pub email: Option<String>,
    pub webhook: bool,
    pub wecom: bool,
    pub dingtalk: bool,
    pub people: i64,
    pub disabled_at: Option<Timestamp>,
}

/// Which organisations to list, ordered by code from after `after`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgQuery {
    pub q: Option<String>,
    pub kind: Option<OrgKind>,
    pub disabled: Option<bool>,
    pub after: Option<String>,
    pub limit: u32,
}

/// What changes about a person; `None` leaves a part as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    pub name: Option<String>,
    pub role: Option<Role>,
    /// `Some(None)` takes them out of any organisation.
    pub org: Option<Option<String>>,
}

/// One person of a roster: who they are and how they are reached. A roster only ever adds
/// people or updates their name, organisation and contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterPerson {
    pub user: User,
    pub email: Option<String>,
    /// A mobile number already checked; sealed when it is written.
    pub phone: Option<String>,
    /// Whether they agreed to SMS; `None` keeps what was recorded.
    pub sms: Option<bool>,
}

/// What a roster import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RosterImported {
    pub orgs_added: u64,
    pub people_added: u64,
    pub people_updated: u64,
}

/// Administration's reads and writes.
pub trait Administration: Send + Sync {
    /// Writes a checked roster in one transaction: the organisations it names that are new,
    /// then each person added, or updated (name, organisation, contacts) when the login exists.
    /// Nothing is written if any statement fails.
    fn import_roster(
        &self,
        orgs: &[Org],
        people: &[RosterPerson],
        at: Timestamp,
    ) -> impl Future<Output = Result<RosterImported>> + Send;
    /// People matching `q`, by login.
    fn accounts(&self, q: &PeopleQuery) -> impl Future<Output = Result<Vec<Account>>> + Send;
    fn account(&self, login: &str) -> impl Future<Output = Result<Option<Account>>> + Send;
    /// Changes a person's name, role or organisation. False if no such person.
    fn change_user(
        &self,
        login: &str,
        change: &UserChange,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Disables a person at `at` (ending every session and revoking every token of theirs in
    /// the same transaction), or enables them again (`None`). False if no such person.
    fn set_user_disabled(
        &self,
        login: &str,
        at: Option<Timestamp>,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Sets a password the person must replace at their next sign-in, and ends their
    /// sessions. False if no such person.
    fn reset_password(
        &self,
        login: &str,
        hash: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Organisations matching `q`, by code.
    fn org_entries(&self, q: &OrgQuery) -> impl Future<Output = Result<Vec<OrgEntry>>> + Send;
    fn org_entry(&self, code: &str) -> impl Future<Output = Result<Option<OrgEntry>>> + Send;
    /// Renames an organisation. False if no such organisation.
    fn rename_org(&self, code: &str, name: &str) -> impl Future<Output = Result<bool>> + Send;
    /// Disables an organisation at `at`, ending its people's sessions in the same
    /// transaction (their tokens stop working while it is disabled), or enables it again.
    fn set_org_disabled(
        &self,
        code: &str,
        at: Option<Timestamp>,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Every active administrator but `except`: who is told when an administrator's role
    /// changes.
    fn administrators(&self, except: &str) -> impl Future<Output = Result<Vec<String>>> + Send;
}

const ACCOUNT_COLUMNS: &str = "u.login, u.role, u.org_code, u.name, u.email, u.phone_masked, \
     u.sms_opt_in, u.disabled_at, u.must_change_password, u.created_at, \
     CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END AS has_password, \
     CASE WHEN o.disabled_at IS NULL THEN 0 ELSE 1 END AS org_disabled";

fn opt_ts(v: Option<i64>) -> Result<Option<Timestamp>> {
    v.map(from_ms).transpose()
}

fn account_from_row(r: &AnyRow) -> Result<Account> {
    Ok(Account {
        user: user_from_row(r)?,
        email: r.try_get("email")?,
        phone_masked: r.try_get("phone_masked")?,
        sms: r.try_get::<i64, _>("sms_opt_in")? != 0,
        disabled_at: opt_ts(r.try_get("disabled_at")?)?,
        org_disabled: r.try_get::<i64, _>("org_disabled")? != 0,
        must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
        has_password: r.try_get::<i64, _>("has_password")? != 0,
        created_at: from_ms(r.try_get("created_at")?)?,
    })
}

const ORG_COLUMNS: &str = "o.code, o.kind, o.name, o.email, o.disabled_at, \
     CASE WHEN o.webhook_url IS NULL THEN 0 ELSE 1 END AS webhook, \
     CASE WHEN o.wecom_url IS NULL THEN 0 ELSE 1 END AS wecom, \
     CASE WHEN o.dingtalk_url IS NULL THEN 0 ELSE 1 END AS dingtalk, \
     (SELECT COUNT(*) FROM users p WHERE p.org_code = o.code) AS people";

fn org_from_row(r: &AnyRow) -> Result<OrgEntry> {
    let kind: String = r.try_get("kind")?;
    Ok(OrgEntry {
        org: Org {
            code: r.try_get("code")?,
            kind: OrgKind::parse(&kind)
                .ok_or_else(|| Error::Corrupt(format!("org kind {kind}")))?,
            name: r.try_get("name")?,
        },
        email: r.try_get("email")?,
        webhook: r.try_get::<i64, _>("webhook")? != 0,
        wecom: r.try_get::<i64, _>("wecom")? != 0,
        dingtalk: r.try_get::<i64, _>("dingtalk")? != 0,
        people: r.try_get("people")?,
        disabled_at: opt_ts(r.try_get("disabled_at")?)?,
    })
}

/// `%words%` for a LIKE, with LIKE's own wildcards taken literally.
fn like(words: &str) -> String {
    let escaped: String = words
        .trim()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// A listing's conditions, each value bound as a parameter in order: the SQL holds only column
/// names from this file and placeholders, never what was typed.
#[derive(Debug, Default)]
struct Filter {
    conditions: Vec<String>,
    values: Vec<String>,
}

impl Filter {
    fn bind(&mut self, value: String) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    /// Words found in either column, whatever their case.
    fn words(&mut self, words: Option<&str>, a: &str, b: &str) {
        if let Some(words) = words.filter(|w| !w.trim().is_empty()) {
            let p = self.bind(like(words));
            self.conditions.push(format!(
                "(LOWER({a}) LIKE LOWER({p}) ESCAPE '\\' OR LOWER({b}) LIKE LOWER({p}) ESCAPE '\\')"
            ));
        }
    }

    fn equals(&mut self, column: &str, value: &str) {
        let p = self.bind(value.to_string());
        self.conditions.push(format!("{column} = {p}"));
    }

    fn disabled(&mut self, column: &str, disabled: Option<bool>) {
        match disabled {
            Some(true) => self.conditions.push(format!("{column} IS NOT NULL")),
            Some(false) => self.conditions.push(format!("{column} IS NULL")),
            None => {}
        }
    }

    /// Keyset paging: the rows after the last key a page gave.
    fn after(&mut self, column: &str, after: Option<&str>) {
        if let Some(after) = after {
            let p = self.bind(after.to_string());
            self.conditions.push(format!("{column} > {p}"));
        }
    }

    fn clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        }
    }

    async fn fetch(self, store: &SqlStore, sql: String) -> Result<Vec<AnyRow>> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in self.values {
            query = query.bind(v);
        }
        Ok(query.fetch_all(store.pool()).await?)
    }
}

impl Administration for SqlStore {
    async fn import_roster(
        &self,
        orgs: &[Org],
        people: &[RosterPerson],
        at: Timestamp,
    ) -> Result<RosterImported> {
        let mut done = RosterImported::default();
        let mut tx = self.begin_write().await?;
        for o in orgs {
            let r = sqlx::query(
                "INSERT INTO orgs (code, kind, name, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO NOTHING",
            )
            .bind(o.code.clone())
            .bind(o.kind.as_str())
            .bind(o.name.clone())
            .bind(ms(at))
            .execute(&mut *tx)
            .await?;
            done.orgs_added += r.rows_affected();
        }
        for p in people {
            let sealed = p
                .phone
                .as_deref()
                .map(|n| crate::sealed::PHONE.seal(self.keys(), &p.user.login, n))
                .transpose()?;
            let masked = p.phone.as_deref().map(duban_core::person::mask_phone);
            let added = sqlx::query(
                "INSERT INTO users (login, role, org_code, name, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (login) DO NOTHING",
            )
            .bind(p.user.login.clone())
            .bind(p.user.role.as_str())
            .bind(p.user.org.clone())
            .bind(p.user.name.clone())
            .bind(ms(at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if added == 1 {
                done.people_added += 1;
            } else {
                done.people_updated += 1;
            }
            // A contact left empty in the roster is kept as it was: a sheet without a phone
            // column does not erase the numbers people gave.
            sqlx::query(
                "UPDATE users SET name = $2, org_code = $3, email = COALESCE($4, email), \
                 phone = COALESCE($5, phone), phone_masked = COALESCE($6, phone_masked), \
                 sms_opt_in = CASE WHEN COALESCE($5, phone) IS NULL THEN 0 \
                 WHEN $7 IS NULL THEN sms_opt_in ELSE $7 END \
                 WHERE login = $1",
            )
            .bind(p.user.login.clone())
            .bind(p.user.name.clone())
            .bind(p.user.org.clone())
            .bind(p.email.clone())
            .bind(sealed)
            .bind(masked)
            .bind(p.sms.map(i64::from))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    async fn accounts(&self, q: &PeopleQuery) -> Result<Vec<Account>> {
        let mut f = Filter::default();
        f.words(q.q.as_deref(), "u.login", "u.name");
        if let Some(role) = q.role {
            f.equals("u.role", role.as_str());
        }
        if let Some(org) = &q.org {
            f.equals("u.org_code", org);
        }
        f.disabled("u.disabled_at", q.disabled);
        f.after("u.login", q.after.as_deref());
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM users u LEFT JOIN orgs o ON o.code = u.org_code \
             {} ORDER BY u.login LIMIT {}",
            f.clause(),
            q.limit.clamp(1, 1000)
        );
        let rows = f.fetch(self, sql).await?;
        rows.iter().map(account_from_row).collect()
    }

    async fn account(&self, login: &str) -> Result<Option<Account>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM users u LEFT JOIN orgs o ON o.code = u.org_code \
             WHERE u.login = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(login.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn change_user(&self, login: &str, change: &UserChange) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let found: Option<String> = sqlx::query_scalar("SELECT login FROM users WHERE login = $1")
            .bind(login.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(name) = &change.name {
            sqlx::query("UPDATE users SET name = $1 WHERE login = $2")
                .bind(name.clone())
                .bind(login.to_string())
                .execute(&mut *tx)
                .await?;
        }
        if let Some(role) = change.role {
            sqlx::query("UPDATE users SET role = $1 WHERE login = $2")
                .bind(role.as_str())
                .bind(login.to_string())
                .execute(&mut *tx)
                .await?;
        }
        if let Some(org) = &change.org {
            sqlx::query("UPDATE users SET org_code = $1 WHERE login = $2")
                .bind(org.clone())
                .bind(login.to_string())
                .execute(&mut *tx)
                .await?;
        }
        // A new role or organisation changes what a person may do: their sessions end, so that
        // no page open under the old reach goes on acting.
        if change.role.is_some() || change.org.is_some() {
            end_sessions_in(&mut tx, login, None).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn set_user_disabled(&self, login: &str, at: Option<Timestamp>) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET disabled_at = $1 WHERE login = $2")
            .bind(at.map(ms))
            .bind(login.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(at) = at {
            end_sessions_in(&mut tx, login, None).await?;
            // Revoked for good: enabling the person again does not bring old tokens back.
            sqlx::query(
                "UPDATE tokens SET revoked_at = $1 WHERE login = $2 AND revoked_at IS NULL",
            )
            .bind(ms(at))
            .bind(login.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn reset_password(&self, login: &str, hash: &str, at: Timestamp) -> Result<bool> {
        crate::accounts::write_password(self, login, (hash, at), true, None).await
    }

    async fn org_entries(&self, q: &OrgQuery) -> Result<Vec<OrgEntry>> {
        let mut f = Filter::default();
        f.words(q.q.as_deref(), "o.code", "o.name");
        if let Some(kind) = q.kind {
            f.equals("o.kind", kind.as_str());
        }
        f.disabled("o.disabled_at", q.disabled);
        f.after("o.code", q.after.as_deref());
        let sql = format!(
            "SELECT {ORG_COLUMNS} FROM orgs o {} ORDER BY o.code LIMIT {}",
            f.clause(),
            q.limit.clamp(1, 1000)
        );
        let rows = f.fetch(self, sql).await?;
        rows.iter().map(org_from_row).collect()
    }

    async fn org_entry(&self, code: &str) -> Result<Option<OrgEntry>> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM orgs o WHERE o.code = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(code.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    async fn rename_org(&self, code: &str, name: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE orgs SET name = $1 WHERE code = $2")
            .bind(name.to_string())
            .bind(code.to_string())
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_org_disabled(&self, code: &str, at: Option<Timestamp>) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE orgs SET disabled_at = $1 WHERE code = $2")
            .bind(at.map(ms))
            .bind(code.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        if at.is_some() {
            sqlx::query(
                "DELETE FROM sessions WHERE login IN (SELECT login FROM users WHERE org_code = $1)",
            )
            .bind(code.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn administrators(&self, except: &str) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT u.login FROM users u WHERE u.role = 'admin' AND u.login <> $1 AND {ACTIVE_USER} \
             ORDER BY u.login"
        );
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(except.to_string())
            .fetch_all(self.pool())
            .await?)
    }
}
