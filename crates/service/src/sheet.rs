//! Spreadsheet rows in and out: the column layout, importing rows through the state machine
//! (every row checked first; all or nothing), and exporting cases in the same layout with
//! personal data masked.
//!
//! The layout, per kind: the filing fields by name (`title`, `body`, `station` …; a person
//! field as `constituent.name`, `constituent.id_number` …), `filer` and `filed_at`, then for
//! each action of the workflow `ACTION.at` and `ACTION.FIELD` (`assign.at`,
//! `assign.lead_department` …). Common Chinese headers are accepted as aliases.

use std::collections::{BTreeMap, BTreeSet};

use duban_core::deadline::CHINA;
use duban_core::machine::{self, Actor, Transition};
use duban_core::vocabulary::party;
use duban_core::workflow::{Field, FieldType, Workflow};
use duban_core::{Calendar, Role};
use jiff::Timestamp;
use serde_json::{Map, Value};

/// Chinese headers offices use, and the columns they mean.
pub const ALIASES: &[(&str, &str)] = &[
    ("编号", "number"),
    ("标题", "title"),
    ("题目", "title"),
    ("内容", "body"),
    ("正文", "body"),
    ("类别", "category"),
    ("届次", "session"),
    ("联名代表", "cosigners"),
    ("提出代表", party::FILER),
    ("提交人", party::FILER),
    ("提交时间", "filed_at"),
    ("提出时间", "filed_at"),
    ("代表之家（站）", "station"),
    ("代表之家(站)", "station"),
    ("群众姓名", "constituent.name"),
    ("身份证号", "constituent.id_number"),
    ("联系电话", "constituent.phone"),
    ("住址", "constituent.address"),
    ("法院", "court"),
    ("案号", "court_reference"),
    ("纠纷类型", "dispute_type"),
    ("标的额", "amount_yuan"),
    ("摘要", "summary"),
    ("登记时间", "register.at"),
    ("交办时间", "assign.at"),
    ("主办单位", "assign.lead_department"),
    ("协办单位", "assign.co_departments"),
    ("答复时间", "reply.at"),
    ("答复类别", "reply.classification"),
    ("答复内容", "reply.answer"),
    ("承诺落实日期", "reply.promised_by"),
    ("解决条件", "reply.condition"),
    ("落实时间", "report_delivery.at"),
    ("落实日期", "report_delivery.delivered_on"),
    ("落实情况", "report_delivery.report"),
    ("评价时间", "evaluate.at"),
    ("评价", "evaluate.rating"),
    ("转办时间", "transfer.at"),
    ("承办单位", "transfer.lead_department"),
    ("受理时间", "accept.at"),
    ("直接化解时间", "resolve_directly.at"),
    ("化解结果", "resolve_directly.result"),
];

/// Ratings and yes/no as offices write them.
fn canonical_value(s: &str) -> &str {
    match s {
        "满意" => "satisfied",
        "基本满意" => "basically_satisfied",
        "不满意" => "dissatisfied",
        other => other,
    }
}

/// A spreadsheet row: its number (as the office sees it, header = row 1) and cells by column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub number: usize,
    pub cells: BTreeMap<String, String>,
}

/// A problem with one cell or row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub problem: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "row {}, column `{}`: {}",
            self.row, self.column, self.problem
        )
    }
}

/// The columns of `wf`, in order.
pub fn columns(wf: &Workflow) -> Vec<String> {
    // The case number first: the one thing people quote about a row.
    let mut out = vec!["number".to_string()];
    let fields = |out: &mut Vec<String>, prefix: &str, fs: &[Field]| {
        for f in fs {
            if f.sets.as_deref() == Some(party::FILER) {
                continue;
            }
            if f.ty == FieldType::Person {
                for sub in ["name", "id_number", "phone", "address"] {
                    out.push(format!("{prefix}{}.{sub}", f.name));
                }
            } else {
                out.push(format!("{prefix}{}", f.name));
            }
        }
    };
    fields(&mut out, "", &wf.filing.payload);
    out.push(party::FILER.into());
    out.push("filed_at".into());
    let mut seen = BTreeSet::new();
    for a in &wf.actions {
        if !seen.insert(a.name.clone()) {
            continue;
        }
        out.push(format!("{}.at", a.name));
        fields(&mut out, &format!("{}.", a.name), &a.payload);
    }
    out
}

