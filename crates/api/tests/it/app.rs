//! The application the API suites drive: an office of every role, each with a token, and
//! requests sent through the whole router.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use duban_api::AppState;
use duban_core::Role;
use duban_storage::OrgKind;
use duban_testkit::Office;
use serde_json::Value;
use tower::ServiceExt;

pub struct App {
    pub router: Router,
    pub state: AppState,
    pub office: Office,
}

/// (login, role, organisation)
pub const PEOPLE: &[(&str, Role, Option<&str>)] = &[
    ("leader", Role::Leader, None),
    ("staff", Role::Staff, None),
    ("auditor", Role::Auditor, None),
    ("admin", Role::Admin, None),
    ("filer", Role::Deputy, Some("st1")),
    ("cosigner", Role::Deputy, None),
    ("stranger", Role::Deputy, Some("st2")),
    ("lead", Role::Department, Some("jtj")),
    ("co", Role::Department, Some("czj")),
    ("other_dept", Role::Department, Some("wsj")),
    ("mediator", Role::Mediator, None),
    ("court", Role::Court, Some("court1")),
];

pub async fn app() -> App {
    let mut office = Office::builder().tokens().opens_at("2024-03-01T10:00:00");
    for (code, kind) in [
        ("st1", OrgKind::Station),
        ("st2", OrgKind::Station),
        ("jtj", OrgKind::Department),
        ("czj", OrgKind::Department),
        ("wsj", OrgKind::Department),
        ("court1", OrgKind::Court),
    ] {
        office = office.org(code, kind, code);
    }
    for (login, role, org) in PEOPLE {
        office = office.user(login, *role, *org);
    }
    let office = office.build().await;
    let state = AppState {
        service: office.service.clone(),
    };
    App {
        router: duban_api::router(state.clone()),
        state,
        office,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub etag: Option<String>,
    pub content_type: String,
    pub body: Value,
}

pub async fn call(
    app: &App,
    method: Method,
    path: &str,
    who: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(w) = who {
        req = req.header("authorization", format!("Bearer token-{w}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b)),
        None => req.body(Body::empty()),
    }
    .expect("request");
    let res = app.router.clone().oneshot(req).await.expect("response");
    let status = res.status();
    let etag = res
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        etag,
        content_type,
        body,
    }
}

pub async fn post(app: &App, path: &str, who: &str, if_match: Option<&str>, body: Value) -> Reply {
    let tag = if_match.map(|v| format!("\"{v}\""));
    let headers: Vec<(&str, &str)> = tag
        .as_deref()
        .map(|t| vec![("if-match", t)])
        .unwrap_or_default();
    call(
        app,
        Method::POST,
        path,
        Some(who),
        &headers,
        Some(body.to_string()),
    )
    .await
}

/// The case as staff read it.
pub async fn case(app: &App, id: &str) -> Value {
    let path = format!("/api/v1/cases/{id}");
    let r = call(app, Method::GET, &path, Some("staff"), &[], None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// Takes `action` as `who` on the case's current version (read first, as a client does).
pub async fn act(app: &App, id: &str, action: &str, who: &str, body: Value) -> (StatusCode, Value) {
    let version = case(app, id).await["version"].to_string();
    let path = format!("/api/v1/cases/{id}/actions/{action}");
    let r = post(app, &path, who, Some(&version), body).await;
    (r.status, r.body)
}

/// The 2024 annual report as staff read it, as of the instant `as_of`.
pub async fn report_2024(app: &App, as_of: &str) -> Value {
    let path = format!("/api/v1/reports/annual?year=2024&as_of={as_of}");
    let r = call(app, Method::GET, &path, Some("staff"), &[], None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// A suggestion filed by `filer` on 2024-06-20, registered, and assigned to `jtj` on 07-01:
/// due 2024-10-08 (three months, rolled past National Day).
pub async fn assigned_suggestion(app: &App, title: &str) -> String {
    let filing = serde_json::json!({"title": title, "body": "……"});
    assigned_as(app, filing, serde_json::json!({"lead_department": "jtj"})).await
}

/// [`assigned_suggestion`] filed with `filing` and assigned with `assign`.
pub async fn assigned_as(app: &App, filing: Value, assign: Value) -> String {
    let o = &app.office;
    let id = o
        .file("filer", "suggestion", filing, "2024-06-20T10:00:00")
        .await;
    o.act(
        &id,
        "register",
        "staff",
        serde_json::json!({}),
        "2024-06-25T09:00:00",
    )
    .await;
    o.act(&id, "assign", "staff", assign, "2024-07-01T09:00:00")
        .await;
    id
}

/// The figures of `kind` in a report.
pub fn kind_figures(report: &Value, kind: &str) -> Value {
    report["kinds"]
        .as_array()
        .and_then(|k| k.iter().find(|x| x["kind"] == kind))
        .cloned()
        .unwrap_or_else(|| panic!("no {kind}: {report}"))
}

/// The case's history as staff read it.
pub async fn events(app: &App, id: &str) -> Vec<Value> {
    let path = format!("/api/v1/cases/{id}/events");
    let r = call(app, Method::GET, &path, Some("staff"), &[], None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["events"].as_array().cloned().unwrap_or_default()
}
