//! 审计日志, for auditors and administrators: the audit log searched by actor, action and
//! date, the chain verified, and the results exported as CSV (the export itself audited); and
//! for administrators, 投递管理: the reminder deliveries that gave up, with their last error,
//! and retrying them.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use duban_service::xlsx::Cell;
use duban_service::{AuditQuery, Verdict};
use maud::html;
use serde::Deserialize;

use crate::layout::{csrf, page, url_encode, when};
use crate::session::Viewer;
use crate::strict::Form;
use crate::{WebState, refused};

/// At most this many records on a page, and in one export.
const PAGE: u32 = 100;
const EXPORT: u32 = 10_000;

#[derive(Debug, Default, Deserialize)]
pub struct AuditFilter {
    actor: Option<String>,
    action: Option<String>,
    /// The first day (China time), `YYYY-MM-DD`.
    from: Option<String>,
    /// The last day, included.
    to: Option<String>,
    before: Option<i64>,
}

fn day(s: Option<&str>) -> Option<jiff::civil::Date> {
    s.map(str::trim).filter(|s| !s.is_empty())?.parse().ok()
}

impl AuditFilter {
    fn query(&self, limit: u32) -> AuditQuery {
        let text = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        AuditQuery {
            actor: text(&self.actor),
            action: text(&self.action),
            // A day runs from the end of the one before to its own end, in China time.
            from: day(self.from.as_deref())
                .and_then(|d| d.yesterday().ok())
                .map(duban_core::deadline::end_of_day),
            until: day(self.to.as_deref()).map(duban_core::deadline::end_of_day),
            before: self.before,
            limit,
        }
    }

    fn keep(&self) -> String {
        let v = |s: &Option<String>| url_encode(s.as_deref().unwrap_or_default());
        format!(
            "actor={}&action={}&from={}&to={}",
            v(&self.actor),
            v(&self.action),
            v(&self.from),
            v(&self.to)
        )
    }
}

/// The audit log, searched, newest first, a page at a time.
pub async fn search(
    State(st): State<WebState>,
    v: Viewer,
    Query(f): Query<AuditFilter>,
) -> Response {
    let records = match st.service.audit_search(&v.p, &f.query(PAGE)).await {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    let keep = f.keep();
    let shown = |s: &Option<String>| s.clone().unwrap_or_default();
    page(
        &v,
        "审计日志",
        html! {
            form.filters method="get" action="/audit" {
                input type="text" name="actor" value=(shown(&f.actor)) placeholder="操作人（登录名）" aria-label="操作人";
                input type="text" name="action" value=(shown(&f.action)) placeholder="操作（如 login_failed）" aria-label="操作";
                label { "自 " input type="date" name="from" value=(shown(&f.from)); }
                label { " 至 " input type="date" name="to" value=(shown(&f.to)); }
                button type="submit" { "查询" }
                " " a.button href=(format!("/audit.csv?{keep}")) { "导出 CSV" }
                " " (crate::export::link(&format!("/audit.xlsx?{keep}")))
            }
            form method="post" action="/audit/verify" {
                (csrf(&v))
                button type="submit" { "校验日志完整性" }
                span.hint { " 重新计算整条哈希链，发现被删改的记录。" }
            }
            @if records.is_empty() { p.muted.empty { "没有符合条件的记录。" } }
            @else {
                div.table-wrap {
                    table.sent {
                        thead { tr { th { "序号" } th { "时间" } th { "操作人" } th { "角色" } th { "来源" } th { "操作" } th { "对象" } th { "结果" } th { "说明" } } }
                        tbody {
                            @for (seq, r) in &records {
                                tr {
                                    td { (seq) } td { (when(r.at)) } td { (r.actor) } td { (r.role) } td { (r.source) }
                                    td { (r.action) } td { (r.target) } td { (r.outcome) } td { (r.detail) }
                                }
                            }
                        }
                    }
                }
            }
            @if records.len() == PAGE as usize {
                @if let Some((seq, _)) = records.last() {
                    p.pager { a.button href=(format!("/audit?{keep}&before={seq}")) { "更早的记录" } }
                }
            }
        },
    )
    .into_response()
}

/// The columns of both exports of the audit log.
const HEADERS: [&str; 9] = [
    "序号",
    "时间",
    "操作人",
    "角色",
    "来源",
    "操作",
    "对象",
    "结果",
    "说明",
];

/// The records an export holds, the export recorded in the audit log first.
async fn exported(
    st: &WebState,
    v: &Viewer,
    f: &AuditFilter,
) -> Result<Vec<(i64, duban_service::AuditRecord)>, Response> {
    let records = st
        .service
        .audit_search(&v.p, &f.query(EXPORT))
        .await
        .map_err(refused)?;
    st.service
        .audit_exported(&v.p, records.len())
        .await
        .map_err(refused)?;
    Ok(records)
}

/// `/audit.xlsx`: the same records as the CSV export, as a workbook.
pub async fn export_xlsx(
    State(st): State<WebState>,
    v: Viewer,
    Query(f): Query<AuditFilter>,
) -> Response {
    let records = match exported(&st, &v, &f).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let rows = records
        .iter()
        .map(|(seq, r)| {
            vec![
                Cell::Number(*seq as f64),
                Cell::from(when(r.at)),
                Cell::from(r.actor.as_str()),
                Cell::from(r.role.as_str()),
                Cell::from(r.source.as_str()),
                Cell::from(r.action.as_str()),
                Cell::from(r.target.as_str()),
                Cell::from(r.outcome.as_str()),
                Cell::from(r.detail.as_str()),
            ]
        })
        .collect();
    let table = duban_service::xlsx::Table {
        name: "审计日志".into(),
        headers: HEADERS.map(String::from).to_vec(),
        rows,
    };
    crate::export::workbook("审计日志.xlsx", table)
}

/// The matching records as CSV (UTF-8 with a BOM, for Excel), newest first; the export is
/// itself recorded in the audit log.
pub async fn export(
    State(st): State<WebState>,
    v: Viewer,
    Query(f): Query<AuditFilter>,
) -> Response {
    let records = match exported(&st, &v, &f).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let mut ok = w.write_record(HEADERS).is_ok();
        for (seq, r) in &records {
            let row = [
                seq.to_string(),
                r.at.to_string(),
                r.actor.clone(),
                r.role.clone(),
                r.source.clone(),
                r.action.clone(),
                r.target.clone(),
                r.outcome.clone(),
                r.detail.clone(),
            ];
            ok &= w
                .write_record(row.iter().map(|c| duban_core::text::spreadsheet_text(c)))
                .is_ok();
        }
        if !(ok && w.flush().is_ok()) {
            return refused(duban_service::Error::Forbidden {
                detail: "the export could not be written".into(),
            });
        }
    }
    let mut response = out.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit.csv\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Debug, Deserialize)]
