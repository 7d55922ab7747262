//! Enough of JSON Schema 2020-12 to check an answer, or an example, against the OpenAPI
//! document: types, enums and consts, objects, arrays and tuples, the combinators, references,
//! lengths and the `date` and `date-time` formats. What it does not know it lets pass;
//! schemathesis in CI checks the rest.

use serde_json::Value;

/// Every way `value` breaks `schema`, each with the JSON pointer where it does.
pub fn violations(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(doc, schema, value, "", &mut out);
    out
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    }
}

fn is_date(s: &str) -> bool {
    s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok()
}

fn check(doc: &Value, schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        match r.strip_prefix('#').and_then(|p| doc.pointer(p)) {
            Some(target) => check(doc, target, v, at, out),
            None => out.push(format!("{at}: dangling {r}")),
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) if !type_matches(t, v) => {
            return out.push(format!("{at}: {v} is not {t}"));
        }
        Some(Value::Array(ts)) if !ts.iter().any(|t| type_matches(t.as_str().unwrap_or(""), v)) => {
            return out.push(format!("{at}: {v} is none of {ts:?}"));
        }
        _ => {}
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(v)
    {
        out.push(format!("{at}: {v} is not in the enum"));
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        out.push(format!("{at}: {v} is not {c}"));
    }
    if let Some(choices) = schema.get("anyOf").and_then(Value::as_array)
        && !choices.iter().any(|c| violations(doc, c, v).is_empty())
    {
        out.push(format!("{at}: matches no anyOf choice"));
    }
    if let Some(choices) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = choices
            .iter()
            .filter(|c| violations(doc, c, v).is_empty())
            .count();
        if matching != 1 {
            out.push(format!("{at}: matches {matching} oneOf choices"));
        }
    }
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check(doc, part, v, at, out);
    }
    match v {
        Value::String(s) => {
            let chars = s.chars().count() as u64;
            if schema["maxLength"].as_u64().is_some_and(|m| chars > m) {
                out.push(format!("{at}: longer than maxLength"));
            }
            if schema["minLength"].as_u64().is_some_and(|m| chars < m) {
                out.push(format!("{at}: shorter than minLength"));
            }
            match schema["format"].as_str() {
                Some("date") if !is_date(s) => out.push(format!("{at}: {s} is not a date")),
                Some("date-time") if s.parse::<jiff::Timestamp>().is_err() => {
                    out.push(format!("{at}: {s} is not a date-time"))
                }
                _ => {}
            }
        }
        Value::Number(n) => {
            if let (Some(min), Some(x)) = (schema["minimum"].as_f64(), n.as_f64())
                && x < min
            {
                out.push(format!("{at}: below minimum"));
            }
        }
        Value::Object(o) => {
            for name in schema["required"].as_array().into_iter().flatten() {
                if let Some(name) = name.as_str()
                    && !o.contains_key(name)
                {
                    out.push(format!("{at}: `{name}` is required"));
                }
            }
            let props = schema["properties"].as_object();
            for (k, item) in o {
                let here = format!("{at}/{k}");
                if let Some(names) = schema.get("propertyNames") {
                    check(doc, names, &Value::String(k.clone()), &here, out);
                }
                match props.and_then(|p| p.get(k)) {
                    Some(s) => check(doc, s, item, &here, out),
                    None => match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => out.push(format!("{here}: not allowed")),
                        Some(s @ Value::Object(_)) => check(doc, s, item, &here, out),
                        _ => {}
                    },
                }
            }
        }
        Value::Array(items) => {
            if schema["uniqueItems"] == Value::Bool(true) {
                let mut seen = Vec::new();
                for i in items {
                    if seen.contains(&i) {
                        out.push(format!("{at}: items repeat"));
                    }
                    seen.push(i);
                }
            }
            let prefix = schema["prefixItems"].as_array();
            for (i, item) in items.iter().enumerate() {
                let here = format!("{at}/{i}");
                match prefix.and_then(|p| p.get(i)) {
                    Some(s) => check(doc, s, item, &here, out),
                    None => match schema.get("items") {
                        Some(Value::Bool(false)) => out.push(format!("{here}: no more items")),
                        Some(s @ Value::Object(_)) => check(doc, s, item, &here, out),
                        _ => {}
                    },
                }
            }
        }
        _ => {}
    }
}
