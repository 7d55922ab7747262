//! The reminder scheduler as the binary runs it: inside `duban serve`, or alone as
//! `duban scheduler`; its settings come from flags and `DUBAN_*` variables.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use duban_scheduler::{Channel, Config, Email, Scheduler, SmtpSettings, Webhook};
use duban_storage::SqlStore;
use tokio::sync::Notify;

use super::setup::{self, Settings};

/// Scheduler settings shared by `serve` and `scheduler`.
#[derive(Debug, Clone, Args)]
pub struct SchedulerArgs {
    /// The SMTP relay for reminder e-mail (`HOST` or `HOST:PORT`); without it, no e-mail is sent.
    #[arg(
        long,
        env = "DUBAN_SMTP",
        hide_env_values = true,
        value_name = "HOST[:PORT]"
    )]
    smtp: Option<String>,
    /// The sender of reminder e-mail.
    #[arg(long, env = "DUBAN_SMTP_FROM", default_value = "duban@localhost")]
    smtp_from: String,
    /// This installation's address, for links in reminders.
    #[arg(long, env = "DUBAN_BASE_URL", default_value = "http://127.0.0.1:8080")]
    pub base_url: String,
    /// Attempts before a delivery is dead.
    #[arg(long, env = "DUBAN_MAX_ATTEMPTS", default_value_t = 8)]
    max_attempts: i64,
    /// Deliveries per channel per second when catching up.
    #[arg(long, env = "DUBAN_DELIVERY_RATE", default_value_t = 50)]
    delivery_rate: u32,
    /// Seconds a worker's claim holds before another may take the work over.
    #[arg(long, env = "DUBAN_LEASE_SECONDS", default_value_t = 60)]
    lease_seconds: u64,
}

impl SchedulerArgs {
    fn config(&self) -> Config {
        Config {
            owner: format!(
                "{}-{}-{}",
                hostname(),
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..6]
            ),
            lease: Duration::from_secs(self.lease_seconds.max(5)),
            per_channel_per_tick: self.delivery_rate.max(1),
            max_attempts: self.max_attempts.max(1),
            base_url: self.base_url.clone(),
            ..Config::default()
        }
    }

    fn channels(&self) -> Vec<Arc<dyn Channel>> {
        let mut channels: Vec<Arc<dyn Channel>> = vec![Arc::new(Webhook::new())];
        if let Some(smtp) = &self.smtp {
            let (host, port) = match smtp.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p.parse().unwrap_or(25)),
                None => (smtp.clone(), 25),
            };
            channels.push(Arc::new(Email::new(&SmtpSettings {
                host,
                port,
                from: self.smtp_from.clone(),
            })));
        }
        channels
    }

    /// The scheduler over `store`.
    pub fn scheduler(
        &self,
        store: SqlStore,
        workflows: Arc<duban_core::Workflows>,
    ) -> Scheduler<SqlStore> {
        Scheduler::new(store, workflows, self.channels(), self.config())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into())
}

/// `duban scheduler`: the loop alone, until interrupted.
pub fn run(args: SchedulerArgs, settings: &Settings) -> Result<ExitCode> {
    setup::runtime()?.block_on(async {
        let defs = super::definitions::load_valid(settings.workflows.as_deref())?;
        let store = setup::store(settings, 4).await?;
        let scheduler = Arc::new(args.scheduler(store, Arc::new(defs.workflows)));
        let stop = Arc::new(Notify::new());
        let loop_stop = stop.clone();
        let task = tokio::spawn(duban_scheduler::run(
            scheduler,
            Arc::new(Notify::new()),
            loop_stop,
        ));
        println!("scheduler running");
        super::serve::shutdown_signal().await;
        stop.notify_one();
        let _ = task.await;
        Ok(ExitCode::SUCCESS)
    })
}
