//! duban-web: the pages people work in, in Chinese, rendered by the server (maud templates
//! compiled into the binary, one stylesheet, no script), over the same use cases and the same
//! per-object rules as the API. Forms carry a CSRF token and work without JavaScript.

// Page helpers fail with the page to show instead (an error page, a redirect to sign-in): a
// response is the natural error of a handler here, built at most once per request.
#![allow(clippy::result_large_err)]

mod audit;
mod case;
mod cases;
mod chart;
mod dashboard;
mod exchange;
mod export;
mod files;
mod filing;
mod forms;
mod labels;
mod layout;
mod login;
mod notices;
mod orgs;
mod people;
mod print;
mod queue;
mod rate;
mod roster;
mod session;
mod strict;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use duban_core::Role;
use duban_service::SqlStore;
use duban_service::{Error as ServiceError, Service};

pub use print::PrintSettings;
pub use session::{SESSION_COOKIE, Viewer};

use crate::layout::error_page;

/// What every page shares.
#[derive(Clone, Debug)]
pub struct WebState {
    pub service: Arc<Service<SqlStore>>,
    /// Mark cookies `Secure`: the site is served over TLS (its base URL is `https://…`).
    pub secure_cookies: bool,
    /// What the printed forms say of the office.
    pub print: PrintSettings,
}

/// The stylesheets, compiled in: nothing is fetched from anywhere else.
const CSS: &str = include_str!("../assets/duban.css");
const PRINT_CSS: &str = include_str!("../assets/print.css");

