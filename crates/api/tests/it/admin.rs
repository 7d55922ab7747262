//! The administration API against every role: administrators add, list, change, disable and
//! enable people and organisations, make and revoke tokens; everyone else gets 403 (the audit
//! log opens to auditors too). A disabled person's token answers 401 on the very next request.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::app::*;

async fn send(app: &App, method: Method, path: &str, who: &str, body: Option<Value>) -> Reply {
    call(
        app,
        method,
        path,
        Some(who),
        &[],
        body.map(|b| b.to_string()),
    )
    .await
}

#[tokio::test]
async fn only_administrators_administer_and_auditors_read_the_audit_log() {
    let app = app().await;
    use StatusCode as S;
    for (who, _, _) in PEOPLE {
        let admin = *who == "admin";
        let reader = admin || *who == "auditor";
        let new_user = json!({"login": format!("new_{who}"), "name": "新人", "role": "staff"});
        let new_org = json!({"code": format!("org_{who}"), "kind": "department", "name": "新单位"});
        let cases: Vec<(Method, String, Option<Value>, S)> = vec![
            (
                Method::GET,
                "/api/v1/admin/users?q=lead".into(),
                None,
                S::OK,
            ),
            (
                Method::POST,
                "/api/v1/admin/users".into(),
                Some(new_user),
                S::CREATED,
            ),
            (Method::GET, "/api/v1/admin/users/lead".into(), None, S::OK),
            (
                Method::PATCH,
                "/api/v1/admin/users/mediator".into(),
                Some(json!({"name": "调解员甲"})),
                S::OK,
            ),
            (
                Method::GET,
                "/api/v1/admin/users/lead/tokens".into(),
                None,
                S::OK,
            ),
            (
                Method::POST,
                "/api/v1/admin/users/staff/tokens".into(),
                Some(json!({})),
                S::CREATED,
            ),
            (
                Method::DELETE,
                "/api/v1/admin/tokens/tok_none".into(),
                None,
                S::NOT_FOUND,
            ),
            (
                Method::DELETE,
                "/api/v1/admin/users/lead/sessions".into(),
                None,
                S::OK,
            ),
            (
                Method::GET,
                "/api/v1/admin/orgs?kind=station".into(),
                None,
                S::OK,
            ),
            (
                Method::POST,
                "/api/v1/admin/orgs".into(),
                Some(new_org),
                S::CREATED,
            ),
            (Method::GET, "/api/v1/admin/orgs/jtj".into(), None, S::OK),
            (
                Method::PATCH,
                "/api/v1/admin/orgs/wsj".into(),
                Some(json!({"email": "wsj@example.gov.cn"})),
                S::OK,
            ),
            (
                Method::GET,
                "/api/v1/admin/users/nobody".into(),
                None,
                S::NOT_FOUND,
            ),
        ];
        for (method, path, body, want) in cases {
            let r = send(&app, method.clone(), &path, who, body).await;
            let want = if admin { want } else { S::FORBIDDEN };
            assert_eq!(r.status, want, "{who} {method} {path}: {}", r.body);
        }
        for (method, path) in [
            (Method::GET, "/api/v1/audit?action=login&limit=5"),
            (Method::POST, "/api/v1/audit/verify"),
        ] {
            let r = send(&app, method.clone(), path, who, None).await;
            let want = if reader { S::OK } else { S::FORBIDDEN };
            assert_eq!(r.status, want, "{who} {method} {path}: {}", r.body);
        }
    }
    // The administrator's changes are in the audit log, searchable by action.
    let r = send(
        &app,
        Method::GET,
        "/api/v1/audit?action=user_added",
        "auditor",
        None,
    )
    .await;
    let targets: Vec<&str> = r.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["target"].as_str())
        .collect();
    assert_eq!(targets, ["new_admin"], "{}", r.body);
    let r = send(&app, Method::POST, "/api/v1/audit/verify", "auditor", None).await;
    assert_eq!(r.body["intact"], true, "{}", r.body);
}

