//! Loading a workflow file in two steps: the TOML tree into `Raw*` records that remember their
//! lines, then validation of the whole into an immutable [`Workflow`]. Both steps report every
//! problem they find, each with file, line and reason, before giving up.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Range;

use crate::deadline::{Period, Unit};
use crate::diagnostic::{FileDiagnostics, Source};
use crate::role::Role;
use crate::tomlread::{self, Located, Table};
use crate::workflow::model::*;

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
];
const STATE_KEYS: &[&str] = &["title", "terminal", "deadline", "duties"];
const DEADLINE_KEYS: &[&str] = &["amount", "unit", "from", "extension"];
const EXTENSION_KEYS: &[&str] = &["action", "max_times", "limit"];
const PERIOD_KEYS: &[&str] = &["amount", "unit", "from"];
const DUTY_KEYS: &[&str] = &[
    "name", "title", "owed_by", "amount", "unit", "from", "done_by",
];
const ACTION_KEYS: &[&str] = &[
    "title", "from", "to", "routes", "roles", "by", "payload", "within", "once",
];
const ROUTE_KEYS: &[&str] = &["from", "when", "to"];
const FIELD_KEYS: &[&str] = &[
    "type",
    "required",
    "values",
    "max_length",
    "sets",
    "required_when",
    "org_kind",
    "own_org_for",
    "user_role",
];
const FILING_KEYS: &[&str] = &["roles", "payload"];
const REMINDER_KEYS: &[&str] = &[
    "state", "duty", "when", "days", "every", "notify", "escalate",
];
const FIELD_TYPES: &[&str] = &[
    "text", "integer", "boolean", "date", "enum", "org", "orgs", "user", "users",
];

/// A period with its anchor as written, before the anchor is checked.
#[derive(Debug)]
struct RawPeriod {
    period: Period,
    from: Located<String>,
}

#[derive(Debug)]
struct RawState {
    name: Located<String>,
    title: String,
    terminal: bool,
    deadline: Option<RawDeadline>,
    duties: Vec<RawDuty>,
}

#[derive(Debug)]
struct RawDeadline {
    period: RawPeriod,
    extension: Option<RawExtension>,
}

#[derive(Debug)]
struct RawExtension {
    action: Located<String>,
    max_times: Option<u32>,
    limit: Option<RawPeriod>,
}

#[derive(Debug)]
struct RawDuty {
    name: Located<String>,
    title: String,
    owed_by: Located<String>,
    period: RawPeriod,
    done_by: Located<String>,
}

#[derive(Debug)]
struct RawAction {
    name: Located<String>,
    title: String,
    from: Vec<Located<String>>,
    to: Option<Located<String>>,
    routes: Vec<RawRoute>,
    roles: Vec<Role>,
    roles_line: usize,
    by: Vec<Located<String>>,
    payload: Vec<RawField>,
    within: Option<RawPeriod>,
    once: bool,
}

#[derive(Debug)]
struct RawRoute {
    from: Option<Located<String>>,
    when: Vec<(Located<String>, String)>,
    to: Located<String>,
}

#[derive(Debug)]
struct RawField {
    field: Field,
    line: usize,
    sets_line: usize,
}

#[derive(Debug)]
struct RawReminder {
    state: Located<String>,
    duty: Option<Located<String>>,
    when: When,
    notify: Vec<Located<String>>,
    escalate: bool,
    line: usize,
}

/// Loads one workflow file. On failure, every problem found is in the returned list.
pub(crate) fn load(source: &Source<'_>) -> Result<Workflow, Vec<crate::Diagnostic>> {
    let mut diags = FileDiagnostics::new(source);
    let workflow = read(source, &mut diags);
    match workflow {
        Some(w) if diags.found.is_empty() => Ok(w),
        _ => {
            diags.found.sort_by_key(|d| d.line);
            Err(diags.found)
        }
    }
}

