//! `[states.NAME]` as written: title, terminal flag, deadline with its extension, and duties.

use std::ops::Range;

use crate::diagnostic::FileDiagnostics;
use crate::tomlread::{self, Located, Table};
use crate::workflow::Stage;

use super::{PERIOD_KEYS, RawPeriod, read_period};

const STATE_KEYS: &[&str] = &[
    "title", "terminal", "deadline", "due_on", "duties", "waits_on", "stage",
];
const DEADLINE_KEYS: &[&str] = &["amount", "unit", "from", "extension", "basis"];
const EXTENSION_KEYS: &[&str] = &["action", "max_times", "limit"];
const DUTY_KEYS: &[&str] = &[
    "name", "title", "owed_by", "amount", "unit", "from", "done_by",
];

#[derive(Debug)]
pub(crate) struct RawState {
    pub(crate) name: Located<String>,
    pub(crate) title: String,
    pub(crate) terminal: bool,
    pub(crate) deadline: Option<RawDeadline>,
    /// A deadline on the date an earlier step gave in this date field (`due_on`).
    pub(crate) due_on: Option<Located<String>>,
    pub(crate) duties: Vec<RawDuty>,
    /// Whose move it is while a case is here (`waits_on`): parties or `role:NAME`.
    pub(crate) waits_on: Vec<Located<String>>,
    /// Whose step it is (`stage`); the handler's when left out.
    pub(crate) stage: Stage,
}

#[derive(Debug)]
pub(crate) struct RawDeadline {
    pub(crate) period: RawPeriod,
    pub(crate) extension: Option<RawExtension>,
    /// The rule the time limit comes from, as an office quotes it on paper.
    pub(crate) basis: Option<String>,
}

#[derive(Debug)]
pub(crate) struct RawExtension {
    pub(crate) action: Located<String>,
    pub(crate) max_times: Option<u32>,
    pub(crate) limit: Option<RawPeriod>,
}

#[derive(Debug)]
pub(crate) struct RawDuty {
    pub(crate) name: Located<String>,
    pub(crate) title: String,
    pub(crate) owed_by: Located<String>,
    pub(crate) period: RawPeriod,
    pub(crate) done_by: Located<String>,
}

pub(super) fn read_state(
    name: Located<String>,
    t: &Table<'_>,
    span: &Range<usize>,
    d: &mut FileDiagnostics<'_>,
) -> Option<RawState> {
    let path = format!("states.{}", name.value);
    tomlread::check_keys(t, &path, STATE_KEYS, d);
    let title = tomlread::string(t, "title", &path, d)
        .map(|s| s.value)
        .unwrap_or_else(|| name.value.clone());
    let terminal = tomlread::boolean(t, "terminal", &path, d).unwrap_or(false);
    let deadline = tomlread::table(t, "deadline", &path, d).and_then(|(dt, dspan)| {
        let dpath = format!("{path}.deadline");
        tomlread::check_keys(dt, &dpath, DEADLINE_KEYS, d);
        let period = read_period(dt, &dspan, &dpath, d)?;
        let extension = tomlread::table(dt, "extension", &dpath, d).and_then(|(et, espan)| {
            let epath = format!("{dpath}.extension");
            tomlread::check_keys(et, &epath, EXTENSION_KEYS, d);
            let action = tomlread::required_string(et, &espan, "action", &epath, d)?;
            let max_times = tomlread::count(et, "max_times", &epath, d).map(|c| c.value);
            let limit = tomlread::table(et, "limit", &epath, d).and_then(|(lt, lspan)| {
                let lpath = format!("{epath}.limit");
                tomlread::check_keys(lt, &lpath, PERIOD_KEYS, d);
                read_period(lt, &lspan, &lpath, d)
            });
            Some(RawExtension {
                action,
                max_times,
                limit,
            })
        });
        let basis = tomlread::string(dt, "basis", &dpath, d).map(|b| b.value);
        Some(RawDeadline {
            period,
            extension,
            basis,
        })
    });
    let due_on = tomlread::string(t, "due_on", &path, d);
    let duties = tomlread::tables(t, "duties", &path, d)
        .into_iter()
        .enumerate()
        .filter_map(|(i, (dt, dspan))| {
            let dpath = format!("{path}.duties[{i}]");
            tomlread::check_keys(dt, &dpath, DUTY_KEYS, d);
            let name = tomlread::required_string(dt, &dspan, "name", &dpath, d);
            let title = tomlread::string(dt, "title", &dpath, d);
            let owed_by = tomlread::required_string(dt, &dspan, "owed_by", &dpath, d);
            let done_by = tomlread::required_string(dt, &dspan, "done_by", &dpath, d);
            let period = read_period(dt, &dspan, &dpath, d);
            let name = name?;
            Some(RawDuty {
                title: title.map(|t| t.value).unwrap_or_else(|| name.value.clone()),
                name,
                owed_by: owed_by?,
                period: period?,
                done_by: done_by?,
            })
        })
        .collect();
    let _ = span;
    let waits_on = tomlread::strings(t, "waits_on", &path, d).unwrap_or_default();
    let stage = match tomlread::string(t, "stage", &path, d) {
        None => Stage::default(),
        Some(s) => Stage::parse(&s.value).unwrap_or_else(|| {
            d.at_line(
                s.line,
                format!(
                    "`{path}.stage` is `{}`; expected {}",
                    s.value,
                    Stage::NAMES.join(", ")
                ),
            );
            Stage::default()
        }),
    };
    Some(RawState {
        name,
        title,
        terminal,
        deadline,
        due_on,
        duties,
        waits_on,
        stage,
    })
}
