//! The reminder scheduler as the binary runs it: inside `duban serve`, or alone as
//! `duban scheduler`; its settings come from flags and `DUBAN_*` variables.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use duban_scheduler::{Channel, Config, Email, Scheduler, SmtpSettings, Webhook};
use duban_storage::SqlStore;
use tokio::sync::Notify;

use super::setup::{self, Settings};

/// Scheduler settings shared by `serve` and `scheduler`.
#[derive(Debug, Clone, Args)]
pub struct SchedulerArgs {
    /// The SMTP relay for reminder e-mail, as a URL: `smtp://host:25` (plain),
    /// `smtp://user@host:587?tls=required` (STARTTLS), `smtps://user@host:465` (implicit TLS);
    /// a bare `HOST[:PORT]` is a plain relay. Without it, no e-mail is sent.
    #[arg(long, env = "DUBAN_SMTP", hide_env_values = true, value_name = "URL")]
    smtp: Option<String>,
    /// The relay login's password, when the URL does not carry it (also the systemd
    /// credential `smtp-password`).
    #[arg(long, env = "DUBAN_SMTP_PASSWORD", hide_env_values = true, hide = true)]
    smtp_password: Option<String>,
    /// A CA certificate (PEM) to trust for the relay besides the system's.
    #[arg(long, env = "DUBAN_SMTP_CA_FILE", value_name = "FILE")]
    smtp_ca_file: Option<PathBuf>,
    /// The sender of reminder e-mail; mail clients show it as 督办系统.
    #[arg(long, env = "DUBAN_SMTP_FROM", default_value = "duban@localhost")]
    smtp_from: String,
    /// A CA certificate (PEM) to trust for https:// webhooks besides the system's.
    #[arg(long, env = "DUBAN_WEBHOOK_CA_FILE", value_name = "FILE")]
    webhook_ca_file: Option<PathBuf>,
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

    /// The channels, or what is wrong with their settings: said when the command starts, not
    /// at the first delivery.
    fn channels(&self) -> Result<Vec<Arc<dyn Channel>>> {
        let read = |flag: &str, path: &Option<PathBuf>| -> Result<Option<Vec<u8>>> {
            path.as_ref()
                .map(|p| {
                    std::fs::read(p).with_context(|| format!("{flag}: cannot read {}", p.display()))
                })
                .transpose()
        };
        let webhook_ca = read("--webhook-ca-file", &self.webhook_ca_file)?;
        let mut channels: Vec<Arc<dyn Channel>> = vec![Arc::new(
            Webhook::with_ca(webhook_ca.as_deref())
                .map_err(|e| anyhow!("--webhook-ca-file: {e}"))?,
        )];
        if let Some(url) = &self.smtp {
            let password = self.smtp_password.clone().or_else(credential_password);
            let email = Email::new(&SmtpSettings {
                url: url.clone(),
                password,
                ca_pem: read("--smtp-ca-file", &self.smtp_ca_file)?,
                from: self.smtp_from.clone(),
            })
            .map_err(|e| anyhow!("{e}"))?;
            channels.push(Arc::new(email));
        }
        Ok(channels)
    }

    /// The scheduler over `store`.
    pub fn scheduler(
        &self,
        store: SqlStore,
        workflows: Arc<duban_core::Workflows>,
    ) -> Result<Scheduler<SqlStore>> {
        Ok(Scheduler::new(
            store,
            workflows,
            self.channels()?,
            self.config(),
        ))
    }
}

/// The relay's password as a systemd credential (`LoadCredential=smtp-password:…`), so that it
/// is in neither the unit, the environment nor the configuration file.
fn credential_password() -> Option<String> {
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY")?;
    let text = std::fs::read_to_string(PathBuf::from(dir).join("smtp-password")).ok()?;
    Some(text.trim_end_matches(['\r', '\n']).to_string())
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
        let scheduler = Arc::new(args.scheduler(store, Arc::new(defs.workflows))?);
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
