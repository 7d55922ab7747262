//! A workflow field as JSON Schema, in two forms: what a request may send (as strict as the
//! engine's own check, never stricter, so that whatever the server accepts is valid against the
//! document) and what a response holds (the stored, masked value, typed but open).

use duban_core::workflow::{Field, FieldType};
use serde_json::{Map, Value, json};

/// An enum of codes, each with its Chinese name: `description` (`code` name; …) for people,
/// and `x-enum-descriptions` for generators that document each value. In the order given.
pub fn named_enum(codes: &[(String, String)]) -> Value {
    let described: Vec<String> = codes.iter().map(|(c, t)| format!("`{c}` {t}")).collect();
    json!({
        "type": "string",
        "enum": codes.iter().map(|(c, _)| c).collect::<Vec<_>>(),
        "description": described.join("; "),
        "x-enum-descriptions": codes.iter().map(|(_, t)| t).collect::<Vec<_>>(),
    })
}

/// A payload enum's values, named by the field's `value_titles` or else `duban_core::labels`.
fn enum_schema(f: &Field, values: &[String]) -> Value {
    let codes: Vec<(String, String)> = values
        .iter()
        .map(|v| (v.clone(), f.value_label(v).to_string()))
        .collect();
    named_enum(&codes)
}

/// A code naming an organisation or a user: what `is_code` in the engine takes, or more.
fn code(what: &str) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 64, "description": what})
}

/// What a person field takes in a request: the engine parses it with `Person::from_json`.
pub fn person_request() -> Value {
    let optional = |what: &str, max: Option<u32>| {
        let mut s = json!({"type": ["string", "null"], "description": what});
        if let Some(max) = max {
            s["maxLength"] = json!(max);
        }
        s
    };
    json!({
        "type": "object",
        "description": "A natural person's personal data: stored encrypted, shown masked",
        "additionalProperties": false,
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 50, "description": "姓名"},
            "id_number": optional("身份证号: 18 characters with a valid check digit", None),
            "phone": optional("电话: an 11-digit mobile number or a landline such as 0571-87654321", None),
            "address": optional("住址", Some(200)),
        },
    })
}

/// A person as responses hold it: every part masked.
pub fn person_masked() -> Value {
    json!({
        "type": "object",
        "description": "A person's data, masked (王**, 110***********4477, 138****5678)",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "id_number": {"type": "string"},
            "phone": {"type": "string"},
            "address": {"type": "string"},
        },
    })
}

/// One field as a request may send it.
fn request_field(f: &Field) -> Value {
    let mut schema = match &f.ty {
        FieldType::Text => {
            let mut s = json!({"type": "string"});
            if let Some(max) = f.max_length {
                s["maxLength"] = json!(max);
            }
            if f.required {
                s["minLength"] = json!(1);
            }
            s
        }
        FieldType::Integer => {
            let mut s = json!({"type": "integer", "format": "int64"});
            if let Some(min) = f.min {
                s["minimum"] = json!(min);
            }
            if let Some(max) = f.max {
                s["maximum"] = json!(max);
            }
            s
        }
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Enum(values) => enum_schema(f, values),
        FieldType::Org => code(&org_words(f)),
        FieldType::User => code(&user_words(f)),
        FieldType::Orgs | FieldType::Users => {
            let what = if f.ty == FieldType::Orgs {
                org_words(f)
            } else {
                user_words(f)
            };
            let mut s = json!({"type": "array", "uniqueItems": true, "items": code(&what)});
            if f.required {
                s["minItems"] = json!(1);
            }
            s
        }
        FieldType::Person => json!({"$ref": "#/components/schemas/Person"}),
        FieldType::File => json!({"type": "string", "pattern": "^att_[0-9a-f]{32}$",
            "description": "the id of a file uploaded to this case (POST /cases/{id}/attachments)"}),
    };
    let label = f.label();
    let mut words = vec![label.to_string()];
    if let Some(d) = schema.get("description").and_then(Value::as_str) {
        words.push(d.to_string());
    }
    if let Some((other, value)) = f.required_when.first() {
        words.push(format!("required when `{other}` is `{value}`"));
    }
    // An optional field may be sent as null: the engine takes null for absent.
    if !f.required {
        schema = nullable(schema);
    }
    if let Some(o) = schema.as_object_mut() {
        o.insert("description".into(), json!(words.join("; ")));
    }
    schema
}

/// The schema that also takes `null`.
fn nullable(mut schema: Value) -> Value {
    // A reference or an enum stays whole beside the null, so that generators keep its type.
    if schema.get("$ref").is_some() || schema.get("enum").is_some() {
        return json!({"anyOf": [schema, {"type": "null"}]});
    }
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        schema["type"] = json!([t, "null"]);
    }
    schema
}

fn org_words(f: &Field) -> String {
    match &f.org_kind {
        Some(kind) => format!("an organisation code (a {kind})"),
        None => "an organisation code".into(),
    }
}

fn user_words(f: &Field) -> String {
    if f.user_role.is_empty() {
        return "a user's login".into();
    }
    let roles: Vec<&str> = f.user_role.iter().map(|r| r.as_str()).collect();
    format!("a user's login (a {})", roles.join(" or "))
}

