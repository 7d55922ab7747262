//! The OpenAPI document: the operations utoipa derives from the handlers, completed at start-up
//! from the loaded workflows — an operation per action, the filing as a `oneOf` by kind, the
//! workflows' words as enums — with every error answer and an example for every schema.

pub(crate) mod actions;
mod errors;
mod examples;
mod fields;
pub(crate) mod refs;
mod vocabulary;
mod workflow;

use duban_core::Workflows;
use serde_json::{Map, Value, json};

pub use errors::TYPES as PROBLEM_TYPES;

/// The path the document is served at.
pub const PATH: &str = "/api/v1/openapi.json";

/// The document for these workflows, from the operations the handlers declare.
pub fn document(derived: utoipa::openapi::OpenApi, workflows: &Workflows) -> Value {
    let mut doc = serde_json::to_value(derived).unwrap_or_default();
    let mut paths = take_object(&mut doc, "/paths");
    let mut schemas = take_object(&mut doc, "/components/schemas");
    // The document describes itself too; it and `/healthz` need no token.
    paths.insert(
        PATH.to_string(),
        json!({"get": {
            "summary": "This OpenAPI document",
            "operationId": "openapi",
            "tags": ["system"],
            "responses": {"200": {"description": "The OpenAPI 3.1 document",
                "content": {"application/json": {"schema": {"type": "object"}}}}},
        }}),
    );
    for op in paths
        .values_mut()
        .filter_map(|p| p.as_object_mut())
        .flat_map(|p| p.values_mut())
    {
        if op.get("security").is_none() {
            op["security"] = json!([{}]);
        }
    }
    actions::add_operations(&mut paths, &mut schemas, workflows);
    actions::add_filing(&mut paths, &mut schemas, workflows);
    actions::add_recorded(&mut schemas, workflows);
    vocabulary::add(&mut schemas, workflows);
    workflow::add(&mut schemas, workflows);
    if let Some(body) = paths
        .get_mut("/api/v1/workflows")
        .and_then(|p| p.pointer_mut("/get/responses/200/content/application~1json"))
    {
        body["schema"] =
            json!({"type": "array", "items": {"$ref": "#/components/schemas/Workflow"}});
    }
    errors::add(&mut paths, &mut schemas);
    examples::add(&mut paths, &mut schemas, workflows);
    // utoipa's builder takes no `$ref` as `propertyNames`; it wrote one in an `allOf`.
    if let Some(names) = schemas
        .get_mut("CaseDto")
        .and_then(|c| c.pointer_mut("/properties/parties/propertyNames"))
    {
        *names = json!({"$ref": "#/components/schemas/Party"});
    }
    // Relative to wherever the document was fetched from: the server it describes.
    doc["servers"] =
        json!([{"url": "/", "description": "The server this document was fetched from"}]);
    doc["paths"] = Value::Object(paths);
    doc["components"]["schemas"] = Value::Object(schemas);
    doc
}

fn take_object(doc: &mut Value, pointer: &str) -> Map<String, Value> {
    match doc.pointer_mut(pointer).map(Value::take) {
        Some(Value::Object(o)) => o,
        _ => Map::new(),
    }
}
