//! `duban report`: the year's figures from the records, as Chinese prose with tables (md), as
//! JSON (the schema in docs/api.md), or as a workbook (xlsx).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use duban_service::report::{markdown, workbook};

use super::deadline::parse_moment;
use super::setup::{self, Settings};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The year whose cases to count (by filing date, China time).
    #[arg(long)]
    year: i16,
    /// Count the records as they stood at this moment (default: now), e.g. 2024-12-31.
    #[arg(long, value_name = "DATE-TIME")]
    as_of: Option<String>,
    #[arg(long, value_parser = ["md", "json", "xlsx"], default_value = "md")]
    format: String,
    /// Write to this file (`-` or none: standard output; xlsx needs one of the two said).
    #[arg(long, short)]
    out: Option<PathBuf>,
}

pub fn run(args: ReportArgs, settings: &Settings) -> Result<ExitCode> {
    let as_of = args.as_of.as_deref().map(|s| {
        // A bare date means the end of that day.
        if s.len() == 10 {
            parse_moment(&format!("{s}T23:59:59"))
        } else {
            parse_moment(s)
        }
    });
    let as_of = as_of.transpose()?;
    if args.format == "xlsx" && args.out.is_none() {
        bail!("--format xlsx needs --out FILE.xlsx (or --out - for standard output)");
    }
    let xlsx = args.format == "xlsx";
    let (report, names, cases) = setup::runtime()?.block_on(async {
        let service = setup::service(settings, 2).await?;
        let (report, names) = service.report(args.year, as_of).await?;
        // The workbook lists each kind's cases too; the other formats are the figures alone.
        let cases = match xlsx {
            true => service.case_sheets(args.year, &names).await?,
            false => Vec::new(),
        };
        Ok::<_, anyhow::Error>((report, names, cases))
    })?;
    let bytes = match args.format.as_str() {
        "json" => serde_json::to_vec_pretty(&report)?,
        "xlsx" => workbook(&report, &names, &cases)?,
        _ => markdown(&report, &names).into_bytes(),
    };
    match &args.out {
        Some(path) if !super::stdio::is_stdio(path) => duban_storage::write_private(path, &bytes)?,
        _ => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
