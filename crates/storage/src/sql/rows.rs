//! The rows and statements an action writes: the case's UPDATE under its version with the
//! inbox copies, the event, the parties, and the columns of `cases` that copy the projection.
//! Its reminders are `effects.rs`'s.

use std::collections::BTreeMap;

use duban_core::deadline::china_date;
use duban_core::machine::{Case, Event, OpenDuty, Paused, StateDeadline, Transition};
use duban_core::vocabulary::party;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::batch::Stmt;
use super::*;
use crate::{Meta, Result};

/// What an event set besides its payload, kept as JSON in `case_events.detail`. `at` is kept
/// here at full precision; the `at` column holds milliseconds for queries.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Detail {
    pub(crate) at: Timestamp,
    pub(crate) sets: BTreeMap<String, Vec<String>>,
    pub(crate) deadline: Option<StateDeadline>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) paused: Option<Paused>,
    pub(crate) duties: Vec<OpenDuty>,
    pub(crate) closed: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) choices: BTreeMap<String, String>,
}

/// An action's UPDATE of its case, under the version the action was decided on.
pub(crate) const UPDATE_CASE: &str = "UPDATE cases SET state = $1, version = $2, is_open = $3, is_key = $4, \
    entered_at = $5, due_key = $6, due_date = $7, supervisor = $8, projection = $9, updated_at = $10, \
    figures = $11, raters = $14 WHERE id = $12 AND version = $13";

/// PostgreSQL: the department parties' copies of the case's open flag and deadline (what the
/// inbox reads) follow the case inside the case's own statement, `WITH u AS (UPDATE_CASE
/// RETURNING 1), p AS (…)`, and only where they changed. SQLite's `cases_inbox_copy`
/// trigger does this there (migration 8); PostgreSQL's trigger cost every action a PL/pgSQL
/// call and a queued after-trigger event, a tenth of the database's time (migration 10).
/// It reads `UPDATE_CASE`'s values: $3 the open flag, $6 the deadline, $12 the case. `except`
/// narrows it further (the parties an action sets itself), or is empty.
pub(crate) fn inbox_copy_sql(except: &str) -> String {
    format!(
        "p AS (UPDATE case_parties SET is_open = $3, due_key = $6 FROM u \
         WHERE case_parties.case_id = $12 AND case_parties.party IN ('{}', '{}', '{}'){except} \
         AND (case_parties.is_open <> $3 OR case_parties.due_key <> $6))",
        party::COPIES_FOLLOW[0],
        party::COPIES_FOLLOW[1],
        party::COPIES_FOLLOW[2],
    )
}

/// PostgreSQL: the case's UPDATE with its inbox copies, as the opening of a `WITH` whose rest
/// selects from `u` (one row if the version check passed). Every PostgreSQL action's UPDATE of
/// its case goes through here or `set_parties_in_one_statement`, so the copies cannot be left
/// behind.
pub(crate) fn update_case_with_inbox_copy() -> String {
    format!(
        "WITH u AS ({UPDATE_CASE} RETURNING 1), {}",
        inbox_copy_sql("")
    )
}

/// PostgreSQL: the parties an action sets, written in the statement that updates its case
/// (`WITH u AS (UPDATE_CASE …)`), from `$first` on; returns the `WITH` items and their values.
/// Each set party's members not named again are deleted and those named are written with the
/// case's new copies (what deleting the party and inserting its members leaves). The inbox
/// copy (`p`) must then leave these parties alone: a statement may change a row only once.
/// Every item selects from `u`, so nothing is written unless the version held.
pub(crate) fn set_parties_in_one_statement(
    case_id: &str,
    sets: &BTreeMap<String, Vec<String>>,
    cols: &Columns,
    filed_at: i64,
    first: usize,
) -> (String, Vec<Val>) {
    let mut sql = String::new();
    let mut binds: Vec<Val> = Vec::new();
    let next = |binds: &mut Vec<Val>, v: Val| {
        binds.push(v);
        format!("${}", first + binds.len() - 1)
    };
    let set: Vec<String> = sets
        .keys()
        .map(|p| next(&mut binds, Val::Text(p.clone())))
        .collect();
    // The inbox copy of `UPDATE_CASE`'s values, for the parties this action does not set.
    sql.push_str(&inbox_copy_sql(&format!(
        " AND case_parties.party NOT IN ({})",
        set.join(", ")
    )));
    let case = next(&mut binds, Val::Text(case_id.to_string()));
    let (is_open, due_key) = (
        next(&mut binds, Val::Int(cols.is_open)),
        next(&mut binds, Val::Int(cols.due_key)),
    );
    let filed = next(&mut binds, Val::Int(filed_at));
    for (k, (members, party)) in sets.values().zip(&set).enumerate() {
        // Once each: an upsert may not change one row twice in a statement.
        let members: std::collections::BTreeSet<&String> = members.iter().collect();
        let named: Vec<String> = members
            .iter()
            .map(|m| next(&mut binds, Val::Text(m.to_string())))
            .collect();
        let kept = if named.is_empty() {
            String::new()
        } else {
            format!(" AND case_parties.member NOT IN ({})", named.join(", "))
        };
        sql.push_str(&format!(
            ", d{k} AS (DELETE FROM case_parties USING u WHERE case_parties.case_id = {case} \
             AND case_parties.party = {party}{kept})"
        ));
        if named.is_empty() {
            continue;
        }
        let rows: Vec<String> = named
            .iter()
            .map(|m| format!("({case}, {party}, {m}, {is_open}, {due_key}, {filed})"))
            .collect();
        sql.push_str(&format!(
            ", s{k} AS (INSERT INTO case_parties (case_id, party, member, is_open, due_key, filed_at) \
             SELECT v.* FROM u CROSS JOIN (VALUES {}) AS v \
             ON CONFLICT (case_id, party, member) DO UPDATE \
             SET is_open = excluded.is_open, due_key = excluded.due_key)",
            rows.join(", ")
        ));
    }
    (sql, binds)
}

