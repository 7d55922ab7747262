//! The annual report as people read it: the work report's sentences and tables in Markdown,
//! and the same tables as an Excel workbook, written from the figures alone.

use std::collections::BTreeMap;

use duban_core::vocabulary::kind;
use rust_xlsxwriter::{Format, Workbook};

use super::AnnualReport;

/// How many `key` counts in a report's map of counts (answers by class, ratings by value).
fn count(counts: &BTreeMap<String, u64>, key: &str) -> u64 {
    counts.get(key).copied().unwrap_or(0)
}

/// Answers by class as the tables write them: `5/2/1/0` for A/B/C/D, `—` when none is classed.
fn classes(by_class: &BTreeMap<String, u64>) -> String {
    if by_class.is_empty() {
        return "—".into();
    }
    ["A", "B", "C", "D"]
        .map(|c| count(by_class, c).to_string())
        .join("/")
}

/// Days to answer as the tables write them: `12/40`, or `—` when nothing was answered.
fn answer_days(median: Option<u32>, p90: Option<u32>) -> String {
    match (median, p90) {
        (Some(m), Some(p)) => format!("{m}/{p}"),
        _ => "—".into(),
    }
}

/// The report as the work report would say it, in Chinese, then its tables.
pub fn markdown(r: &AnnualReport, names: &BTreeMap<String, String>) -> String {
    let name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    let mut out = format!(
        "# {}年度工作数据\n\n（统计截至北京时间 {}，由系统记录自动生成）\n\n",
        r.year, r.as_of
    );
    let kind = |k: &str| r.kinds.iter().find(|f| f.kind == k);
    if let Some(s) = kind(kind::SUGGESTION) {
        let k = &r.key_suggestions;
        out.push_str(&format!(
            "**代表建议**：{year}年共收到代表提出的建议{filed}件，{assigned}，{answered}办理答复",
            year = r.year,
            filed = s.filed,
            assigned = if s.assigned == s.filed && s.filed > 0 {
                "已全部交办".to_string()
            } else {
                format!("已交办{}件", s.assigned)
            },
            answered = if s.answered == s.filed && s.filed > 0 {
                "全部".to_string()
            } else {
                format!("{}件", s.answered)
            },
        ));
        let mut key = if k.implemented == k.total && k.total > 0 {
            format!("{}件重点建议全部落实", k.total)
        } else {
            format!("{}件重点建议已落实{}件", k.total, k.implemented)
        };
        if !k.activities.is_empty() {
            let done: Vec<String> = k
                .activities
                .iter()
                .map(|(a, times)| format!("{}{times}次", duban_core::labels::value(a)))
                .collect();
            key.push_str(&format!("，领衔督办领导开展{}", done.join("、")));
        }
        out.push_str(&format!(
            "，按期答复{}件{}；{key}。",
            s.answered_on_time,
            s.on_time_rate
                .map(|p| format!(
                    "（按期答复率{p}%，分母为已答复{}件加逾期未答复{}件）",
                    s.answered, s.open_overdue
                ))
                .unwrap_or_default(),
        ));
        out.push_str(&format!(
            "代表评价满意{}件次、基本满意{}件次、不满意{}件次，{}件因不满意重新办理。",
            s.satisfied, s.basically_satisfied, s.dissatisfied, s.reopened
        ));
        if !s.co_ratings.is_empty() {
            out.push_str(&format!(
                "联名代表评价满意{}件次、基本满意{}件次、不满意{}件次。",
                count(&s.co_ratings, "satisfied"),
                count(&s.co_ratings, "basically_satisfied"),
                count(&s.co_ratings, "dissatisfied")
            ));
        }
        if !s.by_class.is_empty() {
            out.push_str(&format!(
                "答复分类：A类（已解决或采纳）{}件，B类（正在解决或列入计划）{}件、已落实{}件，C类（因条件限制暂时难以解决）{}件，D类（留作参考）{}件；回头看跟踪落实中{}件（超过承诺日期{}件）。",
                count(&s.by_class, "A"),
                count(&s.by_class, "B"),
                s.b_delivered,
                count(&s.by_class, "C"),
                count(&s.by_class, "D"),
                s.following,
                s.follow_up_overdue
            ));
        }
        out.push_str("\n\n");
    }
    // The sections the workflow files declare, each in its own words.
    for sec in r.sections.iter().filter(|s| s.filed > 0) {
        out.push_str(&format!("**{}**：{}\n\n", sec.title, sec.sentence));
    }
    out.push_str("## 分类汇总\n\n| 类别 | 收到 | 交办 | 答复 | 按期 | 逾期答复 | 逾期未办结 | 逾期未评价 | 机关环节逾期 | 按期率 | 答复用时（中位数/90%，天） | 评价 | 满意 | 基本满意 | 不满意 | 重新办理 | 未办结 |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for f in &r.kinds {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            f.title,
            f.filed,
            f.assigned,
            f.answered,
            f.answered_on_time,
            f.answered_late,
            f.open_overdue,
            f.rating_overdue,
            f.office_overdue,
            f.on_time_rate
                .map(|p| format!("{p}%"))
                .unwrap_or_else(|| "—".into()),
            answer_days(f.days_to_answer_median, f.days_to_answer_p90),
            f.evaluated,
            f.satisfied,
            f.basically_satisfied,
            f.dissatisfied,
            f.reopened,
            f.open
        ));
    }
    out.push_str("\n逾期未办结只计承办单位（调解员）应答复而逾期的事项；已答复、等待代表或法院评价而逾期的计入逾期未评价，等待常委会机关（法院）交办、决定或督办而逾期的计入机关环节逾期。按期率 = 按期答复 ÷（已答复 + 逾期未办结）。答复用时：自交办（受理）到首次答复的天数，一半的事项在中位数天数内答复，九成在90%天数内答复。协办：作为协办单位的事项数；协办意见：已提出的协办意见，按期的在前。\n\n## 承办单位\n\n| 类别 | 承办单位 | 交办 | 已答复 | 按期答复 | 逾期未办结 | 答复用时（中位数/90%，天） | 满意 | 基本满意 | 不满意 | 协办 | 协办意见（按期/已提出） | 答复分类（A/B/C/D） | B类已落实 |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for d in &r.departments {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {}/{} | {} | {} | {} | {} | {} | {} | {}/{} | {} | {} |\n",
            kind_title(r, &d.kind),
            name(&d.department),
            d.assigned,
            d.answered,
            d.answered_on_time,
            d.answered + d.open_overdue,
            d.open_overdue,
            answer_days(d.days_to_answer_median, d.days_to_answer_p90),
            d.satisfied,
            d.basically_satisfied,
            d.dissatisfied,
            d.co_handled,
            d.co_opinions_on_time,
            d.co_opinions,
            classes(&d.by_class),
            d.b_delivered
        ));
    }
    let stations = r.petitions.by_station.iter().map(|(station, row)| {
        let counts = vec![row.taken_on, row.resolved_directly, row.transferred];
        (name(station), counts)
    });
    named_table(
        &mut out,
        "代表之家（站）信访代办",
        &["代表之家（站）", "受理", "直接解决", "转办交办"],
        stations,
    );
    let mediators = r
        .mediation
        .by_mediator
        .iter()
        .map(|(m, row)| (name(m), vec![row.cases, row.agreement, row.failed]));
    named_table(
        &mut out,
        "调解员",
        &["调解员", "案件", "调解成功", "调解不成"],
        mediators,
    );
    // Two cells for the label: the kind, then the deputy.
    let deputies = r.deputies.iter().map(|d| {
        let label = format!("{} | {}", kind_title(r, &d.kind), name(&d.deputy));
        (label, deputy_counts(d))
    });
    named_table(&mut out, "代表满意度", &DEPUTY_HEADERS, deputies);
    if !r.deputies.is_empty() {
        out.push_str("
领衔评价：决定是否重新办理的评价；联名评价：联名代表对同一答复各自作出的评价。满意、基本满意、不满意计入两者。
");
    }
    out
}