#[tokio::test]
async fn a_disabled_persons_token_answers_401_on_the_very_next_request() {
    let app = app().await;
    let r = send(&app, Method::GET, "/api/v1/cases", "lead", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = send(
        &app,
        Method::PATCH,
        "/api/v1/admin/users/lead",
        "admin",
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["disabled"], true);
    let r = send(&app, Method::GET, "/api/v1/cases", "lead", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    // Enabled again, the old token stays revoked; a new one works.
    let r = send(
        &app,
        Method::PATCH,
        "/api/v1/admin/users/lead",
        "admin",
        Some(json!({"disabled": false})),
    )
    .await;
    assert_eq!(r.body["disabled"], false, "{}", r.body);
    let r = send(&app, Method::GET, "/api/v1/cases", "lead", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let made = send(
        &app,
        Method::POST,
        "/api/v1/admin/users/lead/tokens",
        "admin",
        Some(json!({"expires_at": "2099-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let token = made.body["token"].as_str().expect("token").to_string();
    assert!(token.starts_with("dbn_"));
    let mut req = axum::http::Request::builder()
        .uri("/api/v1/cases")
        .header("authorization", format!("Bearer {token}"));
    req = req.method(Method::GET);
    let res = tower::ServiceExt::oneshot(
        app.router.clone(),
        req.body(axum::body::Body::empty()).expect("request"),
    )
    .await
    .expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    // Revoked by its id, it stops.
    let id = made.body["id"].as_str().expect("id");
    let r = send(
        &app,
        Method::DELETE,
        &format!("/api/v1/admin/tokens/{id}"),
        "admin",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // Disabling an organisation stops its people acting.
    let r = send(&app, Method::GET, "/api/v1/cases", "co", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = send(
        &app,
        Method::PATCH,
        "/api/v1/admin/orgs/czj",
        "admin",
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(r.body["disabled"], true, "{}", r.body);
    let r = send(&app, Method::GET, "/api/v1/cases", "co", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_input_names_its_field_and_writes_nothing() {
    let app = app().await;
    for (body, field) in [
        (
            json!({"login": "x y", "name": "某", "role": "staff"}),
            "login",
        ),
        (json!({"login": "ok1", "name": "", "role": "staff"}), "name"),
        (
            json!({"login": "ok2", "name": "某", "role": "king"}),
            "role",
        ),
        (
            json!({"login": "ok3", "name": "某", "role": "department"}),
            "org",
        ),
        (
            json!({"login": "ok4", "name": "某", "role": "deputy", "org": "jtj"}),
            "org",
        ),
        (
            json!({"login": "ok5", "name": "某", "role": "staff", "email": "not-mail"}),
            "email",
        ),
        (
            json!({"login": "ok6", "name": "某", "role": "staff", "phone": "12345"}),
            "phone",
        ),
        (
            json!({"login": "lead", "name": "某", "role": "staff"}),
            "login",
        ),
    ] {
        let r = send(
            &app,
            Method::POST,
            "/api/v1/admin/users",
            "admin",
            Some(body),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.body["field"], field, "{}", r.body);
    }
    let r = send(&app, Method::GET, "/api/v1/admin/users?q=ok", "admin", None).await;
    assert_eq!(r.body["items"], json!([]), "nothing half-written");
    // An administrator cannot lock themselves out.
    let r = send(
        &app,
        Method::PATCH,
        "/api/v1/admin/users/admin",
        "admin",
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
}

#[tokio::test]
async fn a_new_administrator_is_announced_to_the_others() {
    let app = app().await;
    let r = send(
        &app,
        Method::POST,
        "/api/v1/admin/users",
        "admin",
        Some(json!({"login": "admin2", "name": "第二管理员", "role": "staff"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = send(
        &app,
        Method::PATCH,
        "/api/v1/admin/users/admin2",
        "admin",
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(r.body["role"], "admin", "{}", r.body);
    // The administrator who acted is not told of their own act.
    let r = send(&app, Method::GET, "/api/v1/notifications", "admin", None).await;
    assert_eq!(r.body["items"], json!([]), "{}", r.body);
    // admin2, now an administrator, makes a third: the first is told.
    let token = send(
        &app,
        Method::POST,
        "/api/v1/admin/users/admin2/tokens",
        "admin",
        Some(json!({})),
    )
    .await
    .body["token"]
        .as_str()
        .expect("token")
        .to_string();
    let mut req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/admin/users")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json");
    req = req.header("accept", "application/json");
    let res = tower::ServiceExt::oneshot(
        app.router.clone(),
        req.body(axum::body::Body::from(
            json!({"login": "admin3", "name": "第三管理员", "role": "admin"}).to_string(),
        ))
        .expect("request"),
    )
    .await
    .expect("response");
    assert_eq!(res.status(), StatusCode::CREATED);
    let r = send(&app, Method::GET, "/api/v1/notifications", "admin", None).await;
    let items = r.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{}", r.body);
    assert_eq!(items[0]["case_id"], Value::Null);
    assert!(
        items[0]["body"]
            .as_str()
            .is_some_and(|b| b.contains("admin3") && b.contains("系统管理员")),
        "{}",
        r.body
    );
}
