//! 导出Excel: a list page's rows, with the same filters, as a workbook. Every export is in the
//! audit log with what was exported and how many rows; case lists carry no personal data (a
//! list row has none), and people's numbers go out masked as the pages show them.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use duban_core::deadline::china_date;
use duban_service::xlsx::{Cell, Table};
use duban_service::{CaseSummary, Cursor, Listing};
use maud::{Markup, html};

use crate::forms::Choices;
use crate::layout::error_page;
use crate::session::Viewer;
use crate::{WebState, refused};

/// The most rows one export holds: a county's year is a few thousand cases.
pub const MAX_ROWS: usize = 50_000;

/// The link a list page offers, to the same list as a workbook.
pub fn link(href: &str) -> Markup {
    html! { a.button.export href=(href) { "导出Excel" } }
}

/// Every page of a list, read `next` after `next` from `first`, up to [`MAX_ROWS`].
pub async fn all_pages<F, Fut>(mut page: F) -> Result<Vec<CaseSummary>, duban_service::Error>
where
    F: FnMut(Option<Cursor>) -> Fut,
    Fut: std::future::Future<Output = Result<Listing, duban_service::Error>>,
{
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let listing = page(after).await?;
        items.extend(listing.items);
        match listing.next {
            Some(next) if items.len() < MAX_ROWS => after = Some(next),
            _ => break,
        }
    }
    items.truncate(MAX_ROWS);
    Ok(items)
}

/// Cases as a sheet: the number to quote, the title, the kind and state by name, who holds it,
/// and the dates as date cells.
pub fn cases(st: &WebState, name: &str, items: &[CaseSummary], names: &Choices) -> Table {
    let now = st.service.now();
    let rows = items
        .iter()
        .map(|c| {
            let wf = st.service.workflows().get(&c.kind);
            let state = wf
                .and_then(|w| w.state(&c.state))
                .map_or(c.state.as_str(), |s| s.title.as_str());
            let due = c.due_date.as_deref().and_then(|d| d.parse().ok());
            vec![
                Cell::from(c.number.clone().unwrap_or_default()),
                Cell::from(c.title.as_str()),
                Cell::from(wf.map_or(c.kind.as_str(), |w| w.title.as_str())),
                Cell::from(state),
                Cell::from(names.names(&c.awaiting)),
                Cell::Date(china_date(c.filed_at)),
                Cell::from(due),
                Cell::from(if c.due_at.is_some_and(|d| d <= now) {
                    "是"
                } else {
                    ""
                }),
                Cell::from(if c.is_key { "是" } else { "" }),
                Cell::from(
                    c.supervisor
                        .as_deref()
                        .map(|s| names.name(s).to_string())
                        .unwrap_or_default(),
                ),
            ]
        })
        .collect();
    Table {
        name: name.into(),
        headers: [
            "编号",
            "标题",
            "类别",
            "状态",
            "待办方",
            "登记日期",
            "办理期限",
            "逾期",
            "重点",
            "领衔督办",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}

/// The workbook of `table` as a download named `file` (its UTF-8 name kept), recorded in the
/// audit log as an export of `what`.
pub async fn download(st: &WebState, v: &Viewer, what: &str, file: &str, table: Table) -> Response {
    let detail = format!("xlsx from the web, {} rows", table.rows.len());
    if let Err(e) = st
        .service
        .audit(Some(&v.p), "export", what, "ok", &detail)
        .await
    {
        return refused(e);
    }
    workbook(file, table)
}

/// The workbook of `table` as a download named `file`, for a caller that recorded the export
/// itself (the audit log's own export is recorded as `audit_exported`).
pub fn workbook(file: &str, table: Table) -> Response {
    let bytes = match duban_service::xlsx::workbook(&[table]) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "writing a list's workbook");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "系统错误",
                "生成表格时出错，已记录。",
            );
        }
    };
    xlsx_response(file, bytes)
}

/// A workbook's bytes as a download named `file`, its UTF-8 name kept.
pub fn xlsx_response(file: &str, bytes: Vec<u8>) -> Response {
    let mut response = bytes.into_response();
    let headers = duban_core::attachment::download_headers(
        file,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    );
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    response
}