/// A kind by its Chinese name, as the summary names it.
fn kind_title<'a>(r: &'a AnnualReport, kind: &'a str) -> &'a str {
    r.kinds
        .iter()
        .find(|k| k.kind == kind)
        .map_or(kind, |k| k.title.as_str())
}

/// The per-deputy table's columns.
const DEPUTY_HEADERS: [&str; 7] = [
    "类别",
    "代表",
    "领衔评价",
    "联名评价",
    "满意",
    "基本满意",
    "不满意",
];

fn deputy_counts(d: &super::DeputyRow) -> Vec<u64> {
    vec![
        d.ratings,
        d.co_ratings,
        d.satisfied,
        d.basically_satisfied,
        d.dissatisfied,
    ]
}

/// The report as a workbook: one sheet per table, headers in bold, then `cases` (a sheet per
/// kind listing its cases, from `Service::case_sheets`).
pub fn workbook(
    r: &AnnualReport,
    names: &BTreeMap<String, String>,
    cases: &[crate::xlsx::Table],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
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
        "逾期未评价",
        "机关环节逾期",
        "按期率(%)",
        "答复用时中位数(天)",
        "答复用时90%(天)",
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
            f.rating_overdue,
            f.office_overdue,
        ]
        .iter()
        .enumerate()
        {
            sheet.write(row, c as u16 + 1, *v as f64)?;
        }
        if let Some(p) = f.on_time_rate {
            sheet.write(row, 9, p)?;
        }
        for (c, v) in [f.days_to_answer_median, f.days_to_answer_p90]
            .iter()
            .enumerate()
        {
            if let Some(d) = v {
                sheet.write(row, c as u16 + 10, f64::from(*d))?;
            }
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
            sheet.write(row, c as u16 + 12, *v as f64)?;
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
        "答复用时中位数(天)",
        "答复用时90%(天)",
        "协办",
        "协办意见",
        "按期协办意见",
        "A类答复",
        "B类答复",
        "C类答复",
        "D类答复",
        "B类已落实",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, d) in r.departments.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write(row, 0, kind_title(r, &d.kind))?;
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
        for (c, v) in [d.days_to_answer_median, d.days_to_answer_p90]
            .iter()
            .enumerate()
        {
            if let Some(days) = v {
                sheet.write(row, c as u16 + 9, f64::from(*days))?;
            }
        }
        for (c, v) in [
            d.co_handled,
            d.co_opinions,
            d.co_opinions_on_time,
            count(&d.by_class, "A"),
            count(&d.by_class, "B"),
            count(&d.by_class, "C"),
            count(&d.by_class, "D"),
            d.b_delivered,
        ]
        .iter()
        .enumerate()
        {
            sheet.write(row, c as u16 + 11, *v as f64)?;
        }
    }
    let stations = r.petitions.by_station.iter().map(|(station, s)| {
        let counts = vec![s.taken_on, s.resolved_directly, s.transferred];
        (name(station), counts)
    });
    let headers = ["代表之家（站）", "受理", "直接解决", "转办交办"];
    named_rows(&mut wb, &headers, stations, &bold)?;
    let mediators = r
        .mediation
        .by_mediator
        .iter()
        .map(|(m, s)| (name(m), vec![s.cases, s.agreement, s.failed]));
    named_rows(
        &mut wb,
        &["调解员", "案件", "调解成功", "调解不成"],
        mediators,
        &bold,
    )?;
    let sheet = wb.add_worksheet().set_name("代表满意度")?;
    for (c, h) in DEPUTY_HEADERS.iter().enumerate() {
        sheet.write_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, d) in r.deputies.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write(row, 0, kind_title(r, &d.kind))?;
        sheet.write(row, 1, name(&d.deputy))?;
        for (c, v) in deputy_counts(d).iter().enumerate() {
            sheet.write(row, c as u16 + 2, *v as f64)?;
        }
    }
    section_sheet(&mut wb, r, &bold)?;
    crate::xlsx::add_to(&mut wb, cases)?;
    wb.save_to_buffer()
}

