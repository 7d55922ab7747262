//! The API's handlers: each reads the request, calls one use case and shapes the answer.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use duban_service::{Cursor, Order, Page};
use duban_service::{ListParams, Reveal};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::IntoParams;

use crate::AppState;
use crate::dto::*;
use crate::error::{ApiError, Problem};
use crate::extract::{Bearer, Caller, JsonBody, Query, RequestId};

fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

fn with_etag(status: StatusCode, case: CaseDto) -> Response {
    let tag = etag(case.version);
    let location = HeaderValue::from_str(&format!("/api/v1/cases/{}", case.id)).ok();
    let mut response = (status, Json(case)).into_response();
    response.headers_mut().insert(header::ETAG, tag);
    if status == StatusCode::CREATED
        && let Some(l) = location
    {
        response.headers_mut().insert(header::LOCATION, l);
    }
    response
}

/// A page size from 1 to 200; 50 when none is asked for.
pub(crate) fn page_size(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::malformed("`limit` must be from 1 to 200").field("limit"));
    }
    Ok(limit)
}

fn cursor(s: Option<&str>) -> Result<Option<Cursor>, ApiError> {
    match s {
        None | Some("") => Ok(None),
        Some(c) => Cursor::decode(c).map(Some).ok_or_else(|| {
            ApiError::malformed("`cursor` is not one this API gave out").field("cursor")
        }),
    }
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, body = Health), (status = 500, body = Problem)))]
pub async fn healthz(State(st): State<AppState>) -> Result<Json<Health>, ApiError> {
    st.service.store_ping().await.map_err(ApiError::from)?;
    Ok(Json(Health {
        status: "ok".into(),
    }))
}

/// File a case of any kind.
#[utoipa::path(post, path = "/cases", tag = "cases", request_body = NewCaseRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body return the first case", pattern = "^[!-~]{1,200}$")),
    responses(
        (status = 201, description = "Filed", body = CaseDto),
        (status = 200, description = "The same request was filed before under this Idempotency-Key", body = CaseDto),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn file_case(
    State(st): State<AppState>,
    Caller(p): Caller,
    RequestId(rid): RequestId,
    headers: HeaderMap,
    JsonBody(req): JsonBody<NewCaseRequest>,
) -> Result<Response, ApiError> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .filter(|k| !k.is_empty() && k.len() <= 200 && !k.contains(' '))
                .ok_or_else(|| {
                    ApiError::malformed("Idempotency-Key must be 1 to 200 visible characters")
                        .field("Idempotency-Key")
                })?,
        ),
        None => None,
    };
    let (detail, created) = st
        .service
        .file(
            &p,
            &req.kind,
            &Value::Object(req.payload),
            key,
            rid.as_deref(),
        )
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(with_etag(status, CaseDto::new(detail, st.service.now())))
}

/// Filters for listing cases.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this kind.
    kind: Option<String>,
    /// Only cases in this state.
    state: Option<String>,
    /// Only cases filed in this year (China time).
    #[param(minimum = 2000, maximum = 2100)]
    year: Option<i16>,
    /// A department's cases (lead or co-handling).
    department: Option<String>,
    /// A deputy's cases (filed or co-signed).
    deputy: Option<String>,
    /// A station's cases.
    station: Option<String>,
    /// Only key items, with a supervising leader.
    key: Option<bool>,
    /// Only open items past their deadline.
    overdue: Option<bool>,
    /// Only repeat filings (重复信访): cases whose person, by ID number, has another case of
    /// the kind filed in the twelve months before. For leaders, staff and auditors, and for a
    /// deputy's own list; 403 for anyone else.
    repeat: Option<bool>,
    /// Words to find: a case's exact number, or words of its title and body. Every word
    /// (separated by spaces) must be found; in Chinese any two characters or more match. Empty,
    /// or spaces only, is no search.
    #[param(max_length = 200)]
    q: Option<String>,
    /// `newest` (the default), `oldest` or `deadline` (soonest first, none last).
    #[param(pattern = "^(newest|oldest|deadline)$")]
    order: Option<String>,
    /// Where the page starts: the `next_cursor` of the previous page.
    #[param(pattern = r"^(-?[0-9]{1,18}\.[0-9A-Za-z_-]{1,64})?$")]
    cursor: Option<String>,
    /// The page before this: the `prev_cursor` of the page after it.
    #[param(pattern = r"^(-?[0-9]{1,18}\.[0-9A-Za-z_-]{1,64})?$")]
    before: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// A list's order as asked for.
