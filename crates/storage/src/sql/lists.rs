//! The lists: each query a static selection plus optional filters, keyset-paginated, every
//! value bound; and their plans, for the test that keeps them on an index.

use duban_core::vocabulary::party;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::*;
use crate::{
    CaseQuery, CaseSummary, Cursor, ListFilter, Listing, Lists, Page, PartyList, Plan, Result,
};

/// The columns of a case summary, as every list query selects them.
pub(crate) const SUMMARY_COLUMNS: &str =
    "c.id, c.kind, c.title, c.state, c.is_key, c.filed_at, c.due_key, c.due_date, c.supervisor";

/// The rows a list query selects, before the optional filters and the page: static
/// `FROM … WHERE …` SQL with `$1…` placeholders, its binds, and the columns it sorts by (the
/// first of which the page's cursor carries as `sort_key`).
pub(crate) struct Selection {
    pub(crate) from_where: &'static str,
    pub(crate) binds: Vec<Bind>,
    pub(crate) sort: (&'static str, &'static str),
}

/// Flags are compared with literals, not binds, so that PostgreSQL can match its partial
/// indexes.
pub(crate) fn selection(q: &CaseQuery) -> Selection {
    match q {
        CaseQuery::DepartmentOpen { department } => Selection {
            from_where: "FROM case_parties p JOIN cases c ON c.id = p.case_id \
                  WHERE p.member = $1 AND p.is_open = 1 AND p.party IN ('lead_department', 'co_departments')",
            binds: vec![Bind::Text(department.clone())],
            sort: ("p.due_key", "p.case_id"),
        },
        CaseQuery::Overdue { now } => Selection {
            from_where: "FROM cases c WHERE c.is_open = 1 AND c.due_key < $1",
            binds: vec![Bind::Int(ms(*now))],
            sort: ("c.due_key", "c.id"),
        },
        CaseQuery::DueBetween { from, until } => Selection {
            from_where: "FROM cases c WHERE c.is_open = 1 AND c.due_key >= $1 AND c.due_key < $2",
            binds: vec![Bind::Int(ms(*from)), Bind::Int(ms(*until))],
            sort: ("c.due_key", "c.id"),
        },
        CaseQuery::KeySuggestions => Selection {
            from_where: "FROM cases c WHERE c.is_key = 1",
            binds: vec![],
            sort: ("c.filed_at", "c.id"),
        },
        CaseQuery::Party(list) => {
            // A deputy's or department's list covers two parties; the others one, given twice.
            let (member, parties) = match list {
                PartyList::Deputy(m) => (m, party::DEPUTY),
                PartyList::Department(m) => (m, party::DEPARTMENTS),
                PartyList::Station(m) => (m, [party::STATION; 2]),
                PartyList::Mediator(m) => (m, [party::MEDIATORS; 2]),
                PartyList::Court(m) => (m, [party::COURT; 2]),
            };
            Selection {
                from_where: "FROM case_parties p JOIN cases c ON c.id = p.case_id \
                      WHERE p.member = $1 AND p.party IN ($2, $3)",
                binds: vec![
                    Bind::Text(member.clone()),
                    Bind::Text(parties[0].into()),
                    Bind::Text(parties[1].into()),
                ],
                sort: ("p.filed_at", "p.case_id"),
            }
        }
        CaseQuery::ByKind {
            kind,
            year,
            state: None,
        } => Selection {
            from_where: "FROM cases c WHERE c.kind = $1 AND c.year = $2",
            binds: vec![Bind::Text(kind.clone()), Bind::Int(i64::from(*year))],
            sort: ("c.filed_at", "c.id"),
        },
        CaseQuery::ByKind {
            kind,
            year,
            state: Some(state),
        } => Selection {
            from_where: "FROM cases c WHERE c.kind = $1 AND c.year = $2 AND c.state = $3",
            binds: vec![
                Bind::Text(kind.clone()),
                Bind::Int(i64::from(*year)),
                Bind::Text(state.clone()),
            ],
            sort: ("c.filed_at", "c.id"),
        },
        CaseQuery::All => Selection {
            from_where: "FROM cases c WHERE 1 = 1",
            binds: vec![],
            sort: ("c.filed_at", "c.id"),
        },
    }
}

