//! What the state machine's effects do to a case's reminder rows, read in one place:
//! [`apply_effects`] walks an action's effects for the live path and for import alike, and
//! each path only says how it keeps the rows (statements, or rows gathered in memory).

use std::collections::BTreeMap;

use duban_core::machine::{Effect, Reminder};

use super::batch::Stmt;
use super::*;
use crate::{Error, Result};

/// `reminders` and the columns `reminder_row` fills, in its order.
pub(crate) const REMINDERS_TARGET: &str = "reminders (case_id, reminder_key, state, duty, rule, fire_at, \
    due_date, notify, repeat_every_days, escalate, status, created_at, headline)";

/// Scheduling is idempotent per (case, key): a cancelled reminder scheduled again (re-entering
/// a state with the same deadline) comes back to life; a pending or sent one is left alone.
pub(crate) const REVIVE_CANCELLED: &str = "ON CONFLICT (case_id, reminder_key) DO UPDATE \
    SET status = 'pending', fire_at = excluded.fire_at WHERE reminders.status = 'cancelled'";

/// Where a case's reminders are kept while an action's effects are applied.
pub(crate) trait ReminderRows {
    /// Reminders scheduled together by an action at `at` (milliseconds), one per key in key
    /// order: each new key pending, a cancelled one pending again at its new time, a pending
    /// or sent one as it was ([`REVIVE_CANCELLED`]).
    fn schedule(&mut self, run: &[&Reminder], at: i64) -> Result<()>;
    /// The pending reminders of each (state, duty) cancelled; `duty` is `None` for the state's
    /// own deadline.
    fn cancel(&mut self, pairs: &[(&str, Option<&str>)]) -> Result<()>;
}

/// Applies an action's effects, in order, to `rows`: the one reading of what an effect means
/// for the reminders, shared by the live path and import (the conformance test
/// `acting_and_importing_the_same_steps_leave_the_same_rows` holds them to it). Effects of one
/// kind in a row go together: a transition schedules a state's whole set at once, and cancels
/// a state's reminders with its duties'.
pub(crate) fn apply_effects(
    effects: &[Effect],
    at: i64,
    rows: &mut impl ReminderRows,
) -> Result<()> {
    let mut i = 0;
    while i < effects.len() {
        let run: Vec<&Reminder> = effects[i..]
            .iter()
            .map_while(|e| match e {
                Effect::ScheduleReminder(r) => Some(r),
                Effect::CancelReminders { .. } => None,
            })
            .collect();
        if !run.is_empty() {
            i += run.len();
            // One per key, the later winning as it would in two statements (a key twice in
            // one statement is an error on PostgreSQL).
            let by_key: BTreeMap<&str, &Reminder> =
                run.into_iter().map(|r| (r.key.as_str(), r)).collect();
            rows.schedule(&by_key.into_values().collect::<Vec<_>>(), at)?;
            continue;
        }
        let mut pairs = Vec::new();
        while let Some(Effect::CancelReminders { state, duty }) = effects.get(i) {
            pairs.push((state.as_str(), duty.as_deref()));
            i += 1;
        }
        rows.cancel(&pairs)?;
    }
    Ok(())
}

/// Whether the effects only schedule: such an action's reminders can go in one statement with
/// its case and event ([`OnlyScheduled`]).
pub(crate) fn only_schedules(effects: &[Effect]) -> bool {
    effects
        .iter()
        .all(|e| matches!(e, Effect::ScheduleReminder(_)))
}

/// The live path's rows: statements run in the action's transaction (transactional outbox).
pub(crate) struct Statements<'a> {
    pub(crate) out: &'a mut Vec<Stmt>,
    pub(crate) case_id: &'a str,
}

