//! The viewer's notices and reminders, newest first, the unread marked, each read on its own
//! or all at once.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use duban_service::{Cursor, Page};
use maud::html;
use serde::Deserialize;

use crate::layout::{csrf, page, url_encode, when};
use crate::session::Viewer;
use crate::strict::Form;
use crate::{WebState, refused};

#[derive(Debug, Deserialize)]
pub struct InboxQuery {
    cursor: Option<String>,
    unread: Option<String>,
}

pub async fn list(State(st): State<WebState>, v: Viewer, Query(q): Query<InboxQuery>) -> Response {
    let unread_only = q.unread.is_some();
    let page_req = Page {
        after: q.cursor.as_deref().and_then(Cursor::decode),
        ..Page::first(50)
    };
    let (items, next) = match st.service.notifications(&v.p, &page_req, unread_only).await {
        Ok(x) => x,
        Err(e) => return refused(e),
    };
    let keep = if unread_only { "&unread=1" } else { "" };
    page(
        &v,
        "消息提醒",
        html! {
            div.pager {
                span { "未读 " strong { (v.unread) } " 条" }
                @if unread_only { a href="/notifications" { "全部消息" } }
                @else { a href="/notifications?unread=1" { "只看未读" } }
                @if v.unread > 0 {
                    form method="post" action="/notifications/read-all" {
                        (csrf(&v))
                        button type="submit" { "全部标为已读" }
                    }
                }
            }
            @if items.is_empty() { p.muted.empty { "暂无提醒。" } }
            ul.notes {
                @for n in &items {
                    li.escalate[n.escalate].unread[n.read_at.is_none()] {
                        div.note-head {
                            @if n.escalate { span.badge.overdue { "督办" } " " }
                            @if n.read_at.is_none() { span.badge { "未读" } " " }
                            @match &n.case_id {
                                Some(case) => a href=(format!("/cases/{case}")) { (n.title) },
                                None => strong { (n.title) },
                            }
                        }
                        div.muted { (when(n.created_at)) }
                        // The body's link is for e-mail; here the title links to the case.
                        p { (n.body.lines().next().unwrap_or_default()) }
                        @if n.read_at.is_none() {
                            form method="post" action=(format!("/notifications/{}/read", n.id)) {
                                (csrf(&v))
                                button type="submit" { "标为已读" }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = next {
                p { a.button href=(format!("/notifications?cursor={}{keep}", url_encode(&next.encode()))) { "更早的提醒" } }
            }
        },
    )
    .into_response()
}

/// A mark-read form: nothing but the session's token.
#[derive(Debug, Deserialize)]
pub struct Marking {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
}

/// Marks one notice read and goes back to the list.
pub async fn read(
    State(st): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<Marking>,
) -> Response {
    if let Err(r) = v.check_csrf(f.csrf.as_deref()) {
        return r;
    }
    match st.service.mark_read(&v.p, &id).await {
        Ok(()) => Redirect::to("/notifications").into_response(),
        Err(e) => refused(e),
    }
}

/// Marks every notice read.
pub async fn read_all(State(st): State<WebState>, v: Viewer, Form(f): Form<Marking>) -> Response {
    if let Err(r) = v.check_csrf(f.csrf.as_deref()) {
        return r;
    }
    match st.service.mark_all_read(&v.p).await {
        Ok(_) => Redirect::to("/notifications").into_response(),
        Err(e) => refused(e),
    }
}