fn read(source: &Source<'_>, d: &mut FileDiagnostics<'_>) -> Option<Workflow> {
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
            let payload = read_payload(t, "filing", d);
            Some((roles, payload))
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
        .filter_map(|(name, t, span)| read_state(name, t, &span, d))
        .collect::<Vec<_>>();
    let actions = read_named_tables(top, "actions", d)
        .into_iter()
        .filter_map(|(name, t, span)| read_action(name, t, &span, d))
        .collect::<Vec<_>>();
    let reminders = tomlread::tables(top, "reminders", "", d)
        .into_iter()
        .enumerate()
        .filter_map(|(i, (t, span))| read_reminder(i, t, &span, d))
        .collect::<Vec<_>>();

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

    let wf = validate(
        d,
        Unvalidated {
            states,
            actions,
            reminders,
            parties,
            initial,
            filing_payload: filing.as_ref().map(|f| f.1.as_slice()).unwrap_or_default(),
        },
    )?;
    let (filing_roles, filing_payload) = filing?;
    let kind = kind?;
    Some(Workflow {
        kind: kind.value,
        version,
        digest: digest(source.text),
        title: title?.value,
        source: source.name.to_string(),
        initial: wf.initial,
        parties: wf.parties,
        filing: Filing {
            roles: filing_roles,
            payload: filing_payload.into_iter().map(|f| f.field).collect(),
        },
        states: wf.states,
        actions: wf.actions,
        reminders: wf.reminders,
    })
}

