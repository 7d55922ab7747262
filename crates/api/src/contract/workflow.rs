//! The schema of a workflow definition as `GET /api/v1/workflows` answers it: the serde form of
//! core's `Workflow`, written out once here (core stays free of the API's schema library). The
//! test `every_answer_conforms_to_the_document` checks real answers against it.

use duban_core::Workflows;
use serde_json::{Map, Value, json};

fn to(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn or_null(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "null"}]})
}

fn list(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn text() -> Value {
    json!({"type": "string"})
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

/// A `(field, value)` pair, as serde writes a tuple.
fn pair() -> Value {
    json!({"type": "array", "prefixItems": [text(), text()], "minItems": 2, "maxItems": 2})
}

/// A period and where it counts from, as serde writes the tuple.
fn period_from() -> Value {
    json!({
        "type": "array",
        "prefixItems": [to("WorkflowPeriod"), to("WorkflowAnchor")],
        "minItems": 2, "maxItems": 2,
    })
}

/// Adds `Workflow` and the schemas it is made of, each with an example from the loaded files.
pub fn add(schemas: &mut Map<String, Value>, workflows: &Workflows) {
    let period = object(
        &["amount", "unit"],
        json!({
            "amount": {"type": "integer", "minimum": 0},
            "unit": {"type": "string", "enum": ["days", "working_days", "months"],
                     "description": "`days` 自然日; `working_days` 工作日 (holidays and make-up working days counted); `months` 月"},
        }),
    );
    let anchor = object(
        &["from"],
        json!({
            "from": {"type": "string", "enum": ["entered", "action", "due"],
                     "description": "`entered` the state was entered; `action` the latest time `action` was taken; `due` the deadline as first counted"},
            "action": text(),
        }),
    );
    let audience = object(
        &["to", "name"],
        json!({
            "to": {"type": "string", "enum": ["party", "role"]},
            "name": {"type": "string", "description": "A party of the case, or a role"},
        }),
    );
    let field = object(
        &["name", "ty", "required"],
        json!({
            "name": text(),
            "ty": object(&["type"], json!({
                "type": {"type": "string", "enum": ["text", "integer", "boolean", "date", "enum", "org", "orgs", "user", "users", "person", "file"]},
                "values": list(text()),
            })),
            "required": {"type": "boolean"},
            "max_length": or_null(json!({"type": "integer", "minimum": 0})),
            "min": or_null(json!({"type": "integer", "description": "An integer field's least value"})),
            "max": or_null(json!({"type": "integer", "description": "An integer field's greatest value"})),
            "sets": or_null(to("Party")),
            "required_when": list(pair()),
            "org_kind": or_null(json!({"type": "string", "enum": duban_core::workflow::ORG_KINDS})),
            "user_role": list(to("Role")),
            "own_org_for": list(to("Role")),
            "title": {"type": "string", "description": "What people call the field: its label on forms and pages (without one, the built-in name of its code)"},
            "value_titles": {
                "type": "object", "additionalProperties": {"type": "string"},
                "description": "What people call each enum value, by value (without one, the built-in name of its code)",
            },
        }),
    );
    let deadline = object(
        &["period", "from"],
        json!({
            "period": to("WorkflowPeriod"),
            "from": to("WorkflowAnchor"),
            "extension": or_null(object(&["action"], json!({
                "action": to("Action"),
                "max_times": or_null(json!({"type": "integer", "minimum": 0})),
                "limit": or_null(period_from()),
            }))),
            "basis": or_null(text()),
        }),
    );
    let state = object(
        &["name", "title", "terminal", "stage"],
        json!({
            "name": to("State"),
            "title": text(),
            "terminal": {"type": "boolean"},
            "deadline": or_null(deadline),
            "due_on": or_null(json!({
                "type": "string",
                "description": "Instead of a period: the deadline falls on the date an earlier step gave in this date field (a B answer's promised date, 回头看).",
            })),
            "duties": list(object(&["name", "owed_by", "done_by"], json!({
                "name": text(), "title": text(), "owed_by": to("Party"),
                "period": to("WorkflowPeriod"), "from": to("WorkflowAnchor"), "done_by": to("Action"),
            }))),
            "waits_on": list(to("WorkflowAudience")),
            "stage": {
                "type": "string", "enum": ["handling", "rating", "office", "follow_up"],
                "description": "Whose step the state is: an overdue case here counts against the handler, the rater, the office, or a promise followed up (回头看).",
            },
        }),
    );
    let action = object(
        &["name", "title", "from", "roles"],
        json!({
            "name": to("Action"),
            "title": text(),
            "from": list(to("State")),
            "to": or_null(to("State")),
            "routes": list(object(&["to"], json!({
                "from": or_null(to("State")), "to": to("State"),
                "when": {
                    "type": "array", "items": pair(),
                    "description": "Enum fields and their values: the action's payload, or for a field it does not carry, the latest an earlier step chose.",
                },
            }))),
            "roles": list(to("Role")),
            "by": list(to("Party")),
            "payload": list(to("WorkflowField")),
            "within": or_null(period_from()),
            "once": {"type": "boolean"},
            "answered_by": list(to("Action")),
            "only_to_answer": {"type": "boolean"},
            "when": list(pair()),
            "requires": list(to("Party")),
            "decided_by": {
                "type": "array", "items": to("Party"),
                "description": "Only these parties' taking the action moves the case; anyone else in `by` records their part, once, while they owe a duty of the state it discharges (each co-signer rates each reply; the lead deputy decides).",
            },
            "link": {
                "type": "boolean",
                "description": "May be taken from a signed link in a notice, without signing in: each person in `by` gets their own, bound to the case, to them and to the state as it was entered, usable once until their window ends (a deputy rating a reply from the e-mail).",
            },
            "vote": or_null(object(&["of", "yes", "no"], json!({
                "of": {"type": "string", "description": "The integer field counting everyone entitled to vote: a vote passes with more than half of it"},
                "yes": list(text()),
                "no": list(text()),
                "result": or_null(pair()),
            }))),
            "clock": or_null(json!({
                "type": "string", "enum": ["pause", "resume"],
                "description": "Stops the state's deadline, or starts it again with its last day moved later by the paused days.",
            })),
        }),
    );
    let workflow = object(
        &["kind", "version", "title", "initial", "states", "actions"],
        json!({
            "kind": to("Kind"),
            "version": {"type": "integer", "minimum": 0},
            "digest": {"type": "string", "description": "A hash of the file's text"},
            "title": text(),
            "source": {"type": "string", "description": "The file it was loaded from"},
            "initial": to("State"),
            "parties": list(to("Party")),
            "filing": object(&["roles", "payload"], json!({
                "roles": list(to("Role")), "payload": list(to("WorkflowField")),
                "titles": {
                    "type": "array", "items": pair(),
                    "description": "What the link to file one is called, by role (staff 登记建议, a deputy 提出建议); without one, 登记 and the kind's title",
                },
            })),
            "states": list(to("WorkflowState")),
            "actions": list(to("WorkflowAction")),
            "reminders": list(object(&["state", "when", "notify"], json!({
                "state": to("State"),
                "duty": or_null(text()),
                "when": object(&["when"], json!({
                    "when": {"type": "string", "enum": ["entered", "before_due", "at_due", "overdue", "overdue_every"]},
                    "days": {"type": "integer", "minimum": 0},
                })),
                "notify": list(to("WorkflowAudience")),
                "escalate": {"type": "boolean"},
            }))),
            "number": object(&["text", "parts"], json!({
                "text": {"type": "string", "description": "The number format, such as 建议〔{year}〕{seq:03}号"},
                "parts": list(object(&["part"], json!({
                    "part": {"type": "string", "enum": ["literal", "year", "seq", "field"]},
                    "value": {"type": ["string", "integer"]},
                }))),
            })),
            "report": or_null(object(&["title", "counts", "sentence"], json!({
                "title": text(),
                "sentence": {"type": "string", "description": "The annual report's sentence, with `{name}` for each count's figure"},
                "by": or_null(json!({"type": "string", "description": "A party each count is broken down by (station, mediators, lead_department, supervisor)"})),
                "counts": list(object(&["name", "title", "counted"], json!({
                    "name": text(),
                    "title": text(),
                    "counted": {
                        "type": "object",
                        "description": "One of `reached` (a state entered), `took` (`action` taken, with an enum value chosen in it, `when`), `sum` (an integer `field` of `action` summed) or `in` (the states a case stands in at the instant)",
                        "properties": {
                            "reached": text(),
                            "took": object(&["action", "when"], json!({"action": text(), "when": list(pair())})),
                            "sum": object(&["action", "field"], json!({"action": text(), "field": text()})),
                            "in": list(text()),
                        },
                    },
                }))),
            }))),
            "notices": list(object(&["action", "title", "notify"], json!({
                "action": to("Action"),
                "to": or_null(to("State")),
                "when": {
                    "type": "array", "items": pair(),
                    "description": "Only when the action's payload chose these enum values.",
                },
                "title": text(),
                "notify": list(to("WorkflowAudience")),
                "escalate": {"type": "boolean"},
            }))),
        }),
    );
    let first = workflows
        .iter()
        .next()
        .and_then(|w| serde_json::to_value(w).ok());
    let pick = |pointer: &str| first.as_ref().and_then(|w| w.pointer(pointer)).cloned();
    for (name, mut schema, example) in [
        ("Workflow", workflow, first.clone()),
        ("WorkflowState", state, pick("/states/0")),
        ("WorkflowAction", action, pick("/actions/0")),
        ("WorkflowField", field, pick("/filing/payload/0")),
        ("WorkflowPeriod", period, pick("/states/0/deadline/period")),
        ("WorkflowAnchor", anchor, pick("/states/0/deadline/from")),
        ("WorkflowAudience", audience, pick("/states/0/waits_on/0")),
    ] {
        if let Some(example) = example {
            schema["examples"] = json!([example]);
        }
        schemas.insert(name.into(), schema);
    }
}
