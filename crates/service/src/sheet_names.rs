//! A sheet as offices keep it, made into the import layout: Chinese headers (the ones exports
//! write: `交办·主办单位`) read back as their columns, and people and departments written by
//! name read as their codes where the name is unique. A name two people share is a row error
//! naming the candidates; nothing is guessed.

use std::collections::{BTreeMap, BTreeSet};

use duban_core::User;
use duban_core::labels;
use duban_core::vocabulary::party;
use duban_core::workflow::{FieldType, Workflow};

use crate::sheet::{Row, RowError, columns};

/// The header an export writes for `column` of `wf`, and an import reads back.
fn header_of(wf: &Workflow, column: &str) -> String {
    match column {
        "number" => return "编号".into(),
        party::FILER => return "提出人".into(),
        "filed_at" => return "提出时间".into(),
        _ => {}
    }
    let (head, rest) = column.split_once('.').unwrap_or((column, ""));
    if let Some(a) = wf.action(head) {
        return match rest {
            "at" => format!("{}·时间", a.title),
            _ => format!("{}·{}", a.title, field_header(&a.payload, rest)),
        };
    }
    // A filing field, or a person's part of one (`constituent.phone` → 群众·电话).
    field_header(&wf.filing.payload, column)
}

/// A field's header: what the file calls it (`title`), else the built-in name of its code; a
/// person's part after it (`群众·电话`).
fn field_header(fields: &[duban_core::workflow::Field], column: &str) -> String {
    let (name, part) = column.split_once('.').unwrap_or((column, ""));
    let label = fields
        .iter()
        .find(|f| f.name == name)
        .map_or_else(|| labels::field(name), |f| f.label());
    if part.is_empty() {
        label.to_string()
    } else {
        format!("{label}·{}", labels::field(part))
    }
}

/// Every column of `wf` with its Chinese header, in order. Should two columns come out with
/// the same header, the later keeps its code, so that every header names one column.
pub fn headers(wf: &Workflow) -> Vec<(String, String)> {
    let mut seen = BTreeSet::new();
    columns(wf)
        .into_iter()
        .map(|c| {
            let h = header_of(wf, &c);
            let h = if seen.insert(h.clone()) { h } else { c.clone() };
            (c, h)
        })
        .collect()
}

/// The type of the field a column holds, if it is a field.
fn field_type<'a>(wf: &'a Workflow, column: &str) -> Option<&'a FieldType> {
    match column.split_once('.') {
        Some((action, field)) => wf
            .action(action)
            .and_then(|a| a.payload.iter().find(|f| f.name == field))
            .map(|f| &f.ty),
        None => wf
            .filing
            .payload
            .iter()
            .find(|f| f.name == column)
            .map(|f| &f.ty),
    }
}

/// The directory's codes and names, to read a sheet's names as codes.
#[derive(Debug, Default)]
pub struct Names {
    org_codes: BTreeSet<String>,
    orgs: BTreeMap<String, Vec<String>>,
    logins: BTreeSet<String>,
    people: BTreeMap<String, Vec<String>>,
}

impl Names {
    pub fn new(orgs: &[(String, String, String)], people: &[User]) -> Names {
        let mut n = Names::default();
        for (code, name, _) in orgs {
            n.org_codes.insert(code.clone());
            n.orgs.entry(name.clone()).or_default().push(code.clone());
        }
        for u in people {
            n.logins.insert(u.login.clone());
            n.people
                .entry(u.name.clone())
                .or_default()
                .push(u.login.clone());
        }
        n
    }

    /// `item` as a code: itself if it is one, else the one code its name has; a name shared by
    /// several is a problem naming them.
    fn code(&self, org: bool, item: &str) -> Result<String, String> {
        let (codes, by_name) = if org {
            (&self.org_codes, &self.orgs)
        } else {
            (&self.logins, &self.people)
        };
        if codes.contains(item) {
            return Ok(item.to_string());
        }
        match by_name.get(item).map(Vec::as_slice) {
            Some([one]) => Ok(one.clone()),
            Some(many) => Err(format!(
                "「{item}」有 {} 个同名的{}（{}），请改填代码",
                many.len(),
                if org { "单位" } else { "人员" },
                many.join("、")
            )),
            // Left as written: the reference check names it as unknown.
            None => Ok(item.to_string()),
        }
    }
}