/// Maps a header to its column: the name itself, or a Chinese alias.
pub fn column_of(header: &str) -> String {
    let h = header.trim().trim_start_matches('\u{feff}');
    ALIASES
        .iter()
        .find(|(a, _)| *a == h)
        .map(|(_, c)| c.to_string())
        .unwrap_or_else(|| h.to_string())
}

/// Parses a moment as offices write it: `2024-03-01`, `2024-03-01 10:30`, `2024/3/1`,
/// `2024.3.1`, `2024年3月5日` and `2024年3月5日 10:30` (China time; 09:00 when no time is given).
pub fn moment(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    // 2024年3月5日 → 2024-3-5; the day's mark may be followed by the time with or without a
    // space.
    let s = match s.split_once('日') {
        Some((date, rest)) if date.contains('年') => format!("{date} {}", rest.trim()),
        _ => s.to_string(),
    };
    let s = s.replace(['年', '月', '/'], "-");
    let s = s.trim();
    // A dotted date (2024.3.5), but not a time's seconds.
    let s = match s.split_once([' ', 'T']) {
        Some((date, time)) => format!("{} {time}", date.replace('.', "-")),
        None => s.replace('.', "-"),
    };
    let parts: Vec<&str> = s.splitn(2, [' ', 'T']).collect();
    let ymd: Vec<&str> = parts[0].split('-').collect();
    if ymd.len() != 3 {
        return None;
    }
    let date = jiff::civil::Date::new(
        ymd[0].parse().ok()?,
        ymd[1].parse().ok()?,
        ymd[2].parse().ok()?,
    )
    .ok()?;
    let time = match parts.get(1) {
        Some(t) => {
            let hm: Vec<&str> = t.split(':').collect();
            jiff::civil::Time::new(
                hm.first()?.parse().ok()?,
                hm.get(1).and_then(|m| m.parse().ok()).unwrap_or(0),
                0,
                0,
            )
            .ok()?
        }
        None => jiff::civil::Time::constant(9, 0, 0, 0),
    };
    CHINA.to_timestamp(date.to_datetime(time)).ok()
}

/// The moment as the export writes it: China time, to the minute.
pub fn show_moment(t: Timestamp) -> String {
    CHINA.to_datetime(t).strftime("%Y-%m-%d %H:%M").to_string()
}

/// A payload for `fields` from the row's cells under `prefix`, or the problems with them.
fn payload(
    row: &Row,
    prefix: &str,
    fields: &[Field],
    errors: &mut Vec<RowError>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for f in fields {
        let column = format!("{prefix}{}", f.name);
        let cell = |c: &str| row.cells.get(c).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut bad = |problem: String| {
            errors.push(RowError {
                row: row.number,
                column: column.clone(),
                problem,
            })
        };
        let value = match &f.ty {
            FieldType::Person => {
                let mut person = Map::new();
                for sub in ["name", "id_number", "phone", "address"] {
                    if let Some(v) = cell(&format!("{column}.{sub}")) {
                        person.insert(sub.into(), Value::String(v.to_string()));
                    }
                }
                if person.is_empty() {
                    None
                } else {
                    Some(Value::Object(person))
                }
            }
            ty => match cell(&column) {
                None => None,
                Some(v) => match ty {
                    FieldType::Integer => match v.replace(',', "").parse::<f64>() {
                        Ok(n) if n.fract() == 0.0 => Some(Value::from(n as i64)),
                        _ => {
                            bad("is not a whole number".into());
                            None
                        }
                    },
                    FieldType::Boolean => match v {
                        "是" | "true" | "TRUE" | "1" | "Y" => Some(Value::Bool(true)),
                        "否" | "false" | "FALSE" | "0" | "N" => Some(Value::Bool(false)),
                        _ => {
                            bad("is not 是/否".into());
                            None
                        }
                    },
                    FieldType::Date => match moment(v) {
                        Some(t) => Some(Value::String(CHINA.to_datetime(t).date().to_string())),
                        None => {
                            bad("is not a date such as 2024-03-01".into());
                            None
                        }
                    },
                    FieldType::Orgs | FieldType::Users => Some(Value::Array(
                        v.split(['、', ',', '，', ';', '；', ' '])
                            .map(str::trim)
                            .filter(|x| !x.is_empty())
                            .map(|x| Value::String(x.to_string()))
                            .collect(),
                    )),
                    _ => Some(Value::String(canonical_value(v).to_string())),
                },
            },
        };
        if let Some(v) = value {
            out.insert(f.name.clone(), v);
        }
    }
    out
}

