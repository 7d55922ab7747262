//! A payload against its declared fields: an object, no unknown field, each of its type,
//! persons parsed and masked, the actor's own organisation where a field asks for it, and the
//! parties it fills.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde_json::{Map, Value};

use crate::person::Person;
use crate::workflow::{Field, FieldType};

use super::*;

pub(super) fn invalid(field: &str, problem: &str) -> Refusal {
    Refusal::InvalidPayload {
        field: field.into(),
        problem: problem.into(),
        more: Vec::new(),
    }
}

/// A payload that passed its checks: what the event records (personal data masked) and the
/// personal data itself, for encrypted storage.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub payload: Map<String, Value>,
    pub personal: Vec<PersonalField>,
}

/// A field whose `own_org_for` names the actor's role takes only the actor's own organisation:
/// a deputy files a petition only at their own station, while staff may file at any.
pub(super) fn own_organisation(
    fields: &[Field],
    payload: &Map<String, Value>,
    actor: &Actor,
) -> Result<(), Refusal> {
    for f in fields
        .iter()
        .filter(|f| f.own_org_for.contains(&actor.role))
    {
        if let Some(code) = payload.get(&f.name).and_then(Value::as_str)
            && actor.org.as_deref() != Some(code)
        {
            return Err(Refusal::InvalidPayload {
                field: f.name.clone(),
                problem: format!(
                    "a {} may name only their own organisation here",
                    actor.role.as_str()
                ),
                more: Vec::new(),
            });
        }
    }
    Ok(())
}

/// Checks a payload against the declared fields: an object, no unknown fields, required ones
/// present, each of its type. Nulls for absent optional fields are dropped; persons are masked.
pub fn check_payload(fields: &[Field], payload: &Value) -> Result<Checked, Refusal> {
    let obj = match payload {
        Value::Object(o) => o.clone(),
        Value::Null => Map::new(),
        _ => return Err(invalid("payload", "must be a JSON object")),
    };
    // Every problem is collected, so that a form can mark all its bad fields at once.
    let mut problems: Vec<(String, String)> = Vec::new();
    for key in obj.keys() {
        if !fields.iter().any(|f| &f.name == key) {
            let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            problems.push((
                key.clone(),
                format!("unknown field (this action takes: {})", join(&known)),
            ));
        }
    }
    let mut out = Map::new();
    let mut personal = Vec::new();
    for f in fields {
        match obj.get(&f.name) {
            None | Some(Value::Null) => {
                let when = !f.required_when.is_empty()
                    && f.required_when.iter().all(|(other, value)| {
                        obj.get(other).and_then(Value::as_str) == Some(value)
                    });
                if f.required {
                    problems.push((f.name.clone(), "is required".into()));
                } else if when {
                    let (other, value) = &f.required_when[0];
                    problems.push((
                        f.name.clone(),
                        format!("is required when `{other}` is `{value}`"),
                    ));
                }
            }
            Some(v) if f.ty == FieldType::Person => match Person::from_json(v) {
                Ok(person) => {
                    out.insert(f.name.clone(), person.masked_json());
                    personal.push(PersonalField {
                        field: f.name.clone(),
                        person,
                    });
                }
                Err((sub, problem)) => {
                    let field = if sub.is_empty() {
                        f.name.clone()
                    } else {
                        format!("{}.{sub}", f.name)
                    };
                    problems.push((field, problem));
                }
            },
            Some(v) => match check_value(f, v) {
                Ok(()) => {
                    out.insert(f.name.clone(), v.clone());
                }
                Err(Refusal::InvalidPayload { field, problem, .. }) => {
                    problems.push((field, problem))
                }
                Err(other) => return Err(other),
            },
        }
    }
    if !problems.is_empty() {
        let (field, problem) = problems.remove(0);
        return Err(Refusal::InvalidPayload {
            field,
            problem,
            more: problems,
        });
    }
    Ok(Checked {
        payload: out,
        personal,
    })
}

