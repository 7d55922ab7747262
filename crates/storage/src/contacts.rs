//! Where reminders reach people and organisations: their contacts (e-mail, webhook, WeCom and
//! DingTalk robots, a mobile number with consent to SMS), set by administrators, resolved into
//! recipients when a reminder fires, and the sealed part of a contact opened when a delivery
//! is sent.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use duban_core::machine::MEMBER;
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::sql::{Val, fetch_in, ms};
use crate::{Delivery, Error, Result, SqlStore, sealed};

/// Someone (or some organisation) a reminder is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Recipient {
    /// A user, for the inbox and their own e-mail.
    pub login: Option<String>,
    /// An organisation, for its e-mail and webhook.
    pub org: Option<String>,
    pub email: Option<String>,
    pub webhook_url: Option<String>,
    /// An organisation's 企业微信 (WeCom) group robot.
    pub wecom_url: Option<String>,
    /// An organisation's 钉钉 (DingTalk) custom robot; its signing secret stays sealed.
    pub dingtalk_url: Option<String>,
    /// A person who gave a mobile number and agreed to SMS.
    pub sms: bool,
}

/// A reminder's audiences on its case: whom [`Contacts::recipients`] looks up.
#[derive(Debug, Clone, Copy)]
pub struct Audience<'a> {
    pub case_id: &'a str,
    pub notify: &'a [String],
}

/// A person as a reminder reaches them, from a row of [`USER_CONTACTS`].
fn user_row(r: &AnyRow) -> Result<Recipient> {
    Ok(Recipient {
        login: Some(r.try_get("login")?),
        org: None,
        email: r.try_get("email")?,
        webhook_url: None,
        wecom_url: None,
        dingtalk_url: None,
        sms: r.try_get::<i64, _>("sms")? != 0,
    })
}

/// `Ok` if the statement changed a row, else what was not found.
fn updated(r: sqlx::any::AnyQueryResult, what: &'static str, id: &str) -> Result<()> {
    if r.rows_affected() == 0 {
        return Err(Error::NotFound {
            what,
            id: id.into(),
        });
    }
    Ok(())
}

