//! The words the loaded workflows define, as enums: kinds, states, actions, parties, and the
//! roles every installation has. The DTOs point at these by name (`refs.rs`); they are made
//! here, at start-up, so that a deployment's own kind brings its own words.

use std::collections::BTreeMap;

use duban_core::vocabulary::party;
use duban_core::{Role, Workflows, labels};
use serde_json::{Value, json};

/// The words of one vocabulary as an enum, introduced by what they are.
fn described(what: &str, codes: &BTreeMap<String, String>) -> Value {
    let pairs: Vec<(String, String)> = codes.iter().map(|(c, t)| (c.clone(), t.clone())).collect();
    let mut schema = super::fields::named_enum(&pairs);
    schema["description"] = json!(format!(
        "{what}: {}",
        schema["description"].as_str().unwrap_or_default()
    ));
    schema["examples"] = json!([codes.keys().next()]);
    schema
}

/// Adds `Kind`, `State`, `Action`, `Party` and `Role` to the document's schemas.
pub fn add(schemas: &mut serde_json::Map<String, Value>, workflows: &Workflows) {
    let mut kinds = BTreeMap::new();
    let mut states = BTreeMap::new();
    let mut actions = BTreeMap::new();
    let mut parties = BTreeMap::new();
    actions.insert("file".to_string(), "提交（立案）".to_string());
    parties.insert(
        party::AWAITING.to_string(),
        "待其处理者（由流程维护）".to_string(),
    );
    for w in workflows.iter() {
        kinds.insert(w.kind.clone(), w.title.clone());
        for s in &w.states {
            join(&mut states, &s.name, &s.title, &w.title);
        }
        for a in &w.actions {
            join(&mut actions, &a.name, &a.title, &w.title);
        }
        for p in &w.parties {
            parties
                .entry(p.clone())
                .or_insert_with(|| labels::field(p).to_string());
        }
    }
    let roles: BTreeMap<String, String> = Role::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), labels::role(*r).to_string()))
        .collect();
    schemas.insert("Kind".into(), described("A kind of case", &kinds));
    schemas.insert("State".into(), described("A state of a case", &states));
    schemas.insert(
        "Action".into(),
        described("An action recorded on a case", &actions),
    );
    schemas.insert(
        "Party".into(),
        described("A relation of a case to people or organisations", &parties),
    );
    schemas.insert("Role".into(), described("A user's role", &roles));
}

/// One name shared by several kinds keeps every title, each with its kind.
fn join(into: &mut BTreeMap<String, String>, name: &str, title: &str, kind: &str) {
    let entry = format!("{title}（{kind}）");
    match into.get_mut(name) {
        Some(t) if !t.contains(&entry) => {
            t.push('、');
            t.push_str(&entry);
        }
        Some(_) => {}
        None => {
            into.insert(name.to_string(), entry);
        }
    }
}
