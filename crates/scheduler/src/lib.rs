//! duban-scheduler: fires due reminders and delivers them — to the in-app inbox (in the same
//! transaction that fires them); by e-mail, signed webhook, WeCom and DingTalk group robots and
//! SMS (as claimable jobs with a lease, retried with exponential backoff and jitter, `dead`
//! after the last attempt).
//!
//! The work is a single step, [`Scheduler::tick`], that takes `now` as an argument; [`run`] is a
//! small loop around it that sleeps until the next due time or a wake-up.

mod channel;
mod email;
mod metrics;
mod robot;
mod sms;
pub mod tls;
mod webhook;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use duban_core::Workflows;
use duban_core::workflow::When;
use duban_storage::{
    ClaimedReminder, Delivery, Finish, NewDelivery, Notification, Outbox, Recipient,
    ReminderOutcome, Store,
};
use jiff::Timestamp;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

/// Deliveries of one channel sent side by side: a receiver's latency is not paid one at a time.
const SEND_AT_ONCE: usize = 32;

pub use channel::{Channel, SendFuture, reasons};
pub use email::{Email, SENDER_NAME, SmtpSettings, relay_of};
pub use metrics::{CHANNELS, COUNTERS, Metrics};
pub use robot::{Robot, Vendor, dingtalk_sign, text_message};
pub use sms::{
    ALIYUN_ENDPOINT, NOTICE_KINDS, Sms, SmsSettings, aliyun_signature, canonical_query,
    percent_encode,
};
pub use webhook::{Webhook, signature, user_agent};

/// How the scheduler works.
#[derive(Debug, Clone)]
pub struct Config {
    /// This worker's name in leases (host, process and a random part, by default).
    pub owner: String,
    /// How long a claim holds before another worker may rescue it.
    pub lease: Duration,
    /// Reminders claimed per batch.
    pub batch: u32,
    /// Deliveries per channel per tick: catching up after downtime goes at this pace, not in
    /// one storm.
    pub per_channel_per_tick: u32,
    /// Attempts before a delivery is `dead`.
    pub max_attempts: i64,
    /// The first retry's delay; each further one doubles, up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// The web address of this installation, for links in messages.
    pub base_url: String,
    /// The longest the loop sleeps without looking (other processes may add work).
    pub max_sleep: Duration,
    /// Whether, and for which notices, people who agreed get SMS; `None` without a gateway.
    pub sms: Option<SmsPolicy>,
}

/// Which notices go by SMS (those with a template), and at most how many a person gets a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsPolicy {
    pub kinds: BTreeSet<String>,
    pub daily_cap: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            owner: format!("scheduler-{}", std::process::id()),
            lease: Duration::from_secs(60),
            batch: 200,
            per_channel_per_tick: 50,
            max_attempts: 8,
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(6 * 3600),
            base_url: "http://127.0.0.1:8080".into(),
            max_sleep: Duration::from_secs(30),
            sms: None,
        }
    }
}

/// What one tick did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    pub fired: u64,
    pub cancelled: u64,
    pub notified: u64,
    pub sent: u64,
    pub failed: u64,
    pub dead: u64,
    pub rescued: u64,
}

impl TickReport {
    /// Whether the tick found work: then another may find more right away.
    pub fn did_work(&self) -> bool {
        self.fired + self.cancelled + self.sent + self.failed + self.dead + self.rescued > 0
    }
}

/// The scheduler: a store, the workflows (for message texts), the channels, the metrics.
pub struct Scheduler<S> {
    store: S,
    workflows: Arc<Workflows>,
    channels: Vec<Arc<dyn Channel>>,
    config: Config,
    metrics: Arc<Metrics>,
}

impl<S> std::fmt::Debug for Scheduler<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..12])
}

/// The delay before retry number `attempt` (1-based): doubling from `base`, capped at `max`,
/// spread by a jitter of up to ±25 % derived from the delivery id so that a burst of failures
/// does not retry in lockstep.
pub fn backoff(config: &Config, delivery_id: &str, attempt: i64) -> Duration {
    let exp = attempt.clamp(1, 30) - 1;
    let raw = config
        .backoff_base
        .saturating_mul(1u32 << exp.min(20) as u32)
        .min(config.backoff_max);
    let spread = u64::from_str_radix(&short_hash(&[delivery_id, &attempt.to_string()])[..4], 16)
        .unwrap_or(0);
    // spread is 0..65535; map to 0.75..1.25
    let factor = 0.75 + (spread as f64 / 65535.0) * 0.5;
    raw.mul_f64(factor)
}

