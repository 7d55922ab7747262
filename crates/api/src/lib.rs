//! duban-api: the HTTP edge — the JSON API under `/api/v1`, its OpenAPI document, and
//! `/healthz`. Handlers and the document come from the same declarations (utoipa-axum), so the
//! document cannot forget a route.

mod dto;
mod error;
mod extract;
pub mod forwarded;
mod handlers;
mod headers;
mod limit;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use duban_service::Service;
use duban_service::SqlStore;
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, Problem};
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
    modifiers(&BearerAuth),
    tags(
        (name = "cases", description = "File, list, show and act on cases"),
        (name = "notifications", description = "The caller's reminder inbox"),
        (name = "workflows", description = "The workflow definitions in use"),
        (name = "reports", description = "The year's figures"),
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

/// The API routes and their OpenAPI document.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let v1 = OpenApiRouter::new()
        .routes(routes!(handlers::file_case, handlers::list_cases))
        .routes(routes!(handlers::show_case))
        .routes(routes!(handlers::case_events))
        .routes(routes!(handlers::act_on_case))
        .routes(routes!(handlers::queue))
        .routes(routes!(handlers::notifications))
        .routes(routes!(handlers::mark_read))
        .routes(routes!(handlers::mark_all_read))
        .routes(routes!(handlers::workflows))
        .routes(routes!(handlers::deliveries))
        .routes(routes!(handlers::retry_delivery))
        .routes(routes!(handlers::annual_report));
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(handlers::healthz))
        .nest("/api/v1", v1)
        .split_for_parts();
    // The document describes itself too.
    let own = utoipa::openapi::path::PathItem::new(
        utoipa::openapi::HttpMethod::Get,
        utoipa::openapi::path::OperationBuilder::new()
            .summary(Some("This OpenAPI document"))
            .tag("system")
            .response(
                "200",
                utoipa::openapi::ResponseBuilder::new().description("The OpenAPI 3.1 document"),
            ),
    );
    doc.paths.paths.insert(OPENAPI_PATH.to_string(), own);
    (router, doc)
}

pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// What every operation may answer besides its own responses, since layers in front of every
/// route give them: 429 from the rate limits, with `Retry-After`, and 500 when something
/// fails inside. API routes answer them as problems; the other routes (`/healthz`), as a page.
fn answered_by_every_route(path: &str) -> [(&'static str, serde_json::Value); 2] {
    let body = |description: &str| {
        let content = if path.starts_with("/api/") {
            serde_json::json!({"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}})
        } else {
            serde_json::json!({"text/html": {"schema": {"type": "string"}}})
        };
        serde_json::json!({"description": description, "content": content})
    };
    let mut limited =
        body("Too many requests from this address or token: try again after `Retry-After` seconds");
    limited["headers"] = serde_json::json!({
        "Retry-After": {
            "description": "Seconds to wait before the next request",
            "schema": {"type": "integer", "minimum": 1}
        }
    });
    [
        ("429", limited),
        (
            "500",
            body("Something failed inside; the answer says nothing of the cause, the log does"),
        ),
    ]
}

/// The OpenAPI document as served. Error answers are `application/problem+json`: utoipa
/// declares every body as `application/json`, so the problem bodies are re-labelled here, once,
/// rather than on each of the many responses.
pub fn openapi_json() -> serde_json::Value {
    let mut doc = serde_json::to_value(api().1).unwrap_or_default();
    if let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for op in item
                .values_mut()
                .filter_map(|o| o.get_mut("responses"))
                .filter_map(|r| r.as_object_mut())
            {
                for (status, response) in answered_by_every_route(path) {
                    op.entry(status).or_insert(response);
                }
                for response in op.values_mut() {
                    let Some(content) = response.get_mut("content").and_then(|c| c.as_object_mut())
                    else {
                        continue;
                    };
                    let is_problem = content
                        .get("application/json")
                        .and_then(|c| c.pointer("/schema/$ref"))
                        .and_then(|r| r.as_str())
                        .is_some_and(|r| r.ends_with("/Problem"));
                    if is_problem && let Some(json) = content.remove("application/json") {
                        content.insert("application/problem+json".into(), json);
                    }
                }
            }
        }
    }
    doc
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
    let (api, _) = api();
    let doc = Arc::new(openapi_json());
    api.route(OPENAPI_PATH, get(move || {
        let doc = doc.clone();
        async move { Json((*doc).clone()) }
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
