//! `[[notices]]` as written: the action (and the state it leads to) that makes someone owe the
//! next step, the notice's headline, and whom to tell.

use std::ops::Range;

use crate::diagnostic::FileDiagnostics;
use crate::tomlread::{self, Located, Table};

const NOTICE_KEYS: &[&str] = &["action", "to", "when", "title", "notify", "escalate"];

#[derive(Debug)]
pub(crate) struct RawNotice {
    pub(crate) action: Located<String>,
    pub(crate) to: Option<Located<String>>,
    /// Only when the action's payload chose these enum values.
    pub(crate) when: Vec<(Located<String>, String)>,
    pub(crate) title: Located<String>,
    pub(crate) notify: Vec<Located<String>>,
    pub(crate) escalate: bool,
    pub(crate) line: usize,
}

pub(super) fn read_notice(
    i: usize,
    t: &Table<'_>,
    span: &Range<usize>,
    d: &mut FileDiagnostics<'_>,
) -> Option<RawNotice> {
    let path = format!("notices[{i}]");
    let line = d.line_of_span(span);
    tomlread::check_keys(t, &path, NOTICE_KEYS, d);
    let action = tomlread::required_string(t, span, "action", &path, d);
    let to = tomlread::string(t, "to", &path, d);
    let title = tomlread::required_string(t, span, "title", &path, d);
    let notify = tomlread::strings(t, "notify", &path, d).unwrap_or_default();
    if notify.is_empty() {
        d.at_line(
            line,
            format!("`{path}` tells no one (`notify` is missing or empty)"),
        );
    }
    let escalate = tomlread::boolean(t, "escalate", &path, d).unwrap_or(false);
    Some(RawNotice {
        action: action?,
        to,
        when: super::actions::read_when(t, &path, d),
        title: title?,
        notify,
        escalate,
        line,
    })
}
