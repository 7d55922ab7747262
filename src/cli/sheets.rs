//! `duban import` and `duban export`: cases from and to spreadsheets (.xlsx, .csv in UTF-8 or
//! GBK). The column layout is in docs/workflows.md and `duban_service::sheet`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use calamine::{Data, Reader};
use clap::Args;
use duban_service::sheet::{Row, column_of};
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
        let workbook = bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0");
        return Ok(if workbook { "xlsx" } else { "csv" });
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

/// Excel's name of a column: A, B, … Z, AA, AB …
fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// How a CSV file's cells are encoded: UTF-8 (with or without a byte-order mark) when the whole
/// file is, else GBK as offices export it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Gbk,
}

/// One cell's text, decoded strictly: a cell that is not valid in the file's encoding, or a
/// UTF-8 cell in a GBK file (a file pasted together from two), is refused rather than stored
/// with replacement characters or garbled.
fn decode_cell(bytes: &[u8], encoding: Encoding) -> Result<String, &'static str> {
    match encoding {
        Encoding::Utf8 => std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| "is not valid UTF-8 text"),
        Encoding::Gbk if bytes.is_ascii() => Ok(String::from_utf8_lossy(bytes).into_owned()),
        Encoding::Gbk if reads_as_utf8_chinese(bytes) => Err(
            "is UTF-8 text in a file that is otherwise GBK: save the whole file in one encoding",
        ),
        Encoding::Gbk => encoding_rs::GBK
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|s| s.into_owned())
            .ok_or("is neither valid GBK nor valid UTF-8 text"),
    }
}

/// Whether a cell of a GBK file is really UTF-8 Chinese. Some GBK text is valid UTF-8 by
/// chance (路 is `C2 B7`, which UTF-8 reads as ·), so validity alone does not tell: UTF-8
/// Chinese reads as Chinese characters and the punctuation around them, while GBK read as
/// UTF-8 gives Latin and other scripts' letters.
fn reads_as_utf8_chinese(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let chinese = |c: char| matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x3000..=0x303F | 0xFF00..=0xFFEF | 0x2000..=0x206F);
    text.chars().any(|c| matches!(c as u32, 0x4E00..=0x9FFF))
        && text.chars().all(|c| c.is_ascii() || chinese(c))
}

