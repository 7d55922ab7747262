//! `duban demo`: fill an empty database with the living demo year and say how to look at it.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use clap::Args;

use super::setup::{self, Settings};
use crate::demo::{self, Plan};
use crate::telemetry::say;

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Vary the demo: which items are late, who is dissatisfied, names and places.
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// 1.0 is the 2024 county (81 suggestions, 8 key; 87 petitions, 48 resolved directly;
    /// 176 mediations; 42 stations). 0.5 is half of each.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// The demo year.
    #[arg(long, default_value_t = 2024)]
    pub year: i16,
}

/// Runs the demo against the configured database and prints the logins, with where to try
/// them: `base`, the address `duban serve` answers at (or will, by default).
pub async fn fill(args: &DemoArgs, settings: &Settings, base: &str) -> Result<()> {
    let defs = super::definitions::load_valid(settings.workflows.as_deref())?;
    let store = setup::store(settings, 2).await?;
    say(&format!(
        "generating the demo year {} (seed {}, scale {}) …",
        args.year, args.seed, args.scale
    ));
    let plan = Plan {
        seed: args.seed,
        scale: args.scale,
        year: args.year,
    };
    let started = std::time::Instant::now();
    let logins = demo::run(
        store,
        Arc::new(defs.workflows),
        Arc::new(defs.calendar),
        &plan,
    )
    .await?;
    say(&format!(
        "done in {:.1} s. Demo users (web password {}) and their API tokens:",
        started.elapsed().as_secs_f64(),
        demo::DEMO_PASSWORD
    ));
    for (role, login, token) in &logins {
        say(&format!("  {role:<10} {login:<12} {token}"));
    }
    say(&format!(
        "Open {base}/ in a browser, or try: curl -H 'Authorization: Bearer <token>' {base}/api/v1/cases"
    ));
    say(&format!("     duban report --year {}", args.year));
    Ok(())
}

pub fn run(args: DemoArgs, settings: &Settings) -> Result<ExitCode> {
    // Filled on its own, the demo is looked at through a `duban serve` started afterwards.
    setup::runtime()?.block_on(fill(&args, settings, "http://127.0.0.1:8080"))?;
    Ok(ExitCode::SUCCESS)
}
