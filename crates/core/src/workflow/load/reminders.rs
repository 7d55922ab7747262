//! The reminders pass: each reminder watches a declared, non-terminal state (and duty) with a
//! deadline to count from, and notifies declared parties or real roles.

use super::Check;
use crate::workflow::model::When;

pub(super) fn check(c: &mut Check<'_, '_>) {
    let raw = c.raw;
    for r in &raw.reminders {
        let place = format!("`reminders` (line {})", r.line);
        if !c.state_is_known(&r.state, &place) {
            continue;
        }
        let Some(s) = raw.states.iter().find(|s| s.name.value == r.state.value) else {
            continue;
        };
        if s.terminal {
            c.d.at_line(
                r.state.line,
                format!(
                    "reminder on terminal state `{}`: nothing is owed there",
                    s.name.value
                ),
            );
        }
        let has_deadline = match &r.duty {
            Some(duty) => match s.duties.iter().find(|x| x.name.value == duty.value) {
                Some(_) => true,
                None => {
                    c.d.at_line(
                        duty.line,
                        format!("unknown duty `{}` in state `{}`", duty.value, s.name.value),
                    );
                    continue;
                }
            },
            None => s.deadline.is_some() || s.due_on.is_some(),
        };
        if r.when != When::Entered && !has_deadline {
            c.d.at_line(
                r.line,
                format!(
                    "reminder before or after a deadline, but state `{}` has no deadline",
                    s.name.value
                ),
            );
        }
        for n in &r.notify {
            c.audience(n, "notify");
        }
    }
}
