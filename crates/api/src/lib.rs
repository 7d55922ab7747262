//! duban-api: the HTTP edge — the JSON API under `/api/v1`, its OpenAPI document, and
//! `/healthz`. Handlers and the document come from the same declarations (utoipa-axum), and the
//! action routes and their operations from the same workflows, so the document cannot forget
//! a route.

mod admin;
mod attachments;
mod contract;
mod dto;
mod error;
mod extract;
pub mod forwarded;
mod handlers;
mod headers;
mod limit;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use duban_core::Workflows;
use duban_service::Service;
use duban_service::SqlStore;
use serde_json::{Map, Value};
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

pub use admin::{AuditEntryDto, OrgDto, TokenDto, UserDto};
pub use contract::PROBLEM_TYPES;
pub use dto::DeliveryDto;
pub use error::{ApiError, Problem};
use extract::{Bearer, JsonBody, RequestId};
pub use headers::{HEADER_LIMIT, Headers};
pub use limit::Limits;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 256 * 1024;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub service: Arc<Service<SqlStore>>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Duban 督办 API",
        description = "Case tracking for people's congress standing committees: deputies' suggestions, petitions taken on by deputies, pre-litigation mediation. Errors are application/problem+json.",
    ),
    paths(handlers::act_on_case),
    modifiers(&BearerAuth),
    tags(
        (name = "cases", description = "File, list, show and act on cases"),
        (name = "notifications", description = "The caller's reminder inbox"),
        (name = "workflows", description = "The workflow definitions in use"),
        (name = "reports", description = "The year's figures"),
        (name = "admin", description = "People, organisations, tokens and the audit log (administrators; the audit log also auditors)"),
        (name = "system", description = "Health and the API description"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `duban token create LOGIN`"))
                    .build(),
            ),
        );
    }
}

/// What an upload may carry besides the file itself: the multipart framing and the note.
const UPLOAD_OVERHEAD: usize = 64 * 1024;

/// The API routes, one per action of the loaded workflows among them, and the OpenAPI
/// document that describes exactly them. An upload may be as large as `max_file` bytes.
pub fn api(workflows: &Workflows, max_file: usize) -> (Router<AppState>, serde_json::Value) {
    let v1 = OpenApiRouter::new()
        .routes(routes!(handlers::file_case, handlers::list_cases))
        .routes(routes!(handlers::show_case))
        .routes(routes!(handlers::case_events))
        .routes(
            routes!(attachments::upload, attachments::list)
                .layer(DefaultBodyLimit::max(max_file + UPLOAD_OVERHEAD)),
        )
        .routes(routes!(attachments::download))
        .routes(routes!(handlers::queue))
        .routes(routes!(handlers::notifications))
        .routes(routes!(handlers::mark_read))
        .routes(routes!(handlers::mark_all_read))
        .routes(routes!(handlers::workflows))
        .routes(routes!(handlers::deliveries))
        .routes(routes!(handlers::retry_delivery))
        .routes(routes!(handlers::annual_report))
        .routes(routes!(admin::list_users, admin::add_user))
        .routes(routes!(admin::show_user, admin::patch_user))
        .routes(routes!(admin::reset_password))
        .routes(routes!(admin::end_sessions))
        .routes(routes!(admin::create_token, admin::list_tokens))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::list_orgs, admin::add_org))
        .routes(routes!(admin::show_org, admin::patch_org))
        .routes(routes!(admin::search_audit))
        .routes(routes!(admin::verify_audit));
    let (mut router, derived) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(handlers::healthz))
        .nest("/api/v1", v1)
        .split_for_parts();
    // Each action is its own route, so that the routes served and the operations documented
    // are made from the same list.
    for name in contract::actions::by_name(workflows).into_keys() {
        let action: Arc<str> = Arc::from(name);
        router = router.route(
            &contract::actions::path(name),
            post(
                move |st: State<AppState>,
                      bearer: Bearer,
                      rid: RequestId,
                      id: Path<String>,
                      headers: HeaderMap,
                      body: Result<JsonBody<Map<String, Value>>, ApiError>| {
                    handlers::act_on_case(st, bearer, rid, id, headers, body, action.clone())
                },
            ),
        );
    }
    // A name no workflow has is not an operation, but its caller still learns which actions
    // are open on the case (422), as for an action the case does not offer now.
    router = router.route(
        contract::actions::TEMPLATE,
        post(
            |st: State<AppState>,
             bearer: Bearer,
             rid: RequestId,
             Path((id, action)): Path<(String, String)>,
             headers: HeaderMap,
             body: Result<JsonBody<Map<String, Value>>, ApiError>| {
                handlers::act_on_case(st, bearer, rid, Path(id), headers, body, Arc::from(action))
            },
        ),
    );
    (router, contract::document(derived, workflows))
}

pub use contract::PATH as OPENAPI_PATH;

/// The OpenAPI document as served for these workflows (`duban openapi` prints it).
pub fn openapi_json(workflows: &Workflows) -> serde_json::Value {
    api(workflows, 0).1
}

/// The whole HTTP application, with the default rate limits.
pub fn router(state: AppState) -> Router {
    router_with(state, Limits::default())
}

/// The whole HTTP application.
pub fn router_with(state: AppState, limits: Limits) -> Router {
    router_with_pages(state, limits, Headers::default(), Router::new())
}

/// The whole HTTP application with other routes (the web pages) beside the API, behind the same
/// rate limits, security headers, request ids and tracing.
pub fn router_with_pages(
    state: AppState,
    limits: Limits,
    headers: Headers,
    pages: Router,
) -> Router {
    let limiter = limit::RateLimiter::new(limits);
    let max_file = state.service.attachment_policy().max_bytes;
    let (api, doc) = api(state.service.workflows(), max_file);
    // Written once: the document (over half a megabyte) is the same for every request.
    let doc = axum::body::Bytes::from(serde_json::to_vec(&doc).unwrap_or_default());
    api.route(OPENAPI_PATH, get(move || {
        let doc = doc.clone();
        async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], doc) }
    }))
    .fallback(|| async {
        ApiError::new(StatusCode::NOT_FOUND, "route-not-found", "No such route", "see /api/v1/openapi.json for the routes this server has")
    })
    .method_not_allowed_fallback(|| async {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed", "see /api/v1/openapi.json for the methods each route takes")
    })
    .with_state(state)
    .merge(pages)
    .layer(axum::middleware::from_fn_with_state(limiter, limit::limit))
    .layer(DefaultBodyLimit::max(BODY_LIMIT))
    .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
    .layer(
        // Outside the timeout, so that a request cut off at 30 s has its access line too.
        // Spans name the matched route, never the raw URI, which may carry ids and reasons;
        // `user` is filled in by whichever extractor authenticates the request. Each request
        // ends in one INFO line inside its span: the access log (status and duration).
        TraceLayer::new_for_http()
            .make_span_with(|req: &Request| {
                let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_default();
                let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                tracing::info_span!("request", method = %req.method(), route = %route, request_id = %request_id, user = tracing::field::Empty)
            })
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Millis)),
    )
    .layer(PropagateRequestIdLayer::x_request_id())
    .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
    // Outermost, so that every answer carries them: a timeout's 408 and a 431 included.
    .layer(axum::middleware::from_fn_with_state(headers, headers::secure))
}
