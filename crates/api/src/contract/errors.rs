//! Every error answer in the document: one `Problem` schema with its stable `type` values, and on
//! each operation the statuses the layers and extractors in front of its handler can give (401
//! for a token, 400/413/415 for a body, 404 for a path's object, 405, 429 with `Retry-After`,
//! 500), as `application/problem+json`.

use serde_json::{Map, Value, json};

/// The stable `type` of every problem the API answers, with what it means.
pub const TYPES: [(&str, u16, &str); 17] = [
    (
        "malformed-request",
        400,
        "the request cannot be read: bad JSON, a bad parameter or header",
    ),
    (
        "unauthenticated",
        401,
        "no token, or an unknown, revoked or expired one",
    ),
    (
        "forbidden",
        403,
        "the caller's role or party may not do this",
    ),
    (
        "not-found",
        404,
        "no such object, or one the caller may not see",
    ),
    ("route-not-found", 404, "no such route"),
    (
        "method-not-allowed",
        405,
        "the route does not take this method",
    ),
    (
        "idempotency-key-reused",
        409,
        "the Idempotency-Key was used for another request",
    ),
    (
        "stale-version",
        412,
        "the case changed since the version in If-Match",
    ),
    (
        "payload-too-large",
        413,
        "the body, or an uploaded file, is over the limit",
    ),
    (
        "unsupported-media-type",
        415,
        "the body is not JSON, or an uploaded file is not an accepted kind of document",
    ),
    ("validation", 422, "fields are invalid; `errors` lists each"),
    ("unknown-kind", 422, "no workflow for this kind of case"),
    (
        "action-not-allowed",
        422,
        "the action is not open now; `allowed_actions` lists those that are",
    ),
    (
        "if-match-required",
        428,
        "acting needs the case's version in If-Match",
    ),
    (
        "rate-limited",
        429,
        "too many requests; wait `Retry-After` seconds",
    ),
    (
        "headers-too-large",
        431,
        "the request's headers are too large",
    ),
    (
        "internal",
        500,
        "something failed inside; the log says what",
    ),
];

fn urn(slug: &str) -> String {
    format!("urn:duban:problem:{slug}")
}

/// The `Problem` schema's `type`, as an enum of the values above.
pub fn type_schema() -> Value {
    let lines: Vec<String> = TYPES
        .iter()
        .map(|(slug, status, what)| format!("`{}` ({status}) {what}", urn(slug)))
        .collect();
    json!({
        "type": "string",
        "enum": TYPES.iter().map(|(slug, _, _)| urn(slug)).collect::<Vec<_>>(),
        "x-enum-descriptions": TYPES.iter().map(|(_, _, what)| *what).collect::<Vec<_>>(),
        "description": format!("A stable identifier of the kind of problem: {}", lines.join("; ")),
    })
}

/// An example problem for a status: the first type that answers it.
pub fn example(status: u16) -> Option<Value> {
    let (slug, _, what) = TYPES.iter().find(|(_, s, _)| *s == status)?;
    let mut problem = json!({
        "type": urn(slug),
        "title": what,
        "status": status,
        "detail": what,
    });
    if *slug == "validation" {
        problem["field"] = json!("lead_department");
        problem["detail"] = json!("lead_department: names no organisation");
        problem["errors"] =
            json!([{"field": "lead_department", "problem": "names no organisation"}]);
    }
    Some(problem)
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    })
}

/// What every route may answer besides its own responses, since layers in front of every route
/// give them: 405 for another method, 429 from the rate limits, with `Retry-After`, and 500 when
/// something fails inside. API routes answer them as problems; the others (`/healthz`), as a page.
fn every_route(path: &str) -> [(&'static str, Value); 3] {
    let body = |description: &str| {
        if path.starts_with("/api/") {
            problem(description)
        } else {
            json!({"description": description, "content": {"text/html": {"schema": {"type": "string"}}}})
        }
    };
    let mut limited =
        body("Too many requests from this address or token: try again after `Retry-After` seconds");
    limited["headers"] = json!({
        "Retry-After": {
            "description": "Seconds to wait before the next request",
            "schema": {"type": "integer", "minimum": 1}
        }
    });
    [
        ("405", body("The route does not take this method")),
        ("429", limited),
        (
            "500",
            body("Something failed inside; the answer says nothing of the cause, the log does"),
        ),
    ]
}

/// Adds the error answers to every operation, and labels problem bodies as
/// `application/problem+json` (utoipa declares every body `application/json`).
pub fn add(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    if let Some(kind) = schemas
        .get_mut("Problem")
        .and_then(|p| p.pointer_mut("/properties/type"))
    {
        *kind = type_schema();
    }
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let has_path_params = path.contains('{');
        for op in item.values_mut() {
            let secured = op.get("security").is_some_and(|s| s != &json!([{}]));
            let has_body = op.get("requestBody").is_some();
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            for (status, response) in every_route(path) {
                responses.entry(status).or_insert(response);
            }
            if path.starts_with("/api/") {
                let mut add = |status: &str, description: &str| {
                    responses
                        .entry(status)
                        .or_insert_with(|| problem(description));
                };
                if secured {
                    add("401", "No token, or an unknown, revoked or expired one");
                    add("403", "The caller may not do this");
                }
                if has_body {
                    add("400", "The body is not valid JSON");
                    add("413", "The body is over the limit");
                    add("415", "The body is not `application/json`");
                }
                if has_path_params {
                    add("404", "No such object, or not one the caller may see");
                }
            }
            for response in responses.values_mut() {
                relabel(response);
            }
        }
    }
}

/// A body whose schema is `Problem` is `application/problem+json`.
fn relabel(response: &mut Value) {
    let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
        return;
    };
    let is_problem = content
        .get("application/json")
        .and_then(|c| c.pointer("/schema/$ref"))
        .and_then(Value::as_str)
        .is_some_and(|r| r.ends_with("/Problem"));
    if is_problem && let Some(json) = content.remove("application/json") {
        content.insert("application/problem+json".into(), json);
    }
}
