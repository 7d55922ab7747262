//! The operations the workflows define: one per action (`POST /api/v1/cases/{id}/actions/NAME`,
//! with its payload's schema), the filing body as a `oneOf` by kind, and the typed shapes of
//! what responses hold (the filing, an event's payload, a person masked).

use std::collections::BTreeMap;

use duban_core::workflow::{Action, Field};
use duban_core::{Workflow, Workflows};
use serde_json::{Map, Value, json};

use super::fields;

/// The path of the generic action operation the handler declares; it is the template every
/// action's own operation is made from, and is not itself in the document.
pub const TEMPLATE: &str = "/api/v1/cases/{id}/actions/{action}";

/// The path an action is served at.
pub fn path(action: &str) -> String {
    format!("/api/v1/cases/{{id}}/actions/{action}")
}

/// Every action name of the loaded workflows, each with the kinds that have it.
pub fn by_name(workflows: &Workflows) -> BTreeMap<&str, Vec<(&Workflow, &Action)>> {
    let mut out: BTreeMap<&str, Vec<(&Workflow, &Action)>> = BTreeMap::new();
    for w in workflows.iter() {
        for a in &w.actions {
            out.entry(a.name.as_str()).or_default().push((w, a));
        }
    }
    out
}

/// `lead_department` → `LeadDepartment`, for schema names.
pub(super) fn pascal(code: &str) -> String {
    code.split(['_', '-'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// Replaces the template with one operation per action, and adds their payload schemas.
pub fn add_operations(
    paths: &mut Map<String, Value>,
    schemas: &mut Map<String, Value>,
    workflows: &Workflows,
) {
    let Some(template) = paths
        .remove(TEMPLATE)
        .map(|mut p| p["post"].take())
        .filter(Value::is_object)
    else {
        return;
    };
    for (name, uses) in by_name(workflows) {
        // Kinds whose payloads for this action are the same share one schema.
        let mut distinct: Vec<(Value, Vec<&Workflow>)> = Vec::new();
        for (w, a) in &uses {
            let schema = fields::request_object(&a.payload, &a.title);
            match distinct.iter_mut().find(|(s, _)| *s == schema) {
                Some((_, kinds)) => kinds.push(w),
                None => distinct.push((schema, vec![w])),
            }
        }
        let shared = distinct.len() == 1;
        let mut choices = Vec::new();
        for (schema, kinds) in distinct {
            let schema_name = if shared {
                format!("{}Payload", pascal(name))
            } else {
                format!("{}{}Payload", pascal(&kinds[0].kind), pascal(name))
            };
            schemas.insert(schema_name.clone(), schema);
            choices.push(reference(&schema_name));
        }
        let body = if shared {
            choices.remove(0)
        } else {
            json!({"anyOf": choices})
        };
        let mut op = template.clone();
        op["operationId"] = json!(format!("act_{name}"));
        op["summary"] = json!(titles(&uses));
        op["description"] = json!(describe(&uses));
        if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
            params.retain(|p| p["name"] != "action");
        }
        op["requestBody"] = json!({
            "required": true,
            "description": "The action's payload: the fields its workflow declares, no others",
            "content": {"application/json": {"schema": body}},
        });
        paths.insert(path(name), json!({"post": op}));
    }
}

/// `交办` or, where kinds name one action differently, `登记（代表建议）／登记（群众信访）`.
fn titles(uses: &[(&Workflow, &Action)]) -> String {
    let mut seen: Vec<&str> = uses.iter().map(|(_, a)| a.title.as_str()).collect();
    seen.dedup();
    if seen.len() == 1 {
        return seen[0].to_string();
    }
    uses.iter()
        .map(|(w, a)| format!("{}（{}）", a.title, w.title))
        .collect::<Vec<_>>()
        .join("／")
}

/// For each kind with the action: from which states, leading where, by whom.
fn describe(uses: &[(&Workflow, &Action)]) -> String {
    let mut lines = vec![
        "Take this action on a case at the version in `If-Match`. A case whose workflow does not offer it now answers 422 with the actions that are open.".to_string(),
    ];
    for (w, a) in uses {
        let roles: Vec<&str> = a.roles.iter().map(|r| r.as_str()).collect();
        let mut line = format!(
            "- `{}` {}: {}, from {}",
            w.kind,
            w.title,
            a.title,
            a.from.join(", ")
        );
        if let Some(to) = &a.to {
            line.push_str(&format!(" to {to}"));
        }
        line.push_str(&format!("; by {}", roles.join(", ")));
        if !a.by.is_empty() {
            line.push_str(&format!(" (as the case's {})", a.by.join(" or ")));
        }
        lines.push(line);
    }
    lines.join("\n")
}

/// The filing body as a `oneOf` by `kind`, each kind with its filing payload.
pub fn add_filing(
    paths: &mut Map<String, Value>,
    schemas: &mut Map<String, Value>,
    workflows: &Workflows,
) {
    let mut variants = Vec::new();
    let mut mapping = Map::new();
    for w in workflows.iter() {
        let payload = format!("{}Filing", pascal(&w.kind));
        let variant = format!("{}NewCase", pascal(&w.kind));
        schemas.insert(
            payload.clone(),
            fields::request_object(&w.filing.payload, &w.title),
        );
        schemas.insert(
            variant.clone(),
            json!({
                "type": "object",
                "description": format!("{}：提交", w.title),
                "additionalProperties": false,
                "required": ["kind", "payload"],
                "properties": {
                    "kind": {"type": "string", "const": w.kind, "description": w.title},
                    "payload": reference(&payload),
                },
            }),
        );
        variants.push(reference(&variant));
        mapping.insert(
            w.kind.clone(),
            json!(format!("#/components/schemas/{variant}")),
        );
    }
    schemas.insert(
        "NewCase".into(),
        json!({
            "description": "Filing a case: its kind, and the filing fields that kind's workflow declares",
            "oneOf": variants,
            "discriminator": {"propertyName": "kind", "mapping": mapping},
        }),
    );
    schemas.remove("NewCaseRequest");
    if let Some(body) = paths
        .get_mut("/api/v1/cases")
        .and_then(|p| p.get_mut("post"))
        .and_then(|op| op.pointer_mut("/requestBody/content/application~1json"))
    {
        body["schema"] = reference("NewCase");
    }
}

/// What responses hold: the filing of any kind, an event's payload, a masked person, and the
/// person a request sends.
pub fn add_recorded(schemas: &mut Map<String, Value>, workflows: &Workflows) {
    let filings: Vec<&Field> = workflows
        .iter()
        .flat_map(|w| w.filing.payload.iter())
        .collect();
    let payloads: Vec<&Field> = filings
        .iter()
        .copied()
        .chain(
            workflows
                .iter()
                .flat_map(|w| w.actions.iter().flat_map(|a| a.payload.iter())),
        )
        .collect();
    schemas.insert(
        "Filing".into(),
        fields::merged_response(
            &filings,
            "What a case was filed with, personal data masked: the filing fields of its kind",
        ),
    );
    schemas.insert(
        "EventPayload".into(),
        fields::merged_response(
            &payloads,
            "What an event carried, personal data masked: the fields of its action (or of the filing)",
        ),
    );
    schemas.insert("Person".into(), fields::person_request());
    schemas.insert("MaskedPerson".into(), fields::person_masked());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_become_schema_names() {
        assert_eq!(pascal("lead_department"), "LeadDepartment");
        assert_eq!(pascal("send_co_opinion"), "SendCoOpinion");
        assert_eq!(pascal("x"), "X");
    }
}