/// FNV-1a over the file's text: stable across builds and platforms, enough to tell edits apart.
fn digest(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn is_identifier(s: &str) -> bool {
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

fn read_state(
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
        Some(RawDeadline { period, extension })
    });
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
    Some(RawState {
        name,
        title,
        terminal,
        deadline,
        duties,
    })
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

fn read_payload(t: &Table<'_>, path: &str, d: &mut FileDiagnostics<'_>) -> Vec<RawField> {
    let Some((pt, _)) = tomlread::table(t, "payload", path, d) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, value) in pt.iter() {
        let fpath = format!("{path}.payload.{}", name.get_ref());
        let line = d.line_of_span(&name.span());
        let Some(ft) = value.get_ref().as_table() else {
            d.at(
                &value.span(),
                format!("`{fpath}` must be a table such as {{ type = \"text\" }}"),
            );
            continue;
        };
        let span = value.span();
        tomlread::check_keys(ft, &fpath, FIELD_KEYS, d);
        let Some(ty) = tomlread::required_string(ft, &span, "type", &fpath, d) else {
            continue;
        };
        let values = tomlread::strings(ft, "values", &fpath, d);
        let ty = match ty.value.as_str() {
            "text" => FieldType::Text,
            "integer" => FieldType::Integer,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "org" => FieldType::Org,
            "orgs" => FieldType::Orgs,
            "user" => FieldType::User,
            "users" => FieldType::Users,
            "person" => FieldType::Person,
            "enum" => match values {
                Some(v) if !v.is_empty() => {
                    FieldType::Enum(v.into_iter().map(|v| v.value).collect())
                }
                _ => {
                    d.at_line(
                        ty.line,
                        format!("`{fpath}` is an enum but lists no `values`"),
                    );
                    continue;
                }
            },
            other => {
                d.at_line(
                    ty.line,
                    format!(
                        "`{fpath}.type` is `{other}`; expected one of: {}",
                        FIELD_TYPES.join(", ")
                    ),
                );
                continue;
            }
        };
        if !matches!(ty, FieldType::Enum(_)) && tomlread::get(ft, "values").is_some() {
            d.at_line(line, format!("`{fpath}` has `values` but is not an enum"));
        }
        let max_length = tomlread::count(ft, "max_length", &fpath, d).map(|c| c.value as usize);
        let sets = tomlread::string(ft, "sets", &fpath, d);
        let org_kind = tomlread::string(ft, "org_kind", &fpath, d);
        if let Some(k) = &org_kind {
            if !matches!(ty, FieldType::Org | FieldType::Orgs) {
                d.at_line(
                    k.line,
                    format!("`{fpath}` has `org_kind` but is not of type org or orgs"),
                );
            } else if !ORG_KINDS.contains(&k.value.as_str()) {
                d.at_line(
                    k.line,
                    format!(
                        "`{fpath}.org_kind` is `{}`; expected one of: {}",
                        k.value,
                        ORG_KINDS.join(", ")
                    ),
                );
            }
        }
        let mut own_org_for = Vec::new();
        for n in tomlread::strings(ft, "own_org_for", &fpath, d).unwrap_or_default() {
            if ty != FieldType::Org {
                d.at_line(
                    n.line,
                    format!("`{fpath}` has `own_org_for` but is not of type org"),
                );
            }
            match Role::parse(&n.value) {
                Some(r) => own_org_for.push(r),
                None => d.at_line(
                    n.line,
                    format!(
                        "unknown role `{}` in `{fpath}.own_org_for` (roles are: {})",
                        n.value,
                        Role::ALL.map(|r| r.as_str()).join(", ")
                    ),
                ),
            }
        }
        let mut user_role = Vec::new();
        for n in tomlread::strings(ft, "user_role", &fpath, d).unwrap_or_default() {
            if !matches!(ty, FieldType::User | FieldType::Users) {
                d.at_line(
                    n.line,
                    format!("`{fpath}` has `user_role` but is not of type user or users"),
                );
            }
            match Role::parse(&n.value) {
                Some(r) => user_role.push(r),
                None => d.at_line(
                    n.line,
                    format!(
                        "unknown role `{}` in `{fpath}.user_role` (roles are: {})",
                        n.value,
                        Role::ALL.map(|r| r.as_str()).join(", ")
                    ),
                ),
            }
        }
        let mut required_when = Vec::new();
        if let Some((wt, _)) = tomlread::table(ft, "required_when", &fpath, d) {
            for (k, v) in wt.iter() {
                match v.get_ref().as_str() {
                    Some(value) => required_when.push((k.get_ref().to_string(), value.to_string())),
                    None => d.at(
                        &v.span(),
                        format!("`{fpath}.required_when.{}` must be a string", k.get_ref()),
                    ),
                }
            }
        }
        out.push(RawField {
            field: Field {
                name: name.get_ref().to_string(),
                ty,
                required: tomlread::boolean(ft, "required", &fpath, d).unwrap_or(false),
                max_length,
                sets: sets.as_ref().map(|s| s.value.clone()),
                required_when,
                org_kind: org_kind.map(|k| k.value),
                own_org_for,
                user_role,
            },
            line,
            sets_line: sets.map(|s| s.line).unwrap_or(line),
        });
    }
    // A condition names an enum field of the same payload and one of its values.
    for f in &out {
        for (other, value) in &f.field.required_when {
            let fpath = format!("{path}.payload.{}", f.field.name);
            match out.iter().find(|o| &o.field.name == other).map(|o| &o.field.ty) {
                Some(FieldType::Enum(values)) if values.contains(value) => {}
                Some(FieldType::Enum(values)) => d.at_line(
                    f.line,
                    format!(
                        "`{fpath}.required_when`: `{other}` has no value `{value}` (values are: {})",
                        values.join(", ")
                    ),
                ),
                _ => d.at_line(
                    f.line,
                    format!("`{fpath}.required_when` names `{other}`, which is not an enum field of this payload"),
                ),
            }
        }
    }
    out
}

fn read_action(
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
            let mut when = Vec::new();
            if let Some((wt, _)) = tomlread::table(rt, "when", &rpath, d) {
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
                            format!("`{rpath}.when.{}` must be a string", k.get_ref()),
                        ),
                    }
                }
            }
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
    })
}

fn read_reminder(
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

struct Unvalidated<'f> {
    filing_payload: &'f [RawField],
    states: Vec<RawState>,
    actions: Vec<RawAction>,
    reminders: Vec<RawReminder>,
    parties: Vec<Located<String>>,
    initial: Option<Located<String>>,
}

