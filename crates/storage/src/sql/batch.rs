//! The statements of one write, sent to SQLite as one script: one round trip to the writing
//! connection's thread instead of one per statement, while the write lock is held.
//!
//! sqlx runs every statement of a query string on SQLite, binding each `$N` to the query's
//! N-th value, and sends the results back as they come, without waiting for them to be read.
//! PostgreSQL takes one statement per query with values, so there the same statements go one by
//! one (an action that can, goes as a single statement instead: `record_in_one_statement`).

use futures_util::TryStreamExt;
use sqlx::{AnyConnection, AssertSqlSafe, Either};

use super::{Val, WriteTx};
use crate::Result;

/// One statement, its values numbered from `$1` in `sql`.
#[derive(Debug, Clone)]
pub(crate) struct Stmt {
    pub sql: String,
    pub binds: Vec<Val>,
}

impl Stmt {
    pub fn new(sql: impl Into<String>, binds: Vec<Val>) -> Stmt {
        Stmt {
            sql: sql.into(),
            binds,
        }
    }
}

/// `sql` with each `$N` made `$(N + by)`: its place in a script whose earlier statements bind
/// `by` values. The statements of this crate carry no `$` but their placeholders (values are
/// bound, never written into the text).
fn shifted(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// `stmts` as one script, and its values.
fn script(stmts: Vec<Stmt>) -> (String, Vec<Val>) {
    let (mut sql, mut binds) = (String::new(), Vec::new());
    for s in stmts {
        push(&mut sql, &mut binds, &s.sql, s.binds);
    }
    (sql, binds)
}

/// Adds `stmts` to a script being built, copying their values: a write run in a script
/// shared with others may have to run again in the next one (`Group`).
pub(crate) fn append(sql: &mut String, binds: &mut Vec<Val>, stmts: &[Stmt]) {
    for s in stmts {
        push(sql, binds, &s.sql, s.binds.iter().cloned());
    }
}

/// Adds one statement and its values to a script being built.
fn push(sql: &mut String, binds: &mut Vec<Val>, text: &str, values: impl IntoIterator<Item = Val>) {
    sql.push_str(&shifted(text, binds.len()));
    sql.push_str(";\n");
    binds.extend(values);
}

/// Runs `stmts` in `tx`, in order, and returns how many rows the first one changed (0 if there
/// are none). On SQLite they go as one script; if a later statement fails after the first
/// changed no rows, the first's count is returned rather than the failure, so that a caller
/// whose first statement is a version check reports the conflict (and rolls back).
pub(crate) async fn run(tx: &mut WriteTx, stmts: Vec<Stmt>) -> Result<u64> {
    if tx.backend().runs_scripts() {
        run_script(tx, stmts).await
    } else {
        run_each(tx, stmts).await
    }
}

/// `run`, one statement at a time.
async fn run_each(tx: &mut WriteTx, stmts: Vec<Stmt>) -> Result<u64> {
    let mut first = None;
    for s in stmts {
        let mut q = sqlx::query(AssertSqlSafe(s.sql));
        for v in s.binds {
            q = v.bind_to(q);
        }
        let n = q.execute(&mut **tx).await?.rows_affected();
        first.get_or_insert(n);
    }
    Ok(first.unwrap_or(0))
}

/// `run`, every statement in one script.
async fn run_script(tx: &mut WriteTx, stmts: Vec<Stmt>) -> Result<u64> {
    if stmts.is_empty() {
        return Ok(0);
    }
    let (sql, binds) = script(stmts);
    let (counts, failed) = counts(tx, sql, binds, true).await;
    let first = counts.first().copied();
    match failed {
        Some(e) if first != Some(0) => Err(e.into()),
        _ => Ok(first.unwrap_or(0)),
    }
}

/// Runs `sql` (one script) with `binds` on `conn`, and answers how many rows each statement
/// run changed, in order, and the error that stopped the script, if one did. Every answer is
/// read: the connection's thread stops a script whose answers are no longer wanted.
///
/// A `persistent` script's prepared statements are kept in the connection's cache for the
/// next script of the same text; a script whose text is unlikely to come again (several
/// writes run together) is not, so that it does not push out those that will.
pub(crate) async fn counts(
    conn: &mut AnyConnection,
    sql: String,
    binds: Vec<Val>,
    persistent: bool,
) -> (Vec<u64>, Option<sqlx::Error>) {
    let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(persistent);
    for v in binds {
        q = v.bind_to(q);
    }
    // `fetch_many` is deprecated because only SQLite runs several statements in one prepared
    // query (sqlx issue 3108); this is the path of the dialect that runs scripts, and the
    // conformance suite would fail at once if a later sqlx ran only the first statement.
    #[allow(deprecated)]
    let mut results = q.fetch_many(conn);
    let mut counts = Vec::new();
    loop {
        match results.try_next().await {
            Ok(Some(Either::Left(done))) => counts.push(done.rows_affected()),
            Ok(Some(Either::Right(_row))) => {}
            Ok(None) => return (counts, None),
            Err(e) => return (counts, Some(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_move_by_the_values_before_them() {
        assert_eq!(
            shifted("UPDATE t SET a = $1, b = $2 WHERE id = $12", 3),
            "UPDATE t SET a = $4, b = $5 WHERE id = $15"
        );
        assert_eq!(shifted("SELECT 1", 7), "SELECT 1");
        assert_eq!(shifted("SELECT '$' || $1", 1), "SELECT '$' || $2");
    }
}
