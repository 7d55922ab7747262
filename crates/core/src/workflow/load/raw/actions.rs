//! `[actions.NAME]` as written: the states it moves between, its routes, roles and payload.

use std::ops::Range;

use crate::diagnostic::FileDiagnostics;
use crate::role::Role;
use crate::tomlread::{self, Located, Table};
use crate::workflow::model::Clock;

use super::fields::{RawField, read_payload};
use super::vote::{RawVote, read_vote};
use super::{PERIOD_KEYS, RawPeriod, read_period, read_roles};

const ACTION_KEYS: &[&str] = &[
    "title",
    "from",
    "to",
    "routes",
    "roles",
    "by",
    "payload",
    "within",
    "once",
    "answered_by",
    "only_to_answer",
    "when",
    "clock",
    "requires",
    "decided_by",
    "link",
    "vote",
];
const ROUTE_KEYS: &[&str] = &["from", "when", "to"];

#[derive(Debug)]
pub(crate) struct RawAction {
    pub(crate) name: Located<String>,
    pub(crate) title: String,
    pub(crate) from: Vec<Located<String>>,
    pub(crate) to: Option<Located<String>>,
    pub(crate) routes: Vec<RawRoute>,
    pub(crate) roles: Vec<Role>,
    pub(crate) roles_line: usize,
    pub(crate) by: Vec<Located<String>>,
    pub(crate) payload: Vec<RawField>,
    pub(crate) within: Option<RawPeriod>,
    pub(crate) once: bool,
    /// A request: it stays pending until one of these actions is taken or the case moves on.
    pub(crate) answered_by: Vec<Located<String>>,
    /// Taken only to answer a pending request that names it in `answered_by`.
    pub(crate) only_to_answer: bool,
    /// Open only while the case's latest choice of each enum field is the value given.
    pub(crate) when: Vec<(Located<String>, String)>,
    /// Pauses or resumes the state's deadline, with the line it was written on.
    pub(crate) clock: Option<Located<Clock>>,
    /// Parties that must be filled for the action to be open.
    pub(crate) requires: Vec<Located<String>>,
    /// The parties whose taking it moves the case (`decided_by`); anyone else in `by` only
    /// records their part, once, while they owe it.
    pub(crate) decided_by: Vec<Located<String>>,
    /// May be taken from a signed link in a notice, without signing in (a deputy's rating).
    pub(crate) link: bool,
    /// Records a vote: counts checked against each other and the result announced.
    pub(crate) vote: Option<RawVote>,
}

#[derive(Debug)]
pub(crate) struct RawRoute {
    pub(crate) from: Option<Located<String>>,
    pub(crate) when: Vec<(Located<String>, String)>,
    pub(crate) to: Located<String>,
}

pub(super) fn read_action(
    name: Located<String>,
    t: &Table<'_>,
    span: &Range<usize>,
    d: &mut FileDiagnostics<'_>,
) -> Option<RawAction> {
    let path = format!("actions.{}", name.value);
    tomlread::check_keys(t, &path, ACTION_KEYS, d);
    let title = tomlread::string(t, "title", &path, d)
        .map(|s| s.value)
        .unwrap_or_else(|| name.value.clone());
    let from = tomlread::strings(t, "from", &path, d).unwrap_or_default();
    if from.is_empty() {
        d.at_line(name.line, format!("`{path}` has no `from` state"));
    }
    let to = tomlread::string(t, "to", &path, d);
    let (roles, roles_line) = read_roles(t, span, &path, d);
    let roles_line = if roles_line == 0 {
        name.line
    } else {
        roles_line
    };
    let routes = tomlread::tables(t, "routes", &path, d)
        .into_iter()
        .enumerate()
        .filter_map(|(i, (rt, rspan))| {
            let rpath = format!("{path}.routes[{i}]");
            tomlread::check_keys(rt, &rpath, ROUTE_KEYS, d);
            let from = tomlread::string(rt, "from", &rpath, d);
            let to = tomlread::required_string(rt, &rspan, "to", &rpath, d);
            let when = read_when(rt, &rpath, d);
            Some(RawRoute {
                from,
                when,
                to: to?,
            })
        })
        .collect();
    let payload = read_payload(t, &path, d);
    let by = tomlread::strings(t, "by", &path, d).unwrap_or_default();
    let within = tomlread::table(t, "within", &path, d).and_then(|(wt, wspan)| {
        let wpath = format!("{path}.within");
        tomlread::check_keys(wt, &wpath, PERIOD_KEYS, d);
        read_period(wt, &wspan, &wpath, d)
    });
    Some(RawAction {
        name,
        title,
        from,
        to,
        routes,
        roles,
        roles_line,
        by,
        payload,
        within,
        once: tomlread::boolean(t, "once", &path, d).unwrap_or(false),
        answered_by: tomlread::strings(t, "answered_by", &path, d).unwrap_or_default(),
        only_to_answer: tomlread::boolean(t, "only_to_answer", &path, d).unwrap_or(false),
        when: read_when(t, &path, d),
        clock: read_clock(t, &path, d),
        requires: tomlread::strings(t, "requires", &path, d).unwrap_or_default(),
        decided_by: tomlread::strings(t, "decided_by", &path, d).unwrap_or_default(),
        link: tomlread::boolean(t, "link", &path, d).unwrap_or(false),
        vote: read_vote(t, &path, d),
    })
}

/// `clock = "pause"` or `"resume"`; anything else is reported and read as no clock.
fn read_clock(t: &Table<'_>, path: &str, d: &mut FileDiagnostics<'_>) -> Option<Located<Clock>> {
    let s = tomlread::string(t, "clock", path, d)?;
    match Clock::parse(&s.value) {
        Some(value) => Some(Located {
            value,
            line: s.line,
        }),
        None => {
            d.at_line(
                s.line,
                format!(
                    "`{path}.clock` is `{}`; expected {}",
                    s.value,
                    Clock::NAMES.join(" or ")
                ),
            );
            None
        }
    }
}

/// A `when` table (`{ outcome = "failed" }`): enum fields and the value each must have.
pub(super) fn read_when(
    t: &Table<'_>,
    path: &str,
    d: &mut FileDiagnostics<'_>,
) -> Vec<(Located<String>, String)> {
    let mut when = Vec::new();
    if let Some((wt, _)) = tomlread::table(t, "when", path, d) {
        for (k, v) in wt.iter() {
            let line = d.line_of_span(&k.span());
            match v.get_ref().as_str() {
                Some(s) => when.push((
                    Located {
                        value: k.get_ref().to_string(),
                        line,
                    },
                    s.to_string(),
                )),
                None => d.at(
                    &v.span(),
                    format!("`{path}.when.{}` must be a string", k.get_ref()),
                ),
            }
        }
    }
    when
}
