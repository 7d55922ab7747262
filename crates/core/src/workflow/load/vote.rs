//! The votes pass: a vote counts integer fields its action requires, and announces its result
//! in a required enum field that has the passing value.

use super::Check;
use super::raw::{RawAction, RawVote};
use crate::tomlread::Located;
use crate::workflow::model::{FieldType, Vote};

pub(super) fn check(c: &mut Check<'_, '_>) {
    let raw = c.raw;
    for a in &raw.actions {
        let Some(v) = &a.vote else { continue };
        let path = format!("actions.{}.vote", a.name.value);
        let counted: Vec<_> = v.of.iter().chain(&v.yes).chain(&v.no).collect();
        for (i, field) in counted.iter().enumerate() {
            counts(c, a, field, &path);
            // A field counted twice (or everyone entitled counted as votes) would pass a vote
            // the meeting did not.
            if counted[..i].iter().any(|x| x.value == field.value) {
                c.d.at_line(
                    field.line,
                    format!("`{path}` counts `{}` twice", field.value),
                );
            }
        }
        if let (Some(result), Some(passed)) = (&v.result, &v.passed) {
            announced(c, a, result, passed, &path);
        }
    }
}

/// A count must be a required integer field of the action: a vote missing one of its counts
/// could not be checked.
fn counts(c: &mut Check<'_, '_>, a: &RawAction, field: &Located<String>, path: &str) {
    match a.payload.iter().find(|f| f.field.name == field.value) {
        None => c.d.at_line(
            field.line,
            format!(
                "`{path}` counts `{}`, which the action does not carry",
                field.value
            ),
        ),
        Some(f) if f.field.ty != FieldType::Integer || !f.field.required => c.d.at_line(
            field.line,
            format!(
                "`{path}` counts `{}`, which must be a required integer field",
                field.value
            ),
        ),
        Some(_) => {}
    }
}

/// The result is an enum of two values, passed and not, one of them the passing value: left
/// out, the engine writes it from the counts, so routes may depend on it.
fn announced(
    c: &mut Check<'_, '_>,
    a: &RawAction,
    result: &Located<String>,
    passed: &Located<String>,
    path: &str,
) {
    let field = a.payload.iter().find(|f| f.field.name == result.value);
    match field.map(|f| &f.field.ty) {
        Some(FieldType::Enum(values)) if values.len() == 2 => {
            if !values.contains(&passed.value) {
                c.d.at_line(
                    passed.line,
                    format!(
                        "`{path}.passed`: `{}` has no value `{}` (values are: {})",
                        result.value,
                        passed.value,
                        values.join(", ")
                    ),
                );
            }
        }
        _ => c.d.at_line(
            result.line,
            format!(
                "`{path}.result`: `{}` must be an enum field of the action with two values (passed, and not)",
                result.value
            ),
        ),
    }
}

/// The vote as the engine reads it; built only from a definition that passed its checks.
pub(super) fn build(v: RawVote) -> Vote {
    Vote {
        of: v.of.map(|x| x.value).unwrap_or_default(),
        yes: v.yes.into_iter().map(|x| x.value).collect(),
        no: v.no.into_iter().map(|x| x.value).collect(),
        result: v.result.zip(v.passed).map(|(r, p)| (r.value, p.value)),
    }
}