fn order(s: Option<&str>) -> Result<Order, ApiError> {
    match s {
        None | Some("newest") => Ok(Order::Newest),
        Some("oldest") => Ok(Order::Oldest),
        Some("deadline") => Ok(Order::Deadline),
        Some(_) => Err(ApiError::malformed("`order` is newest, oldest or deadline").field("order")),
    }
}

/// List the cases the caller may see, newest first, or find them by number and words.
#[utoipa::path(get, path = "/cases", tag = "cases", params(ListQuery),
    responses((status = 200, body = CaseList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, description = "`q` holds a word of one character, more than five words, or too much", body = Problem)),
    security(("bearer" = [])))]
pub async fn list_cases(
    State(st): State<AppState>,
    Caller(p): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<CaseList>, ApiError> {
    let params = ListParams {
        kind: q.kind,
        state: q.state,
        year: q.year,
        department: q.department,
        deputy: q.deputy,
        station: q.station,
        key: q.key.unwrap_or(false),
        overdue: q.overdue.unwrap_or(false),
        repeat: q.repeat.unwrap_or(false),
        by_due: false,
        due_before: None,
        q: q.q,
        order: order(q.order.as_deref())?,
        after: cursor(q.cursor.as_deref())?,
        before: cursor(q.before.as_deref())?,
        limit: page_size(q.limit)?,
    };
    if params.year.is_some_and(|y| !(2000..=2100).contains(&y)) {
        return Err(ApiError::malformed("`year` must be from 2000 to 2100").field("year"));
    }
    let listing = st.service.list(&p, &params).await?;
    let now = st.service.now();
    Ok(Json(CaseList {
        items: listing
            .items
            .into_iter()
            .map(|s| CaseSummaryDto::new(s, now))
            .collect(),
        next_cursor: listing.next.map(|c| c.encode()),
        prev_cursor: listing.prev.map(|c| c.encode()),
        total: listing.total,
    }))
}

/// Paging through the caller's queue.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Where the page starts: the `next_cursor` of the previous page.
    #[param(pattern = r"^(-?[0-9]{1,18}\.[0-9A-Za-z_-]{1,64})?$")]
    cursor: Option<String>,
    /// The page before this: the `prev_cursor` of the page after it.
    #[param(pattern = r"^(-?[0-9]{1,18}\.[0-9A-Za-z_-]{1,64})?$")]
    before: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// What waits on the caller (待我处理): open cases whose next move is theirs — cases to register
/// and requests to decide for staff, replies to rate for a deputy, items to answer for a
/// department — soonest deadline first.
#[utoipa::path(get, path = "/queue", tag = "cases", params(QueueQuery),
    responses((status = 200, body = CaseList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn queue(
    State(st): State<AppState>,
    Caller(p): Caller,
    Query(q): Query<QueueQuery>,
) -> Result<Json<CaseList>, ApiError> {
    let limit = page_size(q.limit)?;
    let page = Page {
        after: cursor(q.cursor.as_deref())?,
        before: cursor(q.before.as_deref())?,
        ..Page::first(limit)
    };
    let listing = st.service.queue(&p, &page).await?;
    let now = st.service.now();
    Ok(Json(CaseList {
        items: listing
            .items
            .into_iter()
            .map(|s| CaseSummaryDto::new(s, now))
            .collect(),
        next_cursor: listing.next.map(|c| c.encode()),
        prev_cursor: listing.prev.map(|c| c.encode()),
        total: listing.total,
    }))
}

/// Asking to see personal data in full.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShowQuery {
    /// Personal-data fields to show in full, comma-separated: `name`, `id_number`, `phone`, `address`.
    #[param(pattern = r"^(name|id_number|phone|address)(,(name|id_number|phone|address))*$")]
    reveal: Option<String>,
    /// Why (required with `reveal`, and only with it); recorded in the case's history.
    reason: Option<String>,
    /// The case as it stood then, folded from its events: an instant
    /// (`2024-09-30T16:00:00Z`) or a day (`2024-09-30`, meaning its end in China time). Such a
    /// view has no `ETag` and offers no actions; it does not go with `reveal`.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T.+)?$")]
    as_of: Option<String>,
}

/// One case, with its deadline, its supervising leader and the actions open to the caller; or,
/// with `as_of`, as it stood at an instant.
#[utoipa::path(get, path = "/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "The case id"), ShowQuery),
    responses((status = 200, body = CaseDto, headers(("ETag" = String, description = "The case's version, for If-Match"))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn show_case(
    State(st): State<AppState>,
    Caller(p): Caller,
    RequestId(rid): RequestId,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, ApiError> {
    if let Some(text) = q.as_of.as_deref() {
        // Well-formed (the pattern above) yet naming no moment, such as 2024-02-30: 422.
        let at = duban_service::as_of_instant(text).ok_or_else(|| {
            ApiError::validation(
                "as_of",
                "must be an instant such as 2024-09-30T16:00:00Z or a day such as 2024-09-30",
            )
        })?;
        if q.reveal.is_some() || q.reason.is_some() {
            return Err(ApiError::validation(
                "as_of",
                "personal data is revealed on the case as it stands, not as it stood",
            ));
        }
        // An instant to come reads as now, as the service folds it.
        let at = at.min(st.service.now());
        let detail = st.service.show_as_of(&p, &id, at).await?;
        let mut case = CaseDto::new(detail, at);
        case.as_of = Some(at.to_string());
        return Ok((StatusCode::OK, Json(case)).into_response());
    }
    let reveal = match (q.reveal, q.reason) {
        (None, None) => None,
        (None, Some(_)) => {
            // Well-formed but meaningless on its own: a semantic error, not a syntactic one.
            return Err(ApiError::validation(
                "reason",
                "`reason` goes with `reveal`",
            ));
        }
        (Some(fields), reason) => {
            let fields: Vec<String> = fields.split(',').map(|f| f.trim().to_string()).collect();
            if fields.iter().any(String::is_empty) {
                return Err(ApiError::malformed(
                    "`reveal` lists personal-data fields separated by commas, e.g. name,phone",
                )
                .field("reveal"));
            }
            Some(Reveal {
                fields,
                reason: reason.unwrap_or_default(),
            })
        }
    };
    let detail = st
        .service
        .show(&p, &id, reveal.as_ref(), rid.as_deref())
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        CaseDto::new(detail, st.service.now()),
    ))
}

/// A case's history: every event, and every full view of its personal data.
#[utoipa::path(get, path = "/cases/{id}/events", tag = "cases",
    params(("id" = String, Path, description = "The case id")),
    responses((status = 200, body = HistoryDto), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn case_events(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<HistoryDto>, ApiError> {
    Ok(Json(st.service.history(&p, &id).await?.into()))
}

/// Take an action on a case, at the version in `If-Match`.
///
/// Served once per action of the loaded workflows (`/api/v1/cases/{id}/actions/assign` …); the
/// document makes each its own operation from this one.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions/{action}", tag = "cases",
    params(("id" = String, Path, description = "The case id"), ("action" = String, Path, description = "An action of the case's workflow"),
        ("If-Match" = String, Header, description = "The case's ETag, e.g. \"3\"", pattern = r#"^(W/)?"?[0-9]{1,18}"?$"#)),
    request_body(content = Object, description = "The action's payload fields"),
    responses((status = 200, body = CaseDto, headers(("ETag" = String, description = "The new version"))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)),
    security(("bearer" = [])))]
pub async fn act_on_case(
    State(st): State<AppState>,
    bearer: Bearer,
    RequestId(rid): RequestId,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<JsonBody<Map<String, Value>>, ApiError>,
    action: std::sync::Arc<str>,
) -> Result<Response, ApiError> {
    let request = body.and_then(|JsonBody(payload)| Ok((if_match(&headers)?, payload)));
    let Bearer(credential) = bearer;
    let (version, payload) = match request {
        Ok(r) => r,
        // A request found wrong before its token was checked: the problem goes only to a
        // caller whose token works; anyone else learns only that it does not, as on every
        // other endpoint.
        Err(problem) => {
            st.service.authenticate(&credential).await?;
            return Err(problem);
        }
    };
    // The token is checked in the same read as the case: a refusal still comes before
    // anything about the case is answered.
    let detail = st
        .service
        .act(
            &credential,
            &id,
            &action,
            &Value::Object(payload),
            version,
            rid.as_deref(),
        )
        .await?;
    // Who acted is known only now: the token was checked in the action's own read.
    tracing::Span::current().record("user", detail.viewer.as_str());
    Ok(with_etag(
        StatusCode::OK,
        CaseDto::new(detail, st.service.now()),
    ))
}

/// The version in `If-Match`.
fn if_match(headers: &HeaderMap) -> Result<u64, ApiError> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Err(ApiError::precondition_required());
    };
    raw.to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::malformed("If-Match must carry the case's version, e.g. \"3\"")
                .field("If-Match")
        })
}

/// Paging through the inbox.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Where the page starts: the `next_cursor` of the previous page.
    #[param(pattern = r"^(-?[0-9]{1,18}\.[0-9A-Za-z_-]{1,64})?$")]
    cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// Only what the caller has not read.
    unread: Option<bool>,
}

