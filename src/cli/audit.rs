//! `duban audit verify|tail`, and recording the command line's own security events (tokens,
//! exports, backups, key rotation) in the audit log.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use duban_storage::{Audit, AuditRecord, SqlStore, Verdict};

use super::setup::{self, Settings};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain: exit 0 when intact, 1 naming the first broken record.
    Verify,
    /// The newest records.
    Tail {
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

/// Records what an operator did from the command line.
pub async fn record(store: &SqlStore, action: &str, target: &str, detail: &str) -> Result<()> {
    let operator = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "operator".into());
    store
        .audit(&AuditRecord {
            at: jiff::Timestamp::now(),
            actor: operator,
            role: "operator".into(),
            source: "cli".into(),
            action: action.into(),
            target: target.into(),
            outcome: "ok".into(),
            detail: detail.into(),
        })
        .await?;
    Ok(())
}

pub fn run(cmd: AuditCommand, settings: &Settings) -> Result<ExitCode> {
    setup::runtime()?.block_on(async {
        let store = SqlStore::open(&settings.database_url, 1).await?;
        match cmd {
            AuditCommand::Verify => match store.verify_audit().await? {
                Verdict::Intact { records } => {
                    println!(
                        "audit log intact: {records} record(s), every one linked to the one before"
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Verdict::Broken { seq, reason } => {
                    eprintln!("audit log BROKEN at record {seq}: {reason}");
                    Ok(ExitCode::FAILURE)
                }
            },
            AuditCommand::Tail { limit } => {
                for (seq, r) in store.audit_tail(limit).await? {
                    println!(
                        "{seq}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        r.at, r.actor, r.role, r.source, r.action, r.target, r.outcome, r.detail
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
