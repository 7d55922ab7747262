//! The notices pass: each notice follows a declared action (or the filing), names a state that
//! action can lead to, has a short headline, and tells declared parties or real roles.

use super::Check;
use crate::machine::FILE;

/// A headline is read at a glance in a list of messages: 【新交办】, 【不满意退回】.
const HEADLINE_MAX: usize = 12;

pub(super) fn check(c: &mut Check<'_, '_>) {
    let raw = c.raw;
    for n in &raw.notices {
        let path = format!("notices (line {})", n.line);
        let targets: Option<Vec<String>> = if n.action.value == FILE {
            Some(raw.initial.iter().map(|i| i.value.clone()).collect())
        } else {
            raw.actions
                .iter()
                .find(|a| a.name.value == n.action.value)
                .map(|a| {
                    let mut t: Vec<String> = a.to.iter().map(|t| t.value.clone()).collect();
                    t.extend(a.routes.iter().map(|r| r.to.value.clone()));
                    // One who does not decide it leaves the case where it was.
                    if a.to.is_none() || !a.decided_by.is_empty() {
                        t.extend(a.from.iter().map(|f| f.value.clone()));
                    }
                    t
                })
        };
        let Some(targets) = targets else {
            c.d.at_line(
                n.action.line,
                format!(
                    "`{path}` follows unknown action `{}` (or `{FILE}` for a filing)",
                    n.action.value
                ),
            );
            continue;
        };
        if let Some(to) = &n.to
            && c.state_is_known(to, &format!("`{path}.to`"))
            && !targets.contains(&to.value)
        {
            c.d.at_line(
                to.line,
                format!(
                    "`{path}`: `{}` never leads to `{}`",
                    n.action.value, to.value
                ),
            );
        }
        payload_chooses(c, n, &path);
        let len = n.title.value.chars().count();
        if len == 0 || len > HEADLINE_MAX || n.title.value.contains(['【', '】']) {
            c.d.at_line(
                n.title.line,
                format!(
                    "`{path}.title` is a headline of 1 to {HEADLINE_MAX} characters, without 【】 (they are added)"
                ),
            );
        }
        for a in &n.notify {
            c.audience(a, "notify");
        }
    }
}

/// A notice's `when` reads the action's own payload: each field is one of its enum fields, and
/// the value one of its values, or the notice could never be sent.
fn payload_chooses(c: &mut Check<'_, '_>, n: &super::raw::RawNotice, path: &str) {
    let fields = c.payload_of(&n.action.value).unwrap_or_default();
    c.chosen_in(
        &fields,
        &n.when,
        (path, &n.action.value),
        "the notice could never be sent",
    );
}
