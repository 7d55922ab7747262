//! `[[reminders]]` as written: the state (and duty) watched, when, and whom to notify.

use std::ops::Range;

use crate::diagnostic::FileDiagnostics;
use crate::tomlread::{self, Located, Table};
use crate::workflow::model::When;

const REMINDER_KEYS: &[&str] = &[
    "state", "duty", "when", "days", "every", "notify", "escalate",
];

#[derive(Debug)]
pub(crate) struct RawReminder {
    pub(crate) state: Located<String>,
    pub(crate) duty: Option<Located<String>>,
    pub(crate) when: When,
    pub(crate) notify: Vec<Located<String>>,
    pub(crate) escalate: bool,
    pub(crate) line: usize,
}

pub(super) fn read_reminder(
    i: usize,
    t: &Table<'_>,
    span: &Range<usize>,
    d: &mut FileDiagnostics<'_>,
) -> Option<RawReminder> {
    let path = format!("reminders[{i}]");
    let line = d.line_of_span(span);
    tomlread::check_keys(t, &path, REMINDER_KEYS, d);
    let state = tomlread::required_string(t, span, "state", &path, d);
    let duty = tomlread::string(t, "duty", &path, d);
    let days = tomlread::count(t, "days", &path, d);
    let every = tomlread::count(t, "every", &path, d);
    let when = tomlread::required_string(t, span, "when", &path, d).and_then(|w| {
        let when = match (w.value.as_str(), &days, &every) {
            ("entered", None, None) => When::Entered,
            ("before_due", Some(n), None) if n.value > 0 => When::BeforeDue(n.value),
            ("before_due", _, _) => {
                d.at_line(
                    w.line,
                    format!("`{path}`: `before_due` needs `days` (at least 1) and no `every`"),
                );
                return None;
            }
            ("due", None, None) => When::AtDue,
            ("due", _, _) => {
                d.at_line(
                    w.line,
                    format!("`{path}`: `due` takes neither `days` nor `every`"),
                );
                return None;
            }
            ("overdue", None, None) => When::Overdue,
            ("overdue", None, Some(n)) if n.value > 0 => When::OverdueEvery(n.value),
            ("overdue", _, _) => {
                d.at_line(
                    w.line,
                    format!(
                        "`{path}`: `overdue` takes an optional `every` (at least 1) and no `days`"
                    ),
                );
                return None;
            }
            ("entered", _, _) => {
                d.at_line(
                    w.line,
                    format!("`{path}`: `entered` takes neither `days` nor `every`"),
                );
                return None;
            }
            (other, _, _) => {
                d.at_line(
                    w.line,
                    format!(
                        "`{path}.when` is `{other}`; expected entered, before_due, due or overdue"
                    ),
                );
                return None;
            }
        };
        Some(when)
    });
    let notify = tomlread::strings(t, "notify", &path, d).unwrap_or_default();
    if notify.is_empty() {
        d.at_line(
            line,
            format!("`{path}` notifies no one (`notify` is missing or empty)"),
        );
    }
    let escalate = tomlread::boolean(t, "escalate", &path, d).unwrap_or(false);
    Some(RawReminder {
        state: state?,
        duty,
        when: when?,
        notify,
        escalate,
        line,
    })
}