struct Validated {
    initial: String,
    parties: Vec<String>,
    states: Vec<State>,
    actions: Vec<Action>,
    reminders: Vec<ReminderRule>,
}

/// Checks the definition as a whole: names resolve, every state is reachable and can finish,
/// deadlines sit on states that can run out, reminders point at real deadlines.
fn validate(d: &mut FileDiagnostics<'_>, u: Unvalidated<'_>) -> Option<Validated> {
    let state_names: BTreeSet<&str> = u.states.iter().map(|s| s.name.value.as_str()).collect();
    let action_names: BTreeSet<&str> = u.actions.iter().map(|a| a.name.value.as_str()).collect();
    let party_names: BTreeSet<&str> = u.parties.iter().map(|p| p.value.as_str()).collect();
    let terminal: BTreeSet<&str> = u
        .states
        .iter()
        .filter(|s| s.terminal)
        .map(|s| s.name.value.as_str())
        .collect();
    let known_states = || state_names.iter().copied().collect::<Vec<_>>().join(", ");

    let unknown_state = |d: &mut FileDiagnostics<'_>, name: &Located<String>, place: &str| {
        if !state_names.contains(name.value.as_str()) {
            d.at_line(
                name.line,
                format!(
                    "unknown state `{}` in {place} (states are: {})",
                    name.value,
                    known_states()
                ),
            );
            false
        } else {
            true
        }
    };

    for p in &u.parties {
        if !is_identifier(&p.value) {
            d.at_line(
                p.line,
                format!("party `{}` is not a lower-case identifier", p.value),
            );
        }
    }
    if !u.parties.iter().any(|p| p.value == "filer") {
        d.at_line(
            0,
            "`parties` must include `filer`, the person or organisation that files the case",
        );
    }

    check_fields(d, u.filing_payload, &party_names, "filing");

    // Initial state.
    if let Some(init) = &u.initial
        && unknown_state(d, init, "`initial`")
        && terminal.contains(init.value.as_str())
    {
        d.at_line(
            init.line,
            format!("the initial state `{}` is terminal", init.value),
        );
    }

    // Actions: states, routes, roles, payload, windows.
    let mut payload_of: BTreeMap<&str, &[RawField]> = BTreeMap::new();
    for a in &u.actions {
        let path = format!("actions.{}", a.name.value);
        payload_of.insert(&a.name.value, &a.payload);
        for f in &a.from {
            if unknown_state(d, f, &format!("`{path}.from`")) && terminal.contains(f.value.as_str())
            {
                d.at_line(
                    f.line,
                    format!(
                        "`{path}` acts from terminal state `{}`; terminal states are final",
                        f.value
                    ),
                );
            }
        }
        if let Some(to) = &a.to {
            unknown_state(d, to, &format!("`{path}.to`"));
        }
        for r in &a.routes {
            unknown_state(d, &r.to, &format!("`{path}.routes`"));
            if let Some(rf) = &r.from
                && !a.from.iter().any(|f| f.value == rf.value)
            {
                d.at_line(rf.line, format!("`{path}.routes` names `from = \"{}\"`, which is not in the action's `from`", rf.value));
            }
            for (field, value) in &r.when {
                match a.payload.iter().find(|f| f.field.name == field.value) {
                    Some(RawField {
                        field:
                            Field {
                                ty: FieldType::Enum(values),
                                required,
                                ..
                            },
                        ..
                    }) => {
                        if !values.contains(value) {
                            d.at_line(
                                field.line,
                                format!(
                                    "`{path}.routes`: `{}` has no value `{value}` (values are: {})",
                                    field.value,
                                    values.join(", ")
                                ),
                            );
                        }
                        if !required {
                            d.at_line(
                                field.line,
                                format!(
                                    "`{path}.routes` depends on `{}`, which must then be required",
                                    field.value
                                ),
                            );
                        }
                    }
                    Some(_) => d.at_line(
                        field.line,
                        format!("`{path}.routes`: `{}` is not an enum field", field.value),
                    ),
                    None => d.at_line(
                        field.line,
                        format!("`{path}.routes`: unknown payload field `{}`", field.value),
                    ),
                }
            }
        }
        if !a.roles.iter().any(|r| r.may_act()) {
            d.at_line(
                a.roles_line,
                format!("`{path}`: no role may take this action (auditors change nothing)"),
            );
        }
        check_fields(d, &a.payload, &party_names, &path);
        for b in &a.by {
            if !party_names.contains(b.value.as_str()) {
                d.at_line(
                    b.line,
                    format!("`{path}.by` names unknown party `{}`", b.value),
                );
            }
        }
        if let Some(w) = &a.within {
            check_anchor(d, &w.from, &action_names, &path, false);
        }
    }

    // States: deadlines, extensions, duties.
    for s in &u.states {
        let path = format!("states.{}", s.name.value);
        let acts_here = |action: &str| {
            u.actions
                .iter()
                .any(|a| a.name.value == action && a.from.iter().any(|f| f.value == s.name.value))
        };
        if s.terminal && s.deadline.is_some() {
            d.at_line(
                s.name.line,
                format!(
                    "terminal state `{}` has a deadline; nothing is owed in a final state",
                    s.name.value
                ),
            );
        }
        if s.terminal && !s.duties.is_empty() {
            d.at_line(
                s.name.line,
                format!(
                    "terminal state `{}` has duties; nothing is owed in a final state",
                    s.name.value
                ),
            );
        }
        if let Some(dl) = &s.deadline {
            check_anchor(
                d,
                &dl.period.from,
                &action_names,
                &format!("{path}.deadline"),
                false,
            );
            if let Some(ext) = &dl.extension {
                if !action_names.contains(ext.action.value.as_str()) {
                    d.at_line(
                        ext.action.line,
                        format!(
                            "unknown action `{}` in `{path}.deadline.extension`",
                            ext.action.value
                        ),
                    );
                } else if !acts_here(&ext.action.value) {
                    d.at_line(
                        ext.action.line,
                        format!(
                            "extension action `{}` cannot be taken from `{}`",
                            ext.action.value, s.name.value
                        ),
                    );
                } else {
                    let a = u.actions.iter().find(|a| a.name.value == ext.action.value);
                    let until_ok = a.is_some_and(|a| {
                        a.payload.iter().any(|f| {
                            f.field.name == "until"
                                && f.field.ty == FieldType::Date
                                && f.field.required
                        })
                    });
                    if !until_ok {
                        d.at_line(ext.action.line, format!("extension action `{}` needs a required date field `until` (the new last day)", ext.action.value));
                    }
                    if a.is_some_and(|a| a.to.as_ref().is_some_and(|t| t.value != s.name.value)) {
                        d.at_line(
                            ext.action.line,
                            format!(
                                "extension action `{}` must keep the case in `{}` (leave out `to`)",
                                ext.action.value, s.name.value
                            ),
                        );
                    }
                }
                if let Some(limit) = &ext.limit {
                    check_anchor(
                        d,
                        &limit.from,
                        &action_names,
                        &format!("{path}.deadline.extension.limit"),
                        true,
                    );
                }
                if ext.max_times == Some(0) {
                    d.at_line(ext.action.line, format!("`{path}.deadline.extension.max_times` is 0: leave the extension out instead"));
                }
            }
        }
        let mut duty_names = BTreeSet::new();
        for duty in &s.duties {
            if !duty_names.insert(duty.name.value.as_str()) {
                d.at_line(
                    duty.name.line,
                    format!("duty `{}` is defined twice in `{path}`", duty.name.value),
                );
            }
            if !party_names.contains(duty.owed_by.value.as_str()) {
                d.at_line(
                    duty.owed_by.line,
                    format!(
                        "duty `{}` is owed by unknown party `{}`",
                        duty.name.value, duty.owed_by.value
                    ),
                );
            }
            if !acts_here(&duty.done_by.value) {
                d.at_line(
                    duty.done_by.line,
                    format!(
                        "duty `{}` is done by `{}`, which is not an action from `{}`",
                        duty.name.value, duty.done_by.value, s.name.value
                    ),
                );
            }
            check_anchor(
                d,
                &duty.period.from,
                &action_names,
                &format!("{path}.duties"),
                false,
            );
        }
    }

    // Reachability from the initial state, and a way to a terminal state from every state.
    // With an unknown state or role among the actions, the graph is not the one the author
    // meant, and its reachability errors would only repeat those.
    let graph_known = d.found.is_empty();
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for a in &u.actions {
        for f in &a.from {
            let targets = edges.entry(f.value.as_str()).or_default();
            if let Some(to) = &a.to {
                targets.insert(to.value.as_str());
            }
            for r in &a.routes {
                if r.from.as_ref().is_none_or(|rf| rf.value == f.value) {
                    targets.insert(r.to.value.as_str());
                }
            }
        }
    }
    if let Some(init) = &u.initial
        && state_names.contains(init.value.as_str())
        && graph_known
    {
        let reached = reach(&edges, [init.value.as_str()]);
        for s in &u.states {
            if !reached.contains(s.name.value.as_str()) {
                d.at_line(
                    s.name.line,
                    format!(
                        "state `{}` cannot be reached from `{}`",
                        s.name.value, init.value
                    ),
                );
            }
        }
    }
    for s in u.states.iter().filter(|s| !s.terminal && graph_known) {
        let name = s.name.value.as_str();
        let leaves = edges
            .get(name)
            .is_some_and(|t| t.iter().any(|t| *t != name));
        if !leaves {
            d.at_line(s.name.line, format!("non-terminal state `{name}` has no way out: no action leads from it to another state"));
        } else if !reach(&edges, [name]).iter().any(|r| terminal.contains(r)) {
            d.at_line(
                s.name.line,
                format!("state `{name}` can never reach a terminal state"),
            );
        }
    }
    if terminal.is_empty() && !u.states.is_empty() {
        d.at_line(
            0,
            "no state is marked `terminal = true`: no case could ever finish",
        );
    }

    // Reminders.
    for r in &u.reminders {
        let place = format!("`reminders` (line {})", r.line);
        if !unknown_state(d, &r.state, &place) {
            continue;
        }
        let Some(s) = u.states.iter().find(|s| s.name.value == r.state.value) else {
            continue;
        };
        if s.terminal {
            d.at_line(
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
                    d.at_line(
                        duty.line,
                        format!("unknown duty `{}` in state `{}`", duty.value, s.name.value),
                    );
                    continue;
                }
            },
            None => s.deadline.is_some(),
        };
        if r.when != When::Entered && !has_deadline {
            d.at_line(
                r.line,
                format!(
                    "reminder before or after a deadline, but state `{}` has no deadline",
                    s.name.value
                ),
            );
        }
        for n in &r.notify {
            check_audience(d, n, &party_names);
        }
    }

    // Duplicate names are caught by the TOML parser (a table defined twice).
    let initial = u.initial?;
    if !d.found.is_empty() {
        return None;
    }
    Some(Validated {
        initial: initial.value,
        parties: u.parties.into_iter().map(|p| p.value).collect(),
        states: u
            .states
            .into_iter()
            .map(|s| State {
                name: s.name.value,
                title: s.title,
                terminal: s.terminal,
                deadline: s.deadline.map(|dl| DeadlineRule {
                    period: dl.period.period,
                    from: anchor(&dl.period.from.value),
                    extension: dl.extension.map(|e| ExtensionRule {
                        action: e.action.value,
                        max_times: e.max_times,
                        limit: e.limit.map(|l| (l.period, anchor(&l.from.value))),
                    }),
                }),
                duties: s
                    .duties
                    .into_iter()
                    .map(|x| Duty {
                        name: x.name.value,
                        title: x.title,
                        owed_by: x.owed_by.value,
                        period: x.period.period,
                        from: anchor(&x.period.from.value),
                        done_by: x.done_by.value,
                    })
                    .collect(),
            })
            .collect(),
        actions: u
            .actions
            .into_iter()
            .map(|a| Action {
                name: a.name.value,
                title: a.title,
                from: a.from.into_iter().map(|f| f.value).collect(),
                to: a.to.map(|t| t.value),
                routes: a
                    .routes
                    .into_iter()
                    .map(|r| Route {
                        from: r.from.map(|f| f.value),
                        when: r.when.into_iter().map(|(k, v)| (k.value, v)).collect(),
                        to: r.to.value,
                    })
                    .collect(),
                roles: a.roles,
                by: a.by.into_iter().map(|b| b.value).collect(),
                payload: a.payload.into_iter().map(|f| f.field).collect(),
                within: a.within.map(|w| (w.period, anchor(&w.from.value))),
                once: a.once,
            })
            .collect(),
        reminders: u
            .reminders
            .into_iter()
            .map(|r| ReminderRule {
                state: r.state.value,
                duty: r.duty.map(|x| x.value),
                when: r.when,
                notify: r.notify.iter().filter_map(|n| audience(&n.value)).collect(),
                escalate: r.escalate,
            })
            .collect(),
    })
}

