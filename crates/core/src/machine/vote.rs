//! A vote an action records (`vote` in its definition): counts that cannot be negative nor
//! add up to more than everyone entitled to vote, and a result announced as the counts say.
//!
//! Why check a result given rather than overwrite it: the result is what the meeting announced,
//! a fact of its own on the record; a count mistyped shows up as a disagreement instead of
//! quietly turning a project that passed into one that failed. A result left out is written
//! from the counts.

use serde_json::{Map, Value};

use crate::workflow::{Field, FieldType, Vote};

use super::Refusal;
use super::payload::invalid;

/// The problems the pages translate: said once, here.
pub const NEGATIVE: &str = "must not be negative";
pub const TOO_MANY: &str = "is less than the votes counted";
pub const MISMATCH: &str = "does not match the votes counted";

/// The payload with the vote's result written from its counts when it was left out (and every
/// count is a whole number: otherwise the field checks say what is wrong).
pub(super) fn fill(vote: &Vote, fields: &[Field], payload: &Value) -> Value {
    let Some((field, passed)) = &vote.result else {
        return payload.clone();
    };
    let Some(obj) = payload.as_object() else {
        return payload.clone();
    };
    if obj.get(field).is_some_and(|v| !v.is_null()) {
        return payload.clone();
    }
    let count = |f: &String| obj.get(f).and_then(Value::as_u64);
    // Saturating: counts near the limits of the type must not wrap round into a pass.
    let sum = |fs: &[String]| {
        fs.iter()
            .map(count)
            .try_fold(0u64, |acc, n| Some(acc.saturating_add(n?)))
    };
    let (Some(yes), Some(of)) = (sum(&vote.yes), count(&vote.of)) else {
        return payload.clone();
    };
    let failed = fields.iter().find_map(|f| match &f.ty {
        FieldType::Enum(values) if &f.name == field => values.iter().find(|v| *v != passed),
        _ => None,
    });
    let value = if Vote::passes(yes, of) {
        Some(passed)
    } else {
        failed
    };
    let mut out = obj.clone();
    if let Some(v) = value {
        out.insert(field.clone(), Value::String(v.clone()));
    }
    Value::Object(out)
}

/// Checks a payload that passed its field checks (so every count is a whole number) against
/// the vote it records.
pub(super) fn check(vote: &Vote, payload: &Map<String, Value>) -> Result<(), Refusal> {
    let count = |f: &String| payload.get(f).and_then(Value::as_i64).unwrap_or(0);
    for f in std::iter::once(&vote.of).chain(&vote.yes).chain(&vote.no) {
        if count(f) < 0 {
            return Err(invalid(f, NEGATIVE));
        }
    }
    // Saturating: no sum of counts, however large, wraps round below `of`.
    let sum = |fs: &[String]| {
        fs.iter()
            .fold(0u64, |acc, f| acc.saturating_add(count(f).unsigned_abs()))
    };
    let (yes, of) = (sum(&vote.yes), count(&vote.of).unsigned_abs());
    if yes.saturating_add(sum(&vote.no)) > of {
        return Err(invalid(&vote.of, TOO_MANY));
    }
    if let Some((field, passed)) = &vote.result {
        let announced = payload.get(field).and_then(Value::as_str) == Some(passed.as_str());
        if announced != Vote::passes(yes, of) {
            return Err(invalid(field, MISMATCH));
        }
    }
    Ok(())
}
