//! Rosters from a spreadsheet: the deputies, clerks and staff a county receives as Excel, one
//! person a row, with the stations and departments they belong to. Every row is checked first,
//! each problem named by row and column in Chinese; then everything is written in one
//! transaction, or nothing. Re-importing updates names, organisations and contacts, and never
//! adds anyone twice.

use std::collections::{BTreeMap, BTreeSet};

use duban_core::OrgKind;
use duban_storage::{Accounts, Administration, Contacts, Org, RosterImported, RosterPerson};

use super::*;
use crate::admin::{admin_only, is_code};
use crate::sheet::Row;

/// The roster's columns, each with the headers offices write for it (the first is its code).
pub const COLUMNS: &[(&str, &str, &[&str])] = &[
    ("login", "登录名", &["登录名", "账号", "用户名"]),
    ("name", "姓名", &["姓名", "名称"]),
    ("role", "角色", &["角色", "身份"]),
    (
        "org",
        "所属单位代码",
        &["所属单位代码", "单位代码", "所属单位"],
    ),
    ("org_name", "所属单位名称", &["所属单位名称", "单位名称"]),
    ("org_kind", "单位类型", &["单位类型"]),
    ("email", "电子邮箱", &["电子邮箱", "邮箱"]),
    // `联系电话` is read as a constituent's phone by the case import's aliases.
    (
        "phone",
        "手机号码",
        &["手机号码", "手机", "constituent.phone"],
    ),
    ("sms", "短信提醒", &["短信提醒", "接收短信"]),
];

/// A problem with one cell of a roster, said in Chinese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterError {
    pub row: usize,
    /// The column's Chinese name, or empty for the whole row.
    pub column: String,
    pub problem: String,
}

impl std::fmt::Display for RosterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "第 {} 行：{}", self.row, self.problem)
        } else {
            write!(
                f,
                "第 {} 行「{}」列：{}",
                self.row, self.column, self.problem
            )
        }
    }
}

/// A role as a roster writes it: in Chinese, or its code.
fn role_of(s: &str) -> Option<Role> {
    Role::parse(s).or(match s {
        "领导" | "常委会领导" | "主任" | "副主任" => Some(Role::Leader),
        "工作人员" | "人大工作人员" => Some(Role::Staff),
        "代表" | "人大代表" => Some(Role::Deputy),
        "承办单位" | "部门" | "承办单位工作人员" => Some(Role::Department),
        "调解员" => Some(Role::Mediator),
        "法院" | "法院工作人员" => Some(Role::Court),
        "审计员" => Some(Role::Auditor),
        "管理员" | "系统管理员" => Some(Role::Admin),
        _ => None,
    })
}

/// A kind of organisation as a roster writes it.
fn kind_of(s: &str) -> Option<OrgKind> {
    OrgKind::parse(s).or(match s {
        "承办单位" | "部门" | "政府部门" => Some(OrgKind::Department),
        "联络站" | "代表之家" | "代表联络站" | "代表之家（站）" | "站" => {
            Some(OrgKind::Station)
        }
        "法院" => Some(OrgKind::Court),
        "常委会" | "委员会" | "工作委员会" => Some(OrgKind::Committee),
        _ => None,
    })
}

fn yes_no(s: &str) -> Option<bool> {
    match s {
        "是" | "同意" | "yes" | "true" | "1" | "Y" | "y" => Some(true),
        "否" | "不同意" | "no" | "false" | "0" | "N" | "n" => Some(false),
        _ => None,
    }
}

/// One row's cells by column code, whichever header named them.
fn cells(row: &Row) -> BTreeMap<&'static str, &str> {
    let mut out = BTreeMap::new();
    for (header, value) in &row.cells {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        if let Some((code, _, _)) = COLUMNS
            .iter()
            .find(|(code, _, aliases)| code == header || aliases.contains(&header.as_str()))
        {
            out.insert(*code, value);
        }
    }
    out
}

fn label(code: &str) -> String {
    COLUMNS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or_else(|| code.to_string(), |(_, l, _)| l.to_string())
}

/// A roster checked against itself and the directory: the new organisations, the people, or
/// every problem found.
struct Plan {
    orgs: Vec<Org>,
    people: Vec<RosterPerson>,
    /// Logins the roster makes administrators that were not people before.
    new_admins: Vec<String>,
}

impl<S: Store + Audit + Accounts + Administration + Contacts> Service<S> {
    /// Imports a roster (administrators only): `Ok(Err(problems))` names every row at fault,
    /// and nothing was written.
    #[tracing::instrument(skip_all)]
    pub async fn import_roster(
        &self,
        p: &Principal,
        rows: &[Row],
    ) -> Result<std::result::Result<RosterImported, Vec<RosterError>>> {
        admin_only(p)?;
        let plan = match self.plan_roster(rows).await? {
            Ok(plan) => plan,
            Err(problems) => return Ok(Err(problems)),
        };
        let done = self
            .store
            .import_roster(&plan.orgs, &plan.people, self.now())
            .await?;
        // A roster that makes an administrator is announced as any new administrator is.
        for login in &plan.new_admins {
            self.tell_administrators(p, login, None, Some(Role::Admin))
                .await?;
        }
        self.audit(
            Some(p),
            "roster_imported",
            "people",
            "ok",
            &format!(
                "{} organisation(s) added, {} people added, {} updated",
                done.orgs_added, done.people_added, done.people_updated
            ),
        )
        .await?;
        Ok(Ok(done))
    }

