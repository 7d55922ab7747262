//! The reminders a state's deadline and duties call for, at 09:00 China time.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};

use crate::deadline::{CHINA, Deadline, china_date};
use crate::workflow::{Audience, When};

use super::decide::Step;
use super::*;

/// Office hours: reminders before or after a deadline go out at 09:00 China time.
pub(super) fn nine_am(date: Date) -> Timestamp {
    CHINA
        .to_timestamp(date.to_datetime(jiff::civil::Time::constant(9, 0, 0, 0)))
        .unwrap_or(Timestamp::MAX)
}

/// Schedules the reminder rules of `state` (for its own deadline or for `duty`). Reminders whose
/// time has already passed are left out: a 3-day deadline gets no "7 days before" reminder.
/// A duty owed by one member reminds that member, not the whole party that owes it.
pub(super) fn schedule(
    step: &mut Step,
    state: &str,
    duty: Option<&OpenDuty>,
    deadline: Option<&Deadline>,
    entering: bool,
) {
    let now = step.now;
    for (i, rule) in step.wf.reminders.iter().enumerate() {
        if rule.state != state || rule.duty.as_deref() != duty.map(|d| d.name.as_str()) {
            continue;
        }
        let (at, due_date, repeat) = match (rule.when, deadline) {
            (When::Entered, _) if entering => (now, deadline.map(|d| d.due_date), None),
            (When::Entered, _) => continue,
            (When::BeforeDue(days), Some(d)) => {
                let day = d.due_date.saturating_sub(i64::from(days).days());
                (nine_am(day), Some(d.due_date), None)
            }
            (When::AtDue, Some(d)) => (nine_am(d.due_date), Some(d.due_date), None),
            (When::Overdue, Some(d)) => (
                nine_am(d.due_date.saturating_add(1.day())),
                Some(d.due_date),
                None,
            ),
            (When::OverdueEvery(n), Some(d)) => (
                nine_am(d.due_date.saturating_add(1.day())),
                Some(d.due_date),
                Some(n),
            ),
            (_, None) => continue,
        };
        if at < now && rule.when != When::Entered {
            continue;
        }
        let notify = rule
            .notify
            .iter()
            .map(|a| match (a, duty) {
                (Audience::Party(p), Some(d)) if *p == d.owed_by => match &d.member {
                    Some(m) => member_audience(m),
                    None => a.to_string(),
                },
                _ => a.to_string(),
            })
            .collect();
        let duty = duty.map(OpenDuty::key);
        let key = format!(
            "{state}/{}/{i}/{}",
            duty.as_deref().unwrap_or("-"),
            due_date
                .map(|d| d.to_string())
                .unwrap_or_else(|| china_date(now).to_string())
        );
        step.effects.push(Effect::ScheduleReminder(Reminder {
            key,
            state: state.to_string(),
            duty,
            rule: i,
            at,
            due_date,
            notify,
            repeat_every_days: repeat,
            escalate: rule.escalate,
            headline: None,
        }));
    }
}

/// How a reminder's `notify` names one member of a party (a login or an organisation code)
/// rather than the whole party: `member:D02`.
pub const MEMBER: &str = "member:";

fn member_audience(member: &str) -> String {
    format!("{MEMBER}{member}")
}