fn reach<'a>(
    edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    start: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<&'a str> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut queue: VecDeque<&str> = start.into_iter().collect();
    while let Some(s) = queue.pop_front() {
        if seen.insert(s)
            && let Some(next) = edges.get(s)
        {
            queue.extend(next.iter().copied());
        }
    }
    seen
}

fn anchor(s: &str) -> Anchor {
    match s {
        "entered" => Anchor::Entered,
        "due" => Anchor::Due,
        other => Anchor::Action(other.to_string()),
    }
}

fn check_anchor(
    d: &mut FileDiagnostics<'_>,
    from: &Located<String>,
    actions: &BTreeSet<&str>,
    path: &str,
    due_allowed: bool,
) {
    let ok = from.value == "entered"
        || (due_allowed && from.value == "due")
        || actions.contains(from.value.as_str());
    if !ok {
        let also = if due_allowed { ", `due`" } else { "" };
        d.at_line(
            from.line,
            format!(
                "`{path}.from` is `{}`: expected `entered`{also} or the name of an action",
                from.value
            ),
        );
    }
}

fn audience(s: &str) -> Option<Audience> {
    match s.strip_prefix("role:") {
        Some(r) => Role::parse(r).map(Audience::Role),
        None => Some(Audience::Party(s.to_string())),
    }
}

