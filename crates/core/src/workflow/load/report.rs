//! The report pass: each count names one thing to count (a state entered, an action taken,
//! an integer field summed) that the definition has, and the sentence names only its counts.

use super::Check;
use super::raw::{RawCount, RawField, RawReport};
use crate::tomlread::Located;
use crate::workflow::model::FieldType;
use crate::workflow::{
    BREAKDOWNS, Counted, ENGINE_FIGURES, ReportCount, ReportSection, placeholders,
};

pub(super) fn check(c: &mut Check<'_, '_>) {
    let raw = c.raw;
    let Some(r) = &raw.report else { return };
    for count in &r.counts {
        counted(c, count);
        if ENGINE_FIGURES.contains(&count.name.value.as_str()) {
            c.d.at_line(
                count.name.line,
                format!(
                    "`report.counts.{}`: the engine's figure of that name is stated as it is",
                    count.name.value
                ),
            );
        }
    }
    if let Some(by) = &r.by
        && (!BREAKDOWNS.contains(&by.value.as_str()) || !c.party_names.contains(by.value.as_str()))
    {
        c.d.at_line(
            by.line,
            format!(
                "`report.by` is `{}`; a section is broken down by one of its parties among: {}",
                by.value,
                BREAKDOWNS.join(", ")
            ),
        );
    }
    if let Some(s) = &r.sentence {
        match placeholders(&s.value) {
            Err(at) => c.d.at_line(
                s.line,
                format!("`report.sentence`: `{at}` is not a `{{name}}` of a count"),
            ),
            Ok(names) => {
                for n in names {
                    if !r.counts.iter().any(|x| x.name.value == n) && !ENGINE_FIGURES.contains(&n) {
                        c.d.at_line(
                            s.line,
                            format!("`report.sentence` names `{{{n}}}`, which is no count of `report.counts`"),
                        );
                    }
                }
            }
        }
    }
}

fn counted(c: &mut Check<'_, '_>, count: &RawCount) {
    let path = format!("report.counts.{}", count.name.value);
    let given = [&count.reached, &count.took, &count.sum]
        .iter()
        .filter(|x| x.is_some())
        .count()
        + usize::from(count.within.is_some());
    if given != 1 {
        c.d.at_line(
            count.name.line,
            format!(
                "`{path}` counts one thing: give exactly one of `reached`, `took`, `sum` or `in`"
            ),
        );
        return;
    }
    for state in count.within.iter().flatten() {
        c.state_is_known(state, &format!("`{path}.in`"));
    }
    if let Some(state) = &count.reached {
        c.state_is_known(state, &format!("`{path}.reached`"));
    }
    if let Some(action) = &count.took {
        let Some(fields) = known_action(c, action, &path) else {
            return;
        };
        // One field: the steps keep each value chosen, not which were chosen together.
        if let Some((field, _)) = count.when.get(1) {
            c.d.at_line(field.line, format!("`{path}.when` names one field"));
        }
        c.chosen_in(
            &fields,
            &count.when,
            (&path, &action.value),
            "the count could never count a case",
        );
    } else if let Some((field, _)) = count.when.first() {
        c.d.at_line(field.line, format!("`{path}.when` goes with `took`"));
    }
    if let Some(sum) = &count.sum {
        let Some((action, field)) = sum.value.split_once('.') else {
            c.d.at_line(
                sum.line,
                format!("`{path}.sum` is `ACTION.FIELD` (`file.received`)"),
            );
            return;
        };
        let located = Located {
            value: action.to_string(),
            line: sum.line,
        };
        let Some(fields) = known_action(c, &located, &path) else {
            return;
        };
        if !fields
            .iter()
            .any(|f| f.field.name == field && f.field.ty == FieldType::Integer)
        {
            c.d.at_line(
                sum.line,
                format!("`{path}.sum`: `{field}` is no integer field of `{action}`"),
            );
        }
    }
}

/// The action a count names, `file` or a declared one; its fields.
fn known_action<'a>(
    c: &mut Check<'a, '_>,
    action: &Located<String>,
    path: &str,
) -> Option<Vec<&'a RawField>> {
    let fields = c.payload_of(&action.value);
    if fields.is_none() {
        c.d.at_line(
            action.line,
            format!(
                "`{path}` names unknown action `{}` (`file` is the filing)",
                action.value
            ),
        );
    }
    fields
}

/// The section as the report reads it; built only from a definition that passed its checks.
pub(super) fn build(r: RawReport, kind_title: &str) -> ReportSection {
    ReportSection {
        title: r.title.map_or_else(|| kind_title.to_string(), |t| t.value),
        sentence: r.sentence.map(|s| s.value).unwrap_or_default(),
        by: r.by.map(|b| b.value),
        counts: r
            .counts
            .into_iter()
            .filter_map(|x| {
                let counted = if let Some(s) = x.reached {
                    Counted::Reached(s.value)
                } else if let Some(states) = x.within {
                    Counted::In(states.into_iter().map(|s| s.value).collect())
                } else if let Some(a) = x.took {
                    Counted::Took {
                        action: a.value,
                        when: x.when.into_iter().map(|(f, v)| (f.value, v)).collect(),
                    }
                } else {
                    let sum = x.sum?;
                    let (action, field) = sum.value.split_once('.')?;
                    Counted::Sum {
                        action: action.to_string(),
                        field: field.to_string(),
                    }
                };
                Some(ReportCount {
                    title: x.title.map_or_else(|| x.name.value.clone(), |t| t.value),
                    name: x.name.value,
                    counted,
                })
            })
            .collect(),
    }
}
