//! The reminder outbox: claiming due reminders and deliveries as jobs with a lease, recording
//! outcomes by compare-and-set, rescuing what a crashed worker held. PostgreSQL claims with
//! `FOR UPDATE SKIP LOCKED`, so several schedulers share the work without waiting on each
//! other; SQLite's write transaction (`BEGIN IMMEDIATE`) makes the claim exclusive.

use std::collections::BTreeMap;
use std::future::Future;

use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::sql::{IN_LIST, Val, from_ms, insert_new_rows, ms};
use crate::{Contacts, Notification, Result, SqlStore, StoredReminder};

/// `notifications` and the columns a fired reminder writes (`read_at` stays NULL).
const NOTIFICATIONS_TARGET: &str =
    "notifications (id, recipient, case_id, reminder_key, title, body, escalate, created_at)";
/// `deliveries` and the columns a fired reminder writes.
const DELIVERIES_TARGET: &str = "deliveries (id, case_id, reminder_key, channel, address, org_code, subject, body, \
    status, attempts, next_attempt_at, created_at)";
/// `delivery_attempts` and its columns.
const ATTEMPTS_TARGET: &str = "delivery_attempts (delivery_id, attempt, at, owner, outcome, error)";

/// What an attempt's finish writes: the delivery's new status and next attempt, the error
/// kept, and the attempt's outcome.
struct Outcome {
    status: &'static str,
    next_attempt_at: i64,
    error: Option<String>,
    outcome: &'static str,
}

impl Outcome {
    fn of(d: &Delivery, finish: &Finish) -> Outcome {
        let (status, next_attempt_at, error, outcome) = match finish {
            Finish::Sent => ("sent", ms(d.next_attempt_at), None, "sent"),
            Finish::Retry { at, error } => ("pending", ms(*at), Some(error.clone()), "failed"),
            Finish::Dead { error } => ("dead", ms(d.next_attempt_at), Some(error.clone()), "dead"),
        };
        Outcome {
            status,
            next_attempt_at,
            error,
            outcome,
        }
    }
}

/// A reminder this worker holds, with what the compare-and-set on completion needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedReminder {
    pub reminder: StoredReminder,
    pub attempts: i64,
    pub owner: String,
}

/// A message to enqueue for delivery over a channel (`email`, `webhook`, `wecom`, `dingtalk`,
/// `sms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// Derived from the reminder occurrence, channel and address: enqueueing twice is a no-op,
    /// and receivers see it as the idempotency key.
    pub id: String,
    pub channel: String,
    pub address: String,
    pub org_code: Option<String>,
    pub subject: String,
    pub body: String,
}

/// What became of a claimed reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReminderOutcome {
    /// Delivered to the inbox now; e-mails and webhooks enqueued; `next_fire` for repeating
    /// (overdue) reminders.
    Fired {
        notifications: Vec<Notification>,
        deliveries: Vec<NewDelivery>,
        next_fire: Option<Timestamp>,
    },
    /// The case has moved on: nothing to say any more.
    Cancelled,
}

/// An e-mail or webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub case_id: String,
    pub reminder_key: String,
    pub channel: String,
    pub address: String,
    pub org_code: Option<String>,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

/// One recorded attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub attempt: i64,
    pub at: Timestamp,
    pub owner: String,
    pub outcome: String,
    pub error: Option<String>,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    Sent,
    /// Failed; try again at `at`.
    Retry {
        at: Timestamp,
        error: String,
    },
    /// Failed for the last time.
    Dead {
        error: String,
    },
}

