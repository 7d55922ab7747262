//! `duban serve`: the HTTP API on one address until interrupted.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use duban_api::AppState;

use super::setup::{self, Settings};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen; port 0 picks a free one (printed at start).
    #[arg(long, env = "DUBAN_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Database connections in the pool.
    #[arg(long, env = "DUBAN_DB_CONNECTIONS", default_value_t = 16)]
    db_connections: u32,
}

pub fn run(args: ServeArgs, settings: &Settings) -> Result<ExitCode> {
    setup::runtime()?.block_on(async {
        let service = setup::service(settings, args.db_connections).await?;
        let app = duban_api::router(AppState {
            service: Arc::new(service),
        });
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let local = listener.local_addr()?;
        // The first line of output names the address, so that scripts and tests can find it.
        println!("listening on http://{local}");
        tracing::info!(%local, "serving");
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown())
            .await
            .context("server failed")?;
        Ok(ExitCode::SUCCESS)
    })
}

async fn shutdown() {
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
