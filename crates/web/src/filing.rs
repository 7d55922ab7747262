//! Filing a new case: the form the kind's workflow describes, and the filing itself, once per
//! form however often it is submitted.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use duban_core::Role;
use duban_core::workflow::Workflow;
use duban_service::Error as ServiceError;
use maud::{Markup, html};
use serde::Deserialize;

use crate::forms::{self, Choices, FormState};
use crate::layout::{csrf, page};
use crate::session::Viewer;
use crate::strict::Form;
use crate::{WebState, choices, refused};

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
