//! Forms made from the workflow files: each payload field becomes an input of its type, and a
//! submitted form becomes the payload the state machine checks. A refused form comes back with
//! what was typed and each problem beside its field.

use std::collections::BTreeMap;

use duban_core::User;
use duban_core::workflow::{Field, FieldType};
use maud::{Markup, html};
use serde_json::{Map, Value};

use crate::labels;

/// The organisations and people a form may offer.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// (code, name, kind) of every organisation.
    pub orgs: Vec<(String, String, String)>,
    pub people: Vec<User>,
    /// (id, name) of the files of the case shown, so that a payload naming one shows its name.
    pub files: Vec<(String, String)>,
}

/// What was typed, and what was wrong with it.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    pub values: BTreeMap<String, Vec<String>>,
    pub errors: BTreeMap<String, String>,
}

impl FormState {
    /// From submitted pairs, leaving out the form's own fields (`_csrf`, `_version`).
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs.iter().filter(|(k, _)| !k.starts_with('_')) {
            values.entry(k.clone()).or_default().push(v.clone());
        }
        Self {
            values,
            errors: BTreeMap::new(),
        }
    }

    fn first(&self, name: &str) -> &str {
        self.values
            .get(name)
            .and_then(|v| v.first())
            .map_or("", String::as_str)
    }

    fn has(&self, name: &str, value: &str) -> bool {
        self.values
            .get(name)
            .is_some_and(|v| v.iter().any(|x| x == value))
    }

    /// The problem for a field, or for one of its parts (`constituent.phone`).
    fn error(&self, name: &str) -> Option<&str> {
        self.errors.get(name).map(String::as_str)
    }
}

const PERSON_PARTS: [&str; 4] = ["name", "id_number", "phone", "address"];

/// The inputs for `fields`, filled from `st`.
pub fn inputs(fields: &[Field], st: &FormState, choices: &Choices, id_prefix: &str) -> Markup {
    html! {
        @for f in fields {
            @let id = format!("{id_prefix}-{}", f.name);
            @let err = st.error(&f.name);
            div.field.invalid[err.is_some()] {
                @match &f.ty {
                    FieldType::Person => {
                        fieldset {
                            legend { (f.label()) @if f.required { span.req { "*" } } }
                            @for part in PERSON_PARTS {
                                @let name = format!("{}.{part}", f.name);
                                @let perr = st.error(&name);
                                label for=(format!("{id}-{part}")) { (labels::field(part)) }
                                input id=(format!("{id}-{part}")) name=(name) value=(st.first(&name))
                                    type=(if part == "phone" { "tel" } else { "text" })
                                    required[f.required && part == "name"]
                                    autocomplete="off";
                                @if let Some(e) = perr { p.error { (labels::problem(e)) } }
                            }
                        }
                    }
                    _ => {
                        label for=(id) { (f.label()) @if f.required { span.req { "*" } } }
                        (input(f, &id, st, choices))
                    }
                }
                @if let Some(e) = err { p.error { (labels::problem(e)) } }
            }
        }
    }
}

fn input(f: &Field, id: &str, st: &FormState, choices: &Choices) -> Markup {
    let value = st.first(&f.name);
    match &f.ty {
        FieldType::Text if f.max_length.is_none_or(|m| m > 200) => html! {
            textarea id=(id) name=(f.name) rows="4" required[f.required]
                maxlength=[f.max_length] { (value) }
        },
        FieldType::Text => html! {
            input id=(id) name=(f.name) type="text" value=(value) required[f.required]
                maxlength=[f.max_length];
        },
        FieldType::Integer => html! {
            input id=(id) name=(f.name) type="number" step="1" value=(value) required[f.required]
                min=[f.min] max=[f.max];
        },
        FieldType::Boolean => html! {
            input id=(id) name=(f.name) type="checkbox" value="true" checked[value == "true"];
        },
        FieldType::Date => html! {
            input id=(id) name=(f.name) type="date" value=(value) required[f.required];
        },
        FieldType::Enum(values) => html! {
            select id=(id) name=(f.name) required[f.required] {
                option value="" { "请选择" }
                @for v in values {
                    option value=(v) selected[value == v] { (f.value_label(v)) }
                }
            }
        },
        FieldType::Org | FieldType::Orgs => {
            let multiple = matches!(f.ty, FieldType::Orgs);
            // The kind the workflow says the field takes: the state machine refuses others.
            let kind = f.org_kind.as_deref();
            html! {
                select id=(id) name=(f.name) multiple[multiple] required[f.required]
                    size=[multiple.then_some(6)] {
                    @if !multiple { option value="" { "请选择" } }
                    @for (code, name, k) in &choices.orgs {
                        @if k != "user" && kind.is_none_or(|want| want == k) {
                            option value=(code) selected[st.has(&f.name, code)] { (name) }
                        }
                    }
                }
                @if multiple { p.hint { "可按住 Ctrl 多选" } }
            }
        }
        FieldType::User | FieldType::Users => {
            let multiple = matches!(f.ty, FieldType::Users);
            // The roles the workflow says the field's people have (any, if it names none).
            let roles = &f.user_role;
            html! {
                select id=(id) name=(f.name) multiple[multiple] required[f.required]
                    size=[multiple.then_some(6)] {
                    @if !multiple { option value="" { "请选择" } }
                    @for u in &choices.people {
                        @if roles.is_empty() || roles.contains(&u.role) {
                            option value=(u.login) selected[st.has(&f.name, &u.login)] {
                                (u.name) "（" (u.login) "）"
                            }
                        }
                    }
                }
                @if multiple { p.hint { "可按住 Ctrl 多选" } }
            }
        }
        FieldType::Person => html! {},
        // Sent with the form as `multipart/form-data`; the service keeps it with the action.
        FieldType::File => html! {
            input id=(id) name=(f.name) type="file" required[f.required];
            p.hint { "可上传 PDF、OFD、图片、Word 或 Excel 文件，与本次办理一并保存。" }
        },
    }
}