/// The caller's inbox of notices and reminders, newest first.
#[utoipa::path(get, path = "/notifications", tag = "notifications", params(InboxQuery),
    responses((status = 200, body = NotificationList), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = [])))]
pub async fn notifications(
    State(st): State<AppState>,
    Caller(p): Caller,
    Query(q): Query<InboxQuery>,
) -> Result<Json<NotificationList>, ApiError> {
    let limit = page_size(q.limit)?;
    let page = Page {
        after: cursor(q.cursor.as_deref())?,
        ..Page::first(limit)
    };
    let (items, next) = st
        .service
        .notifications(&p, &page, q.unread.unwrap_or(false))
        .await?;
    let unread = st.service.unread(&p).await?;
    Ok(Json(NotificationList {
        items: items.into_iter().map(NotificationDto::from).collect(),
        next_cursor: next.map(|c| c.encode()),
        unread,
    }))
}

/// Mark one of the caller's notices read.
#[utoipa::path(post, path = "/notifications/{id}/read", tag = "notifications",
    params(("id" = String, Path, description = "The notice's id")),
    responses((status = 204, description = "Read"), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn mark_read(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    st.service.mark_read(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark every notice of the caller read.
#[utoipa::path(post, path = "/notifications/read-all", tag = "notifications",
    responses((status = 200, body = MarkedRead), (status = 401, body = Problem)),
    security(("bearer" = [])))]
pub async fn mark_all_read(
    State(st): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<MarkedRead>, ApiError> {
    Ok(Json(MarkedRead {
        marked: st.service.mark_all_read(&p).await?,
    }))
}

/// The workflow definitions in use: states, actions, roles, deadlines and reminders.
#[utoipa::path(get, path = "/workflows", tag = "workflows",
    responses((status = 200, description = "The loaded definitions", body = Vec<Object>), (status = 401, body = Problem)),
    security(("bearer" = [])))]
