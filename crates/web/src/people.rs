//! 人员管理, for administrators: the people who sign in, searched and filtered; adding one;
//! changing a person's name, role, organisation and contacts; disabling and enabling them;
//! resetting a password; ending sessions; and their API tokens. Every form carries the
//! session's CSRF token, and every change goes through the service, which audits it.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use duban_core::Role;
use duban_core::deadline::china_date;
use duban_service::xlsx::{Cell, Table};
use duban_service::{Account, FieldProblem, NewPerson, PeopleQuery, PersonChange, TokenInfo};
use maud::{Markup, html};
use serde::Deserialize;

use crate::layout::{csrf, page, url_encode, when};
use crate::session::Viewer;
use crate::strict::Form;
use crate::{WebState, choices, labels, refused};

/// An administration form's field, as the form labels it.
pub fn field_label(name: &str) -> &str {
    match name {
        "login" => "登录名",
        "name" => "名称",
        "role" => "角色",
        "org" => "所属单位",
        "email" => "电子邮箱",
        "phone" => "手机号码",
        "sms" => "短信提醒",
        "code" => "单位代码",
        "kind" => "单位类型",
        "webhook_url" => "Webhook 地址",
        "webhook_secret" => "Webhook 签名密钥",
        "expires_at" => "到期日期",
        other => other,
    }
}

/// A refusal's problems as a banner, each with its field's label.
pub fn problems_banner(problems: &[FieldProblem]) -> Markup {
    html! {
        div.error.banner role="alert" {
            "未保存："
            @for p in problems {
                br; (field_label(&p.field)) "：" (labels::problem(&p.problem))
            }
        }
    }
}

/// A page's answer to a use case: the problems shown on `again` when the input was at fault,
/// any other refusal as its own page.
pub fn or_again(
    e: duban_service::Error,
    again: impl FnOnce(&[FieldProblem]) -> Response,
) -> Response {
    match e {
        duban_service::Error::Invalid { problems } => again(&problems),
        other => refused(other),
    }
}

/// A `<select>` of the roles, `selected` chosen.
fn role_select(selected: &str) -> Markup {
    html! {
        select name="role" id="role" required {
            @for r in Role::ALL {
                option value=(r.as_str()) selected[r.as_str() == selected] { (labels::role(r)) }
            }
        }
    }
}

