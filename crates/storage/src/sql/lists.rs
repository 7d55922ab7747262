//! The lists: each query a static selection plus optional filters, keyset-paginated, every
//! value bound; and their plans, for the test that keeps them on an index.

use duban_core::vocabulary::party;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::*;
use crate::{
    CaseQuery, CaseSummary, Cursor, ListFilter, Listing, Lists, Order, Page, PartyList, Plan,
    Result,
};

/// The columns of a case summary, as every list query selects them.
pub(crate) const SUMMARY_COLUMNS: &str = "c.id, c.number, c.kind, c.title, c.state, c.is_key, c.filed_at, c.due_key, c.due_date, c.supervisor";

/// The rows a list query selects, before the optional filters and the page: static
/// `FROM … WHERE …` SQL with `$1…` placeholders, its binds, and the columns it sorts by (the
/// first of which the page's cursor carries as `sort_key`).
pub(crate) struct Selection {
    pub(crate) from_where: String,
    /// For a list over a party's rows, the condition on those rows (`case_parties p`) alone.
    /// Each names one case (the foreign key), so with no filter on the case its total is
    /// counted from them without reading any case: cold, each case read costs a page, and a
    /// department's thousand took 52 ms at 1,000,000 cases on PostgreSQL.
    pub(crate) parties_where: Option<&'static str>,
    pub(crate) binds: Vec<Bind>,
    pub(crate) sort: (&'static str, &'static str),
}

/// A list over a party's rows: those matching `condition`, with their cases.
fn over_parties(
    condition: &'static str,
    binds: Vec<Bind>,
    sort: (&'static str, &'static str),
) -> Selection {
    Selection {
        from_where: format!(
            "FROM case_parties p JOIN cases c ON c.id = p.case_id WHERE {condition}"
        ),
        parties_where: Some(condition),
        binds,
        sort,
    }
}

/// A list over the cases themselves: `FROM cases c WHERE condition`.
fn over_cases(
    condition: &'static str,
    binds: Vec<Bind>,
    sort: (&'static str, &'static str),
) -> Selection {
    Selection {
        from_where: format!("FROM cases c WHERE {condition}"),
        parties_where: None,
        binds,
        sort,
    }
}

/// Flags are compared with literals, not binds, so that PostgreSQL can match its partial
/// indexes.
pub(crate) fn selection(q: &CaseQuery) -> Selection {
    match q {
        // The cases it leads or co-handles, and those waiting on it in another part (the body
        // that answers a petition's 复核): its awaiting row counts only where it has neither of
        // the other two, so that each case is listed once.
        CaseQuery::DepartmentOpen { department } => over_parties(
            "p.member = $1 AND p.is_open = 1 AND (p.party IN ('lead_department', 'co_departments') \
             OR (p.party = 'awaiting' AND NOT EXISTS (SELECT 1 FROM case_parties x WHERE x.case_id = p.case_id \
             AND x.member = p.member AND x.party IN ('lead_department', 'co_departments'))))",
            vec![Bind::Text(department.clone())],
            ("p.due_key", "p.case_id"),
        ),
        CaseQuery::Overdue { now } => over_cases(
            "c.is_open = 1 AND c.due_key < $1",
            vec![Bind::Int(ms(*now))],
            ("c.due_key", "c.id"),
        ),
        CaseQuery::DueBetween { from, until } => over_cases(
            "c.is_open = 1 AND c.due_key >= $1 AND c.due_key < $2",
            vec![Bind::Int(ms(*from)), Bind::Int(ms(*until))],
            ("c.due_key", "c.id"),
        ),
        CaseQuery::KeySuggestions => over_cases("c.is_key = 1", vec![], ("c.filed_at", "c.id")),
        CaseQuery::Party(list) => {
            // A deputy's or department's list covers two parties; the others one, given twice.
            let (member, parties) = party_list(list);
            over_parties(
                "p.member = $1 AND p.party IN ($2, $3)",
                vec![
                    Bind::Text(member.to_string()),
                    Bind::Text(parties[0].into()),
                    Bind::Text(parties[1].into()),
                ],
                ("p.filed_at", "p.case_id"),
            )
        }
        CaseQuery::Awaiting { members } => {
            // Three members at most (a login, an organisation, a role); fewer repeat the first.
            let m = |i: usize| {
                Bind::Text(
                    members
                        .get(i)
                        .or(members.first())
                        .cloned()
                        .unwrap_or_default(),
                )
            };
            over_parties(
                "p.party = 'awaiting' AND p.member IN ($1, $2, $3) AND p.is_open = 1",
                vec![m(0), m(1), m(2)],
                ("p.due_key", "p.case_id"),
            )
        }
        CaseQuery::ByKind {
            kind,
            year,
            state: None,
        } => over_cases(
            "c.kind = $1 AND c.year = $2",
            vec![Bind::Text(kind.clone()), Bind::Int(i64::from(*year))],
            ("c.filed_at", "c.id"),
        ),
        CaseQuery::ByKind {
            kind,
            year,
            state: Some(state),
        } => over_cases(
            "c.kind = $1 AND c.year = $2 AND c.state = $3",
            vec![
                Bind::Text(kind.clone()),
                Bind::Int(i64::from(*year)),
                Bind::Text(state.clone()),
            ],
            ("c.filed_at", "c.id"),
        ),
        CaseQuery::All => over_cases("1 = 1", vec![], ("c.filed_at", "c.id")),
    }
}

