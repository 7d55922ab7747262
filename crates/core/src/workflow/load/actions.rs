//! The actions pass: the states each action moves between, its routes and their conditions,
//! its roles, its payload and its time window.

use super::Check;
use super::raw::RawField;
use crate::tomlread::Located;
use crate::workflow::model::{Field, FieldType};

pub(super) fn check(c: &mut Check<'_, '_>) {
    let raw = c.raw;
    for a in &raw.actions {
        let path = format!("actions.{}", a.name.value);
        for f in &a.from {
            if c.state_is_known(f, &format!("`{path}.from`"))
                && c.terminal.contains(f.value.as_str())
            {
                c.d.at_line(
                    f.line,
                    format!(
                        "`{path}` acts from terminal state `{}`; terminal states are final",
                        f.value
                    ),
                );
            }
        }
        if let Some(to) = &a.to {
            c.state_is_known(to, &format!("`{path}.to`"));
        }
        for r in &a.routes {
            c.state_is_known(&r.to, &format!("`{path}.routes`"));
            if let Some(rf) = &r.from
                && !a.from.iter().any(|f| f.value == rf.value)
            {
                c.d.at_line(rf.line, format!("`{path}.routes` names `from = \"{}\"`, which is not in the action's `from`", rf.value));
            }
            for (field, value) in &r.when {
                // A field the action does not carry is one an earlier step chose.
                if !a.payload.iter().any(|f| f.field.name == field.value) {
                    chosen_earlier(c, field, value, &format!("{path}.routes"), "route");
                    continue;
                }
                match a.payload.iter().find(|f| f.field.name == field.value) {
                    Some(RawField {
                        field:
                            Field {
                                ty: FieldType::Enum(values),
                                required,
                                ..
                            },
                        ..
                    }) => {
                        if !values.contains(value) {
                            c.d.at_line(
                                field.line,
                                format!(
                                    "`{path}.routes`: `{}` has no value `{value}` (values are: {})",
                                    field.value,
                                    values.join(", ")
                                ),
                            );
                        }
                        // A vote's result is always there: left out, it is written from the counts.
                        let announced = a
                            .vote
                            .as_ref()
                            .and_then(|v| v.result.as_ref())
                            .is_some_and(|r| r.value == field.value);
                        if !required && !announced {
                            c.d.at_line(
                                field.line,
                                format!(
                                    "`{path}.routes` depends on `{}`, which must then be required",
                                    field.value
                                ),
                            );
                        }
                    }
                    Some(_) => c.d.at_line(
                        field.line,
                        format!("`{path}.routes`: `{}` is not an enum field", field.value),
                    ),
                    None => {}
                }
            }
        }
        if !a.roles.iter().any(|r| r.may_act()) {
            c.d.at_line(
                a.roles_line,
                format!("`{path}`: no role may take this action (auditors change nothing)"),
            );
        }
        c.fields(&a.payload, &path);
        for b in &a.by {
            if !c.party_names.contains(b.value.as_str()) {
                c.d.at_line(
                    b.line,
                    format!("`{path}.by` names unknown party `{}`", b.value),
                );
            }
        }
        for r in &a.requires {
            if !c.party_names.contains(r.value.as_str()) {
                c.d.at_line(
                    r.line,
                    format!("`{path}.requires` names unknown party `{}`", r.value),
                );
            }
        }
        if let Some(w) = &a.within {
            c.anchor(&w.from, &path, false);
        }
        answered_by(c, a, &path);
        chosen_before(c, a, &path);
        owed_where_taken(c, a, &path);
        linkable(c, a, &path);
        if a.only_to_answer
            && !c
                .raw
                .actions
                .iter()
                .any(|r| r.answered_by.iter().any(|x| x.value == a.name.value))
        {
            c.d.at_line(
                a.name.line,
                format!(
                    "`{path}.only_to_answer`: no action's `answered_by` names `{}`, so it could never be taken",
                    a.name.value
                ),
            );
        }
    }
}

/// An action's `when` reads what an earlier step chose: each field must be an enum field of
/// the filing or of an action, and the value one of its values, or the action could never be
/// taken.
fn chosen_before(c: &mut Check<'_, '_>, a: &super::raw::RawAction, path: &str) {
    for (field, value) in &a.when {
        chosen_earlier(c, field, value, &format!("{path}.when"), "action");
    }
}