impl<S: Store + Outbox> Scheduler<S> {
    pub fn new(
        store: S,
        workflows: Arc<Workflows>,
        channels: Vec<Arc<dyn Channel>>,
        config: Config,
    ) -> Self {
        Self {
            store,
            workflows,
            channels,
            config,
            metrics: Arc::new(Metrics::default()),
        }
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Leases are about real elapsed time, whatever `now` a tick is told: a claim made late in
    /// a long tick must still hold for its full lease.
    fn lease_until(&self, _now: Timestamp) -> Timestamp {
        let wall = Timestamp::now();
        wall.checked_add(jiff::SignedDuration::try_from(self.config.lease).unwrap_or_default())
            .unwrap_or(wall)
    }

    /// One step: rescue what crashed workers held, fire what is due, deliver what is queued.
    pub async fn tick(&self, now: Timestamp) -> Result<TickReport, duban_storage::Error> {
        let mut report = TickReport::default();
        // Expiry is judged by the wall clock, like the leases themselves.
        let (reminders, deliveries) = self.store.rescue(Timestamp::now()).await?;
        report.rescued = reminders + deliveries.values().sum::<u64>();
        // A rescued reminder claim is the inbox's work (firing writes the inboxes).
        self.metrics.add("rescued", "inbox", reminders);
        for (channel, n) in &deliveries {
            self.metrics.add("rescued", channel, *n);
        }
        loop {
            let claimed = self
                .store
                .claim_reminders(
                    now,
                    &self.config.owner,
                    self.lease_until(now),
                    self.config.batch,
                )
                .await?;
            if claimed.is_empty() {
                break;
            }
            for claim in claimed {
                let outcome = self.compose(&claim, now).await?;
                let fired = matches!(outcome, ReminderOutcome::Fired { .. });
                let notified = match &outcome {
                    ReminderOutcome::Fired { notifications, .. } => notifications.len() as u64,
                    ReminderOutcome::Cancelled => 0,
                };
                if self.store.complete_reminder(&claim, &outcome, now).await? {
                    if fired {
                        report.fired += 1;
                        report.notified += notified;
                        self.metrics.add("sent", "inbox", notified);
                    } else {
                        report.cancelled += 1;
                    }
                }
            }
        }
        for channel in &self.channels {
            let due = self
                .store
                .claim_deliveries(
                    channel.name(),
                    now,
                    &self.config.owner,
                    self.lease_until(now),
                    self.config.per_channel_per_tick,
                )
                .await?;
            // Send only while the claim surely holds: what is left when 80 % of the lease has
            // gone stays claimed and is rescued and sent after the lease expires — late, but
            // never by two workers at once.
            let budget = std::time::Instant::now() + self.config.lease.mul_f64(0.8);
            // What the store keeps sealed (an organisation's signing secret, a person's
            // number), opened once per organisation or person per tick, not per delivery.
            let mut sealed: BTreeMap<(Option<String>, String), Option<String>> = BTreeMap::new();
            let sealed_key = |d: &Delivery| (d.org_code.clone(), d.address.clone());
            for chunk in due.chunks(SEND_AT_ONCE) {
                if std::time::Instant::now() >= budget {
                    tracing::warn!(
                        channel = channel.name(),
                        "lease budget spent; the rest of the batch waits for rescue"
                    );
                    break;
                }
                for d in chunk {
                    if let std::collections::btree_map::Entry::Vacant(e) =
                        sealed.entry(sealed_key(d))
                    {
                        e.insert(self.store.sealed_for(d).await?);
                    }
                }
                // Sent side by side, then recorded together in one transaction.
                let sends = chunk.iter().map(|d| {
                    let secret = sealed.get(&sealed_key(d)).cloned().flatten();
                    async move {
                        let result = channel.send(d, secret.as_deref(), now.as_second()).await;
                        (d.clone(), self.finish_of(d, result, now))
                    }
                });
                let outcomes = futures_util::future::join_all(sends).await;
                self.record(channel.as_ref(), &outcomes, now, &mut report)
                    .await?;
            }
        }
        Ok(report)
    }

    /// What an attempt's result means: sent, to be retried after a backoff, or dead.
    fn finish_of(&self, d: &Delivery, result: Result<(), String>, now: Timestamp) -> Finish {
        match result {
            Ok(()) => Finish::Sent,
            Err(error) if d.attempts >= self.config.max_attempts => Finish::Dead { error },
            Err(error) => {
                let wait = backoff(&self.config, &d.id, d.attempts);
                let at = now
                    .checked_add(jiff::SignedDuration::try_from(wait).unwrap_or_default())
                    .unwrap_or(now);
                Finish::Retry { at, error }
            }
        }
    }

    /// Records a chunk's outcomes in one transaction. If that fails (a fault), each is recorded
    /// on its own, so that one failure leaves one delivery to be rescued and repeated, not the
    /// whole chunk.
    async fn record(
        &self,
        channel: &dyn Channel,
        outcomes: &[(Delivery, Finish)],
        now: Timestamp,
        report: &mut TickReport,
    ) -> Result<(), duban_storage::Error> {
        let held = match self
            .store
            .finish_deliveries(outcomes, &self.config.owner, now)
            .await
        {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(error = %e, "recording a batch of deliveries failed; recording them one by one");
                let mut held = Vec::with_capacity(outcomes.len());
                for (d, finish) in outcomes {
                    held.push(
                        self.store
                            .finish_delivery(d, &self.config.owner, now, finish)
                            .await
                            .unwrap_or_else(|e| {
                                tracing::warn!(delivery = %d.id, error = %e, "could not record a delivery; it will be rescued");
                                false
                            }),
                    );
                }
                held
            }
        };
        for ((d, finish), held) in outcomes.iter().zip(held) {
            if !held {
                continue;
            }
            let (counter, field) = match finish {
                Finish::Sent => ("sent", &mut report.sent),
                Finish::Retry { .. } => ("failed", &mut report.failed),
                Finish::Dead { .. } => ("dead", &mut report.dead),
            };
            *field += 1;
            self.metrics.add(counter, channel.name(), 1);
            if let Finish::Dead { error } = finish {
                tracing::warn!(delivery = %d.id, channel = channel.name(), %error, "delivery is dead after its last attempt");
            }
        }
        Ok(())
    }