/// Checks the header and the rows under it: an empty file, a column named twice and a cell
/// with no column above it are refused, each naming its row and column.
fn rows_from(headers: Vec<String>, records: Vec<Vec<String>>) -> Result<Vec<Row>> {
    if headers.iter().all(|h| h.trim().is_empty()) {
        bail!(
            "row 1: the file is empty: it needs a header row naming the columns, and a row per case under it"
        );
    }
    let columns: Vec<String> = headers.iter().map(|h| column_of(h)).collect();
    let mut seen = std::collections::BTreeSet::new();
    for c in &columns {
        if !c.is_empty() && !seen.insert(c.clone()) {
            bail!("row 1: column `{c}` appears twice");
        }
    }
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    for (i, r) in records.into_iter().enumerate() {
        let number = i + 2;
        for (at, cell) in r.iter().enumerate() {
            let named = columns.get(at).is_some_and(|c| !c.is_empty());
            if !named && !cell.trim().is_empty() {
                problems.push(format!(
                    "row {number}, column {}: a cell beyond the header (no column name above it)",
                    column_letter(at)
                ));
            }
        }
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        rows.push(Row {
            number,
            cells: columns
                .iter()
                .zip(r)
                .filter(|(c, v)| !c.is_empty() && !v.trim().is_empty())
                .map(|(c, v)| (c.clone(), v))
                .collect(),
        });
    }
    if !problems.is_empty() {
        bail!("{}\nnothing was imported", problems.join("\n"));
    }
    if rows.is_empty() {
        bail!("row 2: the file has a header but no rows under it: nothing to import");
    }
    Ok(rows)
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Row>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let encoding = match std::str::from_utf8(bytes) {
        Ok(_) => Encoding::Utf8,
        Err(_) => Encoding::Gbk,
    };
    // Parsed as bytes and decoded cell by cell, so a problem is placed by row and column. No
    // byte of a GBK character is a comma, a quote or a line end, so the split is the same.
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes);
    let mut problems = Vec::new();
    let mut lines: Vec<Vec<String>> = Vec::new();
    for (i, r) in reader.byte_records().enumerate() {
        let r = r.with_context(|| format!("row {}: not valid CSV", i + 1))?;
        let mut cells = Vec::new();
        for (at, cell) in r.iter().enumerate() {
            match decode_cell(cell, encoding) {
                Ok(text) => cells.push(text),
                Err(why) => {
                    // By the header above it too, once the header row is read.
                    let named = lines
                        .first()
                        .and_then(|h| h.get(at))
                        .filter(|h| !h.trim().is_empty())
                        .map(|h| format!(" (`{}`)", column_of(h)))
                        .unwrap_or_default();
                    problems.push(format!(
                        "row {}, column {}{named}: {why}",
                        i + 1,
                        column_letter(at)
                    ));
                    cells.push(String::new());
                }
            }
        }
        lines.push(cells);
    }
    if !problems.is_empty() {
        bail!("{}\nnothing was imported", problems.join("\n"));
    }
    let mut lines = lines.into_iter();
    let headers = lines.next().unwrap_or_default();
    rows_from(headers, lines.collect())
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => {
            if *b {
                "是".into()
            } else {
                "否".into()
            }
        }
        Data::DateTime(dt) => {
            // Excel's serial days since 1899-12-30, with the fraction for the time of day.
            let serial = dt.as_f64();
            let day = jiff::civil::date(1899, 12, 30)
                .saturating_add(jiff::Span::new().days(serial.floor() as i64));
            let minutes = ((serial.fract() * 1440.0).round()) as i64;
            format!("{day} {:02}:{:02}", minutes / 60, minutes % 60)
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

pub(crate) fn read_xlsx(path: &Path) -> Result<Vec<Row>> {
    let bytes = read_input(path)?;
    read_workbook(path, bytes)
}

fn read_workbook(path: &Path, bytes: Vec<u8>) -> Result<Vec<Row>> {
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .with_context(|| format!("cannot open {}", path.display()))?;
    let Some(sheet) = book.sheet_names().first().cloned() else {
        bail!("{} has no sheet", path.display())
    };
    let range = book
        .worksheet_range(&sheet)
        .with_context(|| format!("cannot read sheet {sheet}"))?;
    let mut rows = range.rows();
    let headers: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(cell_text).collect())
        .unwrap_or_default();
    let records = rows.map(|r| r.iter().map(cell_text).collect()).collect();
    rows_from(headers, records)
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
        _ => read_workbook(&args.file, bytes)?,
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
        let result = service
            .import(&args.kind, &rows, &|n| bar.set_position(n as u64))
            .await;
        bar.finish_and_clear();
        match result {
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
    let (columns, rows) = setup::runtime()?.block_on(async {
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
    // Only the columns some row fills, in layout order.
    let used: Vec<&String> = columns
        .iter()
        .filter(|c| {
            rows.iter()
                .any(|r: &BTreeMap<String, String>| r.contains_key(*c))
        })
        .collect();
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
                w.write_record(used.iter().map(|c| c.as_str()))?;
                for r in &rows {
                    w.write_record(
                        used.iter()
                            .map(|c| guarded(r.get(*c).map(String::as_str).unwrap_or(""))),
                    )?;
                }
                w.flush()?;
            }
            out
        }
        "xlsx" => {
            let mut wb = Workbook::new();
            let sheet = wb.add_worksheet();
            for (c, h) in used.iter().enumerate() {
                sheet.write(0, c as u16, h.as_str())?;
            }
            for (i, r) in rows.iter().enumerate() {
                for (c, h) in used.iter().enumerate() {
                    if let Some(v) = r.get(*h) {
                        // Written as strings: no cell is ever a formula.
                        sheet.write_string(i as u32 + 1, c as u16, v.as_str())?;
                    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_that_happens_to_be_valid_utf8_is_still_gbk() {
        // 路 in GBK is C2 B7, valid UTF-8 for ·; a GBK file's cell of it stays 路.
        let (lu, _, _) = encoding_rs::GBK.encode("路");
        assert!(std::str::from_utf8(&lu).is_ok());
        assert_eq!(decode_cell(&lu, Encoding::Gbk), Ok("路".to_string()));
        // Real UTF-8 Chinese in a GBK file is refused.
        assert!(decode_cell("村道损毁".as_bytes(), Encoding::Gbk).is_err());
        // And a byte no GBK character has.
        assert!(decode_cell(b"\xC4\xFF", Encoding::Gbk).is_err());
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
    }
}