fn check_audience(d: &mut FileDiagnostics<'_>, n: &Located<String>, parties: &BTreeSet<&str>) {
    match n.value.strip_prefix("role:") {
        Some(r) if Role::parse(r).is_none() => {
            d.at_line(n.line, format!("unknown role `{r}` in `notify`"))
        }
        Some(_) => {}
        None if !parties.contains(n.value.as_str()) => d.at_line(
            n.line,
            format!(
                "`notify` names `{}`, which is neither a declared party nor `role:NAME`",
                n.value
            ),
        ),
        None => {}
    }
}

fn check_fields(
    d: &mut FileDiagnostics<'_>,
    fields: &[RawField],
    parties: &BTreeSet<&str>,
    path: &str,
) {
    for f in fields {
        if let Some(sets) = &f.field.sets {
            if !parties.contains(sets.as_str()) {
                d.at_line(
                    f.sets_line,
                    format!(
                        "`{path}.payload.{}` sets unknown party `{sets}`",
                        f.field.name
                    ),
                );
            } else if !matches!(
                f.field.ty,
                FieldType::Org | FieldType::Orgs | FieldType::User | FieldType::Users
            ) {
                d.at_line(f.sets_line, format!("`{path}.payload.{}` sets a party but is not of type org, orgs, user or users", f.field.name));
            }
        }
        if f.field.max_length.is_some() && f.field.ty != FieldType::Text {
            d.at_line(
                f.line,
                format!(
                    "`{path}.payload.{}` has `max_length` but is not text",
                    f.field.name
                ),
            );
        }
    }
}
