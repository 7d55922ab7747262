//! The clock pass: actions that pause and resume a state's deadline stay in the state, act
//! only where there is a deadline to stop, and come in pairs, so that no pause is for ever.

use super::Check;

pub(super) fn check(c: &mut Check<'_, '_>) {
    let raw = c.raw;
    for a in &raw.actions {
        let Some(clock) = &a.clock else { continue };
        let path = format!("actions.{}", a.name.value);
        if a.to.is_some() || !a.routes.is_empty() {
            c.d.at_line(
                clock.line,
                format!("`{path}.clock`: an action that pauses or resumes the deadline keeps the case in its state, so it takes no `to` or `routes`"),
            );
        }
        for f in &a.from {
            let Some(state) = raw.states.iter().find(|s| s.name.value == f.value) else {
                continue; // an unknown state is the actions pass's to report
            };
            if state.deadline.is_none() {
                c.d.at_line(
                    clock.line,
                    format!(
                        "`{path}.clock`: state `{}` has no deadline to {}",
                        f.value,
                        clock.value.as_str()
                    ),
                );
            }
            // The other half of the pair: a pause nothing resumes would stop the clock for
            // ever, and a resume with no pause could never be taken.
            let other = clock.value.other();
            let paired = raw.actions.iter().any(|x| {
                x.clock.as_ref().is_some_and(|k| k.value == other)
                    && x.from.iter().any(|g| g.value == f.value)
            });
            if !paired {
                c.d.at_line(
                    clock.line,
                    format!(
                        "`{path}.clock`: no action with `clock = \"{}\"` is taken from state `{}`",
                        other.as_str(),
                        f.value
                    ),
                );
            }
        }
    }
}