/// Contacts: setting them, and what the scheduler reads of them.
pub trait Contacts: Send + Sync {
    fn set_org_contact(
        &self,
        code: &str,
        email: Option<&str>,
        webhook: Option<(&str, &str)>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// One contact of an organisation, the others as they were: `email` (an address),
    /// `webhook` and `dingtalk` (an address and a signing secret), `wecom` (an address);
    /// `None` removes it.
    fn set_org_channel(
        &self,
        code: &str,
        channel: &str,
        address: Option<&str>,
        secret: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;
    fn set_user_email(
        &self,
        login: &str,
        email: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// A person's mobile number, sealed and kept masked for display (the caller checks it);
    /// removing it withdraws SMS.
    fn set_user_phone(
        &self,
        login: &str,
        phone: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Whether a person gets SMS; `false` (and nothing changed) if they have no number.
    fn set_user_sms(&self, login: &str, on: bool) -> impl Future<Output = Result<bool>> + Send;
    /// Everyone each reminder's audiences (`lead_department`, `role:leader` …) name on its
    /// case, for a batch of reminders at once: a few reads for the whole batch, not several
    /// per audience.
    fn recipients(
        &self,
        asked: &[Audience<'_>],
    ) -> impl Future<Output = Result<Vec<Vec<Recipient>>>> + Send;
    /// What a delivery needs that the store keeps sealed: the organisation's signing secret for
    /// a webhook or a DingTalk robot, the person's mobile number for an SMS.
    fn sealed_for(&self, d: &Delivery) -> impl Future<Output = Result<Option<String>>> + Send;
    /// How many SMS were queued for each of these people since `since` (the daily cap); a
    /// person with none is left out.
    fn sms_since(
        &self,
        logins: &[String],
        since: Timestamp,
    ) -> impl Future<Output = Result<BTreeMap<String, u64>>> + Send;
}

/// A person's contacts as a reminder reaches them: SMS only with a number and their consent.
const USER_CONTACTS: &str = "login, email, CAST(CASE WHEN sms_opt_in = 1 AND phone IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) AS sms";

impl Contacts for SqlStore {
    async fn set_org_contact(
        &self,
        code: &str,
        email: Option<&str>,
        webhook: Option<(&str, &str)>,
    ) -> Result<()> {
        let (url, secret) = match webhook {
            Some((url, secret)) => (
                Some(url.to_string()),
                Some(sealed::WEBHOOK_SECRET.seal(self.keys(), code, secret)?),
            ),
            None => (None, None),
        };
        let r = sqlx::query(
            "UPDATE orgs SET email = $2, webhook_url = $3, webhook_secret = $4 WHERE code = $1",
        )
        .bind(code.to_string())
        .bind(email.map(str::to_string))
        .bind(url)
        .bind(secret)
        .execute(self.pool())
        .await?;
        updated(r, "organisation", code)
    }

    async fn set_org_channel(
        &self,
        code: &str,
        channel: &str,
        address: Option<&str>,
        secret: Option<&str>,
    ) -> Result<()> {
        let (address_column, sealed) = match channel {
            "email" => ("email", None),
            "wecom" => ("wecom_url", None),
            "webhook" => ("webhook_url", Some(sealed::WEBHOOK_SECRET)),
            "dingtalk" => ("dingtalk_url", Some(sealed::DINGTALK_SECRET)),
            other => {
                return Err(Error::NotFound {
                    what: "contact channel",
                    id: other.into(),
                });
            }
        };
        let secret = match (sealed, address.and(secret)) {
            (Some(column), Some(s)) => Some(column.seal(self.keys(), code, s)?),
            _ => None,
        };
        let query = match sealed {
            Some(column) => sqlx::query(AssertSqlSafe(format!(
                "UPDATE orgs SET {address_column} = $2, {} = $3 WHERE code = $1",
                column.column
            ))),
            None => sqlx::query(AssertSqlSafe(format!(
                "UPDATE orgs SET {address_column} = $2 WHERE code = $1"
            ))),
        };
        let query = query
            .bind(code.to_string())
            .bind(address.map(str::to_string));
        let query = match sealed {
            Some(_) => query.bind(secret),
            None => query,
        };
        let r = query.execute(self.pool()).await?;
        updated(r, "organisation", code)
    }

    async fn set_user_phone(&self, login: &str, phone: Option<&str>) -> Result<()> {
        let sealed = phone
            .map(|p| sealed::PHONE.seal(self.keys(), login, p))
            .transpose()?;
        let r = sqlx::query(
            "UPDATE users SET phone = $2, phone_masked = $3, \
             sms_opt_in = CASE WHEN $4 = 1 THEN sms_opt_in ELSE 0 END WHERE login = $1",
        )
        .bind(login.to_string())
        .bind(sealed)
        .bind(phone.map(duban_core::person::mask_phone))
        .bind(i64::from(phone.is_some()))
        .execute(self.pool())
        .await?;
        updated(r, "user", login)
    }

    async fn set_user_sms(&self, login: &str, on: bool) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE users SET sms_opt_in = $2 WHERE login = $1 AND (phone IS NOT NULL OR $2 = 0)",
        )
        .bind(login.to_string())
        .bind(i64::from(on))
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn set_user_email(&self, login: &str, email: Option<&str>) -> Result<()> {
        let r = sqlx::query("UPDATE users SET email = $2 WHERE login = $1")
            .bind(login.to_string())
            .bind(email.map(str::to_string))
            .execute(self.pool())
            .await?;
        updated(r, "user", login)
    }

    async fn recipients(&self, asked: &[Audience<'_>]) -> Result<Vec<Vec<Recipient>>> {
        // Every case whose parties are asked for, every role, and every member named on its
        // own (`member:D02`, the one co-handler a duty's reminder is for), read once.
        let mut cases = BTreeSet::new();
        let mut roles = BTreeSet::new();
        let mut named = BTreeSet::new();
        for a in asked {
            for audience in a.notify {
                if let Some(role) = audience.strip_prefix("role:") {
                    roles.insert(role.to_string());
                } else if let Some(member) = audience.strip_prefix(MEMBER) {
                    named.insert(member.to_string());
                } else {
                    cases.insert(a.case_id.to_string());
                }
            }
        }
        let cases: Vec<String> = cases.into_iter().collect();
        let roles: Vec<String> = roles.into_iter().collect();
        let mut members: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        let sql = "SELECT case_id, party, member FROM case_parties WHERE case_id IN ({list})";
        for r in fetch_in(self, sql, &[], &cases).await? {
            members
                .entry((r.try_get("case_id")?, r.try_get("party")?))
                .or_default()
                .push(r.try_get("member")?);
        }
        named.extend(members.values().flatten().cloned());
        let named: Vec<String> = named.into_iter().collect();
        // A member is a person (by login) or an organisation: then its people and itself.
        let mut people: BTreeMap<String, Vec<Recipient>> = BTreeMap::new();
        let sql = format!(
            "SELECT {USER_CONTACTS}, org_code FROM users WHERE login IN ({{list}}) OR org_code IN ({{list}})"
        );
        for r in fetch_in(self, &sql, &[], &named).await? {
            let person = user_row(&r)?;
            if let Some(org) = r.try_get::<Option<String>, _>("org_code")? {
                people.entry(org).or_default().push(person.clone());
            }
            let login = person.login.clone().unwrap_or_default();
            people.entry(login).or_default().push(person);
        }
        let mut orgs: BTreeMap<String, Recipient> = BTreeMap::new();
        let sql = "SELECT code, email, webhook_url, wecom_url, dingtalk_url FROM orgs WHERE code IN ({list})";
        for org in fetch_in(self, sql, &[], &named).await? {
            let code: String = org.try_get("code")?;
            let rec = Recipient {
                login: None,
                org: Some(code.clone()),
                email: org.try_get("email")?,
                webhook_url: org.try_get("webhook_url")?,
                wecom_url: org.try_get("wecom_url")?,
                dingtalk_url: org.try_get("dingtalk_url")?,
                sms: false,
            };
            orgs.insert(code, rec);
        }
        let mut by_role: BTreeMap<String, Vec<Recipient>> = BTreeMap::new();
        let sql = format!("SELECT {USER_CONTACTS}, role FROM users WHERE role IN ({{list}})");
        for r in fetch_in(self, &sql, &[], &roles).await? {
            by_role
                .entry(r.try_get("role")?)
                .or_default()
                .push(user_row(&r)?);
        }
        // Each reminder's recipients, each once (a person named twice gets one message).
        let none = Vec::new();
        Ok(asked
            .iter()
            .map(|a| {
                let mut out: BTreeMap<(Option<String>, Option<String>), Recipient> =
                    BTreeMap::new();
                let mut add = |rec: &Recipient| {
                    out.insert((rec.login.clone(), rec.org.clone()), rec.clone());
                };
                for audience in a.notify {
                    if let Some(role) = audience.strip_prefix("role:") {
                        by_role.get(role).unwrap_or(&none).iter().for_each(&mut add);
                        continue;
                    }
                    if let Some(m) = audience.strip_prefix(MEMBER) {
                        people.get(m).unwrap_or(&none).iter().for_each(&mut add);
                        orgs.get(m).into_iter().for_each(&mut add);
                        continue;
                    }
                    let key = (a.case_id.to_string(), audience.clone());
                    for m in members.get(&key).into_iter().flatten() {
                        people.get(m).unwrap_or(&none).iter().for_each(&mut add);
                        orgs.get(m).into_iter().for_each(&mut add);
                    }
                }
                out.into_values().collect()
            })
            .collect())
    }

    async fn sealed_for(&self, d: &Delivery) -> Result<Option<String>> {
        let (column, row) = match d.channel.as_str() {
            "webhook" => (sealed::WEBHOOK_SECRET, d.org_code.as_deref()),
            "dingtalk" => (sealed::DINGTALK_SECRET, d.org_code.as_deref()),
            "sms" => {
                // Opened only while consent stands: withdrawn since the message was queued,
                // it is not sent.
                let stored: Option<Option<String>> = sqlx::query_scalar(
                    "SELECT phone FROM users WHERE login = $1 AND sms_opt_in = 1",
                )
                .bind(d.address.clone())
                .fetch_optional(self.pool())
                .await?;
                return stored
                    .flatten()
                    .map(|s| sealed::PHONE.open(self.keys(), &d.address, &s))
                    .transpose();
            }
            _ => return Ok(None),
        };
        match row {
            Some(row) => column.read(self.pool(), self.keys(), row).await,
            None => Ok(None),
        }
    }

    async fn sms_since(
        &self,
        logins: &[String],
        since: Timestamp,
    ) -> Result<BTreeMap<String, u64>> {
        let sql = "SELECT address, COUNT(*) AS n FROM deliveries \
                   WHERE channel = 'sms' AND created_at >= {p1} AND address IN ({list}) GROUP BY address";
        fetch_in(self, sql, &[Val::Int(ms(since))], logins)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("address")?,
                    r.try_get::<i64, _>("n")?.max(0) as u64,
                ))
            })
            .collect()
    }
}