/// Who takes a step on import: someone of the first role the action allows, and, when the
/// action names the parties that must take it, that party's member on the case.
fn step_actor(wf: &Workflow, action: &str, case: &duban_core::Case) -> Actor {
    let a = wf.action(action);
    let role = a
        .and_then(|a| a.roles.iter().copied().find(|r| r.may_act()))
        .unwrap_or(Role::Staff);
    let member = a
        .and_then(|a| {
            a.by.iter()
                .find_map(|p| case.parties.get(p).and_then(|m| m.first()).cloned())
        })
        .unwrap_or_else(|| "import".into());
    Actor {
        user: member.clone(),
        role,
        org: Some(member),
    }
}

/// One row run through the state machine: its transitions, or the problems found. `filer` is
/// the role and organisation of the user who filed it; no moment in the row may be after `now`.
pub fn plan_row(
    wf: &Workflow,
    cal: &Calendar,
    row: &Row,
    filer: Option<(Role, Option<String>)>,
    now: Timestamp,
) -> Result<Vec<Transition>, Vec<RowError>> {
    let filer_role = filer.as_ref().map(|f| f.0);
    let filer_org = filer.and_then(|f| f.1);
    let mut errors = Vec::new();
    let known: BTreeSet<String> = columns(wf).into_iter().collect();
    for c in row.cells.keys() {
        if !known.contains(c) {
            errors.push(RowError {
                row: row.number,
                column: c.clone(),
                problem: "unknown column".into(),
            });
        }
    }
    let filer = row
        .cells
        .get(party::FILER)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let filed_at = row
        .cells
        .get("filed_at")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    if filer.is_none() {
        errors.push(RowError {
            row: row.number,
            column: party::FILER.into(),
            problem: "is required (the login of who filed it)".into(),
        });
    }
    let future = |column: &str| RowError {
        row: row.number,
        column: column.into(),
        problem: "is in the future: only what has happened can be imported".into(),
    };
    let filed_at = match filed_at.map(moment) {
        Some(Some(t)) if t > now => {
            errors.push(future("filed_at"));
            None
        }
        Some(Some(t)) => Some(t),
        Some(None) => {
            errors.push(RowError {
                row: row.number,
                column: "filed_at".into(),
                problem: "is not a date or date-time".into(),
            });
            None
        }
        None => {
            errors.push(RowError {
                row: row.number,
                column: "filed_at".into(),
                problem: "is required".into(),
            });
            None
        }
    };
    let filing = payload(row, "", &wf.filing.payload, &mut errors);
    let steps = action_steps(wf, row, now, &mut errors);
    let (Some(filer), Some(filed_at)) = (filer, filed_at) else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let filer_actor = Actor {
        user: filer.clone(),
        role: filer_role.unwrap_or(Role::Staff),
        org: filer_org,
    };
    let mut out = Vec::new();
    let first = match machine::file(wf, cal, &filer_actor, &Value::Object(filing), filed_at) {
        Ok(t) => t,
        Err(e) => {
            let column = e.field().unwrap_or(party::FILER).to_string();
            return Err(vec![RowError {
                row: row.number,
                column,
                problem: e.reason.to_string(),
            }]);
        }
    };
    let case = first.case.clone();
    out.push(first);
    out.extend(apply_steps(wf, cal, row, case, steps)?);
    Ok(out)
}