/// The scheduler's side of the store.
pub trait Outbox: Contacts + Send + Sync {
    fn claim_reminders(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ClaimedReminder>>> + Send;
    /// Records the outcome if this worker still holds the claim; `false` if it was rescued.
    fn complete_reminder(
        &self,
        claim: &ClaimedReminder,
        outcome: &ReminderOutcome,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Records many outcomes in one transaction: one compare-and-set for the batch and one
    /// insert of its notifications and deliveries, not several statements and a commit each.
    /// For each, whether this worker still held its claim (only those write anything). If the
    /// transaction fails, nothing is recorded.
    fn complete_reminders(
        &self,
        batch: &[(ClaimedReminder, ReminderOutcome)],
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<bool>>> + Send;
    fn claim_deliveries(
        &self,
        channel: &str,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Delivery>>> + Send;
    /// Records an attempt's outcome if this worker still holds the claim.
    fn finish_delivery(
        &self,
        d: &Delivery,
        owner: &str,
        now: Timestamp,
        finish: &Finish,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Records many attempts' outcomes in one transaction (one commit, not one each); for each,
    /// whether this worker still held its claim. If the transaction fails, nothing is recorded.
    fn finish_deliveries(
        &self,
        batch: &[(Delivery, Finish)],
        owner: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<bool>>> + Send;
    /// Takes back claims whose lease expired: how many reminders, and how many deliveries of
    /// each channel.
    fn rescue(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<(u64, BTreeMap<String, u64>)>> + Send;
    fn deliveries(
        &self,
        status: Option<&str>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Delivery>>> + Send;
    fn attempts(&self, delivery_id: &str) -> impl Future<Output = Result<Vec<Attempt>>> + Send;
    /// Every delivery about a case, oldest first.
    fn case_deliveries(&self, case_id: &str) -> impl Future<Output = Result<Vec<Delivery>>> + Send;
    /// Puts a dead delivery back in the queue (an administrator's retry).
    fn retry_delivery(&self, id: &str, now: Timestamp)
    -> impl Future<Output = Result<bool>> + Send;
    /// The earliest time anything pending falls due.
    fn next_due(&self) -> impl Future<Output = Result<Option<Timestamp>>> + Send;
    /// The oldest due, still pending work at `now` (for the queue-lag gauge).
    fn oldest_due(&self, now: Timestamp) -> impl Future<Output = Result<Option<Timestamp>>> + Send;
}

const REMINDER_COLUMNS: &str = "case_id, reminder_key, state, duty, rule, fire_at, due_date, notify, repeat_every_days, escalate, status, attempts, lease_owner, headline";
const DELIVERY_COLUMNS: &str = "id, case_id, reminder_key, channel, address, org_code, subject, body, status, attempts, \
    next_attempt_at, last_error, created_at, sent_at";

fn delivery(r: &AnyRow) -> Result<Delivery> {
    let sent: Option<i64> = r.try_get("sent_at")?;
    Ok(Delivery {
        id: r.try_get("id")?,
        case_id: r.try_get("case_id")?,
        reminder_key: r.try_get("reminder_key")?,
        channel: r.try_get("channel")?,
        address: r.try_get("address")?,
        org_code: r.try_get("org_code")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: from_ms(r.try_get("next_attempt_at")?)?,
        last_error: r.try_get("last_error")?,
        created_at: from_ms(r.try_get("created_at")?)?,
        sent_at: sent.map(from_ms).transpose()?,
    })
}

impl Outbox for SqlStore {
    async fn claim_reminders(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedReminder>> {
        let mut tx = self.begin_write().await?;
        self.fault("claim_reminders")?;
        let sql = format!(
            "UPDATE reminders SET status = 'claimed', lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1 \
             WHERE (case_id, reminder_key) IN (SELECT case_id, reminder_key FROM reminders \
             WHERE status = 'pending' AND fire_at <= $3 ORDER BY fire_at LIMIT $4{}) RETURNING {REMINDER_COLUMNS}",
            self.backend().skip_locked()
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(owner.to_string())
            .bind(ms(lease_until))
            .bind(ms(now))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut claimed = rows
            .iter()
            .map(|r| {
                Ok(ClaimedReminder {
                    reminder: crate::sql::reminder(r)?,
                    attempts: r.try_get("attempts")?,
                    owner: owner.to_string(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        claimed.sort_by(|a, b| {
            a.reminder
                .fire_at
                .cmp(&b.reminder.fire_at)
                .then(a.reminder.key.cmp(&b.reminder.key))
        });
        Ok(claimed)
    }

    async fn complete_reminder(
        &self,
        claim: &ClaimedReminder,
        outcome: &ReminderOutcome,
        now: Timestamp,
    ) -> Result<bool> {
        let held = self
            .complete_reminders(&[(claim.clone(), outcome.clone())], now)
            .await?;
        Ok(held == [true])
    }

    async fn complete_reminders(
        &self,
        batch: &[(ClaimedReminder, ReminderOutcome)],
        now: Timestamp,
    ) -> Result<Vec<bool>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.backend();
        let mut tx = self.begin_write().await?;
        // One compare-and-set for each thousand claims (VALUES' columns are `column1`… in both
        // dialects); the case ids again as a list on the primary key, so that PostgreSQL looks
        // each up rather than scanning every claimed reminder once per value.
        let mut held = std::collections::BTreeSet::new();
        for chunk in batch.chunks(IN_LIST / 6) {
            let rows: Vec<Vec<Val>> = chunk
                .iter()
                .map(|(claim, outcome)| {
                    let (status, fire_at) = match outcome {
                        ReminderOutcome::Fired {
                            next_fire: Some(at),
                            ..
                        } => ("pending", ms(*at)),
                        ReminderOutcome::Fired {
                            next_fire: None, ..
                        } => ("sent", ms(claim.reminder.fire_at)),
                        ReminderOutcome::Cancelled => ("cancelled", ms(claim.reminder.fire_at)),
                    };
                    vec![
                        Val::Text(claim.reminder.case_id.clone()),
                        Val::Text(claim.reminder.key.clone()),
                        Val::Text(status.into()),
                        Val::Int(fire_at),
                        Val::Text(claim.owner.clone()),
                        Val::Int(claim.attempts),
                    ]
                })
                .collect();
            let ids: Vec<String> = chunk
                .iter()
                .map(|(c, _)| c.reminder.case_id.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let sql = format!(
                "UPDATE reminders SET status = v.column3, fire_at = v.column4, lease_owner = NULL, \
                 lease_expires_at = NULL FROM (VALUES {}) AS v \
                 WHERE reminders.case_id = v.column1 AND reminders.reminder_key = v.column2 \
                 AND reminders.status = 'claimed' AND reminders.lease_owner = v.column5 \
                 AND reminders.attempts = v.column6 AND reminders.case_id IN ({}) \
                 RETURNING reminders.case_id, reminders.reminder_key",
                backend.placeholders(1, &rows),
                backend.list(1 + rows.len() * 6, ids.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for v in rows.into_iter().flatten() {
                q = v.bind_to(q);
            }
            for id in ids {
                q = q.bind(id);
            }
            for r in q.fetch_all(&mut *tx).await? {
                held.insert((
                    r.try_get::<String, _>("case_id")?,
                    r.try_get::<String, _>("reminder_key")?,
                ));
            }
        }
        let holds = |c: &ClaimedReminder| {
            held.contains(&(c.reminder.case_id.clone(), c.reminder.key.clone()))
        };
        let (mut notices, mut deliveries) = (Vec::new(), Vec::new());
        for (claim, outcome) in batch.iter().filter(|(c, _)| holds(c)) {
            self.fault("complete_reminder.inserts")?;
            let ReminderOutcome::Fired {
                notifications,
                deliveries: queued,
                ..
            } = outcome
            else {
                continue;
            };
            notices.extend(notifications.iter().map(|n| {
                vec![
                    Val::Text(n.id.clone()),
                    Val::Text(n.recipient.clone()),
                    Val::OptText(n.case_id.clone()),
                    Val::OptText(n.reminder_key.clone()),
                    Val::Text(n.title.clone()),
                    Val::Text(n.body.clone()),
                    Val::Int(i64::from(n.escalate)),
                    Val::Int(ms(n.created_at)),
                ]
            }));
            deliveries.extend(queued.iter().map(|d| {
                vec![
                    Val::Text(d.id.clone()),
                    Val::Text(claim.reminder.case_id.clone()),
                    Val::Text(claim.reminder.key.clone()),
                    Val::Text(d.channel.clone()),
                    Val::Text(d.address.clone()),
                    Val::OptText(d.org_code.clone()),
                    Val::Text(d.subject.clone()),
                    Val::Text(d.body.clone()),
                    Val::Text("pending".into()),
                    Val::Int(0),
                    Val::Int(ms(now)),
                    Val::Int(ms(now)),
                ]
            }));
        }
        insert_new_rows(&mut tx, NOTIFICATIONS_TARGET, "id", &notices).await?;
        insert_new_rows(&mut tx, DELIVERIES_TARGET, "id", &deliveries).await?;
        tx.commit().await?;
        Ok(batch.iter().map(|(c, _)| holds(c)).collect())
    }

    async fn claim_deliveries(
        &self,
        channel: &str,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let mut tx = self.begin_write().await?;
        self.fault("claim_deliveries")?;
        let sql = format!(
            "UPDATE deliveries SET status = 'claimed', lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending' AND channel = $3 AND next_attempt_at <= $4 \
             ORDER BY next_attempt_at LIMIT $5{}) RETURNING {DELIVERY_COLUMNS}",
            self.backend().skip_locked()
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(owner.to_string())
            .bind(ms(lease_until))
            .bind(channel.to_string())
            .bind(ms(now))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut out = rows.iter().map(delivery).collect::<Result<Vec<_>>>()?;
        out.sort_by(|a, b| {
            a.next_attempt_at
                .cmp(&b.next_attempt_at)
                .then(a.id.cmp(&b.id))
        });
        Ok(out)
    }

    async fn finish_deliveries(
        &self,
        batch: &[(Delivery, Finish)],
        owner: &str,
        now: Timestamp,
    ) -> Result<Vec<bool>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.backend();
        let mut tx = self.begin_write().await?;
        // One compare-and-set for the whole chunk and one insert of its attempts: two
        // statements, not two a delivery (each statement is a round trip to the database).
        // VALUES' columns are `column1`… in both dialects.
        let outcomes: Vec<Outcome> = batch.iter().map(|(d, f)| Outcome::of(d, f)).collect();
        let rows: Vec<Vec<Val>> = batch
            .iter()
            .zip(&outcomes)
            .map(|((d, _), o)| {
                vec![
                    Val::Text(d.id.clone()),
                    Val::Int(d.attempts),
                    Val::Text(o.status.into()),
                    Val::Int(o.next_attempt_at),
                    Val::OptText(o.error.clone()),
                ]
            })
            .collect();
        let (now_at, owner_at) = (backend.param(1), backend.param(2 + rows.len() * 5));
        // The ids again, as a list on the primary key: without it PostgreSQL may scan every
        // claimed delivery and the VALUES once for each (a thousand claimed, 32 values).
        let ids: Vec<Vec<Val>> = batch
            .iter()
            .map(|(d, _)| vec![Val::Text(d.id.clone())])
            .collect();
        let sql = format!(
            "UPDATE deliveries SET status = v.column3, next_attempt_at = v.column4, \
             last_error = COALESCE(v.column5, last_error), \
             sent_at = CASE WHEN v.column3 = 'sent' THEN {now_at} ELSE sent_at END, \
             lease_owner = NULL, lease_expires_at = NULL \
             FROM (VALUES {}) AS v \
             WHERE deliveries.id = v.column1 AND deliveries.status = 'claimed' \
             AND deliveries.lease_owner = {owner_at} AND deliveries.attempts = v.column2 \
             AND deliveries.id IN ({}) RETURNING id",
            backend.placeholders(2, &rows),
            backend.placeholders(3 + rows.len() * 5, &ids)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(ms(now));
        for v in rows.into_iter().flatten() {
            q = v.bind_to(q);
        }
        q = q.bind(owner.to_string());
        for v in ids.into_iter().flatten() {
            q = v.bind_to(q);
        }
        let held: std::collections::BTreeSet<String> = q
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
        for _ in batch {
            self.fault("finish_delivery.record")?;
        }
        let attempts: Vec<Vec<Val>> = batch
            .iter()
            .zip(outcomes)
            .filter(|((d, _), _)| held.contains(&d.id))
            .map(|((d, _), o)| {
                vec![
                    Val::Text(d.id.clone()),
                    Val::Int(d.attempts),
                    Val::Int(ms(now)),
                    Val::Text(owner.to_string()),
                    Val::Text(o.outcome.into()),
                    Val::OptText(o.error),
                ]
            })
            .collect();
        insert_new_rows(&mut tx, ATTEMPTS_TARGET, "delivery_id, attempt", &attempts).await?;
        tx.commit().await?;
        Ok(batch.iter().map(|(d, _)| held.contains(&d.id)).collect())
    }

    async fn finish_delivery(
        &self,
        d: &Delivery,
        owner: &str,
        now: Timestamp,
        finish: &Finish,
    ) -> Result<bool> {
        let held = self
            .finish_deliveries(&[(d.clone(), finish.clone())], owner, now)
            .await?;
        Ok(held == [true])
    }

    async fn rescue(&self, now: Timestamp) -> Result<(u64, BTreeMap<String, u64>)> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "UPDATE reminders SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL \
             WHERE status = 'claimed' AND lease_expires_at < $1",
        )
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        let channels: Vec<String> = sqlx::query_scalar(
            "UPDATE deliveries SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL \
             WHERE status = 'claimed' AND lease_expires_at < $1 RETURNING channel",
        )
        .bind(ms(now))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut by_channel = BTreeMap::new();
        for c in channels {
            *by_channel.entry(c).or_default() += 1;
        }
        Ok((r.rows_affected(), by_channel))
    }

    async fn case_deliveries(&self, case_id: &str) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE case_id = $1 ORDER BY created_at, id"
        )))
        .bind(case_id.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(delivery).collect()
    }

    async fn deliveries(&self, status: Option<&str>, limit: u32) -> Result<Vec<Delivery>> {
        let rows = match status {
            Some(s) => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE status = $1 ORDER BY created_at, id LIMIT $2"
                )))
                .bind(s.to_string())
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(AssertSqlSafe(format!("SELECT {DELIVERY_COLUMNS} FROM deliveries ORDER BY created_at, id LIMIT $1")))
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.iter().map(delivery).collect()
    }

    async fn attempts(&self, delivery_id: &str) -> Result<Vec<Attempt>> {
        let rows = sqlx::query("SELECT attempt, at, owner, outcome, error FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt")
            .bind(delivery_id.to_string())
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Attempt {
                    attempt: r.try_get("attempt")?,
                    at: from_ms(r.try_get("at")?)?,
                    owner: r.try_get("owner")?,
                    outcome: r.try_get("outcome")?,
                    error: r.try_get("error")?,
                })
            })
            .collect()
    }

    async fn retry_delivery(&self, id: &str, now: Timestamp) -> Result<bool> {
        let r = sqlx::query("UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2 WHERE id = $1 AND status = 'dead'")
            .bind(id.to_string())
            .bind(ms(now))
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn next_due(&self) -> Result<Option<Timestamp>> {
        let r: Option<i64> =
            sqlx::query_scalar("SELECT MIN(fire_at) FROM reminders WHERE status = 'pending'")
                .fetch_one(self.pool())
                .await?;
        let d: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'",
        )
        .fetch_one(self.pool())
        .await?;
        [r, d].into_iter().flatten().min().map(from_ms).transpose()
    }

    async fn oldest_due(&self, now: Timestamp) -> Result<Option<Timestamp>> {
        let r: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(fire_at) FROM reminders WHERE status = 'pending' AND fire_at <= $1",
        )
        .bind(ms(now))
        .fetch_one(self.pool())
        .await?;
        let d: Option<i64> = sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1")
            .bind(ms(now))
            .fetch_one(self.pool())
            .await?;
        [r, d].into_iter().flatten().min().map(from_ms).transpose()
    }
}
