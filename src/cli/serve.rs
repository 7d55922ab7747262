//! `duban serve`: the HTTP API on one address until interrupted.

use duban_storage::Lists;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::routing::get;
use clap::Args;
use duban_api::AppState;
use tokio::sync::Notify;

use super::schedule::SchedulerArgs;
use super::setup::{self, Settings};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen; port 0 picks a free one (printed at start).
    #[arg(long, env = "DUBAN_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Database connections in the pool.
    #[arg(long, env = "DUBAN_DB_CONNECTIONS", default_value_t = 16)]
    db_connections: u32,
    /// Do not run the reminder scheduler in this process (run `duban scheduler` elsewhere).
    #[arg(long)]
    no_scheduler: bool,
    /// Requests per second allowed per client address and per token (sustained).
    #[arg(long, env = "DUBAN_RATE_LIMIT", default_value_t = 50.0)]
    rate_limit: f64,
    /// Requests allowed at once per client address and per token.
    #[arg(long, env = "DUBAN_RATE_BURST", default_value_t = 200.0)]
    rate_burst: f64,
    /// Reverse proxies whose `X-Forwarded-For` and `X-Real-IP` are believed: addresses or
    /// networks (`127.0.0.1/32,10.0.0.0/8`). From anyone else the headers are ignored, and the
    /// connection's own address is the client's (the audit log, rate limits, the sign-in lock).
    #[arg(
        long = "trusted-proxy",
        env = "DUBAN_TRUSTED_PROXIES",
        value_name = "NET",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<String>,
    /// Wrong passwords in a row that lock a web account (MLPS 2.0: lock after repeated failures).
    #[arg(long, env = "DUBAN_LOCKOUT_FAILURES", default_value_t = 5)]
    lockout_failures: u32,
    /// Minutes a locked web account stays locked.
    #[arg(long, env = "DUBAN_LOCKOUT_MINUTES", default_value_t = 15)]
    lockout_minutes: i64,
    /// Hours a web session lasts from sign-in.
    #[arg(long, env = "DUBAN_SESSION_HOURS", default_value_t = 8)]
    session_hours: i64,
    /// Days after which a web password must be reset before signing in again (0: never; see
    /// docs/security.md for why the default is never).
    #[arg(long, env = "DUBAN_PASSWORD_MAX_AGE_DAYS", default_value_t = 0)]
    password_max_age_days: i64,
    /// The largest file that may be attached to a case, in MB; a larger one is refused (413).
    #[arg(long, env = "DUBAN_MAX_ATTACHMENT_MB", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1024))]
    max_attachment_mb: u32,
    /// The kinds of document that may be attached, judged by their content (others: 415).
    #[arg(
        long,
        env = "DUBAN_ATTACHMENT_TYPES",
        default_value = "pdf,ofd,jpeg,png,docx,xlsx,doc,xls"
    )]
    attachment_types: String,
    /// The office's name, as it heads every printed form (交办通知单 …).
    #[arg(long, env = "DUBAN_OFFICE_NAME", default_value = "人大常委会")]
    office_name: String,
    /// The wording the seal goes over on printed forms (default: the office's name and （盖章）).
    #[arg(long, env = "DUBAN_SEAL_TEXT")]
    seal_text: Option<String>,
    /// The signature lines of the office's printed forms, comma-separated.
    #[arg(
        long,
        env = "DUBAN_SIGNATURE_LINES",
        value_delimiter = ',',
        default_value = "经办人,审核人,分管领导"
    )]
    signature_lines: Vec<String>,
    /// Fill an empty database with the demo year first (`duban demo`).
    #[arg(long)]
    demo: bool,
    #[command(flatten)]
    demo_args: super::demo::DemoArgs,
    #[command(flatten)]
    scheduler: SchedulerArgs,
}