/// A step a row records: when, the action's place in the workflow (to order steps at the same
/// instant), its name and payload.
type Step = (Timestamp, usize, String, Map<String, Value>);

/// The steps a row's action columns record, in time order; problems go to `errors`.
fn action_steps(wf: &Workflow, row: &Row, now: Timestamp, errors: &mut Vec<RowError>) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for (i, a) in wf.actions.iter().enumerate() {
        let at_col = format!("{}.at", a.name);
        let given = row
            .cells
            .get(&at_col)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty());
        let p = payload(row, &format!("{}.", a.name), &a.payload, errors);
        match given.map(moment) {
            Some(Some(t)) if t > now => errors.push(RowError {
                row: row.number,
                column: at_col,
                problem: "is in the future: only what has happened can be imported".into(),
            }),
            Some(Some(t)) => steps.push((t, i, a.name.clone(), p)),
            Some(None) => errors.push(RowError {
                row: row.number,
                column: at_col,
                problem: "is not a date or date-time".into(),
            }),
            None if !p.is_empty() => errors.push(RowError {
                row: row.number,
                column: at_col,
                problem: format!("is needed when `{}` columns are filled", a.name),
            }),
            None => {}
        }
    }
    steps.sort_by_key(|(t, i, _, _)| (*t, *i));
    steps
}

/// `steps` taken in order on `case` through the state machine: their transitions, or the
/// first refusal, at its column.
fn apply_steps(
    wf: &Workflow,
    cal: &Calendar,
    row: &Row,
    mut case: duban_core::Case,
    steps: Vec<Step>,
) -> Result<Vec<Transition>, Vec<RowError>> {
    let mut out = Vec::new();
    for (at, _, action, p) in steps {
        if at < case.entered_at {
            return Err(vec![RowError {
                row: row.number,
                column: format!("{action}.at"),
                problem: "is earlier than the step before it".into(),
            }]);
        }
        let actor = step_actor(wf, &action, &case);
        match machine::act(wf, cal, &case, &action, &Value::Object(p), &actor, at) {
            Ok(t) => {
                case = t.case.clone();
                out.push(t);
            }
            Err(e) => {
                let column = e
                    .field()
                    .map(|f| format!("{action}.{f}"))
                    .unwrap_or_else(|| format!("{action}.at"));
                return Err(vec![RowError {
                    row: row.number,
                    column,
                    problem: e.reason.to_string(),
                }]);
            }
        }
    }
    Ok(out)
}