/// A `<select>` of the organisations, with "none" first.
fn org_select(orgs: &[(String, String, String)], selected: &str) -> Markup {
    html! {
        select name="org" id="org" {
            option value="" selected[selected.is_empty()] { "（无）" }
            @for (code, name, kind) in orgs {
                option value=(code) selected[code == selected] {
                    (name) "（" (labels::value(kind)) "）"
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct PeopleFilter {
    q: Option<String>,
    role: Option<String>,
    org: Option<String>,
    disabled: Option<String>,
    after: Option<String>,
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// The people, with search and filters, a page of 100 at a time.
/// The service's query for the filters, from after `after`.
fn query_of(f: &PeopleFilter, after: Option<String>, limit: u32) -> PeopleQuery {
    PeopleQuery {
        q: nonempty(f.q.clone()),
        role: f.role.as_deref().and_then(Role::parse),
        org: nonempty(f.org.clone()),
        disabled: match f.disabled.as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
        after,
        limit,
    }
}

/// `/admin/users.xlsx`: the people the filters select, every page, as a workbook; phones
/// masked as the page shows them.
pub async fn list_xlsx(
    State(st): State<WebState>,
    v: Viewer,
    Query(f): Query<PeopleFilter>,
) -> Response {
    let names = match choices(&st).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let people = match st.service.people(&v.p, &query_of(&f, after, 200)).await {
            Ok(p) => p,
            Err(e) => return refused(e),
        };
        let full = people.len() == 200;
        after = people.last().map(|a| a.user.login.clone());
        rows.extend(people.iter().map(|a| {
            vec![
                Cell::from(a.user.login.as_str()),
                Cell::from(a.user.name.as_str()),
                Cell::from(labels::role(a.user.role)),
                Cell::from(a.user.org.as_deref().map_or("", |o| names.name(o))),
                Cell::from(a.email.clone().unwrap_or_default()),
                Cell::from(a.phone_masked.clone().unwrap_or_default()),
                Cell::from(if a.sms { "是" } else { "" }),
                Cell::from(a.disabled_at.map(china_date)),
            ]
        }));
        if !full || rows.len() >= crate::export::MAX_ROWS {
            break;
        }
    }
    let table = Table {
        name: "人员".into(),
        headers: [
            "登录名",
            "姓名",
            "角色",
            "所属单位",
            "电子邮件",
            "手机",
            "接收短信",
            "停用日期",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    };
    crate::export::download(&st, &v, "people", "人员名单.xlsx", table).await
}

pub async fn list(
    State(st): State<WebState>,
    v: Viewer,
    Query(f): Query<PeopleFilter>,
) -> Response {
    let names = match choices(&st).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let query = query_of(&f, nonempty(f.after.clone()), 100);
    let people = match st.service.people(&v.p, &query).await {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    let keep = format!(
        "q={}&role={}&org={}&disabled={}",
        url_encode(f.q.as_deref().unwrap_or_default()),
        url_encode(f.role.as_deref().unwrap_or_default()),
        url_encode(f.org.as_deref().unwrap_or_default()),
        url_encode(f.disabled.as_deref().unwrap_or_default()),
    );
    page(
        &v,
        "人员管理",
        html! {
            p { a.button.primary href="/admin/users/new" { "添加人员" } " " (crate::export::link(&format!("/admin/users.xlsx?{keep}"))) }
            form.filters method="get" action="/admin/users" {
                input type="search" name="q" value=(f.q.as_deref().unwrap_or_default()) placeholder="登录名或姓名" aria-label="登录名或姓名";
                select name="role" aria-label="角色" {
                    option value="" { "全部角色" }
                    @for r in Role::ALL {
                        option value=(r.as_str()) selected[f.role.as_deref() == Some(r.as_str())] { (labels::role(r)) }
                    }
                }
                select name="org" aria-label="所属单位" {
                    option value="" { "全部单位" }
                    @for (code, name, _) in &names.orgs {
                        option value=(code) selected[f.org.as_deref() == Some(code.as_str())] { (name) }
                    }
                }
                select name="disabled" aria-label="状态" {
                    option value="" { "全部状态" }
                    option value="no" selected[f.disabled.as_deref() == Some("no")] { "在用" }
                    option value="yes" selected[f.disabled.as_deref() == Some("yes")] { "已停用" }
                }
                button type="submit" { "筛选" }
            }
            @if people.is_empty() { p.muted.empty { "没有符合条件的人员。" } }
            @else {
                div.table-wrap {
                    table.cases {
                        thead { tr { th { "登录名" } th { "姓名" } th { "角色" } th { "所属单位" } th { "状态" } } }
                        tbody {
                            @for a in &people {
                                tr {
                                    td { a href=(format!("/admin/users/{}", a.user.login)) { (a.user.login) } }
                                    td { (a.user.name) }
                                    td { (labels::role(a.user.role)) }
                                    td { (a.user.org.as_deref().map_or("—", |o| names.name(o))) }
                                    td { (state_badge(a)) }
                                }
                            }
                        }
                    }
                }
            }
            @if people.len() == 100 {
                @if let Some(last) = people.last() {
                    p.pager { a.button href=(format!("/admin/users?{keep}&after={}", url_encode(&last.user.login))) { "下一页" } }
                }
            }
        },
    )
    .into_response()
}

fn state_badge(a: &Account) -> Markup {
    html! {
        @if a.disabled_at.is_some() { span.badge.overdue { "已停用" } }
        @else if a.org_disabled { span.badge.overdue { "单位已停用" } }
        @else { span.badge { "在用" } }
        @if a.must_change_password { " " span.badge.soon { "待改密码" } }
    }
}

/// The form for a new person, with what was typed and the problems when it comes back.
#[derive(Debug, Default, Deserialize)]
pub struct PersonForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    sms: Option<String>,
    remove_phone: Option<String>,
}

/// A form's text, trimmed; `None` when left empty.
pub fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

async fn new_page(
    st: &WebState,
    v: &Viewer,
    f: &PersonForm,
    problems: &[FieldProblem],
) -> Response {
    let names = match choices(st).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = html! {
        @if !problems.is_empty() { (problems_banner(problems)) }
        form.card method="post" action="/admin/users" {
            (csrf(v))
            div.field { label for="login" { "登录名" span.req { "*" } } input type="text" id="login" name="login" value=(f.login) required maxlength="64" pattern="[A-Za-z0-9._-]+"; p.hint { "字母、数字和 - _ .，用于登录" } }
            div.field { label for="name" { "姓名" span.req { "*" } } input type="text" id="name" name="name" value=(f.name) required maxlength="64"; }
            div.field { label for="role" { "角色" span.req { "*" } } (role_select(if f.role.is_empty() { "department" } else { &f.role })) }
            div.field { label for="org" { "所属单位" } (org_select(&names.orgs, &f.org)) p.hint { "承办单位、法院工作人员必填；代表可选所在联络站" } }
            div.field { label for="email" { "电子邮箱" } input type="text" id="email" name="email" value=(f.email) maxlength="254"; }
            div.field { label for="phone" { "手机号码" } input type="tel" id="phone" name="phone" value=(f.phone) maxlength="20"; }
            label.inline { input type="checkbox" name="sms" value="on" checked[f.sms.is_some()]; " 本人同意接收短信提醒" }
            p { button.primary type="submit" { "添加" } " " a href="/admin/users" { "取消" } }
            p.hint { "添加后在人员页面“重置密码”，把临时密码交给本人；本人首次登录时须设置自己的密码。" }
        }
    };
    (status, page(v, "添加人员", body)).into_response()
}

/// The blank form for a new person.
pub async fn new_form(State(st): State<WebState>, v: Viewer) -> Response {
    if let Err(e) = duban_service::admin_only(&v.p) {
        return refused(e);
    }
    new_page(&st, &v, &PersonForm::default(), &[]).await
}

/// Adds a person, or shows the form again with the problems.
pub async fn add(State(st): State<WebState>, v: Viewer, Form(f): Form<PersonForm>) -> Response {
    if let Err(r) = v.check_csrf(Some(&f.csrf)) {
        return r;
    }
    let new = NewPerson {
        login: f.login.trim().to_string(),
        name: f.name.clone(),
        role: f.role.clone(),
        org: opt(&f.org),
        email: opt(&f.email),
        phone: opt(&f.phone),
        sms: f.sms.is_some(),
    };
    match st.service.add_person(&v.p, &new).await {
        Ok(a) => Redirect::to(&format!("/admin/users/{}?done=added", a.user.login)).into_response(),
        Err(duban_service::Error::Invalid { problems }) => new_page(&st, &v, &f, &problems).await,
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// What a redirect after a change says at the top of the page.
fn done_banner(done: Option<&str>) -> Markup {
    let text = match done {
        Some("added") => "已添加。",
        Some("saved") => "已保存。",
        Some("disabled") => "已停用：其登录会话已全部结束，令牌已全部吊销。",
        Some("enabled") => "已启用。原有令牌不会恢复，如需请重新发放。",
        Some("sessions") => "已结束其全部登录会话。",
        Some("revoked") => "令牌已吊销。",
        _ => return html! {},
    };
    html! { div.banner.done role="status" { (text) } }
}

/// One person: what they are, the forms that change them, their tokens.
async fn person_page(
    st: &WebState,
    v: &Viewer,
    login: &str,
    top: Markup,
    form: Option<(&PersonForm, &[FieldProblem])>,
) -> Response {
    let account = match st.service.person(&v.p, login).await {
        Ok(a) => a,
        Err(e) => return refused(e),
    };
    let tokens = match st.service.person_tokens(&v.p, login).await {
        Ok(t) => t,
        Err(e) => return refused(e),
    };
    let names = match choices(st).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let u = &account.user;
    let typed = form.map(|(f, _)| f);
    let value =
        |typed_value: Option<&str>, current: &str| typed_value.unwrap_or(current).to_string();
    let name = value(typed.map(|f| f.name.as_str()), &u.name);
    let role = value(typed.map(|f| f.role.as_str()), u.role.as_str());
    let org = value(
        typed.map(|f| f.org.as_str()),
        u.org.as_deref().unwrap_or_default(),
    );
    let email = value(
        typed.map(|f| f.email.as_str()),
        account.email.as_deref().unwrap_or_default(),
    );
    let status = if form.is_some_and(|(_, p)| !p.is_empty()) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let base = format!("/admin/users/{}", u.login);
    let body = html! {
        (top)
        @if let Some((_, problems)) = form { @if !problems.is_empty() { (problems_banner(problems)) } }
        section.card {
            dl.fields {
                dt { "登录名" } dd { (u.login) }
                dt { "角色" } dd { (labels::role(u.role)) }
                dt { "所属单位" } dd { (u.org.as_deref().map_or("—", |o| names.name(o))) }
                dt { "手机号码" } dd { (account.phone_masked.as_deref().unwrap_or("—")) @if account.sms { "（接收短信提醒）" } }
                dt { "状态" } dd { (state_badge(&account)) @if let Some(at) = account.disabled_at { " 停用于 " (when(at)) } }
                dt { "密码" } dd { @if account.has_password { "已设置" } @else { "未设置" } }
                dt { "创建时间" } dd { (when(account.created_at)) }
            }
        }
        h2 { "修改信息" }
        form.card method="post" action=(base) {
            (csrf(v))
            div.field { label for="name" { "姓名" } input type="text" id="name" name="name" value=(name) required maxlength="64"; }
            div.field { label for="role" { "角色" } (role_select(&role)) p.hint { "更改角色或单位会结束其全部登录会话。" } }
            div.field { label for="org" { "所属单位" } (org_select(&names.orgs, &org)) }
            div.field { label for="email" { "电子邮箱" } input type="text" id="email" name="email" value=(email) maxlength="254"; }
            div.field { label for="phone" { "新手机号码" } input type="tel" id="phone" name="phone" value=(typed.map_or("", |f| f.phone.as_str())) maxlength="20" placeholder="不修改请留空"; }
            label.inline { input type="checkbox" name="remove_phone" value="on"; " 删除手机号码" }
            label.inline { input type="checkbox" name="sms" value="on" checked[typed.map_or(account.sms, |f| f.sms.is_some())]; " 本人同意接收短信提醒" }
            p { button.primary type="submit" { "保存" } }
        }
        h2 { "账户" }
        div.card {
            @if account.disabled_at.is_some() {
                form method="post" action=(format!("{base}/enable")) { (csrf(v)) button type="submit" { "启用账户" } }
            } @else {
                form method="post" action=(format!("{base}/disable")) {
                    (csrf(v))
                    button type="submit" { "停用账户" }
                    span.hint { " 立即结束其全部登录会话并吊销全部令牌；历史记录保留其姓名。" }
                }
            }
            form method="post" action=(format!("{base}/password-reset")) {
                (csrf(v)) button type="submit" { "重置密码" }
                span.hint { " 生成临时密码（只显示一次），本人下次登录时须改为自己的密码。" }
            }
            form method="post" action=(format!("{base}/sessions/end")) {
                (csrf(v)) button type="submit" { "结束全部登录会话" }
            }
        }
        h2 { "接口令牌" }
        (token_table(v, &tokens))
        form.card method="post" action=(format!("{base}/tokens")) {
            (csrf(v))
            div.field { label for="expires_at" { "到期日期（可选）" } input type="date" id="expires_at" name="expires_at"; p.hint { "到期日当天24:00（北京时间）后失效；留空为长期有效。" } }
            button type="submit" { "发放新令牌" }
        }
    };
    (status, page(v, &format!("人员：{}", u.name), body)).into_response()
}

fn token_table(v: &Viewer, tokens: &[TokenInfo]) -> Markup {
    html! {
        @if tokens.is_empty() { p.muted { "没有令牌。" } }
        @else {
            div.table-wrap {
                table.sent {
                    thead { tr { th { "令牌编号" } th { "发放时间" } th { "到期" } th { "状态" } th {} } }
                    tbody {
                        @for t in tokens {
                            tr {
                                td { (t.id) }
                                td { (when(t.created_at)) }
                                td { (t.expires_at.map_or_else(|| "长期".to_string(), when)) }
                                td { @if let Some(at) = t.revoked_at { "已吊销 " (when(at)) } @else { "有效" } }
                                td {
                                    @if t.revoked_at.is_none() {
                                        form method="post" action=(format!("/admin/tokens/{}/revoke", t.id)) {
                                            (csrf(v))
                                            input type="hidden" name="login" value=(t.login);
                                            button type="submit" { "吊销" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One person's page.
pub async fn show(
    State(st): State<WebState>,
    v: Viewer,
    Path(login): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    person_page(&st, &v, &login, done_banner(d.done.as_deref()), None).await
}

/// Saves the edit form: only what differs from what is kept is changed.
pub async fn save(
    State(st): State<WebState>,
    v: Viewer,
    Path(login): Path<String>,
    Form(f): Form<PersonForm>,
) -> Response {
    if let Err(r) = v.check_csrf(Some(&f.csrf)) {
        return r;
    }
    let before = match st.service.person(&v.p, &login).await {
        Ok(a) => a,
        Err(e) => return refused(e),
    };
    let differs = |typed: &str, kept: Option<&str>| opt(typed).as_deref() != kept;
    let change = PersonChange {
        name: (f.name.trim() != before.user.name).then(|| f.name.clone()),
        role: (f.role != before.user.role.as_str()).then(|| f.role.clone()),
        org: differs(&f.org, before.user.org.as_deref()).then(|| opt(&f.org)),
        email: differs(&f.email, before.email.as_deref()).then(|| opt(&f.email)),
        phone: if f.remove_phone.is_some() {
            Some(None)
        } else {
            opt(&f.phone).map(Some)
        },
        sms: (f.sms.is_some() != before.sms).then_some(f.sms.is_some()),
        disabled: None,
    };
    if change == PersonChange::default() {
        return Redirect::to(&format!("/admin/users/{login}")).into_response();
    }
    match st.service.change_person(&v.p, &login, &change).await {
        Ok(_) => Redirect::to(&format!("/admin/users/{login}?done=saved")).into_response(),
        Err(duban_service::Error::Invalid { problems }) => {
            person_page(&st, &v, &login, html! {}, Some((&f, &problems))).await
        }
        Err(e) => refused(e),
    }
}

/// A form that carries nothing but the session's token (and, for a token, whose it is).
#[derive(Debug, Deserialize)]
pub struct Bare {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    login: Option<String>,
    expires_at: Option<String>,
}

async fn set_disabled(st: &WebState, v: &Viewer, login: &str, disabled: bool) -> Response {
    let change = PersonChange {
        disabled: Some(disabled),
        ..PersonChange::default()
    };
    let done = if disabled { "disabled" } else { "enabled" };
    match st.service.change_person(&v.p, login, &change).await {
        Ok(_) => Redirect::to(&format!("/admin/users/{login}?done={done}")).into_response(),
        Err(e) => or_again(e, |problems| {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(v, "未能停用", problems_banner(problems)),
            )
                .into_response()
        }),
    }
}

/// Disables a person.
pub async fn disable(
    State(st): State<WebState>,
    v: Viewer,
    Path(login): Path<String>,
    Form(f): Form<Bare>,
) -> Response {
    if let Err(r) = v.check_csrf(Some(&f.csrf)) {
        return r;
    }
    set_disabled(&st, &v, &login, true).await
}

/// Enables a person again.
pub async fn enable(
    State(st): State<WebState>,
    v: Viewer,
    Path(login): Path<String>,
    Form(f): Form<Bare>,
) -> Response {
    if let Err(r) = v.check_csrf(Some(&f.csrf)) {
        return r;
    }
    set_disabled(&st, &v, &login, false).await
}

/// A secret shown once, on a page that is not kept (no-store).
fn shown_once(
    v: &Viewer,
    title: &str,
    login: &str,
    what: &str,
    secret: &str,
    hint: &str,
) -> Response {
    let mut response = page(
        v,
        title,
        html! {
            div.card {
                p { (what) "（只显示这一次，请立即妥善交付）：" }
                p { code.number { (secret) } }
                p.hint { (hint) }
                p { a href=(format!("/admin/users/{login}")) { "返回人员页面" } }
            }
        },
    )
    .into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// Resets a person's password and shows the temporary one once.
pub async fn reset_password(
    State(st): State<WebState>,
    v: Viewer,
    Path(login): Path<String>,
    Form(f): Form<Bare>,
) -> Response {
    if let Err(r) = v.check_csrf(Some(&f.csrf)) {
        return r;
    }
    match st.service.reset_password(&v.p, &login).await {
        Ok(temporary) => shown_once(
            &v,
            "密码已重置",
            &login,
            "临时密码",
            &temporary,
            "本人用它登录时须立即设置自己的新密码；其原有登录会话已全部结束。",
        ),
        Err(e) => refused(e),
    }
}

/// Ends a person's sessions.
pub async fn end_sessions(
    State(st): State<WebState>,
    v: Viewer,
    Path(login): Path<String>,
    Form(f): Form<Bare>,
) -> Response {
    if let Err(r) = v.check_csrf(Some(&f.csrf)) {
        return r;
    }
    match st.service.end_person_sessions(&v.p, &login).await {
        Ok(_) => Redirect::to(&format!("/admin/users/{login}?done=sessions")).into_response(),
        Err(e) => refused(e),
    }
}

/// Makes a token, optionally expiring at the end of a day (China time), and shows it once.
pub async fn create_token(
    State(st): State<WebState>,
    v: Viewer,
    Path(login): Path<String>,
    Form(f): Form<Bare>,
) -> Response {
    if let Err(r) = v.check_csrf(Some(&f.csrf)) {
        return r;
    }
    let expires = match f
        .expires_at
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(day) => match end_of_day(day) {
            Some(at) => Some(at),
            None => {
                let problems = [FieldProblem {
                    field: "expires_at".into(),
                    problem: "must be a date YYYY-MM-DD".into(),
                }];
                return person_page(&st, &v, &login, problems_banner(&problems), None).await;
            }
        },
    };
    match st.service.create_token(&v.p, &login, expires).await {
        Ok((token, id)) => shown_once(
            &v,
            "令牌已发放",
            &login,
            &format!("令牌 {id}"),
            &token,
            "以 Authorization: Bearer 令牌 的方式调用接口。系统只保存其摘要，丢失后只能吊销并重新发放。",
        ),
        Err(e) => or_again(e, |problems| {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&v, "未能发放令牌", problems_banner(problems)),
            )
                .into_response()
        }),
    }
}

/// The instant a day ends in China: a token "until 2025-06-30" works all that day.
fn end_of_day(day: &str) -> Option<jiff::Timestamp> {
    day.parse().ok().map(duban_core::deadline::end_of_day)
}

/// Revokes a token and goes back to its person.
pub async fn revoke_token(
    State(st): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<Bare>,
) -> Response {
    if let Err(r) = v.check_csrf(Some(&f.csrf)) {
        return r;
    }
    match st.service.revoke_token(&v.p, &id).await {
        Ok(()) => {
            let back = f.login.filter(|l| duban_service::is_code(l)).map_or_else(
                || "/admin/users".to_string(),
                |l| format!("/admin/users/{l}?done=revoked"),
            );
            Redirect::to(&back).into_response()
        }
        Err(e) => refused(e),
    }
}