impl ReminderRows for Statements<'_> {
    fn schedule(&mut self, run: &[&Reminder], at: i64) -> Result<()> {
        let rows = run
            .iter()
            .map(|r| reminder_row(self.case_id, r, "pending", at))
            .collect::<Result<Vec<_>>>()?;
        self.out.push(Stmt::new(
            format!(
                "INSERT INTO {REMINDERS_TARGET} VALUES {} {REVIVE_CANCELLED}",
                numbered(1, &rows)
            ),
            rows.into_iter().flatten().collect(),
        ));
        Ok(())
    }

    fn cancel(&mut self, pairs: &[(&str, Option<&str>)]) -> Result<()> {
        let mut sql = String::from(
            "UPDATE reminders SET status = 'cancelled' WHERE case_id = $1 AND status = 'pending' AND (",
        );
        let mut binds = vec![Val::Text(self.case_id.to_string())];
        for (state, duty) in pairs {
            if binds.len() > 1 {
                sql.push_str(" OR ");
            }
            binds.push(Val::Text(state.to_string()));
            binds.push(Val::Text(duty.unwrap_or_default().to_string()));
            sql.push_str(&format!(
                "(state = ${} AND duty = ${})",
                binds.len() - 1,
                binds.len()
            ));
        }
        sql.push(')');
        self.out.push(Stmt::new(sql, binds));
        Ok(())
    }
}

/// The rows of an action that only schedules, for the one statement that writes it with its
/// case and event ([`ActionWrite::OneStatement`]); an action that cancels never goes that way.
pub(crate) struct OnlyScheduled<'a> {
    pub(crate) case_id: &'a str,
    pub(crate) rows: Vec<Vec<Val>>,
}

impl ReminderRows for OnlyScheduled<'_> {
    fn schedule(&mut self, run: &[&Reminder], at: i64) -> Result<()> {
        for r in run {
            self.rows
                .push(reminder_row(self.case_id, r, "pending", at)?);
        }
        Ok(())
    }

    fn cancel(&mut self, _: &[(&str, Option<&str>)]) -> Result<()> {
        Err(Error::Corrupt(format!(
            "an action of case {} that cancels reminders was sent as one statement",
            self.case_id
        )))
    }
}

/// Import's rows, gathered in memory across a case's whole history and written once at the
/// end: each key's reminder, whether it is pending, and when it was first scheduled.
/// Reminders whose time is at or before `now` are left out: a historical record should not set
/// off a storm of old reminders.
pub(crate) struct Gathered {
    now: jiff::Timestamp,
    rows: BTreeMap<String, (Reminder, bool, i64)>,
}

impl Gathered {
    pub(crate) fn new(now: jiff::Timestamp) -> Gathered {
        Gathered {
            now,
            rows: BTreeMap::new(),
        }
    }

    /// The rows for `reminders`, in `REMINDERS_TARGET`'s order.
    pub(crate) fn into_rows(self, case_id: &str) -> Result<Vec<Vec<Val>>> {
        self.rows
            .into_values()
            .map(|(r, pending, created)| {
                let status = if pending { "pending" } else { "cancelled" };
                reminder_row(case_id, &r, status, created)
            })
            .collect()
    }
}

impl ReminderRows for Gathered {
    fn schedule(&mut self, run: &[&Reminder], at: i64) -> Result<()> {
        for r in run {
            if r.at <= self.now {
                continue;
            }
            match self.rows.get_mut(&r.key) {
                None => {
                    self.rows.insert(r.key.clone(), ((*r).clone(), true, at));
                }
                // Revived, as `REVIVE_CANCELLED` does: pending again, at its new time.
                Some((old, pending, _)) if !*pending => {
                    old.at = r.at;
                    *pending = true;
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn cancel(&mut self, pairs: &[(&str, Option<&str>)]) -> Result<()> {
        for (r, pending, _) in self.rows.values_mut() {
            if pairs
                .iter()
                .any(|(state, duty)| r.state == *state && r.duty.as_deref() == *duty)
            {
                *pending = false;
            }
        }
        Ok(())
    }
}

/// A reminder's row for `reminders`, in `REMINDERS_TARGET`'s order.
pub(crate) fn reminder_row(
    case_id: &str,
    r: &Reminder,
    status: &str,
    created_at: i64,
) -> Result<Vec<Val>> {
    Ok(vec![
        Val::Text(case_id.to_string()),
        Val::Text(r.key.clone()),
        Val::Text(r.state.clone()),
        Val::Text(r.duty.clone().unwrap_or_default()),
        Val::Int(r.rule as i64),
        Val::Int(ms(r.at)),
        Val::OptText(r.due_date.map(|d| d.to_string())),
        Val::Text(json(&r.notify)?),
        Val::OptInt(r.repeat_every_days.map(i64::from)),
        Val::Int(i64::from(r.escalate)),
        Val::Text(status.to_string()),
        Val::Int(created_at),
        Val::OptText(r.headline.clone()),
    ])
}