/// One row of an answers sheet on `case`, the existing case its number names: the steps its
/// action columns record (a reply, a rating), through the state machine from where the case
/// stands. Filing columns are there for people to read and are not changed; any other column
/// is unknown.
pub fn plan_answers(
    wf: &Workflow,
    cal: &Calendar,
    row: &Row,
    case: &duban_core::Case,
    now: Timestamp,
) -> Result<Vec<Transition>, Vec<RowError>> {
    let known: BTreeSet<String> = columns(wf).into_iter().collect();
    let mut errors: Vec<RowError> = row
        .cells
        .keys()
        .filter(|c| !known.contains(*c))
        .map(|c| RowError {
            row: row.number,
            column: c.clone(),
            problem: "unknown column".into(),
        })
        .collect();
    let steps = action_steps(wf, row, now, &mut errors);
    if steps.is_empty() && errors.is_empty() {
        errors.push(RowError {
            row: row.number,
            column: "number".into(),
            problem: "records no step: fill an action's time and fields (答复·时间 …)".into(),
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    apply_steps(wf, cal, row, case.clone(), steps)
}

/// The export row of one case: the same columns, from its history (the last occurrence of each
/// action), personal data as the history keeps it — masked.
pub fn export_row(
    wf: &Workflow,
    number: Option<&str>,
    events: &[duban_core::machine::Event],
) -> BTreeMap<String, String> {
    let mut cells = BTreeMap::new();
    if let Some(n) = number {
        cells.insert("number".to_string(), n.to_string());
    }
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str())
            .collect::<Vec<_>>()
            .join("、"),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let put = |cells: &mut BTreeMap<String, String>, prefix: &str, payload: &Map<String, Value>| {
        for (k, v) in payload {
            if let Value::Object(person) = v {
                for (sub, sv) in person {
                    cells.insert(format!("{prefix}{k}.{sub}"), text(sv));
                }
            } else {
                cells.insert(format!("{prefix}{k}"), text(v));
            }
        }
    };
    if let Some(first) = events.first() {
        put(&mut cells, "", &first.payload);
        // A filing field that named the filer is not a column: the filer is.
        for f in wf
            .filing
            .payload
            .iter()
            .filter(|f| f.sets.as_deref() == Some(party::FILER))
        {
            cells.remove(&f.name);
        }
        let filer = first
            .sets
            .get(party::FILER)
            .and_then(|f| f.first())
            .cloned()
            .unwrap_or_else(|| first.actor.user.clone());
        cells.insert(party::FILER.into(), filer);
        cells.insert("filed_at".into(), show_moment(first.at));
    }
    for e in events.iter().skip(1) {
        cells.retain(|k, _| !k.starts_with(&format!("{}.", e.action)));
        cells.insert(format!("{}.at", e.action), show_moment(e.at));
        put(&mut cells, &format!("{}.", e.action), &e.payload);
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_after_now_is_refused_and_one_before_is_not() {
        let workflows = duban_core::Workflows::builtin();
        let wf = workflows.get("suggestion").expect("suggestion");
        let cal = Calendar::builtin();
        let row = |filed: &str, assigned: &str| Row {
            number: 7,
            cells: BTreeMap::from([
                ("title".to_string(), "建议".to_string()),
                ("body".to_string(), "内容".to_string()),
                ("filer".to_string(), "liu".to_string()),
                ("filed_at".to_string(), filed.to_string()),
                ("register.at".to_string(), filed.to_string()),
                ("assign.at".to_string(), assigned.to_string()),
                ("assign.lead_department".to_string(), "jtj".to_string()),
            ]),
        };
        let now = moment("2024-03-01 12:00").expect("now");
        let deputy = Some((Role::Deputy, Some("st1".to_string())));
        assert!(
            plan_row(
                wf,
                &cal,
                &row("2024-03-01 09:00", "2024-03-01 11:59"),
                deputy.clone(),
                now
            )
            .is_ok()
        );
        let errors = plan_row(
            wf,
            &cal,
            &row("2024-03-01 12:01", "2024-03-02 09:00"),
            deputy,
            now,
        )
        .expect_err("future");
        let columns: Vec<&str> = errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(
            columns,
            ["filed_at", "register.at", "assign.at"],
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .all(|e| e.row == 7 && e.problem.contains("future"))
        );
    }

    #[test]
    fn moments_are_read_as_offices_write_them() {
        let at = |s: &str| moment(s).map(show_moment);
        for s in [
            "2024-03-05",
            "2024/3/5",
            "2024.3.5",
            "2024年3月5日",
            " 2024年03月05日 ",
        ] {
            assert_eq!(at(s).as_deref(), Some("2024-03-05 09:00"), "{s}");
        }
        for s in [
            "2024-03-05 10:30",
            "2024年3月5日 10:30",
            "2024年3月5日10:30",
            "2024.3.5 10:30",
        ] {
            assert_eq!(at(s).as_deref(), Some("2024-03-05 10:30"), "{s}");
        }
        for s in ["2024年13月5日", "三月五日", "2024-02-30", ""] {
            assert_eq!(at(s), None, "{s}");
        }
    }
}
