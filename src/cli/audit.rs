//! `duban audit verify|head|prune|tail`, and recording the command line's own security events (tokens,
//! exports, backups, key rotation) in the audit log.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use duban_storage::{Audit, AuditRecord, Head, SqlStore, Verdict};

use super::setup::{self, Settings};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the keyed hash chain: exit 0 when intact, 1 naming the first broken record.
    Verify {
        /// A head printed earlier by `duban audit head` (SEQ:HASH) and kept outside the
        /// database: verification also fails if records up to it were deleted or changed.
        #[arg(long, value_name = "SEQ:HASH")]
        expect_head: Option<Head>,
    },
    /// Print the newest link of the chain (SEQ:HASH), to keep outside the database (the
    /// system journal, daily: docs/operations.md).
    Head,
    /// Delete records older than the retention period (never less than the legal six months),
    /// keeping the chain verifiable from where it now starts.
    Prune {
        #[arg(long, env = "DUBAN_AUDIT_RETENTION_DAYS", default_value_t = 184)]
        retention_days: i64,
    },
    /// The newest records.
    Tail {
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// One JSON object per line, as the API's `/api/v1/audit` gives them.
        #[arg(long)]
        json: bool,
    },
}

/// What an operator did from the command line, as an audit record.
fn operator_record(action: &str, target: &str, detail: &str) -> AuditRecord {
    let operator = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "operator".into());
    AuditRecord {
        at: jiff::Timestamp::now(),
        actor: operator,
        role: "operator".into(),
        source: "cli".into(),
        action: action.into(),
        target: target.into(),
        outcome: "ok".into(),
        detail: detail.into(),
    }
}

/// Records what an operator did from the command line.
pub async fn record(store: &SqlStore, action: &str, target: &str, detail: &str) -> Result<()> {
    store
        .audit(&operator_record(action, target, detail))
        .await?;
    Ok(())
}

pub fn run(cmd: AuditCommand, settings: &Settings) -> Result<ExitCode> {
    setup::runtime()?.block_on(async {
        let store = setup::store(settings, 1).await?;
        match cmd {
            AuditCommand::Head => match store.audit_head().await? {
                Some(head) => {
                    println!("{head}");
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("the audit log is empty: there is no head yet");
                    Ok(ExitCode::FAILURE)
                }
            },
            AuditCommand::Verify { expect_head } => match store.verify_audit_against(expect_head.as_ref()).await? {
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
            AuditCommand::Prune { retention_days } => {
                if retention_days < 184 {
                    anyhow::bail!("--retention-days {retention_days}: audit records must be kept at least six months (184 days)");
                }
                let before = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(retention_days * 24);
                let by = operator_record("audit_pruned", "audit_log", &format!("older than {retention_days} days"));
                let deleted = store.prune_audit(before, &by).await?;
                println!("pruned {deleted} audit record(s) older than {retention_days} days; the chain still verifies from its new start");
                Ok(ExitCode::SUCCESS)
            }
            AuditCommand::Tail { limit, json } => {
                for (seq, r) in store.audit_tail(limit).await? {
                    if json {
                        println!("{}", serde_json::to_string(&duban_api::AuditEntryDto::from((seq, r)))?);
                        continue;
                    }
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
