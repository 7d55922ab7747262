//! Authorisation per object, as a table: every role against every endpoint, on a case inside
//! the caller's reach and one outside it, each with the status the caller must get. Plus the
//! bad-input answers and the OpenAPI document's coverage of the router.

use duban_storage::{Cases, Tokens};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::app::*;

/// Files a suggestion as `filer` (co-signed by `cosigner` when `inside`), registers it and
/// assigns it: inside the reach of `lead`/`co`, or to `other_dept` only.
pub async fn assigned(app: &App, inside: bool) -> String {
    let filer = if inside { "filer" } else { "stranger" };
    let payload = if inside {
        json!({"title": "建议", "body": "b", "cosigners": ["cosigner"]})
    } else {
        json!({"title": "建议", "body": "b"})
    };
    let filed = post(
        app,
        "/api/v1/cases",
        filer,
        None,
        json!({"kind": "suggestion", "payload": payload}),
    )
    .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
    let id = filed.body["id"].as_str().expect("id").to_string();
    let r = post(
        app,
        &format!("/api/v1/cases/{id}/actions/register"),
        "staff",
        Some("1"),
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let assign = if inside {
        json!({"lead_department": "jtj", "co_departments": ["czj"]})
    } else {
        json!({"lead_department": "wsj"})
    };
    let r = post(
        app,
        &format!("/api/v1/cases/{id}/actions/assign"),
        "staff",
        Some("2"),
        assign,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    id
}

#[tokio::test]
async fn every_role_gets_the_status_its_reach_allows_on_every_endpoint() {
    let app = app().await;
    let inside = assigned(&app, true).await;
    let outside = assigned(&app, false).await;
    use StatusCode as S;
    // (who, GET case/events inside, outside, act inside: `send_co_opinion` at the right version)
    let table: &[(&str, S, S, S)] = &[
        ("leader", S::OK, S::OK, S::FORBIDDEN),
        ("staff", S::OK, S::OK, S::FORBIDDEN),
        ("auditor", S::OK, S::OK, S::FORBIDDEN),
        ("admin", S::NOT_FOUND, S::NOT_FOUND, S::NOT_FOUND),
        ("filer", S::OK, S::NOT_FOUND, S::FORBIDDEN),
        ("cosigner", S::OK, S::NOT_FOUND, S::FORBIDDEN),
        ("stranger", S::NOT_FOUND, S::OK, S::NOT_FOUND),
        ("lead", S::OK, S::NOT_FOUND, S::FORBIDDEN),
        ("co", S::OK, S::NOT_FOUND, S::OK),
        ("other_dept", S::NOT_FOUND, S::OK, S::NOT_FOUND),
        ("mediator", S::NOT_FOUND, S::NOT_FOUND, S::NOT_FOUND),
        ("court", S::NOT_FOUND, S::NOT_FOUND, S::NOT_FOUND),
    ];
    for (who, see_in, see_out, act_in) in table {
        for (id, want) in [(&inside, see_in), (&outside, see_out)] {
            let r = call(
                &app,
                Method::GET,
                &format!("/api/v1/cases/{id}"),
                Some(who),
                &[],
                None,
            )
            .await;
            assert_eq!(r.status, *want, "{who} GET case: {}", r.body);
            let r = call(
                &app,
                Method::GET,
                &format!("/api/v1/cases/{id}/events"),
                Some(who),
                &[],
                None,
            )
            .await;
            assert_eq!(r.status, *want, "{who} GET events: {}", r.body);
        }
        // Acting outside one's reach is always 404, whatever the action.
        let r = post(
            &app,
            &format!("/api/v1/cases/{outside}/actions/send_co_opinion"),
            who,
            Some("3"),
            json!({"opinion": "o"}),
        )
        .await;
        let want_out = if *see_out == S::OK {
            S::FORBIDDEN
        } else {
            S::NOT_FOUND
        };
        assert_eq!(r.status, want_out, "{who} act outside: {}", r.body);
        let version = call(
            &app,
            Method::GET,
            &format!("/api/v1/cases/{inside}"),
            Some("staff"),
            &[],
            None,
        )
        .await
        .body["version"]
            .as_u64()
            .expect("version");
        let r = post(
            &app,
            &format!("/api/v1/cases/{inside}/actions/send_co_opinion"),
            who,
            Some(&version.to_string()),
            json!({"opinion": "同意"}),
        )
        .await;
        assert_eq!(r.status, *act_in, "{who} act inside: {}", r.body);
        assert_eq!(
            r.content_type,
            if r.status == S::OK {
                "application/json"
            } else {
                "application/problem+json"
            }
        );
        if r.status == S::OK {
            assert_eq!(r.etag, Some(format!("\"{}\"", version + 1)));
        }
        // Lists: everyone but the administrator gets one, holding only what they may see.
        let r = call(&app, Method::GET, "/api/v1/cases", Some(who), &[], None).await;
        if *who == "admin" {
            assert_eq!(r.status, S::FORBIDDEN);
        } else {
            assert_eq!(r.status, S::OK, "{who} list: {}", r.body);
            let ids: Vec<&str> = r.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|c| c["id"].as_str())
                .collect();
            assert_eq!(
                ids.contains(&inside.as_str()),
                *see_in == S::OK,
                "{who} list inside: {ids:?}"
            );
            assert_eq!(
                ids.contains(&outside.as_str()),
                *see_out == S::OK,
                "{who} list outside: {ids:?}"
            );
        }
        // The annual report: leaders, staff and auditors.
        let r = call(
            &app,
            Method::GET,
            "/api/v1/reports/annual?year=2024",
            Some(who),
            &[],
            None,
        )
        .await;
        let may = matches!(*who, "leader" | "staff" | "auditor");
        assert_eq!(
            r.status,
            if may { S::OK } else { S::FORBIDDEN },
            "{who} report: {}",
            r.body
        );
        if may {
            let filed = r.body["kinds"]
                .as_array()
                .and_then(|k| k.iter().find(|k| k["kind"] == "suggestion"))
                .map(|k| k["filed"].clone());
            assert!(
                filed.is_some_and(|f| f.as_u64().is_some_and(|n| n >= 2)),
                "{}",
                r.body
            );
        }
        // Deliveries: administrators only.
        let r = call(
            &app,
            Method::GET,
            "/api/v1/deliveries?status=dead",
            Some(who),
            &[],
            None,
        )
        .await;
        assert_eq!(
            r.status,
            if *who == "admin" { S::OK } else { S::FORBIDDEN },
            "{who} deliveries"
        );
        let r = post(
            &app,
            "/api/v1/deliveries/dlv_none/retry",
            who,
            None,
            json!({}),
        )
        .await;
        assert_eq!(
            r.status,
            if *who == "admin" {
                S::NOT_FOUND
            } else {
                S::FORBIDDEN
            },
            "{who} retry"
        );
        // Inbox and workflows: any signed-in user.
        for path in ["/api/v1/notifications", "/api/v1/workflows"] {
            let r = call(&app, Method::GET, path, Some(who), &[], None).await;
            assert_eq!(r.status, S::OK, "{who} {path}");
        }
        // Filing: the suggestion workflow lets deputies and staff file.
        let r = post(
            &app,
            "/api/v1/cases",
            who,
            None,
            json!({"kind": "suggestion", "payload": {"title": "t", "body": "b"}}),
        )
        .await;
        let may_file = matches!(*who, "staff" | "filer" | "cosigner" | "stranger");
        assert_eq!(
            r.status,
            if may_file { S::CREATED } else { S::FORBIDDEN },
            "{who} file: {}",
            r.body
        );
    }
    // Asking for another's list is refused outright.
    let r = call(
        &app,
        Method::GET,
        "/api/v1/cases?department=wsj",
        Some("lead"),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, S::FORBIDDEN);
    let r = call(
        &app,
        Method::GET,
        "/api/v1/cases?department=wsj",
        Some("staff"),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, S::OK);
    assert_eq!(r.body["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn no_token_a_bad_token_and_a_revoked_one_are_all_401() {
    let app = app().await;
    for path in [
        "/api/v1/cases",
        "/api/v1/notifications",
        "/api/v1/workflows",
        "/api/v1/cases/x",
        "/api/v1/cases/x/events",
    ] {
        let r = call(&app, Method::GET, path, None, &[], None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(r.body["type"], "urn:duban:problem:unauthenticated");
        let r = call(
            &app,
            Method::GET,
            path,
            None,
            &[("authorization", "Bearer nope")],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        let r = call(
            &app,
            Method::GET,
            path,
            None,
            &[("authorization", "Basic Zm9vOmJhcg==")],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let r = post(
        &app,
        "/api/v1/cases/x/actions/reply",
        "nobody",
        Some("1"),
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Acting checks the token in the same read as the case; what else is wrong with the
    // request is still told only to a caller whose token works.
    let case = assigned(&app, true).await;
    let act = format!("/api/v1/cases/{case}/actions/reply");
    let r = post(&app, &act, "nobody", None, json!({})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "no If-Match, bad token");
    let r = call(
        &app,
        Method::POST,
        &act,
        Some("nobody"),
        &[("if-match", "\"3\"")],
        Some("{not json".into()),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "bad body, bad token");
    let r = post(&app, &act, "lead", None, json!({})).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED, "no If-Match");
    // A revoked token stops working at once.
    assert_eq!(
        call(
            &app,
            Method::GET,
            "/api/v1/workflows",
            Some("lead"),
            &[],
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    let revoked = app
        .state
        .service
        .store()
        .revoke_token("tok-lead", "2024-01-02T00:00:00Z".parse().expect("ts"))
        .await;
    assert!(revoked.expect("revoke"));
    assert_eq!(
        call(
            &app,
            Method::GET,
            "/api/v1/workflows",
            Some("lead"),
            &[],
            None
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    let r = post(&app, &act, "lead", Some("3"), json!({"reply": "答复"})).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "acting with a revoked token"
    );
    let store = app.state.service.store();
    let tail = duban_storage::Audit::audit_tail(store, 1)
        .await
        .expect("audit");
    assert_eq!(
        (tail[0].1.action.as_str(), tail[0].1.target.as_str()),
        ("auth_failed", act.as_str())
    );
    let case_now = store.case(&case).await.expect("read").expect("case");
    assert_eq!(case_now.case.version, 3, "nothing was written");
    // Health and the API description need no token.
    assert_eq!(
        call(&app, Method::GET, "/healthz", None, &[], None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, Method::GET, "/api/v1/openapi.json", None, &[], None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_writes_nothing() {
    let app = app().await;
    let id = assigned(&app, true).await;
    let path = format!("/api/v1/cases/{id}/actions/reply");
    // (what, If-Match version, body, expected status, problem type)
    let cases = [
        (
            "malformed JSON",
            Some("3"),
            Some("{\"classification\":".into()),
            StatusCode::BAD_REQUEST,
            "malformed-request",
        ),
        (
            "not an object",
            Some("3"),
            Some("[1,2]".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            "wrong type",
            Some("3"),
            Some(json!({"classification": 7, "answer": "a"}).to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            "missing field",
            Some("3"),
            Some(json!({"classification": "A"}).to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            "unknown field",
            Some("3"),
            Some(json!({"classification": "A", "answer": "a", "x": 1}).to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            "no If-Match",
            None,
            Some(json!({"classification": "A", "answer": "a"}).to_string()),
            StatusCode::PRECONDITION_REQUIRED,
            "if-match-required",
        ),
        (
            "stale If-Match",
            Some("2"),
            Some(json!({"classification": "A", "answer": "a"}).to_string()),
            StatusCode::PRECONDITION_FAILED,
            "stale-version",
        ),
        (
            "garbled If-Match",
            Some("x"),
            Some(json!({"classification": "A", "answer": "a"}).to_string()),
            StatusCode::BAD_REQUEST,
            "malformed-request",
        ),
        (
            "oversize body",
            Some("3"),
            Some(json!({"classification": "A", "answer": "长".repeat(100_000)}).to_string()),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
        ),
    ];
    for (what, version, body, want, slug) in cases {
        let tag = version.map(|v| format!("\"{v}\""));
        let headers: Vec<(&str, &str)> = tag
            .as_deref()
            .map(|t| vec![("if-match", t)])
            .unwrap_or_default();
        let r = call(&app, Method::POST, &path, Some("lead"), &headers, body).await;
        assert_eq!(r.status, want, "{what}: {}", r.body);
        assert_eq!(
            r.body["type"],
            format!("urn:duban:problem:{slug}"),
            "{what}"
        );
        assert_eq!(r.content_type, "application/problem+json", "{what}");
    }
    // Every bad field is listed, not just the first.
    let r = post(
        &app,
        &path,
        "lead",
        Some("3"),
        json!({"classification": "E", "colour": "red"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["colour", "classification", "answer"], "{}", r.body);
    // An assignment to departments that do not exist names each, and writes nothing: the case
    // stays at its version, and the next writer is not kept waiting.
    let filed = post(
        &app,
        "/api/v1/cases",
        "filer",
        None,
        json!({"kind": "suggestion", "payload": {"title": "t", "body": "b"}}),
    )
    .await;
    let fresh = filed.body["id"].as_str().expect("id").to_string();
    let act = |action: &'static str, version: &'static str, body: Value| {
        let path = format!("/api/v1/cases/{fresh}/actions/{action}");
        let app = &app;
        async move { post(app, &path, "staff", Some(version), body).await }
    };
    assert_eq!(act("register", "1", json!({})).await.status, StatusCode::OK);
    let r = act(
        "assign",
        "2",
        json!({"lead_department": "nosuch", "co_departments": ["czj", "ghost", "st1"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let problems: Vec<(&str, &str)> = r.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| Some((e["field"].as_str()?, e["problem"].as_str()?)))
        .collect();
    // Each field is named and each item placed; no submitted code is echoed back.
    assert_eq!(
        problems,
        [
            ("lead_department", "names no organisation"),
            ("co_departments", "item 2 names no organisation"),
            (
                "co_departments",
                "item 3 names an organisation that is not a department (it is a station)"
            )
        ],
        "{}",
        r.body
    );
    let text = r.body.to_string();
    assert!(
        !text.contains("nosuch") && !text.contains("ghost") && !text.contains("st1"),
        "{text}"
    );
    // A department field takes only departments, even one that exists.
    let r = act("assign", "2", json!({"lead_department": "court1"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        r.body["errors"][0]["field"], "lead_department",
        "{}",
        r.body
    );
    let assigned = act("assign", "2", json!({"lead_department": "jtj"})).await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);
    assert_eq!(assigned.body["version"], 3, "{}", assigned.body);
    // Wrong content type.
    let req = Request::builder()
        .method(Method::POST)
        .uri(&path)
        .header("authorization", "Bearer token-lead")
        .header("if-match", "\"3\"")
        .header("content-type", "text/plain")
        .body(Body::from("classification=A"))
        .expect("request");
    let res = app.router.clone().oneshot(req).await.expect("response");
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // An unknown action names the ones that are open.
    let r = post(
        &app,
        &format!("/api/v1/cases/{id}/actions/fly"),
        "lead",
        Some("3"),
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["action"], "fly");
    assert_eq!(
        r.body["allowed_actions"],
        json!(["request_reassignment", "request_extension", "reply"])
    );
    // Unknown query parameters and bad cursors.
    for q in ["?colour=red", "?limit=0", "?cursor=zzz", "?year=abc"] {
        let r = call(
            &app,
            Method::GET,
            &format!("/api/v1/cases{q}"),
            Some("staff"),
            &[],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}: {}", r.body);
    }
    // Filing an unknown kind, and referring to an organisation that does not exist.
    let r = post(
        &app,
        "/api/v1/cases",
        "staff",
        None,
        json!({"kind": "motion", "payload": {}}),
    )
    .await;
    assert_eq!(
        (r.status, r.body["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("kind"))
    );
    let r = post(
        &app,
        "/api/v1/cases",
        "staff",
        None,
        json!({"kind": "suggestion"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    // Nothing of the above was written: the case is still at version 3, with three events.
    let r = call(
        &app,
        Method::GET,
        &format!("/api/v1/cases/{id}/events"),
        Some("staff"),
        &[],
        None,
    )
    .await;
    assert_eq!(r.body["events"].as_array().map(Vec::len), Some(3));
    // Routes and methods that do not exist.
    assert_eq!(
        call(
            &app,
            Method::GET,
            "/api/v1/nothing",
            Some("staff"),
            &[],
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(
            &app,
            Method::DELETE,
            &format!("/api/v1/cases/{id}"),
            Some("staff"),
            &[],
            None
        )
        .await
        .status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn too_many_requests_from_one_address_or_token_get_429() {
    let app = app().await;
    let limited = duban_api::router_with(
        app.state.clone(),
        duban_api::Limits {
            per_second: 0.5,
            burst: 3.0,
        },
    );
    let send = |token: &str, ip: [u8; 4]| {
        let mut req = Request::builder()
            .uri("/api/v1/workflows")
            .header("authorization", format!("Bearer token-{token}"))
            .body(Body::empty())
            .expect("request");
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                ip, 40000,
            ))));
        limited.clone().oneshot(req)
    };
    for _ in 0..3 {
        assert_eq!(
            send("staff", [10, 0, 0, 1])
                .await
                .expect("response")
                .status(),
            StatusCode::OK
        );
    }
    let r = send("staff", [10, 0, 0, 2]).await.expect("response");
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the token's bucket is empty"
    );
    assert!(r.headers().contains_key("retry-after"));
    // Another token from the first address: the address's bucket is empty too.
    assert_eq!(
        send("leader", [10, 0, 0, 1])
            .await
            .expect("response")
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another token from another address goes through.
    assert_eq!(
        send("leader", [10, 0, 0, 3])
            .await
            .expect("response")
            .status(),
        StatusCode::OK
    );
    // No credentials at all, from the address whose bucket is empty: refused for what it is
    // (401), not counted; the public document is counted.
    let bare = |uri: &str| {
        let mut req = Request::builder()
            .uri(uri)
            .body(Body::empty())
            .expect("request");
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                [10, 0, 0, 1],
                40000,
            ))));
        limited.clone().oneshot(req)
    };
    for _ in 0..5 {
        let r = bare("/api/v1/workflows").await.expect("response");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = bare("/api/v1/openapi.json").await.expect("response");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_station_field_takes_only_stations_and_a_deputy_only_their_own() {
    let app = app().await;
    let petition = |station: &str| {
        json!({"kind": "petition", "payload": {
            "title": "路灯", "body": "b", "station": station,
            "constituent": {"name": "张三"},
        }})
    };
    // The deputy of st1 files at st1; not at st2, nor at a department.
    let r = post(&app, "/api/v1/cases", "filer", None, petition("st1")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    for (station, problem) in [
        ("st2", "a deputy may name only their own organisation here"),
        (
            "jtj",
            "names an organisation that is not a station (it is a department)",
        ),
    ] {
        let who = if station == "jtj" { "staff" } else { "filer" };
        let r = post(&app, "/api/v1/cases", who, None, petition(station)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{station}: {}",
            r.body
        );
        let text = r.body.to_string();
        assert!(text.contains("station") && text.contains(problem), "{text}");
    }
    // Staff may file at any station.
    let r = post(&app, "/api/v1/cases", "staff", None, petition("st2")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // A user field takes only users of its role: the deputy a petition is registered for must
    // be a deputy (a court named there would become its filer, and see it).
    let mut for_court = petition("st1");
    for_court["payload"]["deputy"] = json!("court");
    let r = post(&app, "/api/v1/cases", "staff", None, for_court).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "deputy", "{}", r.body);
    assert!(
        r.body
            .to_string()
            .contains("names a user who is not a deputy"),
        "{}",
        r.body
    );
    let mut for_deputy = petition("st1");
    for_deputy["payload"]["deputy"] = json!("filer");
    let r = post(&app, "/api/v1/cases", "staff", None, for_deputy).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}