/// The payload a submitted form stands for. Empty inputs are left out, so that the state
/// machine names a missing required field; values that do not parse are passed on as text, so
/// that it names the wrong type too.
pub fn payload(fields: &[Field], st: &FormState) -> Map<String, Value> {
    let mut out = Map::new();
    for f in fields {
        let values: Vec<&str> = st
            .values
            .get(&f.name)
            .map(|v| {
                v.iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let value = match &f.ty {
            FieldType::Person => {
                let mut person = Map::new();
                for part in PERSON_PARTS {
                    let v = st.first(&format!("{}.{part}", f.name)).trim();
                    if !v.is_empty() {
                        person.insert(part.into(), Value::String(v.into()));
                    }
                }
                (!person.is_empty()).then_some(Value::Object(person))
            }
            FieldType::Orgs | FieldType::Users => (!values.is_empty())
                .then(|| Value::Array(values.iter().map(|v| Value::String((*v).into())).collect())),
            FieldType::Boolean => Some(Value::Bool(values.first() == Some(&"true"))),
            FieldType::Integer => values.first().map(|v| match v.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => Value::String((*v).into()),
            }),
            _ => values.first().map(|v| Value::String((*v).into())),
        };
        if let Some(v) = value {
            out.insert(f.name.clone(), v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, ty: FieldType, required: bool) -> Field {
        Field {
            name: name.into(),
            ty,
            required,
            max_length: None,
            min: None,
            max: None,
            sets: None,
            required_when: Vec::new(),
            org_kind: None,
            own_org_for: Vec::new(),
            title: None,
            value_titles: Default::default(),
            user_role: Vec::new(),
        }
    }

    #[test]
    fn a_form_becomes_the_payload_the_machine_checks() {
        let fields = vec![
            field("title", FieldType::Text, true),
            field("co_departments", FieldType::Orgs, false),
            field("amount_yuan", FieldType::Integer, false),
            field("consent", FieldType::Boolean, false),
            field("constituent", FieldType::Person, true),
            field("note", FieldType::Text, false),
        ];
        let st = FormState::from_pairs(&[
            ("_csrf".into(), "x".into()),
            ("title".into(), " 修路 ".into()),
            ("co_departments".into(), "czj".into()),
            ("co_departments".into(), "wsj".into()),
            ("amount_yuan".into(), "12a".into()),
            ("constituent.name".into(), "王某".into()),
            ("constituent.phone".into(), "13800000000".into()),
            ("note".into(), "   ".into()),
        ]);
        let p = payload(&fields, &st);
        assert_eq!(p["title"], "修路");
        assert_eq!(p["co_departments"], serde_json::json!(["czj", "wsj"]));
        assert_eq!(
            p["amount_yuan"], "12a",
            "passed on for the machine to refuse"
        );
        assert_eq!(p["consent"], false);
        assert_eq!(
            p["constituent"],
            serde_json::json!({"name": "王某", "phone": "13800000000"})
        );
        assert!(!p.contains_key("note"), "blank is absent, not empty");
        assert!(!p.contains_key("_csrf"));
    }

    #[test]
    fn a_refused_form_keeps_its_input_and_shows_the_problem_by_its_field() {
        let fields = vec![field("reason", FieldType::Text, true)];
        let mut st = FormState::from_pairs(&[("reason".into(), "太慢<script>".into())]);
        st.errors.insert("reason".into(), "is required".into());
        let html = inputs(&fields, &st, &Choices::default(), "f").into_string();
        assert!(
            html.contains("太慢&lt;script&gt;"),
            "kept and escaped: {html}"
        );
        assert!(html.contains("必填"));
    }
}
