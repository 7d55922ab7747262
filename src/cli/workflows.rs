//! `duban workflows check|graph`: validate definitions, draw one as a Mermaid diagram.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Subcommand;

use super::definitions::{self, LoadError};

#[derive(Debug, Subcommand)]
pub enum WorkflowsCommand {
    /// Validate every workflow and calendar file; print every problem as FILE:LINE: REASON.
    Check {
        /// The directory to check (default: `--workflows`, else the built-in definitions).
        dir: Option<PathBuf>,
    },
    /// Print a workflow as a Mermaid state diagram.
    Graph {
        /// The kind of case, e.g. `suggestion`.
        kind: String,
    },
}

pub fn run(cmd: WorkflowsCommand, workflows_dir: Option<&Path>) -> Result<ExitCode> {
    match cmd {
        WorkflowsCommand::Check { dir } => {
            let dir = dir.as_deref().or(workflows_dir);
            match definitions::load(dir) {
                Ok(defs) => {
                    let kinds: Vec<String> = defs
                        .workflows
                        .iter()
                        .map(|w| {
                            format!(
                                "{} v{} ({} states, {} actions)",
                                w.kind,
                                w.version,
                                w.states.len(),
                                w.actions.len()
                            )
                        })
                        .collect();
                    let years: Vec<String> =
                        defs.calendar.years().map(|y| y.year.to_string()).collect();
                    println!("ok: {}", defs.origin);
                    println!("workflows: {}", kinds.join("; "));
                    println!(
                        "holiday calendars: {}",
                        if years.is_empty() {
                            "none".into()
                        } else {
                            years.join(", ")
                        }
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(LoadError::Invalid(diags)) => {
                    eprintln!("{diags}");
                    eprintln!("{} problem(s) found", diags.0.len());
                    Ok(ExitCode::FAILURE)
                }
                Err(LoadError::Io(e)) => Err(e),
            }
        }
        WorkflowsCommand::Graph { kind } => {
            let defs = definitions::load_valid(workflows_dir)?;
            let Some(wf) = defs.workflows.get(&kind) else {
                let kinds: Vec<&str> = defs.workflows.kinds().collect();
                bail!("unknown kind `{kind}` (known: {})", kinds.join(", "));
            };
            print!("{}", duban_core::workflow::mermaid(wf));
            Ok(ExitCode::SUCCESS)
        }
    }
}
