//! Lists of cases: everything the viewer may see, found by number or words, narrowed by
//! department, deputy, station, kind and state, key, overdue, repeat filings and year, newest
//! first or by deadline, with a total and paging both ways; and a department's items by
//! deadline.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use duban_core::Role;
use duban_core::deadline::china_date;
use duban_core::workflow::Workflow;
use duban_service::{CaseSummary, Cursor, ListParams, Listing, Order};
use maud::{Markup, html};
use serde::Deserialize;

use crate::forms::Choices;
use crate::layout::{due_badge, page, url_encode};
use crate::session::Viewer;
use crate::{WebState, choices, export, refused};

/// A list's filters as the form sends them: empty fields mean "any".
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    kind: Option<String>,
    /// `KIND.STATE`: a state belongs to its kind.
    state: Option<String>,
    department: Option<String>,
    deputy: Option<String>,
    station: Option<String>,
    year: Option<String>,
    overdue: Option<String>,
    key: Option<String>,
    /// Only repeat filings (重复信访).
    repeat: Option<String>,
    /// `deadline`, or newest first.
    order: Option<String>,
    cursor: Option<String>,
    before: Option<String>,
}

fn blank(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn state_title<'a>(wf: Option<&'a Workflow>, state: &'a str) -> &'a str {
    wf.and_then(|w| w.state(state))
        .map_or(state, |s| s.title.as_str())
}

impl ListQuery {
    /// The query string of these filters (without the page), for links that keep them.
    fn keep(&self) -> String {
        let mut s = String::new();
        for (k, v) in [
            ("q", &self.q),
            ("kind", &self.kind),
            ("state", &self.state),
            ("department", &self.department),
            ("deputy", &self.deputy),
            ("station", &self.station),
            ("year", &self.year),
            ("order", &self.order),
        ] {
            if let Some(v) = blank(v) {
                s.push_str(&format!("&{k}={}", url_encode(&v)));
            }
        }
        if self.overdue.is_some() {
            s.push_str("&overdue=1");
        }
        if self.key.is_some() {
            s.push_str("&key=1");
        }
        if self.repeat.is_some() {
            s.push_str("&repeat=1");
        }
        s
    }

    /// The service's parameters; a state chosen as `KIND.STATE` sets the kind too.
    fn params(&self) -> ListParams {
        let (kind, state) = match blank(&self.state).and_then(|s| {
            s.split_once('.')
                .map(|(k, st)| (k.to_string(), st.to_string()))
        }) {
            Some((k, s)) => (Some(k), Some(s)),
            None => (blank(&self.kind), None),
        };
        ListParams {
            q: blank(&self.q),
            kind,
            state,
            department: blank(&self.department),
            deputy: blank(&self.deputy),
            station: blank(&self.station),
            year: blank(&self.year).and_then(|y| y.parse().ok()),
            overdue: self.overdue.is_some(),
            key: self.key.is_some(),
            repeat: self.repeat.is_some(),
            order: match self.order.as_deref() {
                Some("deadline") => Order::Deadline,
                Some("oldest") => Order::Oldest,
                _ => Order::Newest,
            },
            after: self.cursor.as_deref().and_then(Cursor::decode),
            before: self.before.as_deref().and_then(Cursor::decode),
            limit: 50,
            ..ListParams::default()
        }
    }
}

/// A table of cases: the number to quote, what it is, where it stands, who holds it, and when
/// it is due.
pub fn table(st: &WebState, items: &[CaseSummary], names: &Choices) -> Markup {
    let now = st.service.now();
    let wfs = st.service.workflows();
    html! {
        @if items.is_empty() {
            p.muted.empty { "暂无事项。" }
        } @else {
            div.table-wrap {
                table.cases {
                    thead { tr { th { "编号" } th { "事项" } th { "类别" } th { "当前状态" } th { "待办方" } th { "期限" } } }
                    tbody {
                        @for c in items {
                            @let wf = wfs.get(&c.kind);
                            tr {
                                td.number { (c.number.as_deref().unwrap_or("—")) }
                                td.title {
                                    a href=(format!("/cases/{}", c.id)) { (c.title) }
                                    @if c.is_key {
                                        " " span.badge.key { "重点" }
                                        @if let Some(s) = &c.supervisor { " " span.muted { "领衔：" (names.name(s)) } }
                                    }
                                }
                                td { (wf.map_or(c.kind.as_str(), |w| w.title.as_str())) }
                                td { (state_title(wf, &c.state)) }
                                td { @if c.awaiting.is_empty() { span.muted { "—" } } @else { (names.names(&c.awaiting)) } }
                                td { (due_badge(c.due_date.as_deref(), c.due_at, now)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// "共 N 件" and links to the pages on either side, keeping the filters.
pub fn pager(base: &str, keep: &str, listing: &Listing) -> Markup {
    html! {
        div.pager {
            span { "共 " strong { (listing.total) } " 件" }
            @if let Some(prev) = &listing.prev {
                a.button href=(format!("{base}?before={}{keep}", url_encode(&prev.encode()))) { "上一页" }
            }
            @if let Some(next) = &listing.next {
                a.button href=(format!("{base}?cursor={}{keep}", url_encode(&next.encode()))) { "下一页" }
            }
        }
    }
}

/// The filter form: search words, then what a committee member may narrow by.
fn filters(st: &WebState, v: &Viewer, q: &ListQuery, names: &Choices) -> Markup {
    let committee = matches!(v.p.user.role, Role::Leader | Role::Staff | Role::Auditor);
    let chosen = |field: &Option<String>, value: &str| field.as_deref() == Some(value);
    let this_year = china_date(st.service.now()).year();
    let orgs = |kind: &str| {
        names
            .orgs
            .iter()
            .filter(move |(_, _, k)| k == kind)
            .collect::<Vec<_>>()
    };
    html! {
        form.filters method="get" action="/cases" {
            input type="search" name="q" value=(q.q.as_deref().unwrap_or("")) placeholder="编号或关键词（至少两个字）" aria-label="搜索" maxlength="200";
            select name="kind" aria-label="类别" {
                option value="" { "全部类别" }
                @for wf in st.service.workflows().iter() {
                    option value=(wf.kind) selected[chosen(&q.kind, &wf.kind)] { (wf.title) }
                }
            }
            select name="state" aria-label="状态" {
                option value="" { "全部状态" }
                @for wf in st.service.workflows().iter() {
                    optgroup label=(wf.title) {
                        @for s in &wf.states {
                            @let value = format!("{}.{}", wf.kind, s.name);
                            option value=(value) selected[chosen(&q.state, &value)] { (s.title) }
                        }
                    }
                }
            }
            @if committee {
                select name="department" aria-label="承办单位" {
                    option value="" { "全部承办单位" }
                    @for (code, name, _) in orgs("department") {
                        option value=(code) selected[chosen(&q.department, code)] { (name) }
                    }
                }
                select name="deputy" aria-label="代表" {
                    option value="" { "全部代表" }
                    @for u in names.people.iter().filter(|u| u.role == Role::Deputy) {
                        option value=(u.login) selected[chosen(&q.deputy, &u.login)] { (u.name) }
                    }
                }
                select name="station" aria-label="代表之家/联络站" {
                    option value="" { "全部联络站" }
                    @for (code, name, _) in orgs("station") {
                        option value=(code) selected[chosen(&q.station, code)] { (name) }
                    }
                }
            }
            select name="year" aria-label="年度" {
                option value="" { "全部年度" }
                @for y in (this_year - 5..=this_year).rev() {
                    option value=(y) selected[chosen(&q.year, &y.to_string())] { (y) "年" }
                }
            }
            select name="order" aria-label="排序" {
                option value="" { "最新在前" }
                option value="oldest" selected[chosen(&q.order, "oldest")] { "最早在前" }
                option value="deadline" selected[chosen(&q.order, "deadline")] { "按期限" }
            }
            label.inline { input type="checkbox" name="overdue" value="1" checked[q.overdue.is_some()]; "仅逾期" }
            label.inline { input type="checkbox" name="key" value="1" checked[q.key.is_some()]; "仅重点" }
            // Asked of an ID number: for the committee, and for a deputy's own cases.
            @if committee || v.p.user.role == Role::Deputy {
                label.inline { input type="checkbox" name="repeat" value="1" checked[q.repeat.is_some()]; "仅重复信访" }
            }
            button type="submit" { "筛选" }
        }
    }
}

/// The cases the viewer may see, with filters.
pub async fn list(State(st): State<WebState>, v: Viewer, Query(q): Query<ListQuery>) -> Response {
    let listing = match st.service.list(&v.p, &q.params()).await {
        Ok(l) => l,
        Err(e) => return refused(e),
    };
    let names = match choices(&st).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let title = match (v.p.user.role, blank(&q.q)) {
        (_, Some(_)) => "搜索结果",
        (Role::Deputy, _) => "我的事项",
        (Role::Mediator, _) => "我的调解案件",
        (Role::Court, _) => "委派调解案件",
        (Role::Department, _) => "本单位事项",
        _ => "全部事项",
    };
    page(
        &v,
        title,
        html! {
            (filters(&st, &v, &q, &names))
            (export::link(&format!("/cases.xlsx?{}", q.keep().trim_start_matches('&'))))
            (pager("/cases", &q.keep(), &listing))
            (table(&st, &listing.items, &names))
            (pager("/cases", &q.keep(), &listing))
        },
    )
    .into_response()
}

/// A department's open items by deadline, the overdue first.
pub async fn inbox(State(st): State<WebState>, v: Viewer, Query(q): Query<ListQuery>) -> Response {
    if v.p.user.role != Role::Department {
        return Redirect::to("/queue").into_response();
    }
    let params = ListParams {
        by_due: true,
        after: q.cursor.as_deref().and_then(Cursor::decode),
        before: q.before.as_deref().and_then(Cursor::decode),
        limit: 50,
        ..ListParams::default()
    };
    let listing = match st.service.list(&v.p, &params).await {
        Ok(l) => l,
        Err(e) => return refused(e),
    };
    let names = match choices(&st).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let org = v.p.user.org.clone().unwrap_or_default();
    let now = st.service.now();
    let overdue = listing
        .items
        .iter()
        .filter(|c| c.due_at.is_some_and(|d| d <= now))
        .count();
    page(
        &v,
        &format!("{} · 待办事项", names.name(&org)),
        html! {
            p.summary {
                "未办结 " strong { (listing.total) } " 件"
                "，本页已逾期 " strong.overdue-text { (overdue) } " 件。按办理期限排序，逾期的在前。"
            }
            (export::link("/inbox.xlsx"))
            (table(&st, &listing.items, &names))
            (pager("/inbox", "", &listing))
            p { a href="/cases" { "查看本单位全部事项（含已办结）" } }
        },
    )
    .into_response()
}

/// `/cases.xlsx`: the list with the same filters, every page of it, as a workbook.
pub async fn list_xlsx(
    State(st): State<WebState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
) -> Response {
    let params = ListParams {
        limit: 200,
        after: None,
        before: None,
        ..q.params()
    };
    let items = export::all_pages(|after| {
        let params = ListParams {
            after,
            ..params.clone()
        };
        let (st, v) = (&st, &v);
        async move { st.service.list(&v.p, &params).await }
    })
    .await;
    export_cases(&st, &v, "cases", "事项清单", items).await
}

/// `/inbox.xlsx`: a department's open items by deadline, as a workbook.
pub async fn inbox_xlsx(State(st): State<WebState>, v: Viewer) -> Response {
    if v.p.user.role != Role::Department {
        return Redirect::to("/queue.xlsx").into_response();
    }
    let items = export::all_pages(|after| {
        let params = ListParams {
            by_due: true,
            after,
            limit: 200,
            ..ListParams::default()
        };
        let (st, v) = (&st, &v);
        async move { st.service.list(&v.p, &params).await }
    })
    .await;
    export_cases(&st, &v, "inbox", "待办事项", items).await
}

/// A list of cases, read or refused, as the download of sheet `name`.
pub(crate) async fn export_cases(
    st: &WebState,
    v: &Viewer,
    what: &str,
    name: &str,
    items: Result<Vec<CaseSummary>, duban_service::Error>,
) -> Response {
    let items = match items {
        Ok(i) => i,
        Err(e) => return refused(e),
    };
    let names = match choices(st).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let day = china_date(st.service.now());
    let table = export::cases(st, name, &items, &names);
    export::download(st, v, what, &format!("{name}-{day}.xlsx"), table).await
}
