//! Lists (my cases, a department's inbox by deadline), filing a new case, and the reminder inbox.

use crate::strict::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use duban_core::Role;
use duban_core::workflow::Workflow;
use duban_service::{CaseSummary, Cursor, Page};
use duban_service::{Error as ServiceError, ListParams};
use maud::{Markup, html};
use serde::Deserialize;

use crate::forms::{self, Choices, FormState};
use crate::layout::{csrf, due_badge, page, url_encode, when};
use crate::session::Viewer;
use crate::{WebState, choices, refused};

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    kind: Option<String>,
    state: Option<String>,
    overdue: Option<String>,
    key: Option<String>,
    cursor: Option<String>,
}

fn blank(s: &Option<String>) -> Option<String> {
    s.as_ref().filter(|s| !s.trim().is_empty()).cloned()
}

fn state_title<'a>(wf: Option<&'a Workflow>, state: &'a str) -> &'a str {
    wf.and_then(|w| w.state(state))
        .map_or(state, |s| s.title.as_str())
}

/// A table of cases, each with where it stands and when it is due.
pub fn table(st: &WebState, items: &[CaseSummary], names: &Choices) -> Markup {
    let now = st.service.now();
    let wfs = st.service.workflows();
    html! {
        @if items.is_empty() {
            p.muted.empty { "暂无事项。" }
        } @else {
            div.table-wrap {
                table.cases {
                    thead { tr { th { "事项" } th { "类别" } th { "当前状态" } th { "期限" } } }
                    tbody {
                        @for c in items {
                            @let wf = wfs.get(&c.kind);
                            tr {
                                td.title {
                                    a href=(format!("/cases/{}", c.id)) { (c.title) }
                                    @if c.is_key {
                                        " " span.badge.key { "重点" }
                                        @if let Some(s) = &c.supervisor { " " span.muted { "领衔：" (names.name(s)) } }
                                    }
                                }
                                td { (wf.map_or(c.kind.as_str(), |w| w.title.as_str())) }
                                td { (state_title(wf, &c.state)) }
                                td { (due_badge(c.due_date.as_deref(), c.due_at, now)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The cases the viewer may see, with filters.
pub async fn list(State(st): State<WebState>, v: Viewer, Query(q): Query<ListQuery>) -> Response {
    let after = q.cursor.as_deref().and_then(Cursor::decode);
    let params = ListParams {
        kind: blank(&q.kind),
        state: blank(&q.state),
        overdue: q.overdue.is_some(),
        key: q.key.is_some(),
        after,
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
    let title = match v.p.user.role {
        Role::Deputy => "我的事项",
        Role::Mediator => "我的调解案件",
        Role::Court => "委派调解案件",
        Role::Department => "本单位事项",
        _ => "全部事项",
    };
    let filter = |extra: &str| {
        let mut s = String::new();
        for (k, v) in [("kind", &q.kind), ("state", &q.state)] {
            if let Some(v) = blank(v) {
                s.push_str(&format!("&{k}={}", url_encode(&v)));
            }
        }
        if q.overdue.is_some() {
            s.push_str("&overdue=1");
        }
        if q.key.is_some() {
            s.push_str("&key=1");
        }
        format!("/cases?{}{}", extra, s)
    };
    page(
        &v,
        title,
        html! {
            form.filters method="get" action="/cases" {
                select name="kind" aria-label="类别" {
                    option value="" { "全部类别" }
                    @for wf in st.service.workflows().iter() {
                        option value=(wf.kind) selected[q.kind.as_deref() == Some(wf.kind.as_str())] { (wf.title) }
                    }
                }
                label.inline { input type="checkbox" name="overdue" value="1" checked[q.overdue.is_some()]; "仅逾期" }
                label.inline { input type="checkbox" name="key" value="1" checked[q.key.is_some()]; "仅重点" }
                button type="submit" { "筛选" }
            }
            (table(&st, &listing.items, &names))
            @if let Some(next) = &listing.next {
                p { a.button href=(filter(&format!("cursor={}", url_encode(&next.encode())))) { "下一页" } }
            }
        },
    )
    .into_response()
}

/// A department's open items by deadline, the overdue first.
pub async fn inbox(State(st): State<WebState>, v: Viewer, Query(q): Query<ListQuery>) -> Response {
    if v.p.user.role != Role::Department {
        return Redirect::to("/cases").into_response();
    }
    let params = ListParams {
        by_due: true,
        after: q.cursor.as_deref().and_then(Cursor::decode),
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
                "未办结 " strong { (listing.items.len()) } " 件"
                @if listing.next.is_some() { "以上" }
                "，其中已逾期 " strong.overdue-text { (overdue) } " 件。按办理期限排序，逾期的在前。"
            }
            (table(&st, &listing.items, &names))
            @if let Some(next) = &listing.next {
                p { a.button href=(format!("/inbox?cursor={}", url_encode(&next.encode()))) { "下一页" } }
            }
            p { a href="/cases" { "查看本单位全部事项（含已办结）" } }
        },
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
pub struct KindQuery {
    kind: Option<String>,
}

/// The filing form's fields for this viewer: only staff file in someone else's name.
fn filing_fields(wf: &Workflow, role: Role) -> Vec<duban_core::workflow::Field> {
    wf.filing
        .payload
        .iter()
        .filter(|f| f.sets.as_deref() != Some("filer") || role == Role::Staff)
        .cloned()
        .collect()
}

fn new_case_page(
    st: &WebState,
    v: &Viewer,
    wf: &Workflow,
    form: &FormState,
    choices: &Choices,
    key: &str,
    general: Option<&str>,
) -> Markup {
    let fields = filing_fields(wf, v.p.user.role);
    let _ = st;
    page(
        v,
        &format!("新建{}", wf.title),
        html! {
            @if let Some(g) = general { p.error.banner role="alert" { (g) } }
            form.card method="post" action="/cases/new" novalidate {
                (csrf(v))
                input type="hidden" name="_kind" value=(wf.kind);
                input type="hidden" name="_key" value=(key);
                (forms::inputs(&fields, form, choices, "new"))
                p.hint { "带 * 的为必填项。群众的身份证号、电话、住址加密保存，提交后只显示部分。" }
                button.primary type="submit" { "提交" }
            }
        },
    )
}

pub async fn new_form(
    State(st): State<WebState>,
    v: Viewer,
    Query(q): Query<KindQuery>,
) -> Response {
    let kind = q
        .kind
        .unwrap_or_else(|| duban_core::vocabulary::kind::SUGGESTION.into());
    let Some(wf) = st.service.workflows().get(&kind) else {
        return refused(ServiceError::UnknownKind {
            kind,
            known: vec![],
        });
    };
    if !wf.filing.roles.contains(&v.p.user.role) {
        return refused(ServiceError::Forbidden {
            detail: String::new(),
        });
    }
    let names = match choices(&st).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    // Sensible defaults: a deputy's own station, a court clerk's own court.
    let mut form = FormState::default();
    if let Some(org) = &v.p.user.org {
        for f in ["station", "court"] {
            form.values.insert(f.into(), vec![org.clone()]);
        }
    }
    let key = uuid::Uuid::new_v4().simple().to_string();
    new_case_page(&st, &v, wf, &form, &names, &key, None).into_response()
}

/// Files the case; a repeated submission of the same form (its key) files it once.
pub async fn file(
    State(st): State<WebState>,
    v: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let Err(r) = v.check_csrf(get("_csrf")) {
        return r;
    }
    let kind = get("_kind").unwrap_or_default().to_string();
    let key = get("_key").unwrap_or_default().to_string();
    let Some(wf) = st.service.workflows().get(&kind) else {
        return refused(ServiceError::UnknownKind {
            kind,
            known: vec![],
        });
    };
    let mut form = FormState::from_pairs(&pairs);
    let payload = forms::payload(&filing_fields(wf, v.p.user.role), &form);
    let idempotency = format!("web-{key}");
    let key_arg = (!key.is_empty()).then_some(idempotency.as_str());
    match st
        .service
        .file(
            &v.p,
            &kind,
            &serde_json::Value::Object(payload),
            key_arg,
            None,
        )
        .await
    {
        Ok((detail, _)) => Redirect::to(&format!("/cases/{}", detail.record.id)).into_response(),
        Err(ServiceError::Invalid { problems }) => {
            for p in problems {
                form.errors.entry(p.field).or_insert(p.problem);
            }
            let names = match choices(&st).await {
                Ok(c) => c,
                Err(r) => return r,
            };
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                new_case_page(
                    &st,
                    &v,
                    wf,
                    &form,
                    &names,
                    &key,
                    Some("请修改标注的内容后重新提交。"),
                ),
            )
                .into_response()
        }
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct CursorQuery {
    cursor: Option<String>,
}

/// The viewer's reminder inbox, newest first.
pub async fn notifications(
    State(st): State<WebState>,
    v: Viewer,
    Query(q): Query<CursorQuery>,
) -> Response {
    let page_req = Page {
        after: q.cursor.as_deref().and_then(Cursor::decode),
        limit: 50,
    };
    let (items, next) = match st.service.notifications(&v.p, &page_req).await {
        Ok(x) => x,
        Err(e) => return refused(e),
    };
    page(
        &v,
        "消息提醒",
        html! {
            @if items.is_empty() { p.muted.empty { "暂无提醒。" } }
            ul.notes {
                @for n in &items {
                    li.escalate[n.escalate] {
                        div.note-head {
                            @if n.escalate { span.badge.overdue { "督办" } " " }
                            a href=(format!("/cases/{}", n.case_id)) { (n.title) }
                        }
                        div.muted { (when(n.created_at)) }
                        // The body's link is for e-mail; here the title links to the case.
                        p { (n.body.lines().next().unwrap_or_default()) }
                    }
                }
            }
            @if let Some(next) = next {
                p { a.button href=(format!("/notifications?cursor={}", url_encode(&next.encode()))) { "更早的提醒" } }
            }
        },
    )
    .into_response()
}
