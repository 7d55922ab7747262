//! The raw schema of a workflow file: the TOML tree read into `Raw*` records that remember the
//! line of every name, with the problems one table shows on its own already reported.

mod actions;
mod fields;
mod notices;
mod reminders;
mod report;
mod states;
mod vote;

use std::ops::Range;

use crate::deadline::{Period, Unit};
use crate::diagnostic::{FileDiagnostics, Source};
use crate::role::Role;
use crate::tomlread::{self, Located, Table};

pub(crate) use actions::RawAction;
pub(crate) use fields::RawField;
pub(crate) use notices::RawNotice;
pub(crate) use reminders::RawReminder;
pub(crate) use report::{RawCount, RawReport};
pub(crate) use states::RawState;
pub(crate) use vote::RawVote;

const TOP_KEYS: &[&str] = &[
    "kind",
    "version",
    "title",
    "initial",
    "parties",
    "filing",
    "states",
    "actions",
    "reminders",
    "number",
    "notices",
    "report",
];
const FILING_KEYS: &[&str] = &["roles", "payload", "titles"];
const PERIOD_KEYS: &[&str] = &["amount", "unit", "from"];

/// A whole file as written: every part that could be read, each unreadable one left out with
/// its problem reported.
#[derive(Debug)]
pub(crate) struct RawWorkflow {
    pub(crate) kind: Option<Located<String>>,
    pub(crate) version: u32,
    pub(crate) title: Option<Located<String>>,
    pub(crate) initial: Option<Located<String>>,
    pub(crate) parties: Vec<Located<String>>,
    pub(crate) filing: Option<RawFiling>,
    pub(crate) states: Vec<RawState>,
    pub(crate) actions: Vec<RawAction>,
    pub(crate) reminders: Vec<RawReminder>,
    /// `number`, the format of case numbers; the default when left out.
    pub(crate) number: Option<Located<String>>,
    pub(crate) notices: Vec<RawNotice>,
    /// `[report]`: what the annual report says of the kind.
    pub(crate) report: Option<RawReport>,
}

/// `[filing]`: who may file and the payload a filing carries.
#[derive(Debug)]
pub(crate) struct RawFiling {
    pub(crate) roles: Vec<Role>,
    pub(crate) payload: Vec<RawField>,
    /// What the link to file one is called, by the role that follows it (`titles`).
    pub(crate) titles: Vec<(Role, String)>,
}

/// A period with its anchor as written, before the anchor is checked.
#[derive(Debug)]
pub(crate) struct RawPeriod {
    pub(crate) period: Period,
    pub(crate) from: Located<String>,
}

/// Reads one file into its raw records; `None` only when the TOML itself does not parse.
pub(super) fn read(source: &Source<'_>, d: &mut FileDiagnostics<'_>) -> Option<RawWorkflow> {
    let doc = tomlread::parse(source, d)?;
    let top = doc.get_ref();
    let whole = 0..0;
    tomlread::check_keys(top, "", TOP_KEYS, d);

    let kind = tomlread::required_string(top, &whole, "kind", "", d);
    let version = match tomlread::count(top, "version", "", d) {
        Some(v) => v.value,
        None => {
            if tomlread::get(top, "version").is_none() {
                d.at(&whole, "missing `version`");
            }
            0
        }
    };
    let title = tomlread::required_string(top, &whole, "title", "", d);
    let initial = tomlread::required_string(top, &whole, "initial", "", d);
    let parties = tomlread::strings(top, "parties", "", d).unwrap_or_default();

    let filing = match tomlread::table(top, "filing", "", d) {
        Some((t, span)) => {
            tomlread::check_keys(t, "filing", FILING_KEYS, d);
            let (roles, roles_line) = read_roles(t, &span, "filing", d);
            if roles.is_empty() && roles_line > 0 {
                d.at_line(roles_line, "`filing.roles` names no role that may file");
            }
            let payload = fields::read_payload(t, "filing", d);
            let titles = read_titles(t, &roles, d);
            Some(RawFiling {
                roles,
                payload,
                titles,
            })
        }
        None => {
            if tomlread::get(top, "filing").is_none() {
                d.at(&whole, "missing `[filing]`");
            }
            None
        }
    };

    let states = read_named_tables(top, "states", d)
        .into_iter()
        .filter_map(|(name, t, span)| states::read_state(name, t, &span, d))
        .collect::<Vec<_>>();
    let actions = read_named_tables(top, "actions", d)
        .into_iter()
        .filter_map(|(name, t, span)| actions::read_action(name, t, &span, d))
        .collect::<Vec<_>>();
    let reminders = tomlread::tables(top, "reminders", "", d)
        .into_iter()
        .enumerate()
        .filter_map(|(i, (t, span))| reminders::read_reminder(i, t, &span, d))
        .collect::<Vec<_>>();

    let number = tomlread::string(top, "number", "", d);
    let notices = tomlread::tables(top, "notices", "", d)
        .into_iter()
        .enumerate()
        .filter_map(|(i, (t, span))| notices::read_notice(i, t, &span, d))
        .collect::<Vec<_>>();

    let report = report::read_report(top, d);

    if let Some(kind) = &kind {
        let stem = source
            .name
            .rsplit(['/', '\\'])
            .next()
            .and_then(|f| f.strip_suffix(".toml"));
        if stem.is_some_and(|s| s != kind.value) {
            d.at_line(
                kind.line,
                format!(
                    "kind `{}` does not match the file name `{}`",
                    kind.value, source.name
                ),
            );
        }
        if kind.value.is_empty() || !is_identifier(&kind.value) {
            d.at_line(
                kind.line,
                "`kind` must be a lower-case identifier such as `suggestion`",
            );
        }
    }

    Some(RawWorkflow {
        kind,
        version,
        title,
        initial,
        parties,
        filing,
        states,
        actions,
        reminders,
        number,
        notices,
        report,
    })
}