/// A condition on what an earlier step chose (an action's `when`, or a route's on a field the
/// action does not carry): the field is an enum field of the filing or of an action, and the
/// value one of its values, or `what` (the action, the route) could never be taken.
fn chosen_earlier(
    c: &mut Check<'_, '_>,
    field: &Located<String>,
    value: &str,
    path: &str,
    what: &str,
) {
    let raw = c.raw;
    let values: Vec<&String> = raw
        .filing
        .iter()
        .flat_map(|f| f.payload.iter())
        .chain(raw.actions.iter().flat_map(|x| x.payload.iter()))
        .filter(|f| f.field.name == field.value)
        .filter_map(|f| match &f.field.ty {
            FieldType::Enum(values) => Some(values),
            _ => None,
        })
        .flatten()
        .collect();
    if values.is_empty() {
        c.d.at_line(
            field.line,
            format!(
                "`{path}`: no enum field `{}` in the filing or any action",
                field.value
            ),
        );
    } else if !values.iter().any(|v| v.as_str() == value) {
        c.d.at_line(
            field.line,
            format!(
                "`{path}`: `{}` has no value `{value}`, so the {what} could never be taken",
                field.value
            ),
        );
    }
}

/// Those in `by` who do not decide an action (`decided_by`) take it only to discharge a duty
/// they owe: every state it is taken from must have one, or they could never take it there.
/// The deciding parties are declared.
fn owed_where_taken(c: &mut Check<'_, '_>, a: &super::raw::RawAction, path: &str) {
    let Some(first) = a.decided_by.first() else {
        return;
    };
    for p in &a.decided_by {
        if !c.party_names.contains(p.value.as_str()) {
            c.d.at_line(
                p.line,
                format!("`{path}.decided_by` names unknown party `{}`", p.value),
            );
        }
    }
    let raw = c.raw;
    for from in &a.from {
        let discharges = raw
            .states
            .iter()
            .filter(|s| s.name.value == from.value)
            .flat_map(|s| s.duties.iter())
            .any(|d| d.done_by.value == a.name.value);
        if !discharges {
            c.d.at_line(
                first.line,
                format!(
                    "`{path}.decided_by`: no duty of state `{}` is done by it, so no one but the deciders could ever take it there",
                    from.value
                ),
            );
        }
    }
}

/// A link is a person's own: it is minted for those who fill `by`, so an action open to anyone
/// has no one to mint it for. Its form is a plain page without a session, which carries no
/// documents.
fn linkable(c: &mut Check<'_, '_>, a: &super::raw::RawAction, path: &str) {
    if !a.link {
        return;
    }
    if a.by.is_empty() {
        c.d.at_line(
            a.name.line,
            format!("`{path}.link`: a link is minted for the parties in `by`, and it names none"),
        );
    }
    if let Some(f) = a.payload.iter().find(|f| f.field.ty == FieldType::File) {
        c.d.at_line(
            f.line,
            format!(
                "`{path}.link`: `{}` is a file, and a signed link's form takes no documents",
                f.field.name
            ),
        );
    }
}

/// A request's answers are other actions that can be taken where the request can: otherwise
/// it would wait forever.
fn answered_by(c: &mut Check<'_, '_>, a: &super::raw::RawAction, path: &str) {
    let raw = c.raw;
    for ans in &a.answered_by {
        let Some(answer) = raw.actions.iter().find(|x| x.name.value == ans.value) else {
            c.d.at_line(
                ans.line,
                format!("`{path}.answered_by` names unknown action `{}`", ans.value),
            );
            continue;
        };
        if answer.name.value == a.name.value {
            c.d.at_line(ans.line, format!("`{path}` cannot answer itself"));
        } else if !a
            .from
            .iter()
            .any(|f| answer.from.iter().any(|g| g.value == f.value))
        {
            c.d.at_line(
                ans.line,
                format!(
                    "`{path}.answered_by`: `{}` cannot be taken from any state `{}` is taken from",
                    ans.value, a.name.value
                ),
            );
        }
    }
}
