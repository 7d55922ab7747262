//! 待我处理: the open cases whose next move is the viewer's — cases to register and requests to
//! decide for staff, replies to rate for a deputy — soonest deadline first, each request shown
//! with what was asked.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use duban_core::Role;
use duban_service::{Cursor, Page, PendingRequest};
use maud::{Markup, html};
use serde::Deserialize;

use crate::cases::{pager, table};
use crate::forms::Choices;
use crate::layout::{page, when};
use crate::session::Viewer;
use crate::{WebState, choices, labels, refused};

#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    cursor: Option<String>,
    before: Option<String>,
}

/// What a pending request asked, as a line people read.
pub fn request_line(r: &PendingRequest, names: &Choices) -> Markup {
    html! {
        strong { (r.title) } " · " (names.name(&r.by)) "，" (when(r.at)) "："
        @for (k, v) in &r.payload {
            " " (labels::field(k)) " " (v.as_str().map_or_else(|| v.to_string(), |s| labels::value(s).to_string()))
        }
    }
}

pub async fn page_of(
    State(st): State<WebState>,
    v: Viewer,
    Query(q): Query<QueueQuery>,
) -> Response {
    match v.p.user.role {
        Role::Department => return Redirect::to("/inbox").into_response(),
        Role::Admin => return Redirect::to("/").into_response(),
        _ => {}
    }
    let page_req = Page {
        after: q.cursor.as_deref().and_then(Cursor::decode),
        before: q.before.as_deref().and_then(Cursor::decode),
        ..Page::first(50)
    };
    let listing = match st.service.queue(&v.p, &page_req).await {
        Ok(l) => l,
        Err(e) => return refused(e),
    };
    let names = match choices(&st).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    // Requests waiting for a decision, with what each asked, for the cases on this page.
    let mut requests = Vec::new();
    for c in &listing.items {
        match st.service.pending_requests(&v.p, &c.id).await {
            Ok(rs) => requests.extend(rs.into_iter().map(|r| (c, r))),
            Err(e) => return refused(e),
        }
    }
    page(
        &v,
        "待我处理",
        html! {
            @if !requests.is_empty() {
                h2 { "待决定的申请" }
                @for (c, r) in &requests {
                    div.request {
                        a href=(format!("/cases/{}", c.id)) {
                            (c.number.as_deref().unwrap_or("")) " " (c.title)
                        }
                        p { (request_line(r, &names)) }
                    }
                }
            }
            h2 { "等待我办理的事项" }
            (crate::export::link("/queue.xlsx"))
            (table(&st, &listing.items, &names))
            (pager("/queue", "", &listing))
        },
    )
    .into_response()
}

/// `/queue.xlsx`: what waits on the viewer, soonest first, as a workbook.
pub async fn workbook(State(st): State<WebState>, v: Viewer) -> Response {
    match v.p.user.role {
        Role::Department => return Redirect::to("/inbox.xlsx").into_response(),
        Role::Admin => return Redirect::to("/").into_response(),
        _ => {}
    }
    let items = crate::export::all_pages(|after| {
        let page = Page {
            after,
            ..Page::first(200)
        };
        let (st, v) = (&st, &v);
        async move { st.service.queue(&v.p, &page).await }
    })
    .await;
    crate::cases::export_cases(&st, &v, "queue", "待我处理", items).await
}