/// A list's rows after the selection and the filters: `FROM … WHERE …` with its binds, and the
/// sort columns the order asks for. Only static fragments are joined; every value is a bind.
pub(crate) fn filtered(
    backend: Backend,
    q: &CaseQuery,
    filter: &ListFilter,
    order: Order,
) -> (String, Vec<Bind>, (&'static str, &'static str), bool) {
    let Selection {
        from_where: mut text,
        mut binds,
        sort,
        ..
    } = selection(q);
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
    if filter.repeat {
        text.push_str(&format!(" AND {}", super::repeats::condition()));
    }
    for list in &filter.member_of {
        let (member, parties) = party_list(list);
        let m = next(&mut binds, Bind::Text(member.to_string()));
        let a = next(&mut binds, Bind::Text(parties[0].into()));
        let b = next(&mut binds, Bind::Text(parties[1].into()));
        text.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM case_parties q WHERE q.case_id = c.id AND q.member = ${m} AND q.party IN (${a}, ${b}))"
        ));
    }
    if !filter.search.is_empty() {
        let (condition, search_binds) = backend.search(sort.1, &filter.search, binds.len() + 1);
        binds.extend(search_binds);
        text.push_str(&format!(" AND {condition}"));
    }
    let (sort, descending) = match order {
        Order::Natural => (sort, false),
        Order::Newest => (("c.filed_at", "c.id"), true),
        Order::Oldest => (("c.filed_at", "c.id"), false),
        Order::Deadline => (("c.due_key", "c.id"), false),
    };
    (text, binds, sort, descending)
}

/// The whole list statement: the filtered rows, the keyset condition and the limit, one more
/// than the page so that the page knows whether another follows. A page before a cursor is
/// read in the opposite order and turned round by the caller.
pub(crate) fn list_sql(
    backend: Backend,
    q: &CaseQuery,
    filter: &ListFilter,
    page: &Page,
) -> (String, Vec<Bind>) {
    let (mut from_where, mut binds, (a, b), descending) = filtered(backend, q, filter, page.order);
    let (cursor, backward) = match (&page.after, &page.before) {
        (Some(c), _) => (Some(c), false),
        (None, Some(c)) => (Some(c), true),
        (None, None) => (None, false),
    };
    // Reading backward is reading the opposite order.
    let descending = descending != backward;
    let (cmp, dir) = if descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if matches!(q, CaseQuery::All) && searched(filter) && page.order != Order::Deadline {
        (from_where, binds) = filed_search(backend, filter, cursor, (cmp, dir), page.limit);
    }
    let mut text = format!("SELECT {SUMMARY_COLUMNS}, {a} AS sort_key {from_where}");
    keyset_page(
        &mut text,
        &mut binds,
        (a, b),
        cursor,
        (cmp, dir),
        page.limit,
    );
    (text, binds)
}