/// The whole list statement: the selection, the filters, the keyset condition and the limit,
/// with placeholders numbered on from the selection's. Only static fragments are joined; every
/// value is a bind.
pub(crate) fn list_sql(q: &CaseQuery, filter: &ListFilter, page: &Page) -> (String, Vec<Bind>) {
    let Selection {
        from_where,
        mut binds,
        sort,
    } = selection(q);
    let mut text = format!(
        "SELECT {SUMMARY_COLUMNS}, {} AS sort_key {from_where}",
        sort.0
    );
    let next = |binds: &mut Vec<Bind>, b: Bind| {
        binds.push(b);
        binds.len()
    };
    if let Some(kind) = &filter.kind {
        let n = next(&mut binds, Bind::Text(kind.clone()));
        text.push_str(&format!(" AND c.kind = ${n}"));
    }
    if let Some(state) = &filter.state {
        let n = next(&mut binds, Bind::Text(state.clone()));
        text.push_str(&format!(" AND c.state = ${n}"));
    }
    if let Some(year) = filter.year {
        let n = next(&mut binds, Bind::Int(i64::from(year)));
        text.push_str(&format!(" AND c.year = ${n}"));
    }
    if let Some(now) = filter.overdue_at {
        let n = next(&mut binds, Bind::Int(ms(now)));
        text.push_str(&format!(" AND c.is_open = 1 AND c.due_key < ${n}"));
    }
    if filter.key_only {
        text.push_str(" AND c.is_key = 1");
    }
    let after = page.after.clone().unwrap_or(Cursor {
        key: i64::MIN,
        id: String::new(),
    });
    let k = next(&mut binds, Bind::Int(after.key));
    let i = next(&mut binds, Bind::Text(after.id));
    let l = next(&mut binds, Bind::Int(i64::from(page.limit) + 1));
    let (a, b) = sort;
    text.push_str(&format!(
        " AND ({a}, {b}) > (${k}, ${i}) ORDER BY {a}, {b} LIMIT ${l}"
    ));
    (text, binds)
}

pub(crate) fn summary(row: &AnyRow) -> Result<(CaseSummary, i64)> {
    let due_key: i64 = row.try_get("due_key")?;
    Ok((
        CaseSummary {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            title: row.try_get("title")?,
            state: row.try_get("state")?,
            is_key: row.try_get::<i64, _>("is_key")? == 1,
            filed_at: from_ms(row.try_get("filed_at")?)?,
            due_date: row.try_get("due_date")?,
            due_at: if due_key == NO_DEADLINE {
                None
            } else {
                Some(from_ms(due_key)?)
            },
            supervisor: row.try_get("supervisor")?,
        },
        row.try_get("sort_key")?,
    ))
}

impl Lists for SqlStore {
    async fn list_filtered(
        &self,
        query: &CaseQuery,
        filter: &ListFilter,
        page: &Page,
    ) -> Result<Listing> {
        let (sql, binds) = list_sql(query, filter, page);
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), &binds)
            .fetch_all(&self.pool)
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut keys = Vec::with_capacity(rows.len());
        for r in &rows {
            let (s, k) = summary(r)?;
            items.push(s);
            keys.push(k);
        }
        let next = if items.len() > page.limit as usize {
            items.truncate(page.limit as usize);
            items.last().map(|last| Cursor {
                key: keys[page.limit as usize - 1],
                id: last.id.clone(),
            })
        } else {
            None
        };
        Ok(Listing { items, next })
    }

    async fn explain(&self, plan: &Plan) -> Result<String> {
        let (sql, binds) = match plan {
            Plan::List(query) => list_sql(query, &ListFilter::default(), &Page::first(50)),
            Plan::DueReminders { now } => (
                DUE_REMINDERS_SQL.to_string(),
                vec![Bind::Int(ms(*now)), Bind::Int(1000)],
            ),
            Plan::History { case_id } => {
                (HISTORY_SQL.to_string(), vec![Bind::Text(case_id.clone())])
            }
            Plan::FigureGroups { kind, year, as_of } => (
                FIGURE_GROUPS_SQL.to_string(),
                vec![
                    Bind::Text(kind.clone()),
                    Bind::Int(i64::from(*year)),
                    Bind::Int(ms(*as_of)),
                ],
            ),
        };
        let (prefix, column) = self.backend.explain();
        let rows = bind_all(sqlx::query(AssertSqlSafe(format!("{prefix}{sql}"))), &binds)
            .fetch_all(&self.pool)
            .await?;
        let lines: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>(column))
            .collect::<Result<_, _>>()?;
        Ok(lines.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_text_form() {
        let c = Cursor {
            key: -5,
            id: "0190-ab.c".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("nonsense"), None);
    }
}
