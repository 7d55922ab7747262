//! Values on their way to and from SQL: instants as milliseconds, JSON columns, and the bind
//! values of built statements and multi-row inserts.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe};

use super::*;
use crate::{Error, Result};

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub(crate) fn from_ms(v: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(v).map_err(|e| Error::Corrupt(format!("instant {v}: {e}")))
}

pub(crate) fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Corrupt(e.to_string()))
}

pub(crate) fn parse<T: for<'de> Deserialize<'de>>(s: &str, what: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::Corrupt(format!("{what}: {e}")))
}

/// A bind value for the list queries, which are built from a static SQL text and a list.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Int(i64),
    Text(String),
}

pub(crate) fn bind_all<'q>(
    mut q: Query<'q, Any, AnyArguments>,
    binds: &[Bind],
) -> Query<'q, Any, AnyArguments> {
    for b in binds {
        q = match b {
            Bind::Int(i) => q.bind(*i),
            Bind::Text(s) => q.bind(s.clone()),
        };
    }
    q
}

/// A value in a multi-row insert.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Blob(Vec<u8>),
    OptBlob(Option<Vec<u8>>),
}

impl Val {
    pub(crate) fn bind_to(self, q: Query<'_, Any, AnyArguments>) -> Query<'_, Any, AnyArguments> {
        match self {
            Val::Int(i) => q.bind(i),
            Val::OptInt(i) => q.bind(i),
            Val::Text(t) => q.bind(t),
            Val::OptText(t) => q.bind(t),
            Val::Blob(b) => q.bind(b),
            Val::OptBlob(b) => q.bind(b),
        }
    }
}

/// Inserts `rows` into `target` (`table (col, …)`) in as few statements as the databases'
/// limits on bound values allow.
pub(crate) async fn insert_rows(tx: &mut WriteTx, target: &str, rows: &[Vec<Val>]) -> Result<()> {
    insert_with(tx, rows, |values| {
        format!("INSERT INTO {target} VALUES {values}")
    })
    .await
}

/// `insert_rows`, skipping rows whose `key` (a unique column list) is already there: what a
/// retried job writes again is written once.
pub(crate) async fn insert_new_rows(
    tx: &mut WriteTx,
    target: &str,
    key: &str,
    rows: &[Vec<Val>],
) -> Result<()> {
    insert_with(tx, rows, |values| {
        format!("INSERT INTO {target} VALUES {values} ON CONFLICT ({key}) DO NOTHING")
    })
    .await
}

/// Inserts `rows`, many a statement: `statement` makes each statement's text from its
/// `VALUES` lists.
pub(crate) async fn insert_with(
    tx: &mut WriteTx,
    rows: &[Vec<Val>],
    statement: impl Fn(&str) -> String,
) -> Result<()> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(());
    };
    // About a thousand values a statement: far below SQLite's 32,766 and PostgreSQL's 65,535,
    // and measured faster than bigger statements (binding slows as a statement grows).
    let per_statement = (1_000 / width).max(1);
    for chunk in rows.chunks(per_statement) {
        let sql = statement(&tx.backend.placeholders(1, chunk));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for v in chunk.iter().flatten() {
            q = v.clone().bind_to(q);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The rows `sql` reads for `keys`, where each `{list}` in `sql` stands for the keys as an
/// `IN` list and `{p1}`, `{p2}`… for `leading`, bound first (so their marks come before the
/// lists in the text): one statement for every [`IN_LIST`] keys instead of one per key.
pub(crate) async fn fetch_in(
    store: &crate::SqlStore,
    sql: &str,
    leading: &[Val],
    keys: &[String],
) -> Result<Vec<sqlx::any::AnyRow>> {
    let lists = sql.matches("{list}").count();
    let mut rows = Vec::new();
    for chunk in keys.chunks(IN_LIST) {
        let mut text = sql.to_string();
        for i in 1..=leading.len() {
            text = text.replace(&format!("{{p{i}}}"), &store.backend().param(i));
        }
        for k in 0..lists {
            let first = 1 + leading.len() + k * chunk.len();
            text = text.replacen("{list}", &store.backend().list(first, chunk.len()), 1);
        }
        let mut q = sqlx::query(AssertSqlSafe(text));
        for v in leading {
            q = v.clone().bind_to(q);
        }
        for _ in 0..lists {
            for key in chunk {
                q = q.bind(key.clone());
            }
        }
        rows.extend(q.fetch_all(store.pool()).await?);
    }
    Ok(rows)
}