pub async fn workflows(
    State(st): State<AppState>,
    Caller(_): Caller,
) -> Result<Json<Value>, ApiError> {
    let all: Vec<&duban_core::Workflow> = st.service.workflows().iter().collect();
    serde_json::to_value(all).map(Json).map_err(|e| {
        tracing::error!(error = %e, "serialising workflows");
        ApiError::internal()
    })
}

/// Which deliveries to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// `pending`, `claimed`, `sent` or `dead`.
    #[param(pattern = "^(pending|claimed|sent|dead)$")]
    status: Option<String>,
    /// At most this many (1 to 500, default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Reminder deliveries by e-mail and webhook, with every attempt (administrators only).
#[utoipa::path(get, path = "/deliveries", tag = "notifications", params(DeliveriesQuery),
    responses((status = 200, body = Vec<DeliveryDto>), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn deliveries(
    State(st): State<AppState>,
    Caller(p): Caller,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Json<Vec<DeliveryDto>>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::malformed("`limit` must be from 1 to 500").field("limit"));
    }
    let list = st
        .service
        .deliveries(&p, q.status.as_deref(), limit)
        .await?;
    Ok(Json(
        list.into_iter()
            .map(|(d, a)| DeliveryDto::new(d, a))
            .collect(),
    ))
}

/// Put a dead delivery back in the queue (administrators only).
#[utoipa::path(post, path = "/deliveries/{id}/retry", tag = "notifications",
    params(("id" = String, Path, description = "The delivery id")),
    responses((status = 204, description = "Queued again"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn retry_delivery(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    st.service.retry_delivery(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which year, as of when.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The year whose cases to count (by filing date, China time).
    #[param(minimum = 2000, maximum = 2100)]
    year: i16,
    /// Count the records as they stood at this instant (RFC 3339), default now.
    #[param(format = DateTime)]
    as_of: Option<String>,
}

/// The year's figures, computed from the records (leaders, staff and auditors). The JSON
/// schema is described in docs/api.md.
#[utoipa::path(get, path = "/reports/annual", tag = "reports", params(ReportQuery),
    responses((status = 200, description = "The annual report (docs/api.md says what each figure counts)", body = duban_service::report::AnnualReport),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn annual_report(
    State(st): State<AppState>,
    Caller(p): Caller,
    Query(q): Query<ReportQuery>,
) -> Result<Json<Value>, ApiError> {
    let as_of = match q.as_of.as_deref() {
        None => None,
        Some(s) => Some(s.parse::<jiff::Timestamp>().map_err(|_| {
            ApiError::malformed("`as_of` must be an instant such as 2024-12-31T16:00:00Z")
                .field("as_of")
        })?),
    };
    let (report, _) = st.service.annual_report(&p, q.year, as_of).await?;
    serde_json::to_value(report).map(Json).map_err(|e| {
        tracing::error!(error = %e, "serialising the report");
        ApiError::internal()
    })
}