/// `UPDATE_CASE`'s values, in order.
pub(crate) fn case_update_binds(
    case_id: &str,
    expected_version: u64,
    t: &Transition,
    cols: &Columns,
) -> Vec<Val> {
    let case = &t.case;
    vec![
        Val::Text(case.state.clone()),
        Val::Int(case.version as i64),
        Val::Int(cols.is_open),
        Val::Int(cols.is_key),
        Val::Int(ms(case.entered_at)),
        Val::Int(cols.due_key),
        Val::OptText(cols.due_date.clone()),
        Val::OptText(cols.supervisor.clone()),
        Val::Text(cols.projection.clone()),
        Val::Int(ms(t.event.at)),
        Val::Text(cols.figures.clone()),
        Val::Text(case_id.to_string()),
        Val::Int(expected_version as i64),
        Val::OptText(cols.raters.clone()),
    ]
}

/// `case_events` and its columns, in `event_row`'s order.
pub(crate) const EVENTS_TARGET: &str = "case_events (case_id, seq, action, actor, actor_role, actor_org, \
    on_behalf_of, at, from_state, to_state, payload, detail, request_id)";

/// An event's row for `case_events`, in its column order.
pub(crate) fn event_row(case_id: &str, e: &Event, meta: &Meta) -> Result<Vec<Val>> {
    let detail = Detail {
        at: e.at,
        sets: e.sets.clone(),
        deadline: e.deadline.clone(),
        paused: e.paused.clone(),
        duties: e.duties.clone(),
        closed: e.closed,
        choices: e.choices.clone(),
    };
    Ok(vec![
        Val::Text(case_id.to_string()),
        Val::Int(e.seq as i64),
        Val::Text(e.action.clone()),
        Val::Text(e.actor.user.clone()),
        Val::Text(e.actor.role.as_str().to_string()),
        Val::OptText(e.actor.org.clone()),
        Val::OptText(meta.on_behalf_of.clone()),
        Val::Int(ms(e.at)),
        Val::OptText(e.from_state.clone()),
        Val::Text(e.to_state.clone()),
        Val::Text(json(&e.payload)?),
        Val::Text(json(&detail)?),
        Val::OptText(meta.request_id.clone()),
    ])
}

/// The columns of `cases` that copy the projection, for one case.
pub(crate) struct Columns {
    pub(crate) projection: String,
    pub(crate) is_open: i64,
    pub(crate) is_key: i64,
    pub(crate) due_key: i64,
    pub(crate) due_date: Option<String>,
    pub(crate) supervisor: Option<String>,
    /// The filer's login (empty if none): the idempotency key is unique per filer.
    pub(crate) filer: String,
    /// What the case counts for in the year's figures (`Figures::key`).
    pub(crate) figures: String,
    /// The ratings deputies gave on it, as JSON; `None` if none (`cases.raters`).
    pub(crate) raters: Option<String>,
}

/// A case's open flag and deadline, as `case_parties` copies them.
pub(crate) fn inbox_copy(case: &Case) -> (i64, i64) {
    let due_key = case
        .deadline
        .as_ref()
        .map(|d| ms(d.deadline.due_at))
        .unwrap_or(NO_DEADLINE);
    (i64::from(!case.closed), due_key)
}

