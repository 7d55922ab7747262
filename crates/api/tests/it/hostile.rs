//! Hostile input, as a property: random JSON, huge strings, deep nesting, invalid UTF-8, SQL
//! and script fragments in every field, wrong content types and methods — on every route.
//! Whatever arrives, the answer is never a 5xx, errors are problem documents, and nothing the
//! caller may not do is written.

use duban_storage::Cases;

use axum::body::Body;
use axum::http::{Method, Request};
use duban_api::AppState;
use duban_core::Role;
use duban_storage::OrgKind;
use duban_testkit::Office;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tower::ServiceExt;

const NASTY: &[&str] = &[
    "'; DROP TABLE cases; --",
    "\" OR 1=1 --",
    "<script>alert(1)</script>",
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "\u{0000}",
    "\u{202e}",
    "🙂",
    "%00",
    "{{7*7}}",
    "=cmd|' /C calc'!A0",
];

fn value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)),
        prop::sample::select(NASTY).prop_map(|s| serde_json::Value::String(s.to_string())),
        ".{0,40}".prop_map(serde_json::Value::String),
        (1usize..300_000).prop_map(|n| serde_json::Value::String("长".repeat(n))),
    ];
    leaf.prop_recursive(8, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(vec![
                        "kind",
                        "payload",
                        "title",
                        "body",
                        "station",
                        "constituent",
                        "lead_department",
                        "rating",
                        "until",
                        "reason"
                    ])
                    .prop_map(str::to_string),
                    ".{0,12}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
enum Body_ {
    Json(serde_json::Value),
    Bytes(Vec<u8>),
    Deep(usize),
}

fn body() -> impl Strategy<Value = Body_> {
    prop_oneof![
        6 => value().prop_map(Body_::Json),
        3 => value().prop_map(|v| Body_::Json(serde_json::json!({"kind": "petition", "payload": v}))),
        1 => prop::collection::vec(any::<u8>(), 0..200).prop_map(Body_::Bytes),
        1 => (10usize..5_000).prop_map(Body_::Deep),
    ]
}

fn route() -> impl Strategy<Value = (Method, String)> {
    let id = prop_oneof![
        Just("CASE".to_string()),
        ".{0,20}".prop_map(|s| s.replace(['/', '?', '#', ' '], "")),
        prop::sample::select(NASTY).prop_map(|s| s.to_string())
    ];
    let action = prop_oneof![
        Just("reply".to_string()),
        Just("transfer".to_string()),
        "[a-z_]{0,12}"
    ];
    prop_oneof![
        Just((Method::POST, "/api/v1/cases".to_string())),
        ".{0,30}".prop_map(|q| (
            Method::GET,
            format!("/api/v1/cases?{}", q.replace(['#', ' '], ""))
        )),
        id.clone()
            .prop_map(|i| (Method::GET, format!("/api/v1/cases/{i}"))),
        (id.clone(), action)
            .prop_map(|(i, a)| (Method::POST, format!("/api/v1/cases/{i}/actions/{a}"))),
        id.clone()
            .prop_map(|i| (Method::GET, format!("/api/v1/cases/{i}/events"))),
        Just((Method::GET, "/api/v1/reports/annual?year=2024".to_string())),
        Just((Method::PUT, "/api/v1/cases".to_string())),
        Just((
            Method::GET,
            "/api/v1/notifications?limit=1000000".to_string()
        )),
    ]
}

fn encode(path: &str) -> String {
    path.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "/?=&-_.~".contains(c) {
                c.to_string()
            } else {
                c.to_string().bytes().map(|b| format!("%{b:02X}")).collect()
            }
        })
        .collect()
}

#[test]
fn no_input_makes_the_server_fail_or_leak() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (router, office, case_id) = rt.block_on(async {
        let office = Office::builder()
            .org("st1", OrgKind::Station, "站")
            .user("liu", Role::Deputy, Some("st1"))
            .tokens()
            .opens_at("2024-03-01T10:00:00")
            .build()
            .await;
        let state = AppState { service: office.service.clone() };
        let p = office.principal("liu").await;
        let (case, _) = state
            .service
            .file(&p, "petition", &serde_json::json!({"title": "t", "body": "b", "station": "st1", "constituent": {"name": "王"}}), None, None)
            .await
            .expect("file");
        let limits = duban_api::Limits { per_second: 1e9, burst: 1e9 };
        (duban_api::router_with(state, limits), office, case.record.id)
    });
    let store = &office.store;
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        route(),
        body(),
        prop::sample::select(vec![
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "",
        ]),
        any::<bool>(),
    );
    runner
        .run(
            &strategy,
            |((method, path), body, content_type, authorised)| {
                let path = encode(&path.replace("CASE", &case_id));
                let bytes = match body {
                    Body_::Json(v) => serde_json::to_vec(&v).unwrap_or_default(),
                    Body_::Bytes(b) => b,
                    Body_::Deep(n) => format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes(),
                };
                let mut req = Request::builder()
                    .method(method.clone())
                    .uri(&path)
                    .header("if-match", "\"1\"");
                if !content_type.is_empty() {
                    req = req.header("content-type", content_type);
                }
                if authorised {
                    req = req.header("authorization", "Bearer token-liu");
                }
                let Ok(req) = req.body(Body::from(bytes)) else {
                    return Ok(());
                };
                let (status, ctype, text) = rt.block_on(async {
                    let res = router.clone().oneshot(req).await.expect("response");
                    let status = res.status();
                    let ctype = res
                        .headers()
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let bytes = axum::body::to_bytes(res.into_body(), 8 << 20)
                        .await
                        .expect("body");
                    (status, ctype, String::from_utf8_lossy(&bytes).to_string())
                });
                prop_assert!(
                    !status.is_server_error(),
                    "{method} {path} → {status}: {text}"
                );
                if status.is_client_error() && status.as_u16() != 405 {
                    prop_assert_eq!(
                        &ctype,
                        "application/problem+json",
                        "{} {} → {}",
                        method,
                        path,
                        status
                    );
                }
                prop_assert!(
                    !text.contains("sqlx")
                        && !text.contains("SQLITE")
                        && !text.contains("panicked"),
                    "internals leaked: {}",
                    text
                );
                Ok(())
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    // The deputy may act on their petition, so hostile bodies could have moved it: whatever
    // happened, its history is whole and the projection is its fold.
    rt.block_on(async {
        let record = store.case(&case_id).await.expect("read").expect("case");
        let events = store.events(&case_id).await.expect("events");
        assert_eq!(events.len() as u64, record.case.version);
        let folded = duban_core::machine::Case::fold(
            &record.case.kind,
            record.case.workflow_version,
            &record.case.workflow_digest,
            events.iter().map(|e| &e.event),
        );
        assert_eq!(folded, Some(record.case));
    });
}
