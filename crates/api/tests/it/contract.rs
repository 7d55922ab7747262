//! The OpenAPI contract: the document lists exactly the routes served, one operation per action
//! of the loaded workflows (a deployment's own kind included), everything typed, every error
//! documented, an example for every schema and operation, and real answers valid against it.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use duban_api::AppState;
use duban_core::workflow::BUILTIN_WORKFLOWS;
use duban_core::{Calendar, Source, Workflows};
use duban_service::Service;
use serde_json::{Value, json};

use crate::app::*;
use crate::schema::violations;

async fn document(app: &App) -> Value {
    call(app, Method::GET, "/api/v1/openapi.json", None, &[], None)
        .await
        .body
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_served_one_per_action() {
    let app = app().await;
    let doc = call(&app, Method::GET, "/api/v1/openapi.json", None, &[], None)
        .await
        .body;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = Vec::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                operations.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    operations.sort();
    // The fixed operations, and one per action of the loaded workflows.
    let mut expected: Vec<String> = [
        "DELETE /api/v1/admin/tokens/{id}",
        "DELETE /api/v1/admin/users/{login}/sessions",
        "GET /api/v1/admin/orgs",
        "GET /api/v1/admin/orgs/{code}",
        "GET /api/v1/admin/users",
        "GET /api/v1/admin/users/{login}",
        "GET /api/v1/admin/users/{login}/tokens",
        "GET /api/v1/audit",
        "PATCH /api/v1/admin/orgs/{code}",
        "PATCH /api/v1/admin/users/{login}",
        "POST /api/v1/admin/orgs",
        "POST /api/v1/admin/users",
        "POST /api/v1/admin/users/{login}/password-reset",
        "POST /api/v1/admin/users/{login}/tokens",
        "POST /api/v1/audit/verify",
        "GET /api/v1/cases",
        "GET /api/v1/cases/{id}",
        "GET /api/v1/cases/{id}/events",
        "GET /api/v1/attachments/{id}",
        "GET /api/v1/cases/{id}/attachments",
        "POST /api/v1/cases/{id}/attachments",
        "GET /api/v1/deliveries",
        "GET /api/v1/notifications",
        "GET /api/v1/openapi.json",
        "GET /api/v1/queue",
        "GET /api/v1/reports/annual",
        "GET /api/v1/workflows",
        "GET /healthz",
        "POST /api/v1/cases",
        "POST /api/v1/deliveries/{id}/retry",
        "POST /api/v1/notifications/read-all",
        "POST /api/v1/notifications/{id}/read",
    ]
    .map(String::from)
    .to_vec();
    for w in Workflows::builtin().iter() {
        for a in &w.actions {
            expected.push(format!("POST /api/v1/cases/{{id}}/actions/{}", a.name));
        }
    }
    expected.sort();
    expected.dedup();
    assert_eq!(operations, expected);
    assert!(operations.len() > 30, "{}", operations.len());
    // Every documented operation is served: none answers "no such route" or 405.
    for op in &operations {
        let (method, path) = op.split_once(' ').expect("op");
        let path = path.replace("{id}", "x");
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let r = call(&app, method, &path, Some("staff"), &[], Some("{}".into())).await;
        assert_ne!(r.body["type"], "urn:duban:problem:route-not-found", "{op}");
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{op}");
    }
    // Every operation that needs a token says so, and the scheme is declared.
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("item") {
            let open = path == "/healthz" || path == "/api/v1/openapi.json";
            assert_eq!(
                op["security"] == json!([{}]),
                open,
                "{method} {path}: security {}",
                op["security"]
            );
        }
    }
}

