//! Where reminders reach people and organisations: their contacts (e-mail, webhook, WeCom and
//! DingTalk robots, a mobile number with consent to SMS), set by administrators, resolved into
//! recipients when a reminder fires, and the sealed part of a contact opened when a delivery
//! is sent.

use std::collections::BTreeMap;
use std::future::Future;

use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::sql::ms;
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
    /// Everyone a reminder's audiences (`lead_department`, `role:leader` …) name on a case.
    fn recipients(
        &self,
        case_id: &str,
        notify: &[String],
    ) -> impl Future<Output = Result<Vec<Recipient>>> + Send;
    /// What a delivery needs that the store keeps sealed: the organisation's signing secret for
    /// a webhook or a DingTalk robot, the person's mobile number for an SMS.
    fn sealed_for(&self, d: &Delivery) -> impl Future<Output = Result<Option<String>>> + Send;
    /// How many SMS were queued for a person since `since` (the daily cap).
    fn sms_since(&self, login: &str, since: Timestamp) -> impl Future<Output = Result<u64>> + Send;
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

    async fn recipients(&self, case_id: &str, notify: &[String]) -> Result<Vec<Recipient>> {
        let mut out: BTreeMap<(Option<String>, Option<String>), Recipient> = BTreeMap::new();
        let user_row = |r: &AnyRow| -> Result<Recipient> {
            Ok(Recipient {
                login: Some(r.try_get("login")?),
                org: None,
                email: r.try_get("email")?,
                webhook_url: None,
                wecom_url: None,
                dingtalk_url: None,
                sms: r.try_get::<i64, _>("sms")? != 0,
            })
        };
        for audience in notify {
            let mut users = Vec::new();
            if let Some(role) = audience.strip_prefix("role:") {
                users = sqlx::query(AssertSqlSafe(format!(
                    "SELECT {USER_CONTACTS} FROM users WHERE role = $1"
                )))
                .bind(role.to_string())
                .fetch_all(self.pool())
                .await?;
            } else {
                let members: Vec<String> = sqlx::query_scalar(
                    "SELECT member FROM case_parties WHERE case_id = $1 AND party = $2",
                )
                .bind(case_id.to_string())
                .bind(audience.clone())
                .fetch_all(self.pool())
                .await?;
                for m in members {
                    users.extend(
                        sqlx::query(AssertSqlSafe(format!(
                            "SELECT {USER_CONTACTS} FROM users WHERE login = $1 OR org_code = $1"
                        )))
                        .bind(m.clone())
                        .fetch_all(self.pool())
                        .await?,
                    );
                    if let Some(org) =
                        sqlx::query(
                            "SELECT code, email, webhook_url, wecom_url, dingtalk_url FROM orgs WHERE code = $1",
                        )
                            .bind(m)
                            .fetch_optional(self.pool())
                            .await?
                    {
                        let rec = Recipient {
                            login: None,
                            org: Some(org.try_get("code")?),
                            email: org.try_get("email")?,
                            webhook_url: org.try_get("webhook_url")?,
                            wecom_url: org.try_get("wecom_url")?,
                            dingtalk_url: org.try_get("dingtalk_url")?,
                            sms: false,
                        };
                        out.insert((None, rec.org.clone()), rec);
                    }
                }
            }
            for u in &users {
                let rec = user_row(u)?;
                out.insert((rec.login.clone(), None), rec);
            }
        }
        Ok(out.into_values().collect())
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

    async fn sms_since(&self, login: &str, since: Timestamp) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE channel = 'sms' AND address = $1 AND created_at >= $2",
        )
        .bind(login.to_string())
        .bind(ms(since))
        .fetch_one(self.pool())
        .await?;
        Ok(n.max(0) as u64)
    }
}