/// Appends to `text` a page of `limit` rows (and one more, to tell whether another follows)
/// ordered by the columns `(a, b)` in `dir`, after `cursor` by `cmp` if there is one.
fn keyset_page(
    text: &mut String,
    binds: &mut Vec<Bind>,
    (a, b): (&str, &str),
    cursor: Option<&Cursor>,
    (cmp, dir): (&str, &str),
    limit: u32,
) {
    keyset_after(text, binds, (a, b), cursor, cmp);
    binds.push(Bind::Int(i64::from(limit) + 1));
    let l = binds.len();
    text.push_str(&format!(" ORDER BY {a} {dir}, {b} {dir} LIMIT ${l}"));
}

/// Appends to `text` the condition that the columns `(a, b)` come after `cursor` by `cmp`, if
/// there is one.
pub(crate) fn keyset_after(
    text: &mut String,
    binds: &mut Vec<Bind>,
    (a, b): (&str, &str),
    cursor: Option<&Cursor>,
    cmp: &str,
) {
    if let Some(c) = cursor {
        binds.push(Bind::Int(c.key));
        let k = binds.len();
        binds.push(Bind::Text(c.id.clone()));
        let i = binds.len();
        text.push_str(&format!(" AND ({a}, {b}) {cmp} (${k}, ${i})"));
    }
}

/// A search over every case, narrowed by nothing else, in the order of filing: `FROM … WHERE …`
/// and its binds. The page is chosen among the search's own rows, which keep each case's
/// filing time, so only its cases are read. Reading every case the words find to sort them
/// (a thousand, for two common characters) took 30 to 110 ms at 1,000,000 cases on
/// PostgreSQL; this takes 8 to 11. The caller adds the same keyset and order again outside.
fn filed_search(
    backend: Backend,
    filter: &ListFilter,
    cursor: Option<&Cursor>,
    order: (&str, &str),
    limit: u32,
) -> (String, Vec<Bind>) {
    let (matching, mut binds) = backend.search_rows(&filter.search, 1);
    let mut found = format!("SELECT case_id FROM case_search WHERE {matching}");
    if let Some(window) = filing_window(backend, &filter.search, cursor, order, limit, &mut binds) {
        found.push_str(&window);
    }
    keyset_page(
        &mut found,
        &mut binds,
        ("filed_at", "case_id"),
        cursor,
        order,
        limit,
    );
    let among = backend.among_found("c.id", &found);
    (format!("FROM cases c WHERE {among}"), binds)
}

/// How many rows the list holds in all.
pub(crate) fn count_sql(
    backend: Backend,
    q: &CaseQuery,
    filter: &ListFilter,
) -> (String, Vec<Bind>) {
    // A search over every case, with nothing else to narrow it, is counted in the search
    // index alone: each of its rows is one case. Looking up each case found would cost a
    // millisecond per thousand.
    if matches!(q, CaseQuery::All) && searched(filter) {
        let (matching, binds) = backend.search_rows(&filter.search, 1);
        return (
            format!("SELECT count(*) FROM case_search WHERE {matching}"),
            binds,
        );
    }
    // A case waits on a person at most once, however many of their names (login, role) it
    // waits on: the page shows it once, and the total counts it once.
    let what = match q {
        CaseQuery::Awaiting { .. } => "DISTINCT p.case_id",
        _ => "*",
    };
    // A list over a party's rows, narrowed by nothing of the case's but words (or by nothing
    // at all), is counted from those rows alone.
    if only_words(filter)
        && let s = selection(q)
        && let Some(parties) = s.parties_where
    {
        let mut binds = s.binds;
        let mut text = format!("SELECT count({what}) FROM case_parties p WHERE {parties}");
        if !filter.search.is_empty() {
            let (words, word_binds) = backend.search(s.sort.1, &filter.search, binds.len() + 1);
            text.push_str(&format!(" AND {words}"));
            binds.extend(word_binds);
        }
        return (text, binds);
    }
    let (from_where, binds, _, _) = filtered(backend, q, filter, Order::Natural);
    (format!("SELECT count({what}) {from_where}"), binds)
}

/// Whether `filter` narrows a list by nothing but words, if by anything.
fn only_words(filter: &ListFilter) -> bool {
    *filter
        == ListFilter {
            search: filter.search.clone(),
            ..ListFilter::default()
        }
}

/// Whether `filter` narrows a list by words and nothing else.
fn searched(filter: &ListFilter) -> bool {
    !filter.search.is_empty() && only_words(filter)
}

