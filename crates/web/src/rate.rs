//! The page a signed link opens: a person's one action on one case (a deputy's rating of a
//! reply) without signing in. Opening it changes nothing, so a mail scanner that follows the
//! link takes no action; the form's POST does, once. The link itself is the credential: no
//! session is made, and the page links nowhere that would carry it away.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use duban_core::workflow::FieldType;
use duban_service::{Error as ServiceError, LinkError, LinkOffer};
use maud::{Markup, html};
use serde_json::Value;

use crate::WebState;
use crate::case::fields_table;
use crate::forms::{self, Choices, FormState};
use crate::layout::{bare, error_page};

/// GET: the form, or why the link does nothing.
pub async fn form(State(st): State<WebState>, Path(token): Path<String>) -> Response {
    match st.service.link_offer(&token).await {
        Ok(offer) => (
            StatusCode::OK,
            render(&st, &offer, &FormState::default(), None),
        )
            .into_response(),
        Err(e) => link_refused(e),
    }
}

/// POST: takes the action as the link's person, or shows the form again with what was wrong.
pub async fn submit(
    State(st): State<WebState>,
    Path(token): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let offer = match st.service.link_offer(&token).await {
        Ok(o) => o,
        Err(e) => return link_refused(e),
    };
    let mut form = FormState::from_pairs(&pairs);
    let payload = forms::payload(&offer.action.payload, &form);
    let banner = match st
        .service
        .act_by_link(&offer, &Value::Object(payload))
        .await
    {
        Ok(_) => {
            return (
                StatusCode::OK,
                bare(
                    "已记录",
                    html! {
                        h1 { "已记录，谢谢！" }
                        p { "您对《" (offer.detail.record.title) "》的" (offer.action.title) "已经记录。这条链接已失效；如需查看办理情况，请登录系统。" }
                        p { a href="/login" { "登录督办系统" } }
                    },
                ),
            )
                .into_response();
        }
        Err(LinkError::Refused(ServiceError::Invalid { problems })) => {
            for p in problems {
                form.errors.entry(p.field).or_insert(p.problem);
            }
            "请修改标注的内容后重新提交。".to_string()
        }
        Err(LinkError::Refused(ServiceError::NotAllowed { reason, .. })) => {
            format!("现在不能办理这一项：{reason}")
        }
        Err(e) => return link_refused(e),
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        render(&st, &offer, &form, Some(&banner)),
    )
        .into_response()
}

fn render(st: &WebState, offer: &LinkOffer, form: &FormState, banner: Option<&str>) -> Markup {
    let record = &offer.detail.record;
    let last_day = duban_core::deadline::last_day_before(offer.expires);
    let title = format!("{}：{}", offer.action.title, record.title);
    // What the round began with (the reply being rated); its documents are on the case page.
    let wf = st.service.workflows().get(&record.case.kind);
    let documents: Vec<&str> = offer
        .round_began
        .iter()
        .filter_map(|e| wf?.action(&e.event.action))
        .flat_map(|a| a.payload.iter())
        .filter(|f| f.ty == FieldType::File)
        .map(|f| f.name.as_str())
        .collect();
    html! {
        (bare(&title, html! {
            h1 { (offer.action.title) }
            p { (offer.person) "，您好。" }
            dl.fields {
                dt { "事项" } dd { "《" (record.title) "》" @if let Some(n) = &record.number { "（" (n) "）" } }
                dt { "当前状态" } dd { (offer.detail.state_title) }
                dt { "链接有效期至" } dd { (last_day) "（仅可使用一次）" }
            }
            @if let Some(e) = &offer.round_began {
                @let step = wf.and_then(|w| w.action(&e.event.action)).map_or(e.event.action.as_str(), |a| a.title.as_str());
                h2 { "办理情况（" (step) "）" }
                (fields_table(wf, &e.event.action, &e.event.payload, &Choices::default(), &documents))
            }
            @if let Some(b) = banner { p.error { (b) } }
            form method="post" {
                (forms::inputs(&offer.action.payload, form, &Choices::default(), "link"))
                button type="submit" { "提交" }
            }
            p.hint { "提交后即记录，无需登录。打开本页不会记录任何内容。" }
        }))
    }
}

/// The page for a link that does nothing, saying why, and what to do instead.
fn link_refused(e: LinkError) -> Response {
    match e {
        LinkError::Invalid => error_page(
            StatusCode::NOT_FOUND,
            "链接无效",
            "这条链接无效或已被改动。请登录系统办理。",
        ),
        LinkError::Expired => error_page(
            StatusCode::GONE,
            "链接已过期",
            "这条链接的有效期已过。如仍需办理，请登录系统。",
        ),
        LinkError::Spent => error_page(
            StatusCode::GONE,
            "链接已失效",
            "这条链接已经用过，或者这一轮办理已经结束。请登录系统查看。",
        ),
        LinkError::Refused(e) => crate::refused(e),
    }
}
