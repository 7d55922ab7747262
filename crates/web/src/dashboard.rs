//! The leader's dashboard: what is overdue, the key suggestions under personal supervision, what
//! falls due this week, each department's on-time and satisfaction rates, and the year's figures
//! from the records, with the report to download as a workbook.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use duban_core::Role;
use duban_core::deadline::china_date;
use duban_service::report::{self, AnnualReport};
use duban_service::{Error as ServiceError, ListParams};
use jiff::SignedDuration;
use maud::{Markup, html};
use serde::Deserialize;

use crate::chart::{self, Bar};
use crate::forms::Choices;
use crate::layout;
use crate::session::Viewer;
use crate::{WebState, cases, choices, labels, refused};

#[derive(Debug, Deserialize)]
pub struct YearQuery {
    year: Option<i16>,
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn percent(r: Option<f64>) -> String {
    r.map_or("—".into(), |r| format!("{:.1}%", r * 100.0))
}

/// The year to show: the one asked for, else the latest of the last few with any case filed.
async fn report_for(
    st: &WebState,
    v: &Viewer,
    year: Option<i16>,
) -> Result<(AnnualReport, std::collections::BTreeMap<String, String>), ServiceError> {
    if let Some(y) = year {
        return st.service.annual_report(&v.p, y, None).await;
    }
    let this_year = china_date(st.service.now()).year();
    let mut first = None;
    for y in (this_year - 5..=this_year).rev() {
        let r = st.service.annual_report(&v.p, y, None).await?;
        if r.0.kinds.iter().any(|k| k.filed > 0) {
            return Ok(r);
        }
        first.get_or_insert(r);
    }
    first.ok_or(ServiceError::NotFound)
}

fn figures(r: &AnnualReport) -> Markup {
    html! {
        div.cards {
            @for k in &r.kinds {
                @let rated = k.satisfied + k.basically_satisfied + k.dissatisfied;
                div.card.figure {
                    h3 { (k.title) }
                    p.big { (k.filed) span.unit { " 件" } }
                    dl.mini {
                        dt { "已答复" } dd { (k.answered) }
                        dt { "按期率" } dd { (percent(k.on_time_rate.map(|p| p / 100.0))) }
                        @if let (Some(m), Some(p90)) = (k.days_to_answer_median, k.days_to_answer_p90) {
                            dt { "答复用时" } dd title="自交办（受理）到首次答复：一半在中位数天数内，九成在90%天数内" {
                                "中位数 " (m) " 天，90% " (p90) " 天"
                            }
                        }
                        dt title="承办单位（调解员）应答复而逾期" { "逾期未办结" } dd.overdue-text[k.open_overdue > 0] { (k.open_overdue) }
                        @if k.rating_overdue > 0 {
                            dt title="已答复，等待代表或法院评价而逾期" { "逾期未评价" } dd { (k.rating_overdue) }
                        }
                        @if k.office_overdue > 0 {
                            dt title="等待常委会机关（法院）交办、决定或督办而逾期" { "机关环节逾期" } dd.overdue-text { (k.office_overdue) }
                        }
                        @if k.following > 0 || k.b_delivered > 0 {
                            dt title="B、C类答复经代表评价后跟踪落实，直至承办单位报告已落实" { "回头看" }
                            dd { "跟踪中 " (k.following)
                                @if k.follow_up_overdue > 0 { span.overdue-text { "（超过承诺日期 " (k.follow_up_overdue) "）" } }
                                "，B类已落实 " (k.b_delivered) }
                        }
                        dt { "满意率" } dd { (percent(ratio(k.satisfied + k.basically_satisfied, rated))) }
                        dt { "未办结" } dd { (k.open) }
                    }
                }
            }
        }
        p.muted {
            "重点建议 " (r.key_suggestions.total) " 件，已落实 " (r.key_suggestions.implemented) " 件"
            @if !r.key_suggestions.activities.is_empty() {
                "，领衔督办活动 " (r.key_suggestions.activities.values().sum::<u64>()) " 次（"
                @for (i, (activity, times)) in r.key_suggestions.activities.iter().enumerate() {
                    @if i > 0 { "、" }
                    (labels::value(activity)) " " (times)
                }
                "）"
            }
            "；"
            a href=(format!("/cases?kind=petition&repeat=1&year={}", r.year)) { "重复信访 " (r.petitions.repeat) " 件" }
            "。（统计截至 " (r.as_of) "）"
        }
        // Each kind's sentence, as its workflow file declares it.
        @for s in r.sections.iter().filter(|s| s.filed > 0) {
            p.muted { strong { (s.title) } "：" (s.sentence) }
        }
    }
}

/// A bar of the share of ratings that were 满意 or 基本满意, with the counts after `prefix`.
fn satisfaction_bar(
    label: String,
    [satisfied, basically, dissatisfied]: [u64; 3],
    prefix: String,
) -> Bar {
    Bar {
        label,
        rate: ratio(satisfied + basically, satisfied + basically + dissatisfied),
        detail: format!("{prefix}满意 {satisfied}、基本满意 {basically}、不满意 {dissatisfied}"),
    }
}

fn department_charts(
    r: &AnnualReport,
    names: &std::collections::BTreeMap<String, String>,
) -> Markup {
    let name = |c: &str| names.get(c).cloned().unwrap_or_else(|| c.to_string());
    let suggestions = || {
        r.departments
            .iter()
            .filter(|d| d.kind == duban_core::vocabulary::kind::SUGGESTION)
    };
    // A department that only co-handled has no replies to rate: it shows in the co-handling
    // chart alone.
    let rows: Vec<_> = suggestions().filter(|d| d.assigned > 0).collect();
    let co_handling: Vec<Bar> = suggestions()
        .filter(|d| d.co_handled > 0)
        .map(|d| Bar {
            label: name(&d.department),
            rate: ratio(d.co_opinions_on_time, d.co_handled),
            detail: format!(
                "按期提出 {} / 协办 {}（已提出 {}）",
                d.co_opinions_on_time, d.co_handled, d.co_opinions
            ),
        })
        .collect();
    let on_time: Vec<Bar> = rows
        .iter()
        .map(|d| Bar {
            label: name(&d.department),
            rate: ratio(d.answered_on_time, d.answered + d.open_overdue),
            detail: format!(
                "按期答复 {} / (已答复 {} + 逾期未答复 {})",
                d.answered_on_time, d.answered, d.open_overdue
            ),
        })
        .collect();
    let satisfaction: Vec<Bar> = rows
        .iter()
        .map(|d| {
            let counts = [d.satisfied, d.basically_satisfied, d.dissatisfied];
            satisfaction_bar(name(&d.department), counts, String::new())
        })
        .collect();
    // Each deputy's satisfaction with the replies, a co-signer's ratings included.
    let deputies: Vec<Bar> = r
        .deputies
        .iter()
        .filter(|d| d.kind == duban_core::vocabulary::kind::SUGGESTION)
        .map(|d| {
            let counts = [d.satisfied, d.basically_satisfied, d.dissatisfied];
            let who = format!("领衔评价 {}、联名评价 {}：", d.ratings, d.co_ratings);
            satisfaction_bar(name(&d.deputy), counts, who)
        })
        .collect();
    html! {
        div.charts {
            (chart::rates("各承办单位按期答复率（代表建议）", &on_time))
            (chart::rates("各承办单位代表满意率（含基本满意）", &satisfaction))
            @if !co_handling.is_empty() {
                (chart::rates("各协办单位按期提出协办意见率（代表建议）", &co_handling))
            }
            @if !deputies.is_empty() {
                (chart::rates("各代表对答复的满意率（含基本满意、联名评价）", &deputies))
            }
        }
    }
}

pub async fn page(State(st): State<WebState>, v: Viewer, Query(q): Query<YearQuery>) -> Response {
    if !matches!(v.p.user.role, Role::Leader | Role::Staff | Role::Auditor) {
        return axum::response::Redirect::to("/").into_response();
    }
    let (report, report_names) = match report_for(&st, &v, q.year).await {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    let list = |params: ListParams| {
        let st = st.clone();
        let p = v.p.clone();
        async move { st.service.list(&p, &params).await }
    };
    // The overdue items of the year shown: a dashboard of 2024 lists 2024's.
    let overdue = list(ListParams {
        overdue: true,
        year: Some(report.year),
        limit: 10,
        ..ListParams::default()
    });
    let key = list(ListParams {
        key: true,
        limit: 30,
        ..ListParams::default()
    });
    let week = list(ListParams {
        due_before: Some(st.service.now() + SignedDuration::from_hours(24 * 7)),
        limit: 20,
        ..ListParams::default()
    });
    let (overdue, key, week) = match (overdue.await, key.await, week.await) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return refused(e),
    };
    // Sent back as 不满意: the states a rating of `dissatisfied` leads to, in each workflow.
    let mut sent_back = Vec::new();
    for wf in st.service.workflows().iter() {
        let states: std::collections::BTreeSet<&str> = wf
            .actions
            .iter()
            .flat_map(|a| &a.routes)
            .filter(|r| r.when.iter().any(|(_, v)| v == "dissatisfied"))
            .map(|r| r.to.as_str())
            .collect();
        for state in states {
            match list(ListParams {
                kind: Some(wf.kind.clone()),
                state: Some(state.to_string()),
                limit: 20,
                ..ListParams::default()
            })
            .await
            {
                Ok(l) => sent_back.extend(l.items),
                Err(e) => return refused(e),
            }
        }
    }
    let waiting = match st.service.queue(&v.p, &duban_service::Page::first(1)).await {
        Ok(l) => l.total,
        Err(e) => return refused(e),
    };
    let names: Choices = match choices(&st).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let y = report.year;
    layout::page(
        &v,
        &format!("工作台 · {y}年"),
        html! {
            nav.years {
                a href=(format!("/dashboard?year={}", y - 1)) { "‹ " (y - 1) "年" }
                a href=(format!("/dashboard?year={}", y + 1)) { (y + 1) "年 ›" }
                a.button href=(format!("/reports/annual.xlsx?year={y}")) { "下载年度统计（xlsx）" }
            }
            div.cards {
                a.card.figure href="/queue" {
                    h3 { "待我处理" }
                    p.big { (waiting) span.unit { " 件" } }
                }
                a.card.figure href="/notifications?unread=1" {
                    h3 { "未读消息" }
                    p.big { (v.unread) span.unit { " 条" } }
                }
                a.card.figure href=(format!("/cases?overdue=1&year={y}")) {
                    h3 { (y) "年逾期事项" }
                    p.big.overdue-text[overdue.total > 0] { (overdue.total) span.unit { " 件" } }
                }
            }
            section {
                h2 { "逾期事项" @if overdue.next.is_some() { " " a href=(format!("/cases?overdue=1&year={y}")) { "全部 " (overdue.total) " 件" } } }
                (cases::table(&st, &overdue.items, &names))
            }
            section {
                h2 { "领衔督办的重点建议" }
                (cases::table(&st, &key.items, &names))
            }
            section {
                h2 { "本周到期" }
                (cases::table(&st, &week.items, &names))
            }
            section {
                h2 { "不满意、退回重办的事项" }
                (cases::table(&st, &sent_back, &names))
            }
            section {
                h2 { (y) "年办理情况" }
                (figures(&report))
                (department_charts(&report, &report_names))
            }
        },
    )
    .into_response()
}

/// The annual report as a workbook; the download is audited as an export.
pub async fn workbook(
    State(st): State<WebState>,
    v: Viewer,
    Query(q): Query<YearQuery>,
) -> Response {
    let year = q
        .year
        .unwrap_or_else(|| china_date(st.service.now()).year());
    let (report, names) = match st.service.annual_report(&v.p, year, None).await {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    let cases = match st.service.case_sheets(year, &names).await {
        Ok(c) => c,
        Err(e) => return refused(e),
    };
    let bytes = match report::workbook(&report, &names, &cases) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "writing the report workbook");
            return crate::layout::error_page(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "系统错误",
                "生成统计表时出错，已记录。",
            );
        }
    };
    if let Err(e) = st
        .service
        .audit(
            Some(&v.p),
            "export",
            &format!("report {year}"),
            "ok",
            "xlsx from the web",
        )
        .await
    {
        return refused(e);
    }
    crate::export::xlsx_response(&format!("{year}年度办理情况统计.xlsx"), bytes)
}
