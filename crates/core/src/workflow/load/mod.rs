//! Loading a workflow file: the TOML read into its raw schema, then named validation passes over
//! the whole, then the immutable [`Workflow`] built from what they passed.
//!
//! The split follows Cargo's `cargo-util-schemas`: a raw schema that remembers where each value
//! was written, and a validated model that no longer needs to. Every step reports every
//! problem it finds, each with file, line and reason, before giving up.

mod actions;
mod build;
mod clock;
mod notices;
mod number;
mod parties;
mod raw;
mod reachability;
mod reminders;
mod report;
mod states;
mod vote;

use std::collections::BTreeSet;

use crate::diagnostic::{FileDiagnostics, Source};
use crate::tomlread::Located;
use crate::workflow::model::{FieldType, Workflow};

use raw::{RawField, RawWorkflow};

/// Loads one workflow file. On failure, every problem found is in the returned list.
pub(crate) fn load(source: &Source<'_>) -> Result<Workflow, Vec<crate::Diagnostic>> {
    let mut diags = FileDiagnostics::new(source);
    let workflow = read(source, &mut diags);
    match workflow {
        Some(w) if diags.found.is_empty() => Ok(w),
        _ => {
            diags.found.sort_by_key(|d| d.line);
            Err(diags.found)
        }
    }
}

fn read(source: &Source<'_>, d: &mut FileDiagnostics<'_>) -> Option<Workflow> {
    let raw = raw::read(source, d)?;
    validate(source, d, raw)
}

/// Checks the definition as a whole: names resolve, every state is reachable and can finish,
/// deadlines sit on states that can run out, reminders point at real deadlines. Each pass adds
/// its problems in turn; the workflow is built only when none of them found one.
fn validate(
    source: &Source<'_>,
    d: &mut FileDiagnostics<'_>,
    raw: RawWorkflow,
) -> Option<Workflow> {
    let mut c = Check::new(d, &raw);
    parties::check(&mut c);
    states::initial(&mut c);
    actions::check(&mut c);
    clock::check(&mut c);
    states::check(&mut c);
    reachability::check(&mut c);
    reminders::check(&mut c);
    notices::check(&mut c);
    number::check(&mut c);
    vote::check(&mut c);
    report::check(&mut c);
    build::workflow(source, d, raw)
}

/// What the passes share: the definition as written, where problems go, and the names it
/// declares, gathered once so that every pass looks them up the same way.
#[derive(Debug)]
struct Check<'a, 'd> {
    d: &'a mut FileDiagnostics<'d>,
    raw: &'a RawWorkflow,
    state_names: BTreeSet<&'a str>,
    action_names: BTreeSet<&'a str>,
    party_names: BTreeSet<&'a str>,
    terminal: BTreeSet<&'a str>,
}

impl<'a, 'd> Check<'a, 'd> {
    fn new(d: &'a mut FileDiagnostics<'d>, raw: &'a RawWorkflow) -> Self {
        Self {
            d,
            raw,
            state_names: raw.states.iter().map(|s| s.name.value.as_str()).collect(),
            action_names: raw.actions.iter().map(|a| a.name.value.as_str()).collect(),
            party_names: raw.parties.iter().map(|p| p.value.as_str()).collect(),
            terminal: raw
                .states
                .iter()
                .filter(|s| s.terminal)
                .map(|s| s.name.value.as_str())
                .collect(),
        }
    }

    /// Whether `name` is a declared state; when not, says so, listing the states there are.
    fn state_is_known(&mut self, name: &Located<String>, place: &str) -> bool {
        if !self.state_names.contains(name.value.as_str()) {
            let known = self
                .state_names
                .iter()
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            self.d.at_line(
                name.line,
                format!(
                    "unknown state `{}` in {place} (states are: {known})",
                    name.value
                ),
            );
            false
        } else {
            true
        }
    }

