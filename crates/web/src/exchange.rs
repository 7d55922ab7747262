//! 导入导出, for the committee: a year's cases of a kind exported in the import layout (Chinese
//! headers, personal data masked), and for staff a spreadsheet uploaded, checked (every bad row
//! named by row and column, in Chinese) and imported all or nothing — new cases, or an answers
//! sheet recording replies and ratings on cases by their 编号.

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use duban_core::Role;
use duban_core::deadline::china_date;
use duban_service::sheet::RowError;
use duban_service::xlsx::{Cell, Table};
use maud::{Markup, html};
use serde::Deserialize;

use crate::layout::{csrf, page};
use crate::session::Viewer;
use crate::{WebState, files, labels, refused};

/// The largest sheet taken from the browser: a county's year is well under it.
pub const LIMIT: usize = 16 * 1024 * 1024;

fn committee(v: &Viewer) -> bool {
    matches!(v.p.user.role, Role::Leader | Role::Staff | Role::Auditor)
}

fn form(st: &WebState, v: &Viewer) -> Markup {
    let this_year = china_date(st.service.now()).year();
    html! {
        h2 { "导出" }
        form.filters method="get" action="/exchange/export.xlsx" {
            select name="kind" aria-label="类别" {
                @for wf in st.service.workflows().iter() { option value=(wf.kind) { (wf.title) } }
            }
            select name="year" aria-label="年度" {
                @for y in (this_year - 5..=this_year).rev() { option value=(y) { (y) "年" } }
            }
            button type="submit" { "导出Excel" }
        }
        p.hint { "导出的表格用中文表头，个人信息已隐去部分；改好后可原样导入另一个系统。" }
        @if v.p.user.role == Role::Staff {
            h2 { "导入" }
            form.card method="post" action="/exchange/import" enctype="multipart/form-data" {
                (csrf(v))
                div.field {
                    label for="import-kind" { "类别" }
                    select #import-kind name="kind" {
                        @for wf in st.service.workflows().iter() { option value=(wf.kind) { (wf.title) } }
                    }
                }
                div.field {
                    label.inline { input type="radio" name="mode" value="cases" checked; "新事项（每行一件）" }
                    label.inline { input type="radio" name="mode" value="answers"; "答复与评价（按编号记到已有事项上）" }
                }
                div.field {
                    label for="import-file" { "表格文件（.xlsx、.xls 或 .csv）" }
                    input #import-file type="file" name="file" required accept=".xlsx,.xls,.csv";
                }
                p {
                    button type="submit" name="step" value="check" { "只检查" } " "
                    button.primary type="submit" name="step" value="import" { "检查并导入" }
                }
            }
            p.hint {
                "表头可以用导出表格的中文表头；表头上方的标题行、“序号”列会被忽略；日期可写 2024-03-05 或 2024年3月5日；"
                "代表和单位可以写名称（重名的要写代码）；带“编号”的行按编号保存，已有的编号不会重复导入。"
                "有任何一行有问题，整个表格都不导入。"
            }
        }
    }
}

/// 导入导出.
pub async fn page_of(State(st): State<WebState>, v: Viewer) -> Response {
    if !committee(&v) {
        return refused(duban_service::Error::Forbidden {
            detail: "for the committee".into(),
        });
    }
    page(&v, "导入导出", form(&st, &v)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    kind: String,
    year: i16,
}

/// A year's cases of a kind, as the import layout.
pub async fn export(
    State(st): State<WebState>,
    v: Viewer,
    Query(q): Query<ExportQuery>,
) -> Response {
    let (headers, rows) = match st.service.export_as(&v.p, &q.kind, q.year).await {
        Ok(e) => e,
        Err(e) => return refused(e),
    };
    let title = st
        .service
        .workflows()
        .get(&q.kind)
        .map_or(q.kind.clone(), |w| w.title.clone());
    let table = Table {
        name: format!("{}{}", q.year, title),
        headers,
        rows: rows
            .into_iter()
            .map(|r| r.into_iter().map(Cell::Text).collect())
            .collect(),
    };
    crate::export::workbook(&format!("{}年{title}.xlsx", q.year), table)
}

/// A row's problem as people read it: 第 N 行「列」：what is wrong.
fn problem_line(st: &WebState, kind: &str, e: &RowError) -> String {
    let header = st
        .service
        .workflows()
        .get(kind)
        .and_then(|wf| {
            duban_service::sheet_names::headers(wf)
                .into_iter()
                .find(|(c, _)| *c == e.column)
                .map(|(_, h)| h)
        })
        .unwrap_or_else(|| e.column.clone());
    let what = labels::problem(&e.problem);
    match (e.row, header.is_empty()) {
        (0, _) => what,
        (row, true) => format!("第 {row} 行：{what}"),
        (row, false) => format!("第 {row} 行「{header}」：{what}"),
    }
}

/// The upload: checked, and imported if asked and every row is good.
pub async fn import(State(st): State<WebState>, v: Viewer, request: Request) -> Response {
    let sent = match files::read(&st, request, LIMIT).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(sent.get("_csrf")) {
        return r;
    }
    let kind = sent.get("kind").unwrap_or_default().to_string();
    let answers = sent.get("mode") == Some("answers");
    let write = sent.get("step") == Some("import");
    let shown = |status: StatusCode, banner: Markup| {
        (
            status,
            page(&v, "导入导出", html! { (banner) (form(&st, &v)) }),
        )
            .into_response()
    };
    let Some((_, upload)) = sent.files.first() else {
        return shown(
            StatusCode::UNPROCESSABLE_ENTITY,
            html! { div.error.banner role="alert" { "没有收到文件，请选择要导入的表格。" } },
        );
    };
    let rows = match duban_service::sheet_read::rows(&upload.bytes) {
        Ok(rows) => rows,
        Err(why) => {
            return shown(
                StatusCode::UNPROCESSABLE_ENTITY,
                html! {
                    div.error.banner role="alert" { "无法读取这个表格，未导入任何内容。" }
                    ul { @for line in why.lines() { li { (labels::problem(line)) } } }
                },
            );
        }
    };
    match st
        .service
        .import_as(&v.p, &kind, &rows, answers, write)
        .await
    {
        Ok(Ok(n)) if write => shown(
            StatusCode::OK,
            html! { div.banner.done role="status" {
                @if answers { "导入完成：" (n) " 行答复与评价已记入相应事项。" }
                @else { "导入完成：新增事项 " (n) " 件。" }
                " " a href="/cases" { "查看事项" }
            } },
        ),
        Ok(Ok(n)) => shown(
            StatusCode::OK,
            html! { div.banner.done role="status" {
                "检查通过：全部 " (n) " 行都可以导入，尚未导入。请再次选择这个文件，点“检查并导入”。"
            } },
        ),
        Ok(Err(problems)) => shown(
            StatusCode::UNPROCESSABLE_ENTITY,
            html! {
                div.error.banner role="alert" {
                    "未导入任何内容：共 " (problems.len()) " 处问题，请修改表格后重新导入。"
                }
                ul.problems { @for p in &problems { li { (problem_line(&st, &kind, p)) } } }
            },
        ),
        Err(e) => refused(e),
    }
}
