//! `duban report`: the year's figures from the records, as Chinese prose with tables (md), as
//! JSON (the schema in docs/api.md), or as a workbook (xlsx).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use duban_service::report::{AnnualReport, markdown};
use rust_xlsxwriter::{Format, Workbook};

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
    /// Write to this file (required for xlsx; otherwise standard output).
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
        bail!("--format xlsx needs --out FILE.xlsx");
    }
    let (report, names) = setup::runtime()?.block_on(async {
        let service = setup::service(settings, 2).await?;
        service
            .report(args.year, as_of)
            .await
            .map_err(anyhow::Error::from)
    })?;
    let bytes = match args.format.as_str() {
        "json" => serde_json::to_vec_pretty(&report)?,
        "xlsx" => workbook(&report, &names)?,
        _ => markdown(&report, &names).into_bytes(),
    };
    match &args.out {
        Some(path) => std::fs::write(path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The report as a workbook: one sheet per table, headers in bold.
pub fn workbook(
    r: &AnnualReport,
    names: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    let name = |c: &str| names.get(c).cloned().unwrap_or_else(|| c.to_string());
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = wb.add_worksheet().set_name("分类汇总")?;
    let head = [
        "类别",
        "收到",
        "交办",
        "答复",
        "按期答复",
        "逾期答复",
        "逾期未办结",
        "按期率(%)",
        "评价",
        "满意",
        "基本满意",
        "不满意",
        "重新办理",
        "未办结",
    ];
    for (c, h) in head.iter().enumerate() {
        sheet.write_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, f) in r.kinds.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write(row, 0, f.title.as_str())?;
        for (c, v) in [
            f.filed,
            f.assigned,
            f.answered,
            f.answered_on_time,
            f.answered_late,
            f.open_overdue,
        ]
        .iter()
        .enumerate()
        {
            sheet.write(row, c as u16 + 1, *v as f64)?;
        }
        if let Some(p) = f.on_time_rate {
            sheet.write(row, 7, p)?;
        }
        for (c, v) in [
            f.evaluated,
            f.satisfied,
            f.basically_satisfied,
            f.dissatisfied,
            f.reopened,
            f.open,
        ]
        .iter()
        .enumerate()
        {
            sheet.write(row, c as u16 + 8, *v as f64)?;
        }
    }
    let sheet = wb.add_worksheet().set_name("承办单位")?;
    for (c, h) in [
        "类别",
        "承办单位",
        "交办",
        "已答复",
        "按期答复",
        "逾期未办结",
        "满意",
        "基本满意",
        "不满意",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, d) in r.departments.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write(row, 0, d.kind.as_str())?;
        sheet.write(row, 1, name(&d.department))?;
        for (c, v) in [
            d.assigned,
            d.answered,
            d.answered_on_time,
            d.open_overdue,
            d.satisfied,
            d.basically_satisfied,
            d.dissatisfied,
        ]
        .iter()
        .enumerate()
        {
            sheet.write(row, c as u16 + 2, *v as f64)?;
        }
    }
    let sheet = wb.add_worksheet().set_name("代表之家（站）")?;
    for (c, h) in ["代表之家（站）", "受理", "直接解决", "转办交办"]
        .iter()
        .enumerate()
    {
        sheet.write_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, (station, s)) in r.petitions.by_station.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write(row, 0, name(station))?;
        for (c, v) in [s.taken_on, s.resolved_directly, s.transferred]
            .iter()
            .enumerate()
        {
            sheet.write(row, c as u16 + 1, *v as f64)?;
        }
    }
    let sheet = wb.add_worksheet().set_name("调解员")?;
    for (c, h) in ["调解员", "案件", "调解成功", "调解不成"]
        .iter()
        .enumerate()
    {
        sheet.write_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, (m, s)) in r.mediation.by_mediator.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write(row, 0, name(m))?;
        for (c, v) in [s.cases, s.agreement, s.failed].iter().enumerate() {
            sheet.write(row, c as u16 + 1, *v as f64)?;
        }
    }
    Ok(wb.save_to_buffer()?)
}