/// The web pages. Merge with the API's router; they share no paths.
pub fn router(state: WebState) -> Router {
    // A form with a document may be as large as the file the service accepts, and its fields.
    let upload_limit = state.service.attachment_policy().max_bytes + 64 * 1024;
    Router::new()
        .route("/", get(home))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route(
            "/password",
            get(login::password_form).post(login::change_password),
        )
        .route("/password/renew", post(login::renew))
        .route("/dashboard", get(dashboard::page))
        .route("/reports/annual.xlsx", get(dashboard::workbook))
        .route("/cases", get(cases::list))
        .route("/cases.xlsx", get(cases::list_xlsx))
        .route("/inbox", get(cases::inbox))
        .route("/inbox.xlsx", get(cases::inbox_xlsx))
        .route("/queue", get(queue::page_of))
        .route("/queue.xlsx", get(queue::workbook))
        .route("/exchange", get(exchange::page_of))
        .route("/exchange/export.xlsx", get(exchange::export))
        .route(
            "/exchange/import",
            post(exchange::import).layer(DefaultBodyLimit::max(exchange::LIMIT)),
        )
        .route("/cases/new", get(filing::new_form).post(filing::file))
        .route("/cases/{id}", get(case::show))
        .route(
            "/cases/{id}/actions/{action}",
            post(case::act).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/cases/{id}/attachments",
            post(files::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/attachments/{id}", get(files::download))
        .route("/cases/{id}/reveal", post(case::reveal))
        .route("/notifications", get(notices::list))
        .route("/notifications/read-all", post(notices::read_all))
        .route("/notifications/{id}/read", post(notices::read))
        .route("/admin/users", get(people::list).post(people::add))
        .route("/admin/users.xlsx", get(people::list_xlsx))
        .route("/admin/users/new", get(people::new_form))
        .route("/admin/users/{login}", get(people::show).post(people::save))
        .route("/admin/users/{login}/disable", post(people::disable))
        .route("/admin/users/{login}/enable", post(people::enable))
        .route(
            "/admin/users/{login}/password-reset",
            post(people::reset_password),
        )
        .route(
            "/admin/users/{login}/sessions/end",
            post(people::end_sessions),
        )
        .route("/admin/users/{login}/tokens", post(people::create_token))
        .route("/admin/tokens/{id}/revoke", post(people::revoke_token))
        .route("/admin/orgs", get(orgs::list).post(orgs::add))
        .route("/admin/orgs.xlsx", get(orgs::list_xlsx))
        .route("/admin/orgs/new", get(orgs::new_form))
        .route("/admin/orgs/{code}", get(orgs::show).post(orgs::save))
        .route("/admin/orgs/{code}/disable", post(orgs::disable))
        .route("/admin/orgs/{code}/enable", post(orgs::enable))
        .route(
            "/admin/import",
            get(roster::page_of)
                .post(roster::upload)
                .layer(axum::extract::DefaultBodyLimit::max(roster::LIMIT)),
        )
        .route("/admin/deliveries", get(audit::deliveries))
        .route("/admin/deliveries/{id}/retry", post(audit::retry))
        .route("/audit", get(audit::search))
        .route("/audit.csv", get(audit::export))
        .route("/audit.xlsx", get(audit::export_xlsx))
        .route("/audit/verify", post(audit::verify))
        .route("/cases/{id}/print/{form}", get(print::form))
        .route("/r/{token}", get(rate::form).post(rate::submit))
        .route("/static/duban.css", get(|| stylesheet(CSS)))
        .route("/static/print.css", get(|| stylesheet(PRINT_CSS)))
        .with_state(state)
}

async fn stylesheet(css: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        css,
    )
        .into_response()
}

/// Each role starts where its work is.
async fn home(v: Viewer) -> Redirect {
    Redirect::to(match v.p.user.role {
        Role::Leader | Role::Staff | Role::Auditor => "/dashboard",
        Role::Department => "/inbox",
        Role::Deputy | Role::Mediator | Role::Court => "/cases",
        Role::Admin => "/admin/users",
    })
}

/// A use case's refusal as a page, for refusals a form cannot show beside a field.
fn refused(e: ServiceError) -> Response {
    match e {
        ServiceError::NotFound => error_page(
            StatusCode::NOT_FOUND,
            "未找到",
            "没有这个事项，或者您无权查看。",
        ),
        ServiceError::Forbidden { .. } => error_page(
            StatusCode::FORBIDDEN,
            "无权操作",
            "您的账户没有这项操作的权限。",
        ),
        ServiceError::UnknownKind { .. } => {
            error_page(StatusCode::NOT_FOUND, "未找到", "没有这类事项。")
        }
        ServiceError::TooLarge { limit_mb } => error_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "文件过大",
            &format!("单个文件不能超过 {limit_mb} MB，未保存任何内容。"),
        ),
        ServiceError::UnsupportedType { allowed } => error_page(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "文件类型不支持",
            &format!(
                "只接受 {} 文件（按文件内容判断，而不是文件名），未保存任何内容。",
                allowed.join("、").to_uppercase()
            ),
        ),
        ServiceError::Invalid { problems } => error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "输入有误",
            &problems
                .iter()
                .map(|p| {
                    format!(
                        "{}：{}",
                        labels::field(&p.field),
                        labels::problem(&p.problem)
                    )
                })
                .collect::<Vec<_>>()
                .join("；"),
        ),
        other => {
            tracing::error!(error = %other, "a page failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "系统错误",
                "处理请求时出错，已记录。请稍后再试。",
            )
        }
    }
}

/// Organisations and people for forms and for names on pages.
async fn choices(st: &WebState) -> Result<forms::Choices, Response> {
    let (orgs, people) = st.service.directory().await.map_err(refused)?;
    Ok(forms::Choices {
        orgs,
        people,
        files: Vec::new(),
    })
}

impl forms::Choices {
    /// The display name of an organisation or person code, or of a role (`role:staff`) a case
    /// waits on: a code never reaches the screen where a name is known.
    pub fn name<'a>(&'a self, code: &'a str) -> &'a str {
        if let Some(role) = code.strip_prefix("role:").and_then(Role::parse) {
            return labels::role(role);
        }
        self.orgs
            .iter()
            .find(|(c, _, _)| c == code)
            .map(|(_, n, _)| n.as_str())
            .or_else(|| {
                self.people
                    .iter()
                    .find(|u| u.login == code)
                    .map(|u| u.name.as_str())
            })
            .or_else(|| {
                self.files
                    .iter()
                    .find(|(id, _)| id == code)
                    .map(|(_, n)| n.as_str())
            })
            .unwrap_or(code)
    }

    /// Names of several codes, joined as Chinese lists are.
    pub fn names(&self, codes: &[String]) -> String {
        codes
            .iter()
            .map(|c| self.name(c))
            .collect::<Vec<_>>()
            .join("、")
    }
}
