//! 单位管理, for administrators: departments, stations, courts and the committee, searched and
//! filtered; adding one; changing its name, e-mail and webhook; disabling and enabling it; and
//! the people who belong to it (a station's deputies).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use duban_core::OrgKind;
use duban_service::xlsx::Cell;
use duban_service::{FieldProblem, NewOrg, OrgChange, OrgQuery, PeopleQuery};
use maud::{Markup, html};
use serde::Deserialize;

use crate::layout::{csrf, page, url_encode, when};
use crate::people::{opt, problems_banner};
use crate::session::Viewer;
use crate::strict::Form;
use crate::{WebState, labels, refused};

const KINDS: [OrgKind; 4] = [
    OrgKind::Department,
    OrgKind::Station,
    OrgKind::Court,
    OrgKind::Committee,
];

#[derive(Debug, Deserialize)]
pub struct OrgFilter {
    q: Option<String>,
    kind: Option<String>,
    disabled: Option<String>,
    after: Option<String>,
}

/// The organisations, with search and filters.
/// The service's query for the filters, from after `after`.
fn query_of(f: &OrgFilter, after: Option<String>, limit: u32) -> OrgQuery {
    OrgQuery {
        q: f.q.clone().filter(|q| !q.trim().is_empty()),
        kind: f.kind.as_deref().and_then(OrgKind::parse),
        disabled: match f.disabled.as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
        after,
        limit,
    }
}

/// `/admin/orgs.xlsx`: the organisations the filters select, every page, as a workbook.
pub async fn list_xlsx(
    State(st): State<WebState>,
    v: Viewer,
    Query(f): Query<OrgFilter>,
) -> Response {
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let orgs = match st.service.org_list(&v.p, &query_of(&f, after, 200)).await {
            Ok(o) => o,
            Err(e) => return refused(e),
        };
        let full = orgs.len() == 200;
        after = orgs.last().map(|o| o.org.code.clone());
        let yes = |b: bool| Cell::from(if b { "是" } else { "" });
        rows.extend(orgs.iter().map(|o| {
            vec![
                Cell::from(o.org.code.as_str()),
                Cell::from(o.org.name.as_str()),
                Cell::from(labels::value(o.org.kind.as_str())),
                Cell::from(o.email.clone().unwrap_or_default()),
                yes(o.webhook),
                yes(o.wecom),
                yes(o.dingtalk),
                Cell::Number(o.people as f64),
                Cell::from(o.disabled_at.map(duban_core::deadline::china_date)),
            ]
        }));
        if !full || rows.len() >= crate::export::MAX_ROWS {
            break;
        }
    }
    let table = duban_service::xlsx::Table {
        name: "单位".into(),
        headers: [
            "代码",
            "名称",
            "类型",
            "电子邮件",
            "推送接口",
            "企业微信群",
            "钉钉群",
            "人数",
            "停用日期",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    };
    crate::export::download(&st, &v, "orgs", "单位名单.xlsx", table).await
}

pub async fn list(State(st): State<WebState>, v: Viewer, Query(f): Query<OrgFilter>) -> Response {
    let query = query_of(&f, f.after.clone().filter(|a| !a.is_empty()), 100);
    let orgs = match st.service.org_list(&v.p, &query).await {
        Ok(o) => o,
        Err(e) => return refused(e),
    };
    let keep = format!(
        "q={}&kind={}&disabled={}",
        url_encode(f.q.as_deref().unwrap_or_default()),
        url_encode(f.kind.as_deref().unwrap_or_default()),
        url_encode(f.disabled.as_deref().unwrap_or_default()),
    );
    page(
        &v,
        "单位管理",
        html! {
            p { a.button.primary href="/admin/orgs/new" { "添加单位" } " " (crate::export::link(&format!("/admin/orgs.xlsx?{keep}"))) }
            form.filters method="get" action="/admin/orgs" {
                input type="search" name="q" value=(f.q.as_deref().unwrap_or_default()) placeholder="代码或名称" aria-label="代码或名称";
                select name="kind" aria-label="单位类型" {
                    option value="" { "全部类型" }
                    @for k in KINDS {
                        option value=(k.as_str()) selected[f.kind.as_deref() == Some(k.as_str())] { (labels::value(k.as_str())) }
                    }
                }
                select name="disabled" aria-label="状态" {
                    option value="" { "全部状态" }
                    option value="no" selected[f.disabled.as_deref() == Some("no")] { "在用" }
                    option value="yes" selected[f.disabled.as_deref() == Some("yes")] { "已停用" }
                }
                button type="submit" { "筛选" }
            }
            @if orgs.is_empty() { p.muted.empty { "没有符合条件的单位。" } }
            @else {
                div.table-wrap {
                    table.cases {
                        thead { tr { th { "代码" } th { "名称" } th { "类型" } th { "人数" } th { "提醒渠道" } th { "状态" } } }
                        tbody {
                            @for o in &orgs {
                                tr {
                                    td { a href=(format!("/admin/orgs/{}", o.org.code)) { (o.org.code) } }
                                    td { (o.org.name) }
                                    td { (labels::value(o.org.kind.as_str())) }
                                    td { (o.people) }
                                    td { (channels(o)) }
                                    td { @if o.disabled_at.is_some() { span.badge.overdue { "已停用" } } @else { span.badge { "在用" } } }
                                }
                            }
                        }
                    }
                }
            }
            @if orgs.len() == 100 {
                @if let Some(last) = orgs.last() {
                    p.pager { a.button href=(format!("/admin/orgs?{keep}&after={}", url_encode(&last.org.code))) { "下一页" } }
                }
            }
        },
    )
    .into_response()
}