    /// Decides what a due reminder becomes: messages for its recipients, or nothing if it no
    /// longer applies (the case has left the state, the duty is done or the deadline moved:
    /// `Case::reminder_applies`). Leaving a state writes nothing to its reminders, so this is
    /// where they are cancelled.
    async fn compose(
        &self,
        claim: &ClaimedReminder,
        now: Timestamp,
    ) -> Result<ReminderOutcome, duban_storage::Error> {
        let r = &claim.reminder;
        let Some(record) = self.store.case(&r.case_id).await? else {
            return Ok(ReminderOutcome::Cancelled);
        };
        let case = &record.case;
        // A notice reports what happened, and goes out whatever the case has done since; a
        // reminder is about a deadline, and only while it still stands.
        if r.headline.is_none()
            && !case.reminder_applies(&r.state, r.duty.as_deref(), r.due_date.as_deref())
        {
            return Ok(ReminderOutcome::Cancelled);
        }
        let wf = self.workflows.get(&case.kind);
        let rule = wf
            .filter(|_| r.headline.is_none())
            .and_then(|w| w.reminders.get(r.rule as usize));
        let state_title = wf
            .and_then(|w| w.state(&r.state))
            .map(|s| s.title.clone())
            .unwrap_or_else(|| r.state.clone());
        let kind_title = wf
            .map(|w| w.title.clone())
            .unwrap_or_else(|| case.kind.clone());
        let duty_title = r.duty.as_ref().and_then(|d| {
            wf?.state(&r.state)?
                .duties
                .iter()
                .find(|x| &x.name == d)
                .map(|x| x.title.clone())
        });
        let overdue = matches!(
            rule.map(|x| x.when),
            Some(When::Overdue) | Some(When::OverdueEvery(_))
        );
        // The kind of notice: SMS templates are configured per kind.
        let notice = if r.headline.is_some() {
            "notice"
        } else if r.escalate {
            "escalated"
        } else if overdue {
            "overdue"
        } else if matches!(rule.map(|x| x.when), Some(When::Entered)) {
            "new"
        } else if matches!(rule.map(|x| x.when), Some(When::AtDue)) {
            "at_due"
        } else {
            "due"
        };
        let prefix = match (notice, &r.headline) {
            (_, Some(h)) => format!("【{h}】"),
            ("escalated", _) => "【督办升级】".into(),
            ("overdue", _) => "【逾期提醒】".into(),
            ("new", _) => "【新事项】".into(),
            ("at_due", _) => "【今日到期】".into(),
            _ => "【到期提醒】".into(),
        };
        // The case as people name it: its title, and the number they quote on the phone.
        let named = match &record.number {
            Some(n) => format!("《{}》（{n}）", record.title),
            None => format!("《{}》", record.title),
        };
        let link = format!(
            "{}/cases/{}",
            self.config.base_url.trim_end_matches('/'),
            r.case_id
        );
        let what = duty_title.map(|t| format!("（{t}）")).unwrap_or_default();
        let due = r.due_date.clone().map(|d| {
            if overdue {
                format!("期限{d}已过，请尽快办理。")
            } else {
                format!("办理期限为{d}。")
            }
        });
        let subject = format!("{prefix}{kind_title}{named}");
        // A notice tells what happened and the state it led to, which the case may have left
        // by the time it is read; a reminder tells where the case stands now.
        let body = match &r.headline {
            Some(h) => format!(
                "{kind_title}{named}{h}，转入“{state_title}”{what}。{}\n查看：{link}",
                due.unwrap_or_default()
            ),
            None => format!(
                "{kind_title}{named}目前处于“{state_title}”{what}。{}\n查看：{link}",
                due.unwrap_or_default()
            ),
        };
        // A group robot shows one short text: what, which case, what is due, and the link.
        let robot_text = text_message(&format!("{prefix}{body}"));
        // An SMS is an approved template filled with short values (gateways cap each).
        let sms_params = json!({
            "kind": short(&kind_title, 10),
            "number": record.number.clone().unwrap_or_else(|| "无".into()),
            "title": short(&record.title, 20),
            "state": short(&state_title, 10),
            "due": r.due_date.clone().unwrap_or_else(|| "无".into()),
        });
        let occurrence = r.fire_at.as_millisecond().to_string();
        let recipients = self.store.recipients(&r.case_id, &r.notify).await?;
        let delivery = |channel: &str, address: &str, org: Option<&String>, body: String| {
            let id = format!(
                "dlv_{}",
                short_hash(&[&r.case_id, &r.key, &occurrence, channel, address])
            );
            NewDelivery {
                id,
                channel: channel.into(),
                address: address.into(),
                org_code: org.cloned(),
                subject: subject.clone(),
                body,
            }
        };
        let mut notifications = Vec::new();
        let mut deliveries: BTreeMap<String, NewDelivery> = BTreeMap::new();
        for Recipient {
            login,
            org,
            email,
            webhook_url,
            wecom_url,
            dingtalk_url,
            sms,
        } in &recipients
        {
            if let Some(login) = login {
                notifications.push(Notification {
                    id: format!(
                        "ntf_{}",
                        short_hash(&[&r.case_id, &r.key, &occurrence, login])
                    ),
                    recipient: login.clone(),
                    case_id: Some(r.case_id.clone()),
                    reminder_key: Some(r.key.clone()),
                    title: subject.clone(),
                    body: body.clone(),
                    escalate: r.escalate,
                    created_at: now,
                    read_at: None,
                });
            }
            if let Some(address) = email {
                let d = delivery("email", address, org.as_ref(), body.clone());
                deliveries.insert(d.id.clone(), d);
            }
            if let (Some(url), Some(org)) = (webhook_url, org) {
                // The payload names its own delivery, so the id comes first.
                let mut d = delivery("webhook", url, Some(org), String::new());
                d.body = json!({
                    "event": if r.headline.is_some() { "notice" } else if r.escalate { "reminder.escalated" } else if overdue { "reminder.overdue" } else { "reminder.due" },
                    "headline": r.headline,
                    "delivery_id": d.id,
                    "case_id": r.case_id,
                    "number": record.number,
                    "kind": case.kind,
                    "title": record.title,
                    "state": r.state,
                    "state_title": state_title,
                    "duty": r.duty,
                    "due_date": r.due_date,
                    "escalate": r.escalate,
                    "organisation": org,
                    "link": link,
                    "text": body,
                })
                .to_string();
                deliveries.insert(d.id.clone(), d);
            }
            if let Some(org) = org {
                for (channel, url) in [("wecom", wecom_url), ("dingtalk", dingtalk_url)] {
                    if let Some(url) = url {
                        let d = delivery(channel, url, Some(org), robot_text.clone());
                        deliveries.insert(d.id.clone(), d);
                    }
                }
            }
            if let (true, Some(login), Some(policy)) = (*sms, login, &self.config.sms)
                && policy.kinds.contains(notice)
            {
                // The cap counts what was queued today (China's day), this message excluded.
                let today = self.store.sms_since(login, china_day_start(now)).await?;
                if today < policy.daily_cap {
                    let body = json!({"kind": notice, "params": sms_params}).to_string();
                    let d = delivery("sms", login, None, body);
                    deliveries.insert(d.id.clone(), d);
                } else {
                    tracing::info!(case = %r.case_id, cap = policy.daily_cap, "a person's daily SMS cap is reached; the inbox has the message");
                }
            }
        }
        // A repeating (overdue) reminder comes back every so many days while the state lasts;
        // China keeps no daylight saving, so a day is 24 hours. Repeats missed while nothing
        // ran are skipped: one catch-up message, then the next one in the future.
        let next_fire = r.repeat_every_days.and_then(|days| {
            let step = jiff::SignedDuration::from_hours(days.max(1) * 24);
            let mut next = r.fire_at.checked_add(step).ok()?;
            while next <= now {
                next = next.checked_add(step).ok()?;
            }
            Some(next)
        });
        Ok(ReminderOutcome::Fired {
            notifications,
            deliveries: deliveries.into_values().collect(),
            next_fire,
        })
    }
}

