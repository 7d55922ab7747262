//! The states pass: the initial state, and each state's deadline, extension and duties against
//! the actions that can be taken from it.

use std::collections::BTreeSet;

use super::Check;
use crate::workflow::model::FieldType;

/// The initial state is declared and is not terminal.
pub(super) fn initial(c: &mut Check<'_, '_>) {
    let raw = c.raw;
    if let Some(init) = &raw.initial
        && c.state_is_known(init, "`initial`")
        && c.terminal.contains(init.value.as_str())
    {
        c.d.at_line(
            init.line,
            format!("the initial state `{}` is terminal", init.value),
        );
    }
}

/// Terminal states owe nothing; deadlines, extensions and duties name actions that can be
/// taken from their state.
pub(super) fn check(c: &mut Check<'_, '_>) {
    let raw = c.raw;
    for s in &raw.states {
        let path = format!("states.{}", s.name.value);
        let acts_here = |action: &str| {
            raw.actions
                .iter()
                .any(|a| a.name.value == action && a.from.iter().any(|f| f.value == s.name.value))
        };
        due_on(c, s, &path);
        if s.terminal && s.deadline.is_some() {
            c.d.at_line(
                s.name.line,
                format!(
                    "terminal state `{}` has a deadline; nothing is owed in a final state",
                    s.name.value
                ),
            );
        }
        if s.terminal && !s.waits_on.is_empty() {
            c.d.at_line(
                s.name.line,
                format!(
                    "terminal state `{}` waits on someone; nothing is owed in a final state",
                    s.name.value
                ),
            );
        }
        for w in &s.waits_on {
            c.audience(w, &format!("{path}.waits_on"));
        }
        if s.terminal && !s.duties.is_empty() {
            c.d.at_line(
                s.name.line,
                format!(
                    "terminal state `{}` has duties; nothing is owed in a final state",
                    s.name.value
                ),
            );
        }
        if let Some(dl) = &s.deadline {
            c.anchor(&dl.period.from, &format!("{path}.deadline"), false);
            if let Some(ext) = &dl.extension {
                if !c.action_names.contains(ext.action.value.as_str()) {
                    c.d.at_line(
                        ext.action.line,
                        format!(
                            "unknown action `{}` in `{path}.deadline.extension`",
                            ext.action.value
                        ),
                    );
                } else if !acts_here(&ext.action.value) {
                    c.d.at_line(
                        ext.action.line,
                        format!(
                            "extension action `{}` cannot be taken from `{}`",
                            ext.action.value, s.name.value
                        ),
                    );
                } else {
                    let a = raw
                        .actions
                        .iter()
                        .find(|a| a.name.value == ext.action.value);
                    let until_ok = a.is_some_and(|a| {
                        a.payload.iter().any(|f| {
                            f.field.name == "until"
                                && f.field.ty == FieldType::Date
                                && f.field.required
                        })
                    });
                    if !until_ok {
                        c.d.at_line(ext.action.line, format!("extension action `{}` needs a required date field `until` (the new last day)", ext.action.value));
                    }
                    if a.is_some_and(|a| a.to.as_ref().is_some_and(|t| t.value != s.name.value)) {
                        c.d.at_line(
                            ext.action.line,
                            format!(
                                "extension action `{}` must keep the case in `{}` (leave out `to`)",
                                ext.action.value, s.name.value
                            ),
                        );
                    }
                }
                if let Some(limit) = &ext.limit {
                    c.anchor(
                        &limit.from,
                        &format!("{path}.deadline.extension.limit"),
                        true,
                    );
                }
                if ext.max_times == Some(0) {
                    c.d.at_line(ext.action.line, format!("`{path}.deadline.extension.max_times` is 0: leave the extension out instead"));
                }
            }
        }
        let mut duty_names = BTreeSet::new();
        for duty in &s.duties {
            if !duty_names.insert(duty.name.value.as_str()) {
                c.d.at_line(
                    duty.name.line,
                    format!("duty `{}` is defined twice in `{path}`", duty.name.value),
                );
            }
            if !c.party_names.contains(duty.owed_by.value.as_str()) {
                c.d.at_line(
                    duty.owed_by.line,
                    format!(
                        "duty `{}` is owed by unknown party `{}`",
                        duty.name.value, duty.owed_by.value
                    ),
                );
            }
            if !acts_here(&duty.done_by.value) {
                c.d.at_line(
                    duty.done_by.line,
                    format!(
                        "duty `{}` is done by `{}`, which is not an action from `{}`",
                        duty.name.value, duty.done_by.value, s.name.value
                    ),
                );
            }
            c.anchor(&duty.period.from, &format!("{path}.duties"), false);
        }
    }
}

/// A deadline on a date an earlier step gave (`due_on`) stands instead of a period: the field
/// is a date field of the filing or of an action, and a final state owes nothing.
fn due_on(c: &mut Check<'_, '_>, s: &super::raw::RawState, path: &str) {
    let Some(field) = &s.due_on else {
        return;
    };
    let raw = c.raw;
    if s.deadline.is_some() {
        c.d.at_line(
            field.line,
            format!("`{path}` has both `deadline` and `due_on`; a state has one deadline"),
        );
    }
    if s.terminal {
        c.d.at_line(
            field.line,
            format!(
                "terminal state `{}` has `due_on`; nothing is owed in a final state",
                s.name.value
            ),
        );
    }
    let is_date = raw
        .filing
        .iter()
        .flat_map(|f| f.payload.iter())
        .chain(raw.actions.iter().flat_map(|x| x.payload.iter()))
        .any(|f| f.field.name == field.value && f.field.ty == FieldType::Date);
    if !is_date {
        c.d.at_line(
            field.line,
            format!(
                "`{path}.due_on`: no date field `{}` in the filing or any action",
                field.value
            ),
        );
    }
}