pub fn run(args: ServeArgs, settings: &Settings) -> Result<ExitCode> {
    let trusted = duban_api::forwarded::TrustedProxies::parse(&args.trusted_proxies)
        .map_err(|e| anyhow::anyhow!("--trusted-proxy: {e}"))?;
    let attachments = duban_service::AttachmentPolicy {
        max_bytes: args.max_attachment_mb as usize * 1024 * 1024,
        types: duban_service::AttachmentPolicy::parse_types(&args.attachment_types)
            .map_err(|e| anyhow::anyhow!("--attachment-types: {e}"))?,
    };
    setup::runtime()?.block_on(async {
        if args.demo {
            // The demo fills an empty database; on later starts the demo year is already there.
            let store = setup::store(settings, 1).await?;
            let empty = store
                .list(&duban_storage::CaseQuery::All, &duban_storage::Page::first(1))
                .await?
                .items
                .is_empty();
            store.close().await;
            if empty {
                // Port 0 is chosen when listening, after the demo: the address line says it.
                let base = match args.addr.port() {
                    0 => "http://<the address below>".to_string(),
                    _ => format!("http://{}", args.addr),
                };
                super::demo::fill(&args.demo_args, settings, &base).await?;
            } else {
                crate::telemetry::say("the database already has cases: serving them (the demo fills empty databases only)");
            }
        }
        let wake = Arc::new(Notify::new());
        let service = setup::service(settings, args.db_connections)
            .await?
            .with_wakeup(wake.clone())
            .with_sign_in_policy(duban_service::SignInPolicy {
                max_failures: args.lockout_failures.max(1),
                lock_minutes: args.lockout_minutes.max(1),
                session_hours: args.session_hours.clamp(1, 24 * 30),
                password_max_age_days: args.password_max_age_days.max(0),
            })
            .with_attachment_policy(attachments);
        let store = service.store().clone();
        let scheduler = Arc::new(
            args.scheduler
                .scheduler(store.clone(), Arc::new(service.workflows().clone()))?,
        );
        let metrics = scheduler.metrics();
        let stop = Arc::new(Notify::new());
        let task = (!args.no_scheduler)
            .then(|| tokio::spawn(duban_scheduler::run(scheduler, wake, stop.clone())));
        // Prometheus text at /metrics (src/cli/metrics.rs).
        let exporter = super::metrics::Exporter::new(metrics, store.clone())?;
        let scrape = exporter.clone();
        let metrics_route = get(move || {
            let exporter = scrape.clone();
            async move {
                (
                    [("content-type", "text/plain; version=0.0.4")],
                    exporter.render().await,
                )
            }
        });
        let limits = duban_api::Limits {
            per_second: args.rate_limit.max(0.1),
            burst: args.rate_burst.max(1.0),
        };
        let service = Arc::new(service);
        let https = args.scheduler.base_url.starts_with("https://");
        // `/metrics` goes in beside the pages, behind the same layers and headers.
        let pages = duban_web::router(duban_web::WebState {
            service: service.clone(),
            secure_cookies: https,
            print: duban_web::PrintSettings {
                office: args.office_name.clone(),
                seal: args.seal_text.clone().unwrap_or_default(),
                signatures: args.signature_lines.clone(),
            },
        })
        .route("/metrics", metrics_route);
        let headers = duban_api::Headers { https };
        let app = duban_api::router_with_pages(AppState { service }, limits, headers, pages)
            // Inside the routes, where the matched route template is known.
            .layer(axum::middleware::from_fn_with_state(
                exporter,
                super::metrics::track,
            ))
            // Outermost: every layer and handler after it sees the client, not the proxy.
            .layer(axum::middleware::from_fn_with_state(
                Arc::new(trusted),
                duban_api::forwarded::resolve_client,
            ));
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let local = listener.local_addr()?;
        // Answers go out as soon as they are written, not held back for the client's
        // acknowledgement of the previous segment (Nagle): a large list is several segments.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        // The first line of output names the address, so that scripts and tests can find it.
        println!("listening on http://{local}");
        tracing::info!(%local, "serving");
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("server failed")?;
        stop.notify_one();
        if let Some(task) = task {
            let _ = task.await;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