#[tokio::test]
async fn every_operation_documents_the_rate_limit_and_the_server_error() {
    let app = app().await;
    let doc = call(&app, Method::GET, "/api/v1/openapi.json", None, &[], None)
        .await
        .body;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let responses = &op["responses"];
            let limited = &responses["429"];
            assert!(
                limited["headers"]["Retry-After"].is_object(),
                "{method} {path}: 429 without Retry-After"
            );
            assert!(responses["500"].is_object(), "{method} {path}: no 500");
            if path.starts_with("/api/") {
                assert_eq!(
                    limited["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path}"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_instant_is_a_date_time_and_every_last_day_a_date() {
    let app = app().await;
    let doc = call(&app, Method::GET, "/api/v1/openapi.json", None, &[], None)
        .await
        .body;
    let mut seen = 0;
    for (schema, body) in doc["components"]["schemas"].as_object().expect("schemas") {
        let Some(props) = body["properties"].as_object() else {
            continue;
        };
        for (name, prop) in props {
            let want = if name == "at" || name.ends_with("_at") {
                "date-time"
            } else if name == "due_date" {
                "date"
            } else {
                continue;
            };
            seen += 1;
            assert_eq!(prop["format"], want, "{schema}.{name}");
        }
    }
    assert!(seen >= 12, "only {seen} instants and dates found");
}

/// A kind of its own, as a deployment would add it: a file, and nothing else.
const INQUIRY: &str = r#"
kind = "inquiry"
version = 1
title = "社情民意"
initial = "received"
number = "民意〔{year}〕{seq:03}号"
parties = ["filer"]

[filing]
roles = ["deputy", "staff"]

[filing.payload]
title = { type = "text", required = true, max_length = 200 }
body = { type = "text", required = true, max_length = 20000 }
channel = { type = "enum", values = ["visit", "letter"], required = true }

[states.received]
title = "已收集"
waits_on = ["role:staff"]

[states.forwarded]
title = "已转送"
terminal = true

[actions.forward_to_government]
title = "转送政府有关部门"
from = "received"
to = "forwarded"
roles = ["staff"]
payload.note = { type = "text", max_length = 2000 }
payload.on = { type = "date", required = true }
"#;

fn with_inquiry() -> Workflows {
    let mut sources: Vec<Source<'_>> = BUILTIN_WORKFLOWS.to_vec();
    sources.push(Source {
        name: "inquiry.toml",
        text: INQUIRY,
    });
    Workflows::load(&sources).expect("the fourth kind loads")
}

#[tokio::test]
async fn a_deployments_own_kind_brings_its_operations_and_routes() {
    let workflows = with_inquiry();
    let doc = duban_api::openapi_json(&workflows);
    let op = &doc["paths"]["/api/v1/cases/{id}/actions/forward_to_government"]["post"];
    assert_eq!(op["operationId"], "act_forward_to_government", "{op}");
    let payload = &doc["components"]["schemas"]["ForwardToGovernmentPayload"];
    assert_eq!(payload["required"], json!(["on"]));
    assert_eq!(payload["properties"]["on"]["format"], "date");
    assert_eq!(
        doc["components"]["schemas"]["NewCase"]["discriminator"]["mapping"]["inquiry"],
        "#/components/schemas/InquiryNewCase"
    );
    let kinds = &doc["components"]["schemas"]["Kind"]["enum"];
    assert!(
        kinds
            .as_array()
            .is_some_and(|k| k.contains(&json!("inquiry"))),
        "{kinds}"
    );
    // And the server built on those workflows serves it.
    let app = app().await;
    let service = Service::new(
        app.office.store.clone(),
        Arc::new(workflows),
        Arc::new(Calendar::builtin()),
        app.office.clock.clone(),
    );
    let router = duban_api::router(AppState {
        service: Arc::new(service),
    });
    let served = App {
        router,
        state: app.state.clone(),
        office: app.office,
    };
    let filed = post(
        &served,
        "/api/v1/cases",
        "staff",
        None,
        json!({"kind": "inquiry", "payload": {"title": "村道路灯不亮", "body": "群众反映", "channel": "visit"}}),
    )
    .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
    let id = filed.body["id"].as_str().expect("id");
    let r = post(
        &served,
        &format!("/api/v1/cases/{id}/actions/forward_to_government"),
        "staff",
        Some("1"),
        json!({"on": "2024-03-01"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["state"], "forwarded");
    let doc = document(&served).await;
    for (status, body) in [(201, &filed.body), (200, &r.body)] {
        let schema = json!({"$ref": "#/components/schemas/CaseDto"});
        assert_eq!(
            violations(&doc, &schema, body),
            Vec::<String>::new(),
            "{status}"
        );
    }
}

#[tokio::test]
async fn actions_filings_and_answers_are_typed() {
    let app = app().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    // An action's payload: its fields, required ones, enums described in Chinese, dates.
    // `assign` is an action of two kinds, each with its payload: the body is either.
    let assign = &doc["paths"]["/api/v1/cases/{id}/actions/assign"]["post"];
    let body = &assign["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(
        body["anyOf"],
        json!([
            {"$ref": "#/components/schemas/DeliberationAssignPayload"},
            {"$ref": "#/components/schemas/SuggestionAssignPayload"}
        ]),
        "{assign}"
    );
    assert_eq!(
        schemas["SuggestionAssignPayload"]["required"],
        json!(["lead_department"])
    );
    assert_eq!(
        schemas["SuggestionAssignPayload"]["additionalProperties"],
        json!(false)
    );
    let reply = &schemas["SuggestionReplyPayload"]["properties"]["classification"];
    assert_eq!(reply["enum"], json!(["A", "B", "C", "D"]));
    assert!(
        reply["description"]
            .as_str()
            .is_some_and(|d| d.contains("已解决或采纳")),
        "{reply}"
    );
    let rating = &schemas["SuggestionEvaluatePayload"]["properties"]["rating"];
    assert!(
        rating["x-enum-descriptions"]
            .to_string()
            .contains("基本满意"),
        "{rating}"
    );
    assert_eq!(
        schemas["RequestExtensionPayload"]["properties"]["until"]["format"],
        "date"
    );
    assert_eq!(
        schemas["SuggestionFiling"]["properties"]["title"]["maxLength"],
        200
    );
    // Filing is one of the kinds.
    let file = &doc["paths"]["/api/v1/cases"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(file["$ref"], "#/components/schemas/NewCase");
    assert_eq!(
        schemas["NewCase"]["oneOf"].as_array().map(Vec::len),
        Some(6)
    );
    // Answers name their words by the enums.
    for (schema, property, target) in [
        ("CaseDto", "kind", "Kind"),
        ("CaseDto", "state", "State"),
        ("CaseDto", "filing", "Filing"),
        ("CaseSummaryDto", "state", "State"),
        ("EventDto", "action", "Action"),
        ("EventDto", "actor_role", "Role"),
        ("EventDto", "payload", "EventPayload"),
    ] {
        assert_eq!(
            schemas[schema]["properties"][property]["$ref"],
            format!("#/components/schemas/{target}"),
            "{schema}.{property}"
        );
    }
    assert_eq!(
        schemas["CaseDto"]["properties"]["allowed_actions"]["items"]["$ref"],
        "#/components/schemas/Action"
    );
    assert_eq!(
        doc["paths"]["/api/v1/workflows"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"]["items"]["$ref"],
        "#/components/schemas/Workflow"
    );
    assert_eq!(
        doc["paths"]["/api/v1/reports/annual"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"]["$ref"],
        "#/components/schemas/AnnualReport"
    );
    // One Problem, its types listed.
    let types = &schemas["Problem"]["properties"]["type"]["enum"];
    assert_eq!(
        types.as_array().map(Vec::len),
        Some(duban_api::PROBLEM_TYPES.len())
    );
    assert!(
        types
            .as_array()
            .is_some_and(|t| t.contains(&json!("urn:duban:problem:action-not-allowed")))
    );
}

#[tokio::test]
async fn every_error_an_operation_can_answer_is_a_documented_problem() {
    let app = app().await;
    let doc = document(&app).await;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let responses = &op["responses"];
            let mut want = vec!["405", "429", "500"];
            if path.starts_with("/api/v1/") && path != "/api/v1/openapi.json" {
                want.extend(["401", "403"]);
            }
            if op.get("requestBody").is_some() {
                want.extend(["400", "413", "415", "422"]);
            }
            if path.contains("/actions/") {
                want.extend(["404", "412", "428"]);
            }
            for status in want {
                let r = &responses[status];
                assert!(r.is_object(), "{method} {path}: no {status}");
                if path.starts_with("/api/") {
                    assert_eq!(
                        r["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn every_schema_and_operation_has_an_example_that_conforms() {
    let app = app().await;
    let doc = document(&app).await;
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        let example = schema
            .pointer("/examples/0")
            .unwrap_or_else(|| panic!("{name} has no example"));
        assert_eq!(
            violations(&doc, schema, example),
            Vec::<String>::new(),
            "{name}: {example}"
        );
    }
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let mut bodies: Vec<(&str, &Value)> = Vec::new();
            if let Some(c) = op
                .pointer("/requestBody/content")
                .and_then(Value::as_object)
            {
                bodies.extend(c.values().map(|b| ("request", b)));
            }
            for (status, r) in op["responses"].as_object().expect("responses") {
                if let Some(c) = r["content"].as_object() {
                    bodies.extend(c.values().map(|b| (status.as_str(), b)));
                }
            }
            let with_example = bodies
                .iter()
                .filter(|(_, b)| b.get("example").is_some())
                .count();
            assert!(with_example > 0, "{method} {path} has no example");
            for (status, b) in bodies {
                if let Some(e) = b.get("example") {
                    assert_eq!(
                        violations(&doc, &b["schema"], e),
                        Vec::<String>::new(),
                        "{method} {path} {status}: {e}"
                    );
                }
            }
        }
    }
}

/// The schema an operation documents for a status.
fn answer_schema(doc: &Value, method: &str, path: &str, status: u16) -> Value {
    let r = &doc["paths"][path][method]["responses"][status.to_string()];
    let content = r["content"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} {status} undocumented"));
    content
        .values()
        .next()
        .map(|c| c["schema"].clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn real_answers_are_valid_against_the_document() {
    let app = app().await;
    let doc = document(&app).await;
    let conforms = |method: &str, path: &str, r: &Reply| {
        let schema = answer_schema(&doc, method, path, r.status.as_u16());
        assert_eq!(
            violations(&doc, &schema, &r.body),
            Vec::<String>::new(),
            "{method} {path} {}: {}",
            r.status,
            r.body
        );
    };
    let filed = post(&app, "/api/v1/cases", "filer", None, json!({"kind": "suggestion", "payload": {
        "title": "关于加快农村公路提档升级的建议", "body": "……", "category": "urban_rural", "cosigners": ["cosigner"]}})).await;
    conforms("post", "/api/v1/cases", &filed);
    // The check itself finds what is wrong: a kind no workflow has, a field of the wrong type.
    let case = json!({"$ref": "#/components/schemas/CaseDto"});
    let mut wrong = filed.body.clone();
    wrong["kind"] = json!("nope");
    wrong["filing"]["cosigners"] = json!("cosigner");
    assert_eq!(violations(&doc, &case, &wrong).len(), 2, "{wrong}");
    let id = filed.body["id"].as_str().expect("id").to_string();
    let petition = post(&app, "/api/v1/cases", "filer", None, json!({"kind": "petition", "payload": {
        "title": "路灯", "body": "b", "station": "st1", "constituent": {"name": "张三丰", "phone": "13800135678"}}})).await;
    conforms("post", "/api/v1/cases", &petition);
    let act = |name: &str| format!("/api/v1/cases/{{id}}/actions/{name}");
    let r = post(
        &app,
        &format!("/api/v1/cases/{id}/actions/register"),
        "staff",
        Some("1"),
        json!({}),
    )
    .await;
    conforms("post", &act("register"), &r);
    let r = post(
        &app,
        &format!("/api/v1/cases/{id}/actions/assign"),
        "staff",
        Some("2"),
        json!({"lead_department": "jtj", "co_departments": ["czj"]}),
    )
    .await;
    conforms("post", &act("assign"), &r);
    let r = post(
        &app,
        &format!("/api/v1/cases/{id}/actions/reply"),
        "lead",
        Some("3"),
        json!({"classification": "E"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    conforms("post", &act("reply"), &r);
    let r = post(
        &app,
        &format!("/api/v1/cases/{id}/actions/reply"),
        "lead",
        Some("3"),
        json!({"classification": "A", "answer": "已采纳"}),
    )
    .await;
    conforms("post", &act("reply"), &r);
    let r = post(
        &app,
        &format!("/api/v1/cases/{id}/actions/evaluate"),
        "filer",
        Some("4"),
        json!({"rating": "basically_satisfied"}),
    )
    .await;
    conforms("post", &act("evaluate"), &r);
    let pid = petition.body["id"].as_str().expect("id");
    for (who, path, shape) in [
        ("staff", format!("/api/v1/cases/{id}"), "/api/v1/cases/{id}"),
        (
            "staff",
            format!("/api/v1/cases/{pid}?reveal=phone&reason=联系信访人"),
            "/api/v1/cases/{id}",
        ),
        (
            "staff",
            format!("/api/v1/cases/{id}/events"),
            "/api/v1/cases/{id}/events",
        ),
        (
            "staff",
            format!("/api/v1/cases/{pid}/events"),
            "/api/v1/cases/{id}/events",
        ),
        ("staff", "/api/v1/cases".into(), "/api/v1/cases"),
        ("staff", "/api/v1/queue".into(), "/api/v1/queue"),
        (
            "lead",
            "/api/v1/notifications".into(),
            "/api/v1/notifications",
        ),
        ("staff", "/api/v1/workflows".into(), "/api/v1/workflows"),
        (
            "staff",
            "/api/v1/reports/annual?year=2024".into(),
            "/api/v1/reports/annual",
        ),
        ("admin", "/api/v1/deliveries".into(), "/api/v1/deliveries"),
        ("admin", "/api/v1/cases".into(), "/api/v1/cases"),
        ("staff", "/api/v1/cases/nope".into(), "/api/v1/cases/{id}"),
        ("staff", "/api/v1/cases?limit=0".into(), "/api/v1/cases"),
    ] {
        let r = call(&app, Method::GET, &path, Some(who), &[], None).await;
        conforms("get", shape, &r);
    }
    let r = call(&app, Method::GET, "/api/v1/cases", None, &[], None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    conforms("get", "/api/v1/cases", &r);
}