    async fn plan_roster(
        &self,
        rows: &[Row],
    ) -> Result<std::result::Result<Plan, Vec<RosterError>>> {
        let mut problems = Vec::new();
        let mut problem = |row: usize, column: &str, text: &str| {
            problems.push(RosterError {
                row,
                column: if column.is_empty() {
                    String::new()
                } else {
                    label(column)
                },
                problem: text.to_string(),
            });
        };
        if rows.is_empty() {
            problem(2, "", "表中没有人员：第 1 行是表头，每人一行");
        }
        // First the organisations the sheet names with a name and a kind: a station may come
        // with its first deputy.
        // The directory as it stands, read once: a county's roster has a thousand rows, and a
        // look-up per row would be a thousand round trips.
        let (directory, known) = self.directory().await?;
        let existing: BTreeMap<String, Role> =
            known.into_iter().map(|u| (u.login, u.role)).collect();
        let mut new_orgs: BTreeMap<String, Org> = BTreeMap::new();
        let mut kinds: BTreeMap<String, OrgKind> = directory
            .into_iter()
            .filter_map(|(code, _, kind)| OrgKind::parse(&kind).map(|k| (code, k)))
            .collect();
        for row in rows {
            let c = cells(row);
            let Some(code) = c.get("org").copied() else {
                continue;
            };
            if !is_code(code) {
                problem(
                    row.number,
                    "org",
                    "单位代码只能用字母、数字和 - _ .，至多64个字符",
                );
                continue;
            }
            if kinds.contains_key(code) && !new_orgs.contains_key(code) {
                continue;
            }
            match (
                c.get("org_name"),
                c.get("org_kind").map(|k| (k, kind_of(k))),
            ) {
                (Some(name), Some((_, Some(kind)))) => {
                    if let Some(seen) = new_orgs.get(code)
                        && (seen.kind != kind || seen.name != *name)
                    {
                        problem(
                            row.number,
                            "org_name",
                            "与前面行中同一单位代码的名称或类型不一致",
                        );
                        continue;
                    }
                    kinds.insert(code.to_string(), kind);
                    new_orgs.insert(
                        code.to_string(),
                        Org {
                            code: code.to_string(),
                            kind,
                            name: name.chars().take(64).collect(),
                        },
                    );
                }
                (_, Some((_, None))) => problem(
                    row.number,
                    "org_kind",
                    "应为 承办单位、联络站（代表之家）、法院 或 常委会",
                ),
                _ if new_orgs.contains_key(code) => {}
                _ => problem(
                    row.number,
                    "org",
                    "系统中没有这个单位；新单位须同时填写「所属单位名称」和「单位类型」",
                ),
            }
        }
        let mut logins = BTreeSet::new();
        let mut new_admins = Vec::new();
        let mut people = Vec::new();
        for row in rows {
            let c = cells(row);
            let n = row.number;
            let Some(login) = c.get("login").copied() else {
                problem(n, "login", "必填");
                continue;
            };
            if !is_code(login) {
                problem(n, "login", "只能用字母、数字和 - _ .，至多64个字符");
                continue;
            }
            if !logins.insert(login.to_string()) {
                problem(n, "login", "与前面的行重复");
                continue;
            }
            let name = match c.get("name") {
                Some(name) if name.chars().count() <= 64 => name.to_string(),
                Some(_) => {
                    problem(n, "name", "至多64个字");
                    continue;
                }
                None => {
                    problem(n, "name", "必填");
                    continue;
                }
            };
            let Some(role) = c.get("role").and_then(|r| role_of(r)) else {
                problem(
                    n,
                    "role",
                    "应为 代表、承办单位、工作人员、领导、调解员、法院、审计员 或 管理员",
                );
                continue;
            };
            let org = c.get("org").map(|o| o.to_string());
            let kind = org.as_ref().and_then(|o| kinds.get(o).copied());
            if org.is_some() && kind.is_none() {
                // Already named above, under the organisation's own checks.
                continue;
            }
            if let Err(why) = role.may_belong_to(kind) {
                problem(n, "org", why);
                continue;
            }
            let email = c.get("email").map(|e| e.to_string());
            if email
                .as_deref()
                .is_some_and(|e| !e.contains('@') || e.contains(char::is_whitespace))
            {
                problem(n, "email", "不是有效的电子邮箱地址");
                continue;
            }
            let phone = match c.get("phone") {
                None => None,
                Some(text) => match duban_core::person::mobile_number(text) {
                    Some(m) => Some(m),
                    None => {
                        problem(n, "phone", "应为11位手机号码（13–19开头）");
                        continue;
                    }
                },
            };
            let sms = match c.get("sms") {
                None => None,
                Some(text) => match yes_no(text) {
                    Some(on) => Some(on),
                    None => {
                        problem(n, "sms", "应为 是 或 否");
                        continue;
                    }
                },
            };
            let before = existing.get(login).copied();
            if let Some(had) = before {
                if had != role {
                    problem(
                        n,
                        "role",
                        &format!(
                            "与现有账号的角色（{}）不同：角色请在人员管理中修改",
                            duban_core::labels::role(had)
                        ),
                    );
                    continue;
                }
            } else if sms == Some(true) && phone.is_none() {
                problem(n, "sms", "同意短信提醒须填写手机号码");
                continue;
            }
            if before.is_none() && role == Role::Admin {
                new_admins.push(login.to_string());
            }
            people.push(RosterPerson {
                user: User {
                    login: login.to_string(),
                    role,
                    org,
                    name,
                },
                email,
                phone,
                sms,
            });
        }
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.row);
            return Ok(Err(problems));
        }
        Ok(Ok(Plan {
            orgs: new_orgs.into_values().collect(),
            people,
            new_admins,
        }))
    }
}
