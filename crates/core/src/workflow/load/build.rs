//! The build pass: the raw records, once every other pass found nothing, turned into the
//! immutable [`Workflow`] with the lines dropped.

use crate::diagnostic::{FileDiagnostics, Source};
use crate::number::{DEFAULT_FORMAT, NumberFormat};
use crate::role::Role;
use crate::workflow::model::*;

use super::raw::RawWorkflow;

/// The workflow, or `None` when a required part is missing or any pass reported a problem.
pub(super) fn workflow(
    source: &Source<'_>,
    d: &FileDiagnostics<'_>,
    raw: RawWorkflow,
) -> Option<Workflow> {
    // Duplicate names are caught by the TOML parser (a table defined twice).
    let initial = raw.initial?;
    if !d.found.is_empty() {
        return None;
    }
    let filing = raw.filing?;
    let kind = raw.kind?;
    let title = raw.title?.value;
    Some(Workflow {
        kind: kind.value,
        version: raw.version,
        digest: digest(source.text),
        report: raw.report.map(|r| super::report::build(r, &title)),
        title,
        source: source.name.to_string(),
        initial: initial.value,
        parties: raw.parties.into_iter().map(|p| p.value).collect(),
        filing: Filing {
            roles: filing.roles,
            payload: filing.payload.into_iter().map(|f| f.field).collect(),
            titles: filing.titles,
        },
        states: raw
            .states
            .into_iter()
            .map(|s| State {
                name: s.name.value,
                title: s.title,
                terminal: s.terminal,
                deadline: s.deadline.map(|dl| DeadlineRule {
                    period: dl.period.period,
                    from: anchor(&dl.period.from.value),
                    extension: dl.extension.map(|e| ExtensionRule {
                        action: e.action.value,
                        max_times: e.max_times,
                        limit: e.limit.map(|l| (l.period, anchor(&l.from.value))),
                    }),
                    basis: dl.basis,
                }),
                due_on: s.due_on.map(|f| f.value),
                duties: s
                    .duties
                    .into_iter()
                    .map(|x| Duty {
                        name: x.name.value,
                        title: x.title,
                        owed_by: x.owed_by.value,
                        period: x.period.period,
                        from: anchor(&x.period.from.value),
                        done_by: x.done_by.value,
                    })
                    .collect(),
                waits_on: s
                    .waits_on
                    .iter()
                    .filter_map(|n| audience(&n.value))
                    .collect(),
                stage: s.stage,
            })
            .collect(),
        actions: raw
            .actions
            .into_iter()
            .map(|a| Action {
                name: a.name.value,
                title: a.title,
                from: a.from.into_iter().map(|f| f.value).collect(),
                to: a.to.map(|t| t.value),
                routes: a
                    .routes
                    .into_iter()
                    .map(|r| Route {
                        from: r.from.map(|f| f.value),
                        when: r.when.into_iter().map(|(k, v)| (k.value, v)).collect(),
                        to: r.to.value,
                    })
                    .collect(),
                roles: a.roles,
                by: a.by.into_iter().map(|b| b.value).collect(),
                payload: a.payload.into_iter().map(|f| f.field).collect(),
                within: a.within.map(|w| (w.period, anchor(&w.from.value))),
                once: a.once,
                answered_by: a.answered_by.into_iter().map(|x| x.value).collect(),
                only_to_answer: a.only_to_answer,
                when: a.when.into_iter().map(|(k, v)| (k.value, v)).collect(),
                clock: a.clock.map(|c| c.value),
                requires: a.requires.into_iter().map(|x| x.value).collect(),
                decided_by: a.decided_by.into_iter().map(|x| x.value).collect(),
                link: a.link,
                vote: a.vote.map(super::vote::build),
            })
            .collect(),
        reminders: raw
            .reminders
            .into_iter()
            .map(|r| ReminderRule {
                state: r.state.value,
                duty: r.duty.map(|x| x.value),
                when: r.when,
                notify: r.notify.iter().filter_map(|n| audience(&n.value)).collect(),
                escalate: r.escalate,
            })
            .collect(),
        number: NumberFormat::parse(
            raw.number
                .as_ref()
                .map_or(DEFAULT_FORMAT, |n| n.value.as_str()),
        )
        .ok()?,
        notices: raw
            .notices
            .into_iter()
            .map(|n| NoticeRule {
                action: n.action.value,
                to: n.to.map(|t| t.value),
                when: n.when.into_iter().map(|(f, v)| (f.value, v)).collect(),
                title: n.title.value,
                notify: n.notify.iter().filter_map(|x| audience(&x.value)).collect(),
                escalate: n.escalate,
            })
            .collect(),
    })
}

/// FNV-1a over the file's text: stable across builds and platforms, enough to tell edits apart.
fn digest(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn anchor(s: &str) -> Anchor {
    match s {
        "entered" => Anchor::Entered,
        "due" => Anchor::Due,
        other => Anchor::Action(other.to_string()),
    }
}

fn audience(s: &str) -> Option<Audience> {
    match s.strip_prefix("role:") {
        Some(r) => Role::parse(r).map(Audience::Role),
        None => Some(Audience::Party(s.to_string())),
    }
}
