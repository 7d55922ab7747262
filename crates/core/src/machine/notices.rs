//! The notices an action calls for: whoever must now act is told at once, headed by what
//! happened (【新交办】, 【已答复】), through the same outbox as reminders.

use std::collections::BTreeMap;

use crate::workflow::Audience;

use super::decide::Step;
use super::*;

/// Schedules the notices of the step's action leading to `to`, due at once. Each is keyed by the event
/// that called for it, so acting twice (a second assignment) tells them twice, and scheduling
/// the same event again does not.
/// A notice with `when` goes out only if the event chose those values (a co-signer's 不满意).
pub(super) fn schedule(
    step: &mut Step,
    to: &str,
    seq: u64,
    deadline: Option<&StateDeadline>,
    chose: &BTreeMap<String, String>,
) {
    for (i, rule) in step.wf.notices.iter().enumerate() {
        if rule.action != step.action || rule.to.as_deref().is_some_and(|t| t != to) {
            continue;
        }
        if !rule.when.iter().all(|(f, v)| chose.get(f) == Some(v)) {
            continue;
        }
        step.effects.push(Effect::ScheduleReminder(Reminder {
            key: format!("notice/{i}/{seq}"),
            state: to.to_string(),
            duty: None,
            rule: i,
            at: step.now,
            due_date: deadline.map(|d| d.deadline.due_date),
            notify: rule.notify.iter().map(Audience::to_string).collect(),
            repeat_every_days: None,
            escalate: rule.escalate,
            headline: Some(rule.title.clone()),
        }));
    }
}
