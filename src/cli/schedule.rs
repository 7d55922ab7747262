//! The reminder scheduler as the binary runs it: inside `duban serve`, or alone as
//! `duban scheduler`; its settings come from flags and `DUBAN_*` variables.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use duban_scheduler::{
    ALIYUN_ENDPOINT, Channel, Config, Email, NOTICE_KINDS, Robot, Scheduler, Sms, SmsPolicy,
    SmsSettings, SmtpSettings, Vendor, Webhook,
};
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
    /// A CA certificate (PEM) to trust besides the system's for every HTTPS channel: webhooks,
    /// the WeCom and DingTalk robots, the SMS gateway.
    #[arg(long, env = "DUBAN_WEBHOOK_CA_FILE", value_name = "FILE")]
    webhook_ca_file: Option<PathBuf>,
    /// The Alibaba Cloud SMS AccessKey ID. Without it, no SMS is sent.
    #[arg(long, env = "DUBAN_SMS_ACCESS_KEY_ID")]
    sms_access_key_id: Option<String>,
    /// Its AccessKey secret (also the systemd credential `sms-secret`).
    #[arg(
        long,
        env = "DUBAN_SMS_ACCESS_KEY_SECRET",
        hide_env_values = true,
        hide = true
    )]
    sms_access_key_secret: Option<String>,
    /// The SMS gateway's address.
    #[arg(long, env = "DUBAN_SMS_ENDPOINT", default_value = ALIYUN_ENDPOINT, value_name = "URL")]
    sms_endpoint: String,
    /// The approved SMS signature (签名), shown as 【…】 before each message.
    #[arg(long, env = "DUBAN_SMS_SIGN_NAME", default_value = "")]
    sms_sign_name: String,
    /// The approved template of a kind of notice, `KIND=CODE` (repeatable, or comma-separated):
    /// KIND is new, due, at_due, overdue, escalated or notice. A kind without one has no SMS.
    #[arg(
        long = "sms-template",
        env = "DUBAN_SMS_TEMPLATES",
        value_delimiter = ',',
        value_name = "KIND=CODE"
    )]
    sms_templates: Vec<String>,
    /// At most this many SMS to one person a day; the inbox has the rest.
    #[arg(long, env = "DUBAN_SMS_DAILY_CAP", default_value_t = 5)]
    sms_daily_cap: u64,
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
    fn config(&self) -> Result<Config> {
        let sms = match &self.sms_access_key_id {
            Some(_) => Some(SmsPolicy {
                kinds: self.sms_templates()?.into_keys().collect(),
                daily_cap: self.sms_daily_cap,
            }),
            None => None,
        };
        Ok(Config {
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
            sms,
            ..Config::default()
        })
    }

    /// `--sms-template KIND=CODE`s as a map, or which one is wrong.
    fn sms_templates(&self) -> Result<std::collections::BTreeMap<String, String>> {
        let mut out = std::collections::BTreeMap::new();
        for t in self.sms_templates.iter().filter(|t| !t.trim().is_empty()) {
            let Some((kind, code)) = t.split_once('=') else {
                bail!("--sms-template `{t}`: write KIND=CODE, e.g. overdue=SMS_200000002");
            };
            let (kind, code) = (kind.trim(), code.trim());
            if !NOTICE_KINDS.contains(&kind) {
                bail!(
                    "--sms-template `{t}`: KIND is one of {}",
                    NOTICE_KINDS.join(", ")
                );
            }
            if code.is_empty() {
                bail!("--sms-template `{t}`: the template code is missing");
            }
            out.insert(kind.to_string(), code.to_string());
        }
        Ok(out)
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
        let ca = webhook_ca.as_deref();
        let bad_ca = |e: String| anyhow!("--webhook-ca-file: {e}");
        let mut channels: Vec<Arc<dyn Channel>> = vec![
            Arc::new(Webhook::with_ca(ca).map_err(bad_ca)?),
            Arc::new(Robot::new(Vendor::WeCom, ca).map_err(bad_ca)?),
            Arc::new(Robot::new(Vendor::DingTalk, ca).map_err(bad_ca)?),
        ];
        if let Some(id) = &self.sms_access_key_id {
            let secret = self
                .sms_access_key_secret
                .clone()
                .or_else(|| credential("sms-secret"))
                .context("SMS: the AccessKey secret is missing: set DUBAN_SMS_ACCESS_KEY_SECRET or the credential sms-secret")?;
            let templates = self.sms_templates()?;
            if templates.is_empty() {
                tracing::warn!(
                    "SMS has an AccessKey but no template (--sms-template KIND=CODE): no notice goes by SMS"
                );
            }
            let sms = Sms::new(
                SmsSettings {
                    endpoint: self.sms_endpoint.clone(),
                    access_key_id: id.clone(),
                    access_key_secret: secret,
                    sign_name: self.sms_sign_name.clone(),
                    templates,
                },
                ca,
            )
            .map_err(|e| anyhow!("{e}"))?;
            channels.push(Arc::new(sms));
        }
        if let Some(url) = &self.smtp {
            let password = self
                .smtp_password
                .clone()
                .or_else(|| credential("smtp-password"));
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
        // Signed links are sealed under the personal-data keys this store was opened with.
        let config = Config {
            links: store.link_key(),
            ..self.config()?
        };
        Ok(Scheduler::new(store, workflows, self.channels()?, config))
    }
}

/// A secret as a systemd credential (`LoadCredential=smtp-password:…`, `sms-secret`), so that
/// it is in neither the unit, the environment nor the configuration file.
fn credential(name: &str) -> Option<String> {
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY")?;
    let text = std::fs::read_to_string(PathBuf::from(dir).join(name)).ok()?;
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