impl Columns {
    pub(crate) fn of(case: &Case) -> Result<Columns> {
        let first = |party: &str| case.parties.get(party).and_then(|v| v.first()).cloned();
        let supervisor = first(party::SUPERVISOR);
        let (is_open, due_key) = inbox_copy(case);
        Ok(Columns {
            projection: json(case)?,
            is_open,
            is_key: i64::from(supervisor.is_some()),
            due_key,
            due_date: case
                .deadline
                .as_ref()
                .map(|d| d.deadline.due_date.to_string()),
            supervisor,
            filer: first(party::FILER).unwrap_or_default(),
            figures: case.figures().key(),
            raters: if case.deputy_ratings.is_empty() {
                None
            } else {
                Some(json(&case.deputy_ratings)?)
            },
        })
    }
}

/// No deadline sorts last.
pub(crate) const NO_DEADLINE: i64 = i64::MAX;

/// What a case is called by: its id, its title and its number.
pub(crate) struct CaseNames<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub number: &'a str,
}

impl SqlStore {
    /// The statement appending an event.
    pub(crate) fn event_statement(case_id: &str, e: &Event, meta: &Meta) -> Result<Stmt> {
        let row = event_row(case_id, e, meta)?;
        Ok(Stmt::new(
            format!(
                "INSERT INTO {EVENTS_TARGET} VALUES {}",
                numbered(1, std::slice::from_ref(&row))
            ),
            row,
        ))
    }

    /// Inserts a case's projection row; with an idempotency key, a repeat is skipped (0 rows).
    pub(crate) async fn insert_case(
        tx: &mut WriteTx,
        names: CaseNames<'_>,
        case: &Case,
        cols: &Columns,
        idempotency: Option<&crate::Idempotency>,
        updated_at: Timestamp,
    ) -> std::result::Result<sqlx::any::AnyQueryResult, sqlx::Error> {
        let CaseNames { id, title, number } = names;
        sqlx::query(
            "INSERT INTO cases (id, kind, workflow_version, workflow_digest, title, state, version, is_open, is_key, \
             year, filed_at, entered_at, due_key, due_date, filer, supervisor, idempotency_key, request_hash, \
             projection, updated_at, figures, number, raters) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) \
             ON CONFLICT (filer, idempotency_key) DO NOTHING",
        )
        .bind(id.to_string())
        .bind(case.kind.clone())
        .bind(i64::from(case.workflow_version))
        .bind(case.workflow_digest.clone())
        .bind(title.to_string())
        .bind(case.state.clone())
        .bind(case.version as i64)
        .bind(cols.is_open)
        .bind(cols.is_key)
        .bind(i64::from(china_date(case.filed_at).year()))
        .bind(ms(case.filed_at))
        .bind(ms(case.entered_at))
        .bind(cols.due_key)
        .bind(cols.due_date.clone())
        .bind(cols.filer.clone())
        .bind(cols.supervisor.clone())
        .bind(idempotency.map(|i| i.key.clone()))
        .bind(idempotency.map(|i| i.request_hash.clone()))
        .bind(cols.projection.clone())
        .bind(ms(updated_at))
        .bind(cols.figures.clone())
        .bind(number.to_string())
        .bind(cols.raters.clone())
        .execute(&mut **tx)
        .await
    }

    /// Writes the parties an event filled, with copies of the case's open flag and deadline
    /// (kept up to date afterwards with the case: `inbox_copy_sql`).
    pub(crate) fn party_statements(
        out: &mut Vec<Stmt>,
        case_id: &str,
        sets: &BTreeMap<String, Vec<String>>,
        cols: &Columns,
        filed_at: i64,
    ) {
        for (party, members) in sets {
            out.push(Stmt::new(
                "DELETE FROM case_parties WHERE case_id = $1 AND party = $2",
                vec![Val::Text(case_id.to_string()), Val::Text(party.clone())],
            ));
            for member in members {
                out.push(Stmt::new(
                    "INSERT INTO case_parties (case_id, party, member, is_open, due_key, filed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id, party, member) DO NOTHING",
                    vec![
                        Val::Text(case_id.to_string()),
                        Val::Text(party.clone()),
                        Val::Text(member.clone()),
                        Val::Int(cols.is_open),
                        Val::Int(cols.due_key),
                        Val::Int(filed_at),
                    ],
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CaseQuery;
    use crate::sql::lists::selection;

    #[test]
    fn the_inbox_sql_names_the_department_parties_of_the_vocabulary() {
        let listed = format!(
            "party IN ('{}', '{}')",
            party::DEPARTMENTS[0],
            party::DEPARTMENTS[1]
        );
        let copied = format!(
            "party IN ('{}', '{}', '{}')",
            party::DEPARTMENTS[0],
            party::DEPARTMENTS[1],
            party::AWAITING
        );
        let inbox_copy = inbox_copy_sql("");
        assert!(inbox_copy.contains(&copied), "{inbox_copy}");
        let open = selection(&CaseQuery::DepartmentOpen {
            department: "jtj".into(),
        });
        assert!(open.from_where.contains(&listed), "{}", open.from_where);
    }
}