    /// The payload fields of `action` (`file`: the filing's), or `None` when there is no such
    /// action.
    fn payload_of(&self, action: &str) -> Option<Vec<&'a RawField>> {
        let raw = self.raw;
        if action == crate::machine::FILE {
            return Some(raw.filing.iter().flat_map(|f| f.payload.iter()).collect());
        }
        raw.actions
            .iter()
            .find(|a| a.name.value == action)
            .map(|a| a.payload.iter().collect())
    }

    /// A `when` on the payload of the action itself (a notice's, a report count's): each field
    /// an enum field of `fields`, each value one of its values, or `what` could never happen.
    fn chosen_in(
        &mut self,
        fields: &[&RawField],
        when: &[(Located<String>, String)],
        at: (&str, &str),
        what: &str,
    ) {
        let (path, action) = at;
        for (field, value) in when {
            let values = fields.iter().find_map(|f| match &f.field.ty {
                FieldType::Enum(values) if f.field.name == field.value => Some(values),
                _ => None,
            });
            match values {
                None => self.d.at_line(
                    field.line,
                    format!(
                        "`{path}.when`: `{}` is not an enum field of `{action}`",
                        field.value
                    ),
                ),
                Some(values) if !values.contains(value) => self.d.at_line(
                    field.line,
                    format!(
                        "`{path}.when`: `{}` has no value `{value}`, so {what}",
                        field.value
                    ),
                ),
                Some(_) => {}
            }
        }
    }

    /// An audience (`notify`, `waits_on`): a declared party, or `role:NAME` for a real role.
    fn audience(&mut self, n: &Located<String>, key: &str) {
        match n.value.strip_prefix("role:") {
            Some(r) if crate::role::Role::parse(r).is_none() => self
                .d
                .at_line(n.line, format!("unknown role `{r}` in `{key}`")),
            Some(_) => {}
            None if !self.party_names.contains(n.value.as_str()) => self.d.at_line(
                n.line,
                format!(
                    "`{key}` names `{}`, which is neither a declared party nor `role:NAME`",
                    n.value
                ),
            ),
            None => {}
        }
    }

    /// A period's `from`: the state's entry, an action, or (for an extension's limit) the
    /// original due date.
    fn anchor(&mut self, from: &Located<String>, path: &str, due_allowed: bool) {
        let ok = from.value == "entered"
            || (due_allowed && from.value == "due")
            || self.action_names.contains(from.value.as_str());
        if !ok {
            let also = if due_allowed { ", `due`" } else { "" };
            self.d.at_line(
                from.line,
                format!(
                    "`{path}.from` is `{}`: expected `entered`{also} or the name of an action",
                    from.value
                ),
            );
        }
    }

    /// What a payload's fields say about the rest: the parties they set, and options that fit
    /// their type.
    fn fields(&mut self, fields: &[RawField], path: &str) {
        for f in fields {
            if let Some(sets) = &f.field.sets {
                if !self.party_names.contains(sets.as_str()) {
                    self.d.at_line(
                        f.sets_line,
                        format!(
                            "`{path}.payload.{}` sets unknown party `{sets}`",
                            f.field.name
                        ),
                    );
                } else if !matches!(
                    f.field.ty,
                    FieldType::Org | FieldType::Orgs | FieldType::User | FieldType::Users
                ) {
                    self.d.at_line(f.sets_line, format!("`{path}.payload.{}` sets a party but is not of type org, orgs, user or users", f.field.name));
                }
            }
            // A file belongs to a case, and a filing has none yet: documents come with actions.
            if path == "filing" && f.field.ty == FieldType::File {
                self.d.at_line(
                    f.line,
                    format!(
                        "`filing.payload.{}` is a file, but a filing has no case to attach it to yet: give the file to an action",
                        f.field.name
                    ),
                );
            }
            if f.field.max_length.is_some() && f.field.ty != FieldType::Text {
                self.d.at_line(
                    f.line,
                    format!(
                        "`{path}.payload.{}` has `max_length` but is not text",
                        f.field.name
                    ),
                );
            }
        }
    }
}