pub struct Bare {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// Recomputes the chain and says whether it holds.
pub async fn verify(State(st): State<WebState>, v: Viewer, Form(f): Form<Bare>) -> Response {
    if let Err(r) = v.check_csrf(Some(&f.csrf)) {
        return r;
    }
    let verdict = match st.service.verify_audit(&v.p).await {
        Ok(verdict) => verdict,
        Err(e) => return refused(e),
    };
    let (status, body) = match verdict {
        Verdict::Intact { records } => (
            StatusCode::OK,
            html! { div.banner.done role="status" { "审计日志完整：已校验 " (records) " 条记录，哈希链未断。" } },
        ),
        Verdict::Broken { seq, reason } => (
            StatusCode::OK,
            html! { div.error.banner role="alert" { "审计日志在第 " (seq) " 条记录处断开：" (reason) "。请立即报告安全负责人。" } },
        ),
    };
    (
        status,
        page(
            &v,
            "日志完整性校验",
            html! { (body) p { a href="/audit" { "返回审计日志" } } },
        ),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct DeliveryFilter {
    status: Option<String>,
}

/// Reminder deliveries, the dead ones by default, with each one's last error and a retry.
pub async fn deliveries(
    State(st): State<WebState>,
    v: Viewer,
    Query(f): Query<DeliveryFilter>,
) -> Response {
    let status = f
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or("dead");
    let status = (status != "all").then_some(status);
    let list = match st.service.deliveries(&v.p, status, 200).await {
        Ok(l) => l,
        Err(e) => return refused(e),
    };
    fn label(s: &str) -> &str {
        match s {
            "pending" => "待发送",
            "claimed" => "发送中",
            "sent" => "已送达",
            "dead" => "已放弃",
            other => other,
        }
    }
    page(
        &v,
        "投递管理",
        html! {
            form.filters method="get" action="/admin/deliveries" {
                select name="status" aria-label="状态" {
                    @for s in ["dead", "pending", "claimed", "sent", "all"] {
                        option value=(s) selected[Some(s) == status.or(Some("all"))] { @if s == "all" { "全部" } @else { (label(s)) } }
                    }
                }
                button type="submit" { "筛选" }
            }
            @if list.is_empty() { p.muted.empty { "没有这类投递。" } }
            @else {
                div.table-wrap {
                    table.sent {
                        thead { tr { th { "时间" } th { "渠道" } th { "收件" } th { "状态" } th { "尝试次数" } th { "最后错误" } th {} } }
                        tbody {
                            @for (d, attempts) in &list {
                                tr {
                                    td { (when(d.created_at)) }
                                    td { (d.channel) }
                                    td { (d.address) }
                                    td { (label(&d.status)) }
                                    td { (attempts.len()) }
                                    td { (d.last_error.as_deref().unwrap_or("—")) }
                                    td {
                                        @if d.status == "dead" {
                                            form method="post" action=(format!("/admin/deliveries/{}/retry", d.id)) {
                                                (csrf(&v)) button type="submit" { "重试" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

/// Puts a dead delivery back in the queue.
pub async fn retry(
    State(st): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<Bare>,
) -> Response {
    if let Err(r) = v.check_csrf(Some(&f.csrf)) {
        return r;
    }
    match st.service.retry_delivery(&v.p, &id).await {
        Ok(()) => Redirect::to("/admin/deliveries").into_response(),
        Err(e) => refused(e),
    }
}