/// How a sheet's headers map to the columns of one workflow, and which columns name
/// organisations (`true`) or people (`false`): worked out once per sheet.
#[derive(Debug)]
pub struct Layout<'a> {
    names: &'a Names,
    by_header: BTreeMap<String, String>,
    refers: BTreeMap<String, bool>,
}

impl<'a> Layout<'a> {
    pub fn new(wf: &Workflow, names: &'a Names) -> Layout<'a> {
        let by_header = headers(wf).into_iter().map(|(c, h)| (h, c)).collect();
        let refers = columns(wf)
            .into_iter()
            .filter_map(|c| {
                let org = match field_type(wf, &c) {
                    _ if c == party::FILER => false,
                    Some(FieldType::Org | FieldType::Orgs) => true,
                    Some(FieldType::User | FieldType::Users) => false,
                    _ => return None,
                };
                Some((c, org))
            })
            .collect();
        Layout {
            names,
            by_header,
            refers,
        }
    }

    /// `row` in the import layout: each Chinese header as its column, and the names in the
    /// filer's column and in every organisation or person field as codes. Problems are
    /// returned; the row keeps what could be read.
    pub fn row(&self, row: Row) -> (Row, Vec<RowError>) {
        to_layout(self, row)
    }

    /// The column a sheet's key stands for: its Chinese header's, or the key itself.
    pub fn column<'s>(&'s self, key: &'s str) -> &'s str {
        self.by_header.get(key).map_or(key, String::as_str)
    }

    /// The cell of `row` in `column`, under whichever header the sheet gives it.
    pub fn cell<'r>(&self, row: &'r Row, column: &str) -> Option<&'r str> {
        row.cells
            .iter()
            .find(|(k, _)| self.column(k) == column)
            .map(|(_, v)| v.as_str())
    }
}

fn to_layout(layout: &Layout<'_>, row: Row) -> (Row, Vec<RowError>) {
    let names = layout.names;
    let mut errors = Vec::new();
    let mut cells = BTreeMap::new();
    let number = row.number;
    for (key, value) in row.cells {
        let column = layout.column(&key).to_string();
        let org = layout.refers.get(&column).copied();
        let value = match org {
            Some(org) => {
                let mut codes = Vec::new();
                for item in value
                    .split(['、', ',', '，', ';', '；', ' '])
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                {
                    match names.code(org, item) {
                        Ok(c) => codes.push(c),
                        Err(problem) => errors.push(RowError {
                            row: number,
                            column: column.clone(),
                            problem,
                        }),
                    }
                }
                codes.join("、")
            }
            None => value,
        };
        cells.insert(column, value);
    }
    (Row { number, cells }, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use duban_core::Role;

    #[test]
    fn exported_headers_are_chinese_and_each_names_one_column() {
        let workflows = duban_core::Workflows::builtin();
        for wf in workflows.iter() {
            let hs = headers(wf);
            let distinct: BTreeSet<&String> = hs.iter().map(|(_, h)| h).collect();
            assert_eq!(distinct.len(), hs.len(), "{}", wf.kind);
        }
        let wf = workflows.get("suggestion").expect("suggestion");
        let hs: BTreeMap<String, String> = headers(wf).into_iter().collect();
        assert_eq!(hs["number"], "编号");
        assert_eq!(hs["assign.lead_department"], "交办·主办单位");
        assert_eq!(hs["reply.at"], "答复代表·时间");
    }

    #[test]
    fn names_become_codes_when_unique_and_a_shared_name_names_its_candidates() {
        let workflows = duban_core::Workflows::builtin();
        let wf = workflows.get("suggestion").expect("suggestion");
        let user = |login: &str, name: &str| User {
            login: login.into(),
            name: name.into(),
            role: Role::Deputy,
            org: None,
        };
        let names = Names::new(
            &[("jtj".into(), "县交通运输局".into(), "department".into())],
            &[
                user("liu", "刘明"),
                user("wang1", "王芳"),
                user("wang2", "王芳"),
            ],
        );
        let row = Row {
            number: 3,
            cells: BTreeMap::from([
                ("提出人".to_string(), "刘明".to_string()),
                ("交办·主办单位".to_string(), "县交通运输局".to_string()),
                ("联名代表".to_string(), "王芳、liu".to_string()),
            ]),
        };
        let (row, errors) = Layout::new(wf, &names).row(row);
        assert_eq!(row.cells["filer"], "liu");
        assert_eq!(row.cells["assign.lead_department"], "jtj");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].column, "cosigners");
        assert!(
            errors[0].problem.contains("wang1、wang2"),
            "{}",
            errors[0].problem
        );
    }
}