pub(super) fn is_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub(super) fn check_value(f: &Field, v: &Value) -> Result<(), Refusal> {
    let bad = |problem: &str| Err(invalid(&f.name, problem));
    match &f.ty {
        FieldType::Text => {
            let Some(s) = v.as_str() else {
                return bad("must be text");
            };
            if f.required && s.trim().is_empty() {
                return bad("must not be empty");
            }
            if let Some(max) = f.max_length
                && s.chars().count() > max
            {
                return bad(&format!("is longer than {max} characters"));
            }
        }
        FieldType::Integer => {
            let Some(n) = v.as_i64() else {
                return bad("must be a whole number");
            };
            if let Some(min) = f.min.filter(|m| n < *m) {
                return bad(&format!("must be at least {min}"));
            }
            if let Some(max) = f.max.filter(|m| n > *m) {
                return bad(&format!("must be at most {max}"));
            }
        }
        FieldType::Boolean => {
            if !v.is_boolean() {
                return bad("must be true or false");
            }
        }
        FieldType::Date => {
            // Exactly `YYYY-MM-DD`, the document's `format: date`: the parser would also take
            // a date with a time, or a six-digit year, which a client of the document cannot know.
            let shaped = |s: &&str| {
                s.len() == 10
                    && s.bytes().enumerate().all(|(i, b)| match i {
                        4 | 7 => b == b'-',
                        _ => b.is_ascii_digit(),
                    })
            };
            if v.as_str()
                .filter(shaped)
                .and_then(|s| s.parse::<Date>().ok())
                .is_none()
            {
                return bad("must be a date YYYY-MM-DD");
            }
        }
        FieldType::Enum(values) => {
            if !v.as_str().is_some_and(|s| values.iter().any(|x| x == s)) {
                return bad(&format!("must be one of: {}", values.join(", ")));
            }
        }
        FieldType::Org | FieldType::User => {
            if !v.as_str().is_some_and(is_code) {
                return bad(&format!(
                    "must be a{} code (no spaces, at most 64 characters)",
                    if f.ty == FieldType::Org {
                        "n organisation"
                    } else {
                        " user"
                    }
                ));
            }
        }
        // Persons are parsed by `Person::from_json` in `check_payload`.
        FieldType::Person => {}
        // Whether the attachment exists, on this case, is for the service to look up.
        FieldType::File => {
            if !v.as_str().is_some_and(crate::attachment::is_id) {
                return bad("must be the id of an attachment (att_ and 32 hex digits)");
            }
        }
        FieldType::Orgs | FieldType::Users => {
            let Some(items) = v.as_array() else {
                return bad("must be a list of codes");
            };
            let mut seen = std::collections::BTreeSet::new();
            for item in items {
                match item.as_str() {
                    Some(s) if is_code(s) => {
                        if !seen.insert(s) {
                            return bad("lists the same code twice");
                        }
                    }
                    _ => {
                        return bad(
                            "must be a list of codes (no spaces, at most 64 characters each)",
                        );
                    }
                }
            }
            if f.required && items.is_empty() {
                return bad("must not be empty");
            }
        }
    }
    Ok(())
}

/// The values `payload` chose for the enum and date fields among `fields`, by field: what a
/// later action's `when`, a later route and a state's `due_on` read from the case. A date
/// field left empty is kept empty, so that a promise made in an earlier reply does not outlive
/// a later reply that made none.
pub(super) fn choices_from(
    fields: &[Field],
    payload: &Map<String, Value>,
) -> BTreeMap<String, String> {
    let given = |f: &Field| {
        payload
            .get(&f.name)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    fields
        .iter()
        .filter_map(|f| match f.ty {
            FieldType::Enum(_) => Some((f.name.clone(), given(f)?)),
            FieldType::Date => Some((f.name.clone(), given(f).unwrap_or_default())),
            _ => None,
        })
        .collect()
}

/// The parties a payload fills.
pub(super) fn sets_from(
    fields: &[Field],
    payload: &Map<String, Value>,
) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for f in fields {
        let (Some(party), Some(v)) = (&f.sets, payload.get(&f.name)) else {
            continue;
        };
        let values = match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => continue,
        };
        out.insert(party.clone(), values);
    }
    out
}