/// The first instant of `now`'s day in China (UTC+8 all year).
fn china_day_start(now: Timestamp) -> Timestamp {
    const OFFSET: i64 = 8 * 3600;
    let day = (now.as_second() + OFFSET).div_euclid(86_400);
    Timestamp::from_second(day * 86_400 - OFFSET).unwrap_or(now)
}

/// At most `n` characters, with … when cut.
fn short(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(n - 1).collect();
        s.push('…');
        s
    }
}

/// Runs ticks until `stop` is notified: after work, at once again; otherwise asleep until the
/// next due time, a wake-up (a new reminder due sooner), or `max_sleep`.
pub async fn run<S: Store + Outbox>(
    scheduler: Arc<Scheduler<S>>,
    wake: Arc<Notify>,
    stop: Arc<Notify>,
) {
    loop {
        let now = Timestamp::now();
        let worked = match scheduler.tick(now).await {
            Ok(report) => {
                if report.did_work() {
                    tracing::info!(?report, "scheduler tick");
                }
                report.did_work()
            }
            Err(e) => {
                tracing::error!(error = %e, "scheduler tick failed");
                false
            }
        };
        let sleep = if worked {
            // Catch-up goes at per_channel_per_tick a second, not in one storm.
            Duration::from_secs(1)
        } else {
            match scheduler.store.next_due().await {
                Ok(Some(next)) => Duration::try_from(next.duration_since(Timestamp::now()))
                    .unwrap_or_default()
                    .min(scheduler.config.max_sleep),
                _ => scheduler.config.max_sleep,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(sleep.max(Duration::from_millis(50))) => {}
            _ = wake.notified() => {}
            _ = stop.notified() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_china_day_starts_at_16_00_utc_the_day_before() {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(
            china_day_start(at("2026-12-05T15:59:59Z")),
            at("2026-12-04T16:00:00Z")
        );
        assert_eq!(
            china_day_start(at("2026-12-05T16:00:00Z")),
            at("2026-12-05T16:00:00Z")
        );
    }

    #[test]
    fn short_cuts_by_characters_and_says_so() {
        assert_eq!(short("关于修缮龙门镇道路的建议", 6), "关于修缮龙…");
        assert_eq!(short("路灯", 6), "路灯");
    }
}
