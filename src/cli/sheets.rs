//! `duban import` and `duban export`: cases from and to spreadsheets (.xlsx, .csv in UTF-8 or
//! GBK). The column layout is in docs/workflows.md and `duban_service::sheet`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use duban_service::sheet::Row;
use duban_service::sheet_read;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rust_xlsxwriter::Workbook;

use super::setup::{self, Settings};
use super::stdio::{is_stdio, read_input};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// suggestion, petition or mediation (or any kind the deployment adds); or `people` for a
    /// roster of people and their organisations (docs/guide.md, 系统管理).
    kind: String,
    /// A .xlsx or .csv file (UTF-8 or GBK); `-` reads standard input (an .xlsx is told by
    /// its content).
    file: PathBuf,
    /// An answers sheet: each row names an existing case by its 编号 and records steps on it
    /// (a reply, a rating) rather than filing a new case.
    #[arg(long)]
    answers: bool,
    /// Check every row and report, importing nothing.
    #[arg(long)]
    check: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long)]
    kind: String,
    /// Cases filed in this year (China time).
    #[arg(long)]
    year: i16,
    /// FILE.xlsx or FILE.csv; `-` writes standard output (CSV unless `--format xlsx`).
    file: PathBuf,
    /// csv or xlsx, when the file's name does not say (`-`).
    #[arg(long, value_parser = ["csv", "xlsx"])]
    format: Option<String>,
}