/// A markdown table under `## title`, one row per named thing with its counts; nothing when
/// there is no row.
fn named_table(
    out: &mut String,
    title: &str,
    headers: &[&str],
    rows: impl Iterator<Item = (String, Vec<u64>)>,
) {
    let mut rows = rows.peekable();
    if rows.peek().is_none() {
        return;
    }
    out.push_str(&format!(
        "\n## {title}\n\n| {} |\n|{}\n",
        headers.join(" | "),
        "---|".repeat(headers.len())
    ));
    for (label, counts) in rows {
        let cells: Vec<String> = counts.iter().map(u64::to_string).collect();
        out.push_str(&format!("| {label} | {} |\n", cells.join(" | ")));
    }
}

/// A sheet named by its first header, one row per named thing with its counts.
fn named_rows(
    wb: &mut Workbook,
    headers: &[&str],
    rows: impl Iterator<Item = (String, Vec<u64>)>,
    bold: &Format,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let sheet = wb.add_worksheet().set_name(headers[0])?;
    for (c, h) in headers.iter().enumerate() {
        sheet.write_with_format(0, c as u16, *h, bold)?;
    }
    for (i, (label, counts)) in rows.enumerate() {
        let row = i as u32 + 1;
        sheet.write(row, 0, label)?;
        for (c, v) in counts.iter().enumerate() {
            sheet.write(row, c as u16 + 1, *v as f64)?;
        }
    }
    Ok(())
}

/// The sections the workflow files declare, one row per count: what the sentences state, as
/// figures to check them by.
fn section_sheet(
    wb: &mut Workbook,
    r: &AnnualReport,
    bold: &Format,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let sheet = wb.add_worksheet().set_name("分项统计")?;
    for (c, h) in ["类别", "项目", "数"].iter().enumerate() {
        sheet.write_with_format(0, c as u16, *h, bold)?;
    }
    let rows = r
        .sections
        .iter()
        .filter(|s| s.filed > 0)
        .flat_map(|s| s.counts.iter().map(move |c| (s, c)));
    for (i, (s, c)) in rows.enumerate() {
        let row = i as u32 + 1;
        sheet.write(row, 0, s.title.as_str())?;
        sheet.write(row, 1, c.title.as_str())?;
        sheet.write(row, 2, c.value as f64)?;
    }
    Ok(())
}
