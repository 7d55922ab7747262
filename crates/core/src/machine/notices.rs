//! The notices an action calls for: whoever must now act is told at once, headed by what
//! happened (【新交办】, 【已答复】), through the same outbox as reminders.

use jiff::Timestamp;

use crate::workflow::{Audience, Workflow};

use super::*;

/// Schedules the notices of `action` leading to `to`, due at `now`. Each is keyed by the event
/// that called for it, so acting twice (a second assignment) tells them twice, and scheduling
/// the same event again does not.
pub(super) fn schedule(
    wf: &Workflow,
    action: &str,
    to: &str,
    seq: u64,
    deadline: Option<&StateDeadline>,
    now: Timestamp,
    effects: &mut Vec<Effect>,
) {
    for (i, rule) in wf.notices.iter().enumerate() {
        if rule.action != action || rule.to.as_deref().is_some_and(|t| t != to) {
            continue;
        }
        effects.push(Effect::ScheduleReminder(Reminder {
            key: format!("notice/{i}/{seq}"),
            state: to.to_string(),
            duty: None,
            rule: i,
            at: now,
            due_date: deadline.map(|d| d.deadline.due_date),
            notify: rule.notify.iter().map(Audience::to_string).collect(),
            repeat_every_days: None,
            escalate: rule.escalate,
            headline: Some(rule.title.clone()),
        }));
    }
}
