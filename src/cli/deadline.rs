//! `duban deadline`: the due date a state carries when counted from a given moment, explained.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use duban_core::deadline::{self, CHINA};
use duban_core::workflow::Anchor;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};

use super::definitions;

#[derive(Debug, Args)]
pub struct DeadlineArgs {
    /// The kind of case, e.g. `suggestion`.
    #[arg(long)]
    kind: String,
    /// The state whose deadline to compute, e.g. `assigned`.
    #[arg(long)]
    state: String,
    /// The moment the period starts: `2024-07-01`, `2024-07-01T10:30` (China time) or an
    /// instant with an offset such as `2024-07-01T02:30:00Z`.
    #[arg(long, value_name = "DATE-TIME")]
    from: String,
    /// Do not roll a last day that falls on an ordinary weekend (public holidays still roll).
    #[arg(long)]
    no_weekend_roll: bool,
}

/// Parses a start moment; a date or date-time without an offset is China time.
pub fn parse_moment(s: &str) -> Result<Timestamp> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(ts);
    }
    let civil = if let Ok(dt) = s.parse::<DateTime>() {
        dt
    } else if let Ok(d) = s.parse::<Date>() {
        d.to_datetime(jiff::civil::Time::midnight())
    } else {
        bail!(
            "`--from {s}`: expected a date such as 2024-07-01 or a date-time such as 2024-07-01T10:30"
        );
    };
    CHINA
        .to_timestamp(civil)
        .with_context(|| format!("`--from {s}` is out of range"))
}

pub fn run(args: DeadlineArgs, workflows_dir: Option<&Path>) -> Result<ExitCode> {
    let mut defs = definitions::load_valid(workflows_dir)?;
    defs.calendar.roll_over_weekends = !args.no_weekend_roll;
    let wf = defs.workflows.get(&args.kind).ok_or_else(|| {
        let kinds: Vec<&str> = defs.workflows.kinds().collect();
        anyhow!("unknown kind `{}` (known: {})", args.kind, kinds.join(", "))
    })?;
    let state = wf.state(&args.state).ok_or_else(|| {
        let states: Vec<&str> = wf.states.iter().map(|s| s.name.as_str()).collect();
        anyhow!(
            "`{}` has no state `{}` (states: {})",
            wf.kind,
            args.state,
            states.join(", ")
        )
    })?;
    let Some(rule) = &state.deadline else {
        let with: Vec<&str> = wf
            .states
            .iter()
            .filter(|s| s.deadline.is_some())
            .map(|s| s.name.as_str())
            .collect();
        bail!(
            "`{}.{}` carries no deadline (states with one: {})",
            wf.kind,
            state.name,
            with.join(", ")
        );
    };
    let from = parse_moment(&args.from)?;
    let d = deadline::due(&defs.calendar, from, rule.period);
    let counted_from = match &rule.from {
        Anchor::Entered => format!("entering `{}`", state.name),
        Anchor::Action(a) => format!("the latest `{a}`"),
        Anchor::Due => "the original last day".into(),
    };
    println!("due: {}", d.due_date);
    println!("ends: {} 24:00 China time ({})", d.due_date, d.due_at);
    println!(
        "provisional: {}",
        if d.provisional {
            "yes (a year without holiday data was counted on weekends only)"
        } else {
            "no"
        }
    );
    println!(
        "rule: {}.{} ({}): {} {} counted from {counted_from}",
        wf.kind,
        state.name,
        state.title,
        rule.period.amount,
        rule.period.unit.as_str().replace('_', " ")
    );
    println!("explanation: {}", d.explanation);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_without_an_offset_is_china_time() {
        let cases = [
            ("2024-07-01", "2024-06-30T16:00:00Z"),
            ("2024-07-01T10:30", "2024-07-01T02:30:00Z"),
            ("2024-07-01 10:30:00", "2024-07-01T02:30:00Z"),
            ("2024-07-01T02:30:00Z", "2024-07-01T02:30:00Z"),
            ("2024-07-01T10:30:00+08:00", "2024-07-01T02:30:00Z"),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_moment(input).map(|t| t.to_string()).ok(),
                Some(want.to_string()),
                "{input}"
            );
        }
        assert!(parse_moment("July 1st").is_err());
    }
}