/// The member and the two parties a party list covers (one party, given twice).
fn party_list(list: &PartyList) -> (&str, [&'static str; 2]) {
    match list {
        PartyList::Deputy(m) => (m, party::DEPUTY),
        PartyList::Department(m) => (m, party::DEPARTMENTS),
        PartyList::Station(m) => (m, [party::STATION; 2]),
        PartyList::Mediator(m) => (m, [party::MEDIATORS; 2]),
        PartyList::Court(m) => (m, [party::COURT; 2]),
    }
}

pub(crate) fn summary(row: &AnyRow) -> Result<(CaseSummary, i64)> {
    let due_key: i64 = row.try_get("due_key")?;
    Ok((
        CaseSummary {
            id: row.try_get("id")?,
            number: row.try_get("number")?,
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
            awaiting: Vec::new(),
        },
        row.try_get("sort_key")?,
    ))
}

impl SqlStore {
    /// Fills in whose move each listed case is, in one read for the page.
    async fn holders(&self, page: &mut [(CaseSummary, i64)]) -> Result<()> {
        if page.is_empty() {
            return Ok(());
        }
        let list = (0..page.len())
            .map(|i| format!("${}", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "SELECT case_id, member FROM case_parties WHERE case_id IN ({list}) AND party = 'awaiting' \
             ORDER BY case_id, member"
        )));
        for (s, _) in page.iter() {
            q = q.bind(s.id.clone());
        }
        let rows = q.fetch_all(&self.pool).await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            if let Some((s, _)) = page.iter_mut().find(|(s, _)| s.id == id) {
                s.awaiting.push(r.try_get("member")?);
            }
        }
        Ok(())
    }
}

impl Lists for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn list_filtered(
        &self,
        query: &CaseQuery,
        filter: &ListFilter,
        page: &Page,
    ) -> Result<Listing> {
        // The total is counted on another connection while the page is read: a search's count
        // costs as much as its page, and nobody should wait for both in turn.
        let counted = async {
            let (count, count_binds) = count_sql(self.backend, query, filter);
            let total: i64 = bind_all(sqlx::query(AssertSqlSafe(count)), &count_binds)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
            Ok::<_, crate::Error>(total)
        };
        let (sql, binds) = list_sql(self.backend, query, filter, page);
        let read = async {
            let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), &binds)
                .fetch_all(&self.pool)
                .await?;
            let mut found = Vec::with_capacity(rows.len());
            for r in &rows {
                found.push(summary(r)?);
            }
            let backward = page.after.is_none() && page.before.is_some();
            let more = found.len() > page.limit as usize;
            found.truncate(page.limit as usize);
            if backward {
                found.reverse();
            }
            // A case that waits on a person twice (as a login and by their role) is listed once.
            let mut seen = std::collections::BTreeSet::new();
            found.retain(|(s, _)| seen.insert(s.id.clone()));
            let cursor = |(s, k): &(CaseSummary, i64)| Cursor {
                key: *k,
                id: s.id.clone(),
            };
            // Forward, a page after a cursor has one before it; backward, one after it.
            let (next, prev) = if backward {
                (
                    found.last().map(cursor),
                    found.first().filter(|_| more).map(cursor),
                )
            } else {
                (
                    found.last().filter(|_| more).map(cursor),
                    found.first().filter(|_| page.after.is_some()).map(cursor),
                )
            };
            self.holders(&mut found).await?;
            Ok::<_, crate::Error>((found, next, prev))
        };
        let (total, (found, next, prev)) = tokio::try_join!(counted, read)?;
        Ok(Listing {
            items: found.into_iter().map(|(s, _)| s).collect(),
            next,
            prev,
            total: total as u64,
        })
    }

    async fn explain(&self, plan: &Plan) -> Result<String> {
        let (sql, binds) = match plan {
            Plan::List(query) => list_sql(
                self.backend,
                query,
                &ListFilter::default(),
                &Page::first(50),
            ),
            Plan::Search { terms, order } => list_sql(
                self.backend,
                &CaseQuery::All,
                &ListFilter {
                    search: terms.clone(),
                    ..ListFilter::default()
                },
                &Page {
                    order: *order,
                    ..Page::first(50)
                },
            ),
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
