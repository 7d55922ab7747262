//! An example for every schema and every operation, drawn from the demo year (`duban serve
//! --demo`): the fixed shapes from `examples.json`, the workflows' payloads made from their
//! fields, and each operation's bodies taken from the schemas they name.

use duban_core::Workflows;
use duban_core::workflow::{Field, FieldType};
use serde_json::{Map, Value, json};

use super::actions::pascal;
use super::errors;

/// Examples of the fixed schemas, as the demo year answers them.
const FIXED: &str = include_str!("examples.json");

/// A value of a field as the demo year fills it, or one of its type.
fn field_value(f: &Field) -> Value {
    let known = match f.name.as_str() {
        "title" => json!("关于加快农村公路提档升级的建议"),
        "body" => json!("建议加快推进农村公路提档升级，改善群众出行条件。"),
        "summary" => json!("原告与被告因机动车交通事故责任纠纷协商未果"),
        "session" => json!("第十七届人民代表大会第三次会议"),
        "answer" => {
            json!("关于《关于加快农村公路提档升级的建议》的答复：已研究办理，具体措施如下……")
        }
        "opinion" => json!("同意主办单位办理意见，将积极配合。"),
        "reason" => json!("涉及多个部门，需进一步协调"),
        "until" | "held_on" => json!("2024-10-08"),
        "lead_department" => json!("jtj"),
        "co_departments" => json!(["czj"]),
        "station" => json!("station-03"),
        "court" => json!("court"),
        "supervisor" => json!("zhuren"),
        "mediators" => json!(["mediator1"]),
        "deputy" => json!("deputy04"),
        "cosigners" => json!(["deputy05"]),
        _ => Value::Null,
    };
    if !known.is_null() {
        return known;
    }
    match &f.ty {
        FieldType::Text => json!("已研究办理"),
        // Within the field's bounds (a percentage is at most 100).
        FieldType::Integer => {
            json!(50000_i64.clamp(f.min.unwrap_or(i64::MIN), f.max.unwrap_or(i64::MAX)))
        }
        FieldType::Boolean => json!(true),
        FieldType::Date => json!("2024-10-08"),
        FieldType::Enum(values) => json!(values.first()),
        FieldType::Org => json!("jtj"),
        FieldType::Orgs => json!(["jtj"]),
        FieldType::User => json!("deputy04"),
        FieldType::Users => json!(["deputy04"]),
        FieldType::Person => json!({"name": "王建国", "phone": "13800135678"}),
        FieldType::File => json!("att_0193a5b2c3d47e8f9a0b1c2d3e4f5a6b"),
    }
}

/// A payload with every required field, and the optional ones the demo fills.
fn payload(fields: &[Field]) -> Value {
    Value::Object(
        fields
            .iter()
            .filter(|f| f.required || !field_value(f).is_null())
            .map(|f| (f.name.clone(), field_value(f)))
            .collect(),
    )
}

/// Adds an example to every schema that has none, and to every operation's bodies.
pub fn add(
    paths: &mut Map<String, Value>,
    schemas: &mut Map<String, Value>,
    workflows: &Workflows,
) {
    let fixed: Map<String, Value> = serde_json::from_str(FIXED).unwrap_or_default();
    for (name, example) in fixed {
        if let Some(schema) = schemas.get_mut(&name) {
            schema["examples"] = json!([example]);
        }
    }
    let masked = |v: Value| match v {
        Value::Object(mut o) => {
            for person in o.values_mut().filter(|p| p.get("name").is_some()) {
                *person = json!({"name": "王**", "phone": "138****5678"});
            }
            Value::Object(o)
        }
        other => other,
    };
    let mut filings = Map::new();
    let mut recorded = Map::new();
    for w in workflows.iter() {
        let filing = payload(&w.filing.payload);
        set(
            schemas,
            &format!("{}Filing", pascal(&w.kind)),
            filing.clone(),
        );
        set(
            schemas,
            &format!("{}NewCase", pascal(&w.kind)),
            json!({"kind": w.kind, "payload": filing.clone()}),
        );
        if let Value::Object(o) = masked(filing) {
            filings.extend(o.clone());
            recorded.extend(o);
        }
        for a in &w.actions {
            let p = payload(&a.payload);
            for name in [
                format!("{}Payload", pascal(&a.name)),
                format!("{}{}Payload", pascal(&w.kind), pascal(&a.name)),
            ] {
                set(schemas, &name, p.clone());
            }
            if let Value::Object(o) = masked(p) {
                recorded.extend(o);
            }
        }
    }
    if let Some(first) = workflows.iter().next() {
        set(
            schemas,
            "NewCase",
            json!({"kind": first.kind, "payload": payload(&first.filing.payload)}),
        );
    }
    set(schemas, "Filing", Value::Object(filings));
    set(schemas, "EventPayload", Value::Object(recorded));
    set(
        schemas,
        "Person",
        json!({"name": "王建国", "id_number": "110101199003074477", "phone": "13800135678", "address": "龙门镇7号"}),
    );
    set(
        schemas,
        "MaskedPerson",
        json!({"name": "王**", "id_number": "110***********4477", "phone": "138****5678", "address": "龙****"}),
    );
    set(schemas, "Problem", errors::example(422).unwrap_or_default());
    for item in paths.values_mut() {
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|i| i.values_mut())
        {
            if let Some(content) = op.pointer_mut("/requestBody/content") {
                add_to_media(content, schemas, None);
            }
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            for (status, response) in responses.iter_mut() {
                let problem = status.parse().ok().and_then(errors::example);
                if let Some(content) = response.get_mut("content") {
                    add_to_media(content, schemas, problem);
                }
            }
        }
    }
}

/// Sets a schema's example unless it has one.
fn set(schemas: &mut Map<String, Value>, name: &str, example: Value) {
    if let Some(schema) = schemas.get_mut(name)
        && schema.get("examples").is_none()
    {
        schema["examples"] = json!([example]);
    }
}

/// Each media type's `example`: a problem's by its status, else the example of the schema it
/// names (or of its items, for a list).
fn add_to_media(content: &mut Value, schemas: &Map<String, Value>, problem: Option<Value>) {
    for (media, body) in content.as_object_mut().into_iter().flatten() {
        if body.get("example").is_some() {
            continue;
        }
        let example = if media == "application/problem+json" {
            problem.clone()
        } else {
            example_of(&body["schema"], schemas)
        };
        if let Some(e) = example {
            body["example"] = e;
        }
    }
}

fn example_of(schema: &Value, schemas: &Map<String, Value>) -> Option<Value> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next()?;
        return schemas.get(name)?.pointer("/examples/0").cloned();
    }
    if let Some(choices) = schema.get("anyOf").and_then(Value::as_array) {
        return choices.iter().find_map(|c| example_of(c, schemas));
    }
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        return example_of(&schema["items"], schemas).map(|e| json!([e]));
    }
    None
}