/// The payload a request sends for these fields: no other field, the required ones present.
pub fn request_object(fields: &[Field], description: &str) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for f in fields {
        properties.insert(f.name.clone(), request_field(f));
        if f.required {
            required.push(f.name.clone());
        }
    }
    // A description, not a `title`: generators name their classes after a title.
    let mut schema = json!({
        "type": "object",
        "description": description,
        "additionalProperties": false,
        "properties": properties,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// One field as a response holds it: the value recorded, typed, without the request's limits.
pub fn response_field(f: &Field) -> Value {
    let mut schema = match &f.ty {
        FieldType::Text | FieldType::Org | FieldType::User | FieldType::File => {
            json!({"type": "string"})
        }
        FieldType::Integer => json!({"type": "integer", "format": "int64"}),
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Enum(values) => enum_schema(f, values),
        FieldType::Orgs | FieldType::Users => json!({"type": "array", "items": {"type": "string"}}),
        FieldType::Person => json!({"$ref": "#/components/schemas/MaskedPerson"}),
    };
    if let Some(o) = schema.as_object_mut() {
        let label = f.label().to_string();
        match o.get("description").and_then(Value::as_str) {
            Some(d) => o.insert("description".into(), json!(format!("{label}; {d}"))),
            None => o.insert("description".into(), json!(label)),
        };
    }
    schema
}

/// One object over fields of several payloads: each name typed once. A name two payloads give
/// different types is either; two enums of one name take the values of both.
pub fn merged_response(fields: &[&Field], description: &str) -> Value {
    let mut properties: Map<String, Value> = Map::new();
    for f in fields {
        let schema = response_field(f);
        match properties.get_mut(&f.name) {
            None => {
                properties.insert(f.name.clone(), schema);
            }
            Some(existing) if *existing == schema => {}
            Some(existing) => merge(existing, schema),
        }
    }
    json!({
        "type": "object",
        "description": description,
        "properties": properties,
    })
}

fn merge(existing: &mut Value, other: Value) {
    let both_enums = existing.get("enum").is_some() && other.get("enum").is_some();
    if both_enums {
        let mut values: Vec<String> = existing["enum"]
            .as_array()
            .into_iter()
            .chain(other["enum"].as_array())
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        values.sort();
        values.dedup();
        // Each value keeps the name either field gave it.
        let names: std::collections::BTreeMap<String, String> = [&*existing, &other]
            .into_iter()
            .flat_map(|s| {
                let codes = s["enum"].as_array().cloned().unwrap_or_default();
                let titles = s["x-enum-descriptions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                codes.into_iter().zip(titles)
            })
            .filter_map(|(c, t)| Some((c.as_str()?.to_string(), t.as_str()?.to_string())))
            .collect();
        let codes: Vec<(String, String)> = values
            .into_iter()
            .map(|v| {
                let title = names.get(&v).cloned().unwrap_or_else(|| v.clone());
                (v, title)
            })
            .collect();
        let description = existing["description"].clone();
        *existing = named_enum(&codes);
        existing["description"] = description;
        return;
    }
    let mut choices = match existing.get("anyOf").and_then(Value::as_array) {
        Some(list) => list.clone(),
        None => vec![existing.clone()],
    };
    if !choices.contains(&other) {
        choices.push(other);
    }
    *existing = json!({"anyOf": choices});
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, ty: FieldType, required: bool) -> Field {
        Field {
            name: name.into(),
            ty,
            required,
            max_length: Some(20),
            min: None,
            max: None,
            sets: None,
            required_when: Vec::new(),
            org_kind: None,
            user_role: Vec::new(),
            own_org_for: Vec::new(),
            title: None,
            value_titles: Default::default(),
        }
    }

    #[test]
    fn optional_fields_take_null_and_required_text_is_not_empty() {
        let fields = [
            field("title", FieldType::Text, true),
            field(
                "rating",
                FieldType::Enum(vec!["satisfied".into(), "dissatisfied".into()]),
                false,
            ),
            field("held_on", FieldType::Date, false),
        ];
        let s = request_object(&fields, "t");
        assert_eq!(s["required"], json!(["title"]));
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(s["properties"]["title"]["minLength"], json!(1));
        assert_eq!(s["properties"]["title"]["maxLength"], json!(20));
        let rating = &s["properties"]["rating"];
        assert_eq!(rating["anyOf"][1], json!({"type": "null"}));
        assert_eq!(
            rating["anyOf"][0]["enum"],
            json!(["satisfied", "dissatisfied"])
        );
        assert!(
            rating["anyOf"][0]["description"]
                .as_str()
                .is_some_and(|d| d.contains("不满意")),
            "{s}"
        );
        assert_eq!(
            s["properties"]["held_on"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(s["properties"]["held_on"]["format"], json!("date"));
    }

    #[test]
    fn one_name_of_two_types_is_either_and_two_enums_join() {
        let a = field("outcome", FieldType::Enum(vec!["agreement".into()]), true);
        let b = field("outcome", FieldType::Enum(vec!["failed".into()]), true);
        let c = field("amount", FieldType::Integer, false);
        let d = field("amount", FieldType::Text, false);
        let s = merged_response(&[&a, &b, &c, &d], "d");
        assert_eq!(
            s["properties"]["outcome"]["enum"],
            json!(["agreement", "failed"])
        );
        assert_eq!(
            s["properties"]["amount"]["anyOf"].as_array().map(Vec::len),
            Some(2)
        );
    }
}