fn channels(o: &duban_service::OrgEntry) -> String {
    let mut on = Vec::new();
    for (has, name) in [
        (o.email.is_some(), "邮件"),
        (o.webhook, "Webhook"),
        (o.wecom, "企业微信"),
        (o.dingtalk, "钉钉"),
    ] {
        if has {
            on.push(name);
        }
    }
    if on.is_empty() {
        "仅站内消息".into()
    } else {
        on.join("、")
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct OrgForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    webhook_url: String,
    #[serde(default)]
    webhook_secret: String,
    remove_webhook: Option<String>,
}

fn new_page(v: &Viewer, f: &OrgForm, problems: &[FieldProblem]) -> Response {
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = html! {
        @if !problems.is_empty() { (problems_banner(problems)) }
        form.card method="post" action="/admin/orgs" {
            (csrf(v))
            div.field { label for="code" { "单位代码" span.req { "*" } } input type="text" id="code" name="code" value=(f.code) required maxlength="64" pattern="[A-Za-z0-9._-]+"; p.hint { "字母、数字和 - _ .，如 jtj" } }
            div.field { label for="kind" { "单位类型" span.req { "*" } }
                select name="kind" id="kind" required {
                    @for k in KINDS { option value=(k.as_str()) selected[f.kind == k.as_str()] { (labels::value(k.as_str())) } }
                }
            }
            div.field { label for="name" { "名称" span.req { "*" } } input type="text" id="name" name="name" value=(f.name) required maxlength="64"; }
            div.field { label for="email" { "电子邮箱" } input type="text" id="email" name="email" value=(f.email) maxlength="254"; }
            p { button.primary type="submit" { "添加" } " " a href="/admin/orgs" { "取消" } }
        }
    };
    (status, page(v, "添加单位", body)).into_response()
}

/// The blank form for a new organisation.
pub async fn new_form(v: Viewer) -> Response {
    if let Err(e) = duban_service::admin_only(&v.p) {
        return refused(e);
    }
    new_page(&v, &OrgForm::default(), &[])
}

/// Adds an organisation, or shows the form again with the problems.
pub async fn add(State(st): State<WebState>, v: Viewer, Form(f): Form<OrgForm>) -> Response {
    if let Err(r) = v.check_csrf(Some(&f.csrf)) {
        return r;
    }
    let new = NewOrg {
        code: f.code.trim().to_string(),
        kind: f.kind.clone(),
        name: f.name.clone(),
        email: opt(&f.email),
    };
    match st.service.add_org(&v.p, &new).await {
        Ok(o) => Redirect::to(&format!("/admin/orgs/{}?done=added", o.org.code)).into_response(),
        Err(duban_service::Error::Invalid { problems }) => new_page(&v, &f, &problems),
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

async fn org_page(
    st: &WebState,
    v: &Viewer,
    code: &str,
    top: Markup,
    problems: &[FieldProblem],
) -> Response {
    let o = match st.service.org_entry(&v.p, code).await {
        Ok(o) => o,
        Err(e) => return refused(e),
    };
    let people = match st
        .service
        .people(
            &v.p,
            &PeopleQuery {
                org: Some(code.to_string()),
                limit: 1000,
                ..PeopleQuery::default()
            },
        )
        .await
    {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    let base = format!("/admin/orgs/{}", o.org.code);
    let members = if o.org.kind == OrgKind::Station {
        "本站代表"
    } else {
        "本单位人员"
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = html! {
        (top)
        @if !problems.is_empty() { (problems_banner(problems)) }
        section.card {
            dl.fields {
                dt { "代码" } dd { (o.org.code) }
                dt { "类型" } dd { (labels::value(o.org.kind.as_str())) }
                dt { "提醒渠道" } dd { (channels(&o)) }
                dt { "状态" } dd {
                    @if let Some(at) = o.disabled_at { span.badge.overdue { "已停用" } " 停用于 " (when(at)) }
                    @else { span.badge { "在用" } }
                }
            }
        }
        h2 { "修改信息" }
        form.card method="post" action=(base) {
            (csrf(v))
            div.field { label for="name" { "名称" } input type="text" id="name" name="name" value=(o.org.name) required maxlength="64"; }
            div.field { label for="email" { "电子邮箱" } input type="text" id="email" name="email" value=(o.email.as_deref().unwrap_or_default()) maxlength="254"; }
            div.field { label for="webhook_url" { "新 Webhook 地址" } input type="text" id="webhook_url" name="webhook_url" maxlength="2000" placeholder=(if o.webhook { "已设置；不修改请留空" } else { "https://…" }); }
            div.field { label for="webhook_secret" { "Webhook 签名密钥" } input type="password" id="webhook_secret" name="webhook_secret" maxlength="200" autocomplete="off"; p.hint { "至少16个字符；随地址一并填写。企业微信、钉钉机器人请用命令行 duban org edit 设置。" } }
            @if o.webhook { label.inline { input type="checkbox" name="remove_webhook" value="on"; " 删除 Webhook" } }
            p { button.primary type="submit" { "保存" } }
        }
        h2 { "单位状态" }
        div.card {
            @if o.disabled_at.is_some() {
                form method="post" action=(format!("{base}/enable")) { (csrf(v)) button type="submit" { "启用单位" } }
            } @else {
                form method="post" action=(format!("{base}/disable")) {
                    (csrf(v)) button type="submit" { "停用单位" }
                    span.hint { " 立即结束本单位全部人员的登录会话，停用期间其人员不能登录或使用令牌。" }
                }
            }
        }
        h2 { (members) "（" (people.len()) "）" }
        @if people.is_empty() { p.muted { "暂无。" } }
        @else {
            ul {
                @for a in &people {
                    li {
                        a href=(format!("/admin/users/{}", a.user.login)) { (a.user.name) }
                        "（" (a.user.login) "，" (labels::role(a.user.role)) "）"
                        @if !a.active() { " " span.badge.overdue { "已停用" } }
                    }
                }
            }
        }
    };
    (status, page(v, &format!("单位：{}", o.org.name), body)).into_response()
}

/// One organisation's page.
pub async fn show(
    State(st): State<WebState>,
    v: Viewer,
    Path(code): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    let top = match d.done.as_deref() {
        Some("added") => html! { div.banner.done role="status" { "已添加。" } },
        Some("saved") => html! { div.banner.done role="status" { "已保存。" } },
        Some("disabled") => {
            html! { div.banner.done role="status" { "已停用：本单位人员的登录会话已全部结束。" } }
        }
        Some("enabled") => html! { div.banner.done role="status" { "已启用。" } },
        _ => html! {},
    };
    org_page(&st, &v, &code, top, &[]).await
}

/// Saves the edit form: only what differs is changed.
pub async fn save(
    State(st): State<WebState>,
    v: Viewer,
    Path(code): Path<String>,
    Form(f): Form<OrgForm>,
) -> Response {
    if let Err(r) = v.check_csrf(Some(&f.csrf)) {
        return r;
    }
    let before = match st.service.org_entry(&v.p, &code).await {
        Ok(o) => o,
        Err(e) => return refused(e),
    };
    let webhook = if f.remove_webhook.is_some() {
        Some(None)
    } else {
        opt(&f.webhook_url).map(|url| Some((url, f.webhook_secret.clone())))
    };
    let change = OrgChange {
        name: (f.name.trim() != before.org.name).then(|| f.name.clone()),
        email: (opt(&f.email) != before.email).then(|| opt(&f.email)),
        webhook,
        disabled: None,
    };
    if change == OrgChange::default() {
        return Redirect::to(&format!("/admin/orgs/{code}")).into_response();
    }
    match st.service.change_org(&v.p, &code, &change).await {
        Ok(_) => Redirect::to(&format!("/admin/orgs/{code}?done=saved")).into_response(),
        Err(duban_service::Error::Invalid { problems }) => {
            org_page(&st, &v, &code, html! {}, &problems).await
        }
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct Bare {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

async fn set_disabled(
    st: &WebState,
    v: &Viewer,
    code: &str,
    disabled: bool,
    csrf_sent: &str,
) -> Response {
    if let Err(r) = v.check_csrf(Some(csrf_sent)) {
        return r;
    }
    let change = OrgChange {
        disabled: Some(disabled),
        ..OrgChange::default()
    };
    let done = if disabled { "disabled" } else { "enabled" };
    match st.service.change_org(&v.p, code, &change).await {
        Ok(_) => Redirect::to(&format!("/admin/orgs/{code}?done={done}")).into_response(),
        Err(e) => refused(e),
    }
}

/// Disables an organisation.
pub async fn disable(
    State(st): State<WebState>,
    v: Viewer,
    Path(code): Path<String>,
    Form(f): Form<Bare>,
) -> Response {
    set_disabled(&st, &v, &code, true, &f.csrf).await
}

/// Enables an organisation again.
pub async fn enable(
    State(st): State<WebState>,
    v: Viewer,
    Path(code): Path<String>,
    Form(f): Form<Bare>,
) -> Response {
    set_disabled(&st, &v, &code, false, &f.csrf).await
}
