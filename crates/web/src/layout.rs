//! The page shell (header, navigation by role, sign-out) and small shared pieces: times in China
//! time, deadline badges, error pages.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use duban_core::Role;
use duban_core::deadline::CHINA;
use jiff::Timestamp;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::labels;
use crate::session::Viewer;

/// A timestamp as a reader in China reads it: `2024-10-08 09:00`.
pub fn when(t: Timestamp) -> String {
    CHINA.to_datetime(t).strftime("%Y-%m-%d %H:%M").to_string()
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The navigation links a role has.
fn nav(role: Role) -> Vec<(&'static str, &'static str)> {
    let mut links = Vec::new();
    match role {
        // An escalated suggestion waits on every leader.
        Role::Leader => {
            links.push(("/dashboard", "工作台"));
            links.push(("/queue", "待我处理"));
            links.push(("/cases", "全部事项"));
        }
        Role::Auditor => {
            links.push(("/dashboard", "工作台"));
            links.push(("/cases", "全部事项"));
            links.push(("/exchange", "导入导出"));
            links.push(("/audit", "审计日志"));
        }
        Role::Staff => {
            links.push(("/dashboard", "工作台"));
            links.push(("/queue", "待我处理"));
            links.push(("/cases", "全部事项"));
            links.push(("/exchange", "导入导出"));
        }
        Role::Deputy => {
            links.push(("/queue", "待我处理"));
            links.push(("/cases", "我的事项"));
        }
        Role::Department => links.push(("/inbox", "待办事项")),
        Role::Mediator => {
            links.push(("/queue", "待我处理"));
            links.push(("/cases", "我的调解"));
        }
        Role::Court => {
            links.push(("/queue", "待我处理"));
            links.push(("/cases", "委派案件"));
        }
        Role::Admin => {
            links.push(("/admin/users", "人员管理"));
            links.push(("/admin/orgs", "单位管理"));
            links.push(("/admin/import", "导入花名册"));
            links.push(("/audit", "审计日志"));
            links.push(("/admin/deliveries", "投递管理"));
        }
    }
    links
}

/// The search box in the header: by number, or by words of the title and body.
fn search_box() -> Markup {
    html! {
        form.search method="get" action="/cases" role="search" {
            input type="search" name="q" placeholder="编号或关键词" aria-label="搜索事项" minlength="2" maxlength="200";
            button type="submit" { "搜索" }
        }
    }
}

/// A whole page for a signed-in user.
pub fn page(v: &Viewer, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · 督办" }
                link rel="stylesheet" href="/static/duban.css";
            }
            body {
                header.top {
                    a.brand href="/" { "督办" span.sub { "人大工作事项督办" } }
                    nav {
                        @for (href, label) in nav(v.p.user.role) {
                            a href=(href) { (label) }
                        }
                        // Filing, for each kind the role may file: from the workflow files.
                        @for (kind, label) in &v.filing {
                            a href=(format!("/cases/new?kind={kind}")) { (label) }
                        }
                        a href="/notifications" {
                            "消息提醒"
                            @if v.unread > 0 { " " span.count title="未读消息" { (v.unread) } }
                        }
                    }
                    @if v.p.user.role != Role::Admin { (search_box()) }
                    form.who method="post" action="/logout" {
                        span { (v.p.user.name) "（" (labels::role(v.p.user.role)) "）" }
                        a.pw href="/password" { "修改密码" }
                        input type="hidden" name="_csrf" value=(v.csrf);
                        button.link type="submit" { "退出" }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// A page with no one signed in (sign-in, errors before sign-in).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · 督办" }
                link rel="stylesheet" href="/static/duban.css";
            }
            body { main.narrow { (body) } }
        }
    }
}

/// An error page with its status.
pub fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    (
        status,
        bare(
            title,
            html! { h1 { (title) } p { (detail) } p { a href="/" { "返回首页" } } },
        ),
    )
        .into_response()
}

/// How a deadline stands: overdue, due within three days, or later.
pub fn due_badge(due_date: Option<&str>, due_at: Option<Timestamp>, now: Timestamp) -> Markup {
    match (due_date, due_at) {
        (Some(d), Some(at)) if at <= now => html! { span.badge.overdue { "已逾期 " (d) } },
        (Some(d), Some(at)) if at.duration_since(now).as_hours() < 72 => {
            html! { span.badge.soon { "即将到期 " (d) } }
        }
        (Some(d), _) => html! { span.badge { "期限 " (d) } },
        _ => html! { span.muted { "—" } },
    }
}

/// A hidden CSRF field for a form of this session.
pub fn csrf(v: &Viewer) -> Markup {
    html! { input type="hidden" name="_csrf" value=(v.csrf); }
}

/// Text with its line breaks kept.
pub fn paragraphs(text: &str) -> Markup {
    html! {
        @for line in text.lines() {
            (line) br;
        }
    }
}

/// Marks up nothing; used where maud needs an expression.
pub fn nothing() -> Markup {
    PreEscaped(String::new())
}