/// A sheet's format: from its name, or for `-` from its first bytes (an .xlsx is a ZIP file,
/// an .xls an OLE compound file; anything else is read as CSV).
fn input_format(path: &Path, bytes: &[u8]) -> Result<&'static str> {
    if is_stdio(path) {
        return Ok(if sheet_read::is_workbook(bytes) {
            "xlsx"
        } else {
            "csv"
        });
    }
    match extension(path).as_str() {
        "csv" => Ok("csv"),
        "xlsx" | "xls" | "xlsm" => Ok("xlsx"),
        other => bail!(
            "{}: expected a .xlsx or .csv file, not .{other}",
            path.display()
        ),
    }
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// A workbook's first sheet as rows.
fn read_workbook(path: &Path, bytes: &[u8]) -> Result<Vec<Row>> {
    sheet_read::workbook(bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A CSV file's rows (UTF-8 or GBK).
fn read_csv(bytes: &[u8]) -> Result<Vec<Row>> {
    sheet_read::csv(bytes).map_err(anyhow::Error::msg)
}

/// `duban import people FILE`: a roster, all or nothing, each problem named in Chinese.
fn import_roster(file: &Path, rows: &[Row], settings: &Settings) -> Result<ExitCode> {
    setup::runtime()?.block_on(async {
        let service = setup::service(settings, 1).await?;
        let result = service
            .import_roster(&super::admin::operator(), rows)
            .await
            .map_err(super::admin::explain)?;
        match result {
            Ok(done) => {
                println!(
                    "{}：新增单位 {} 个，新增人员 {} 人，更新人员 {} 人",
                    file.display(),
                    done.orgs_added,
                    done.people_added,
                    done.people_updated
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(problems) => {
                for p in &problems {
                    eprintln!("{}: {p}", file.display());
                }
                eprintln!("未导入任何内容：共 {} 处问题", problems.len());
                Ok(ExitCode::FAILURE)
            }
        }
    })
}

pub fn import(args: ImportArgs, settings: &Settings) -> Result<ExitCode> {
    let bytes = read_input(&args.file)?;
    let rows = match input_format(&args.file, &bytes)? {
        "csv" => read_csv(&bytes)?,
        _ => read_workbook(&args.file, &bytes)?,
    };
    if args.kind == "people" {
        return import_roster(&args.file, &rows, settings);
    }
    setup::runtime()?.block_on(async {
        let service = setup::service(settings, 2).await?;
        let bar =
            ProgressBar::with_draw_target(Some(rows.len() as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("checking {pos}/{len} rows [{bar:40}] {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let started = std::time::Instant::now();
        let write = !args.check;
        let result = if args.answers {
            let by = super::admin::operator().user.login;
            service
                .import_answers(&args.kind, &rows, &by, write)
                .await
        } else {
            service
                .import_or_check(&args.kind, &rows, &|n| bar.set_position(n as u64), write)
                .await
        };
        bar.finish_and_clear();
        let what = if args.answers { "answer row(s) of" } else { "case(s) of kind" };
        match result {
            Ok(n) if !write => {
                println!(
                    "checked: all {n} {what} {} from {} can be imported; nothing was imported (--check)",
                    args.kind,
                    args.file.display(),
                );
                Ok(ExitCode::SUCCESS)
            }
            Ok(n) if args.answers => {
                println!(
                    "recorded {n} answer row(s) on {} case(s) from {} in {:.1} s",
                    args.kind,
                    args.file.display(),
                    started.elapsed().as_secs_f64()
                );
                Ok(ExitCode::SUCCESS)
            }
            Ok(n) => {
                println!(
                    "imported {n} {} case(s) from {} in {:.1} s",
                    args.kind,
                    args.file.display(),
                    started.elapsed().as_secs_f64()
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(errors) => {
                for e in &errors {
                    eprintln!("{}: {e}", args.file.display());
                }
                let bad: std::collections::BTreeSet<usize> = errors.iter().map(|e| e.row).collect();
                eprintln!(
                    "nothing was imported: {} problem(s) in {} row(s)",
                    errors.len(),
                    bad.len()
                );
                Ok(ExitCode::FAILURE)
            }
        }
    })
}

/// Writes rows as a workbook, one column per cell name (the layout `duban import` reads).
pub(crate) fn write_rows(path: &Path, rows: &[Row]) -> Result<()> {
    let mut columns: Vec<&str> = Vec::new();
    for r in rows {
        for c in r.cells.keys() {
            if !columns.contains(&c.as_str()) {
                columns.push(c);
            }
        }
    }
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (i, c) in columns.iter().enumerate() {
        sheet.write(0, i as u16, *c)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (i, c) in columns.iter().enumerate() {
            if let Some(v) = row.cells.get(*c) {
                sheet.write(r as u32 + 1, i as u16, guarded(v))?;
            }
        }
    }
    let bytes = book
        .save_to_buffer()
        .with_context(|| format!("cannot write {}", path.display()))?;
    duban_storage::write_private(path, &bytes)?;
    Ok(())
}

use duban_core::text::spreadsheet_text as guarded;

pub fn export(args: ExportArgs, settings: &Settings) -> Result<ExitCode> {
    let (headers, rows) = setup::runtime()?.block_on(async {
        let service = setup::service(settings, 2).await?;
        let exported = service
            .export(&args.kind, args.year)
            .await
            .map_err(anyhow::Error::from)?;
        let what = format!("{} {}", args.kind, args.year);
        let detail = format!("{} case(s) to {}", exported.1.len(), args.file.display());
        super::audit::record(service.store(), "export", &what, &detail).await?;
        anyhow::Ok(exported)
    })?;
    let format = match (&args.format, is_stdio(&args.file)) {
        (Some(f), _) => f.clone(),
        (None, true) => "csv".to_string(),
        (None, false) => extension(&args.file),
    };
    let bytes = match format.as_str() {
        "csv" => {
            let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
            {
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(&headers)?;
                for r in &rows {
                    w.write_record(r.iter().map(|c| guarded(c)))?;
                }
                w.flush()?;
            }
            out
        }
        "xlsx" => {
            let mut wb = Workbook::new();
            let sheet = wb.add_worksheet();
            for (c, h) in headers.iter().enumerate() {
                sheet.write(0, c as u16, h.as_str())?;
            }
            for (i, r) in rows.iter().enumerate() {
                for (c, v) in r.iter().enumerate().filter(|(_, v)| !v.is_empty()) {
                    // Written as strings: no cell is ever a formula.
                    sheet.write_string(i as u32 + 1, c as u16, v.as_str())?;
                }
            }
            wb.save_to_buffer()
                .with_context(|| format!("cannot write {}", args.file.display()))?
        }
        other => bail!(
            "{}: expected a .xlsx or .csv file, not .{other}",
            args.file.display()
        ),
    };
    let summary = format!(
        "exported {} {} case(s) of {} to {} (personal data masked)",
        rows.len(),
        args.kind,
        args.year,
        args.file.display()
    );
    if is_stdio(&args.file) {
        // The sheet is the output; what was done goes to standard error.
        std::io::Write::write_all(&mut std::io::stdout(), &bytes)
            .context("cannot write standard output")?;
        eprintln!("{summary}");
    } else {
        duban_storage::write_private(&args.file, &bytes)?;
        println!("{summary}");
    }
    Ok(ExitCode::SUCCESS)
}
