//! duban-scheduler: fires due reminders and delivers them — to the in-app inbox (in the same
//! transaction that fires them); by e-mail, signed webhook, WeCom and DingTalk group robots and
//! SMS (as claimable jobs with a lease, retried with exponential backoff and jitter, `dead`
//! after the last attempt).
//!
//! The work is a single step, [`Scheduler::tick`], that takes `now` as an argument; [`run`] is a
//! small loop around it that sleeps until the next due time or a wake-up.

mod channel;
mod compose;
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
use duban_storage::{
    Audience, CaseRecord, ClaimedReminder, Delivery, Finish, LinkKey, Outbox, ReminderOutcome,
    Store,
};
use jiff::Timestamp;
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
    /// The key of the signed links a person's e-mail carries for the actions they may take
    /// without signing in (a deputy's rating); `None` sends none.
    pub links: Option<LinkKey>,
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
            links: None,
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
            let batch = self.compose_batch(claimed, now).await?;
            let held = self.complete(&batch, now).await;
            for ((_, outcome), held) in batch.iter().zip(held) {
                match outcome {
                    _ if !held => {}
                    ReminderOutcome::Fired { notifications, .. } => {
                        let notified = notifications.len() as u64;
                        report.fired += 1;
                        report.notified += notified;
                        self.metrics.add("sent", "inbox", notified);
                    }
                    ReminderOutcome::Cancelled => report.cancelled += 1,
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

    /// What a batch of claimed reminders becomes, read from the store at once: their cases,
    /// the recipients of those that still apply, and (with SMS) how many each person got today.
    async fn compose_batch(
        &self,
        claimed: Vec<ClaimedReminder>,
        now: Timestamp,
    ) -> Result<Vec<(ClaimedReminder, ReminderOutcome)>, duban_storage::Error> {
        let ids: Vec<String> = claimed
            .iter()
            .map(|c| c.reminder.case_id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let cases: BTreeMap<String, CaseRecord> = self
            .store
            .cases(&ids)
            .await?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
        let live: Vec<Option<&CaseRecord>> = claimed
            .iter()
            .map(|c| {
                cases
                    .get(&c.reminder.case_id)
                    .filter(|record| compose::applies(c, record))
            })
            .collect();
        let asked: Vec<Audience<'_>> = claimed
            .iter()
            .zip(&live)
            .filter(|(_, record)| record.is_some())
            .map(|(c, _)| Audience {
                case_id: &c.reminder.case_id,
                notify: &c.reminder.notify,
            })
            .collect();
        let recipients = self.store.recipients(&asked).await?;
        let mut sms_today = match &self.config.sms {
            Some(_) => {
                let logins: Vec<String> = recipients
                    .iter()
                    .flatten()
                    .filter(|r| r.sms)
                    .filter_map(|r| r.login.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                self.store
                    .sms_since(&logins, compose::china_day_start(now))
                    .await?
            }
            None => BTreeMap::new(),
        };
        let mut recipients = recipients.into_iter();
        let outcomes: Vec<ReminderOutcome> = claimed
            .iter()
            .zip(&live)
            .map(|(claim, record)| match record {
                Some(record) => {
                    let to = recipients.next().unwrap_or_default();
                    self.compose(claim, record, &to, &mut sms_today, now)
                }
                None => ReminderOutcome::Cancelled,
            })
            .collect();
        Ok(claimed.into_iter().zip(outcomes).collect())
    }

    /// Records a batch's outcomes in one transaction. If that fails (a fault), each is recorded
    /// on its own, so that one failure leaves one reminder to be rescued after its lease and
    /// fired then, not the whole batch.
    async fn complete(
        &self,
        batch: &[(ClaimedReminder, ReminderOutcome)],
        now: Timestamp,
    ) -> Vec<bool> {
        match self.store.complete_reminders(batch, now).await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(error = %e, "recording a batch of reminders failed; recording them one by one");
                let mut held = Vec::with_capacity(batch.len());
                for (claim, outcome) in batch {
                    held.push(
                        self.store
                            .complete_reminder(claim, outcome, now)
                            .await
                            .unwrap_or_else(|e| {
                                tracing::warn!(case = %claim.reminder.case_id, error = %e, "could not record a reminder; it will be rescued");
                                false
                            }),
                    );
                }
                held
            }
        }
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