pub(super) fn is_identifier(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `[states.NAME]` / `[actions.NAME]`: each entry's name (with its line), table and span.
fn read_named_tables<'t, 'i>(
    top: &'t Table<'i>,
    key: &str,
    d: &mut FileDiagnostics<'_>,
) -> Vec<(Located<String>, &'t Table<'i>, Range<usize>)> {
    let Some((t, _)) = tomlread::table(top, key, "", d) else {
        if tomlread::get(top, key).is_none() {
            d.at_line(0, format!("missing `[{key}.…]` tables"));
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, value) in t.iter() {
        let located = Located {
            value: name.get_ref().to_string(),
            line: d.line_of_span(&name.span()),
        };
        if !is_identifier(&located.value) {
            d.at_line(
                located.line,
                format!(
                    "`{key}.{}`: names are lower-case identifiers (a-z, 0-9, _)",
                    located.value
                ),
            );
        }
        match value.get_ref().as_table() {
            Some(inner) => out.push((located, inner, value.span())),
            None => d.at(
                &value.span(),
                format!("`{key}.{}` must be a table", name.get_ref()),
            ),
        }
    }
    out
}

/// A period table: `amount`, `unit` and an optional `from` (the state's entry when left out).
fn read_period(
    t: &Table<'_>,
    span: &Range<usize>,
    path: &str,
    d: &mut FileDiagnostics<'_>,
) -> Option<RawPeriod> {
    let line = d.line_of_span(span);
    let amount = tomlread::count(t, "amount", path, d);
    if tomlread::get(t, "amount").is_none() {
        d.at(span, format!("missing `{path}.amount`"));
    }
    let unit = match tomlread::required_string(t, span, "unit", path, d) {
        Some(u) => match Unit::parse(&u.value) {
            Some(unit) => Some(unit),
            None => {
                d.at_line(
                    u.line,
                    format!(
                        "`{path}.unit` is `{}`; expected days, working_days or months",
                        u.value
                    ),
                );
                None
            }
        },
        None => None,
    };
    let from = tomlread::string(t, "from", path, d).unwrap_or(Located {
        value: "entered".into(),
        line,
    });
    Some(RawPeriod {
        period: Period::new(amount?.value, unit?),
        from,
    })
}

/// `roles` of the filing or an action, with the line of the first one (0 when there is no list).
/// `titles = { staff = "登记建议", deputy = "提出建议" }`: each a role that may file, and a
/// name of 1 to 8 characters for its link.
fn read_titles(t: &Table<'_>, roles: &[Role], d: &mut FileDiagnostics<'_>) -> Vec<(Role, String)> {
    let mut out = Vec::new();
    let Some((tt, _)) = tomlread::table(t, "titles", "filing", d) else {
        return out;
    };
    for (k, v) in tt.iter() {
        let line = d.line_of_span(&k.span());
        let (Some(role), Some(title)) = (Role::parse(k.get_ref()), v.get_ref().as_str()) else {
            d.at_line(
                line,
                format!(
                    "`filing.titles.{}` must name a role and give a string",
                    k.get_ref()
                ),
            );
            continue;
        };
        if !roles.contains(&role) {
            d.at_line(
                line,
                format!(
                    "`filing.titles.{}`: that role may not file (`filing.roles`)",
                    k.get_ref()
                ),
            );
        } else if !(1..=8).contains(&title.chars().count()) {
            d.at_line(
                line,
                format!("`filing.titles.{}` is 1 to 8 characters", k.get_ref()),
            );
        } else {
            out.push((role, title.to_string()));
        }
    }
    out
}

fn read_roles(
    t: &Table<'_>,
    span: &Range<usize>,
    path: &str,
    d: &mut FileDiagnostics<'_>,
) -> (Vec<Role>, usize) {
    let Some(names) = tomlread::strings(t, "roles", path, d) else {
        if tomlread::get(t, "roles").is_none() {
            d.at(
                span,
                format!("`{path}` has no `roles`: no one could take it"),
            );
        }
        return (Vec::new(), 0);
    };
    let line = names
        .first()
        .map(|n| n.line)
        .unwrap_or_else(|| d.line_of_span(span));
    let mut roles = Vec::new();
    for n in names {
        match Role::parse(&n.value) {
            Some(r) => roles.push(r),
            None => d.at_line(
                n.line,
                format!(
                    "unknown role `{}` in `{path}.roles` (roles are: {})",
                    n.value,
                    Role::ALL.map(|r| r.as_str()).join(", ")
                ),
            ),
        }
    }
    (roles, line)
}
