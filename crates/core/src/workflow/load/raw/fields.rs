//! A payload as written, for the filing or an action: each field's type and options, read and
//! checked against one another.

use crate::diagnostic::FileDiagnostics;
use crate::role::Role;
use crate::tomlread::{self, Table};
use crate::workflow::model::{Field, FieldType, ORG_KINDS};

const FIELD_KEYS: &[&str] = &[
    "type",
    "required",
    "values",
    "max_length",
    "min",
    "max",
    "sets",
    "required_when",
    "org_kind",
    "own_org_for",
    "user_role",
    "title",
    "value_titles",
];
const FIELD_TYPES: &[&str] = &[
    "text", "integer", "boolean", "date", "enum", "org", "orgs", "user", "users",
];

/// A payload field with the lines its problems point at.
#[derive(Debug)]
pub(crate) struct RawField {
    pub(crate) field: Field,
    pub(crate) line: usize,
    pub(crate) sets_line: usize,
}

pub(super) fn read_payload(
    t: &Table<'_>,
    path: &str,
    d: &mut FileDiagnostics<'_>,
) -> Vec<RawField> {
    let Some((pt, _)) = tomlread::table(t, "payload", path, d) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, value) in pt.iter() {
        let fpath = format!("{path}.payload.{}", name.get_ref());
        let line = d.line_of_span(&name.span());
        let Some(ft) = value.get_ref().as_table() else {
            d.at(
                &value.span(),
                format!("`{fpath}` must be a table such as {{ type = \"text\" }}"),
            );
            continue;
        };
        let span = value.span();
        tomlread::check_keys(ft, &fpath, FIELD_KEYS, d);
        let Some(ty) = tomlread::required_string(ft, &span, "type", &fpath, d) else {
            continue;
        };
        let values = tomlread::strings(ft, "values", &fpath, d);
        let ty = match ty.value.as_str() {
            "text" => FieldType::Text,
            "integer" => FieldType::Integer,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "org" => FieldType::Org,
            "orgs" => FieldType::Orgs,
            "user" => FieldType::User,
            "users" => FieldType::Users,
            "person" => FieldType::Person,
            "file" => FieldType::File,
            "enum" => match values {
                Some(v) if !v.is_empty() => {
                    FieldType::Enum(v.into_iter().map(|v| v.value).collect())
                }
                _ => {
                    d.at_line(
                        ty.line,
                        format!("`{fpath}` is an enum but lists no `values`"),
                    );
                    continue;
                }
            },
            other => {
                d.at_line(
                    ty.line,
                    format!(
                        "`{fpath}.type` is `{other}`; expected one of: {}",
                        FIELD_TYPES.join(", ")
                    ),
                );
                continue;
            }
        };
        if !matches!(ty, FieldType::Enum(_)) && tomlread::get(ft, "values").is_some() {
            d.at_line(line, format!("`{fpath}` has `values` but is not an enum"));
        }
        let max_length = tomlread::count(ft, "max_length", &fpath, d).map(|c| c.value as usize);
        // Bounds of an integer field: a count of people or votes is never negative.
        let min = tomlread::count(ft, "min", &fpath, d);
        let max = tomlread::count(ft, "max", &fpath, d);
        if let Some(b) = min.as_ref().or(max.as_ref())
            && ty != FieldType::Integer
        {
            d.at_line(
                b.line,
                format!("`{fpath}` has `min` or `max` but is not an integer"),
            );
        }
        if let (Some(lo), Some(hi)) = (&min, &max)
            && lo.value > hi.value
        {
            d.at_line(hi.line, format!("`{fpath}.max` is less than its `min`"));
        }
        let sets = tomlread::string(ft, "sets", &fpath, d);
        let org_kind = tomlread::string(ft, "org_kind", &fpath, d);
        if let Some(k) = &org_kind {
            if !matches!(ty, FieldType::Org | FieldType::Orgs) {
                d.at_line(
                    k.line,
                    format!("`{fpath}` has `org_kind` but is not of type org or orgs"),
                );
            } else if !ORG_KINDS.contains(&k.value.as_str()) {
                d.at_line(
                    k.line,
                    format!(
                        "`{fpath}.org_kind` is `{}`; expected one of: {}",
                        k.value,
                        ORG_KINDS.join(", ")
                    ),
                );
            }
        }
        let mut own_org_for = Vec::new();
        for n in tomlread::strings(ft, "own_org_for", &fpath, d).unwrap_or_default() {
            if ty != FieldType::Org {
                d.at_line(
                    n.line,
                    format!("`{fpath}` has `own_org_for` but is not of type org"),
                );
            }
            match Role::parse(&n.value) {
                Some(r) => own_org_for.push(r),
                None => d.at_line(
                    n.line,
                    format!(
                        "unknown role `{}` in `{fpath}.own_org_for` (roles are: {})",
                        n.value,
                        Role::ALL.map(|r| r.as_str()).join(", ")
                    ),
                ),
            }
        }
        let mut user_role = Vec::new();
        for n in tomlread::strings(ft, "user_role", &fpath, d).unwrap_or_default() {
            if !matches!(ty, FieldType::User | FieldType::Users) {
                d.at_line(
                    n.line,
                    format!("`{fpath}` has `user_role` but is not of type user or users"),
                );
            }
            match Role::parse(&n.value) {
                Some(r) => user_role.push(r),
                None => d.at_line(
                    n.line,
                    format!(
                        "unknown role `{}` in `{fpath}.user_role` (roles are: {})",
                        n.value,
                        Role::ALL.map(|r| r.as_str()).join(", ")
                    ),
                ),
            }
        }
        let mut value_titles = std::collections::BTreeMap::new();
        if let Some((vt, _)) = tomlread::table(ft, "value_titles", &fpath, d) {
            for (k, v) in vt.iter() {
                let value = k.get_ref().to_string();
                match (&ty, v.get_ref().as_str()) {
                    (FieldType::Enum(values), Some(title)) if values.contains(&value) => {
                        value_titles.insert(value, title.to_string());
                    }
                    (FieldType::Enum(values), Some(_)) => d.at(
                        &k.span(),
                        format!(
                            "`{fpath}.value_titles` names `{value}`, which is not one of its values ({})",
                            values.join(", ")
                        ),
                    ),
                    (FieldType::Enum(_), None) => d.at(
                        &v.span(),
                        format!("`{fpath}.value_titles.{value}` must be a string"),
                    ),
                    _ => d.at(
                        &k.span(),
                        format!("`{fpath}` has `value_titles` but is not an enum"),
                    ),
                }
            }
        }
        let mut required_when = Vec::new();
        if let Some((wt, _)) = tomlread::table(ft, "required_when", &fpath, d) {
            for (k, v) in wt.iter() {
                match v.get_ref().as_str() {
                    Some(value) => required_when.push((k.get_ref().to_string(), value.to_string())),
                    None => d.at(
                        &v.span(),
                        format!("`{fpath}.required_when.{}` must be a string", k.get_ref()),
                    ),
                }
            }
        }
        out.push(RawField {
            field: Field {
                name: name.get_ref().to_string(),
                ty,
                required: tomlread::boolean(ft, "required", &fpath, d).unwrap_or(false),
                max_length,
                min: min.map(|b| i64::from(b.value)),
                max: max.map(|b| i64::from(b.value)),
                sets: sets.as_ref().map(|s| s.value.clone()),
                required_when,
                org_kind: org_kind.map(|k| k.value),
                own_org_for,
                user_role,
                title: tomlread::string(ft, "title", &fpath, d).map(|t| t.value),
                value_titles,
            },
            line,
            sets_line: sets.map(|s| s.line).unwrap_or(line),
        });
    }
    // A condition names an enum field of the same payload and one of its values.
    for f in &out {
        for (other, value) in &f.field.required_when {
            let fpath = format!("{path}.payload.{}", f.field.name);
            match out.iter().find(|o| &o.field.name == other).map(|o| &o.field.ty) {
                Some(FieldType::Enum(values)) if values.contains(value) => {}
                Some(FieldType::Enum(values)) => d.at_line(
                    f.line,
                    format!(
                        "`{fpath}.required_when`: `{other}` has no value `{value}` (values are: {})",
                        values.join(", ")
                    ),
                ),
                _ => d.at_line(
                    f.line,
                    format!("`{fpath}.required_when` names `{other}`, which is not an enum field of this payload"),
                ),
            }
        }
    }
    out
}
