//! Differences between SQLite and PostgreSQL that the SQL itself cannot hide: which database
//! a URL names, how the placeholders of a multi-row insert are written, and how an append-only
//! trigger is lifted for the one transaction allowed to rewrite history. (The writer and
//! `BEGIN IMMEDIATE` are in `tx.rs`, the pools in `connect.rs`, the migrations' advisory lock
//! in `schema.rs`, EXPLAIN in `lists.rs`, an action's write strategy in `cases.rs`.)

use super::*;
use crate::batch::numbered;
use crate::{Error, Result};

/// Which database a store talks to, from its URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::Url("expected sqlite:… or postgres://…".into()))
        }
    }
}

/// The file an `sqlite:` URL names, unless it is an in-memory database.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let memory =
        path.is_empty() || path == ":memory:" || query.split('&').any(|q| q == "mode=memory");
    (!memory).then(|| std::path::PathBuf::from(path))
}

/// `(…), (…)`: one parenthesised list of placeholders per row, for `VALUES`, numbered from
/// `first` on PostgreSQL.
pub(crate) fn placeholders(backend: Backend, first: usize, rows: &[Vec<Val>]) -> String {
    match backend {
        // SQLite looks a numbered parameter up by walking a list of every parameter name,
        // when parsing and again when sqlx binds each value: quadratic in the values of a
        // statement (a tenth of an import's time). Plain `?` are numbered by position and
        // looked up by none.
        Backend::Sqlite => rows
            .iter()
            .map(|row| format!("({})", vec!["?"; row.len()].join(", ")))
            .collect::<Vec<_>>()
            .join(", "),
        Backend::Postgres => numbered(first, rows),
    }
}

/// What an append-only trigger refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rewrite {
    Update,
    Delete,
}

/// Lifts the append-only trigger that refuses `what` on `table`, for the rest of `tx`, and
/// returns the statement that puts it back. PostgreSQL disables its one trigger for UPDATE and
/// DELETE; SQLite cannot disable a trigger, so it is dropped and re-created from its own text
/// in the schema, which is never typed out again here.
pub(crate) async fn lift_append_only(
    tx: &mut WriteTx,
    table: &str,
    what: Rewrite,
) -> Result<String> {
    match tx.backend() {
        Backend::Postgres => {
            let trigger = format!("{table}_no_update");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "ALTER TABLE {table} DISABLE TRIGGER {trigger}"
            )))
            .execute(&mut **tx)
            .await?;
            Ok(format!("ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
        }
        Backend::Sqlite => {
            let trigger = match what {
                Rewrite::Update => format!("{table}_no_update"),
                Rewrite::Delete => format!("{table}_no_delete"),
            };
            let text: String = sqlx::query_scalar(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = $1",
            )
            .bind(trigger.clone())
            .fetch_one(&mut **tx)
            .await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TRIGGER {trigger}")))
                .execute(&mut **tx)
                .await?;
            Ok(text)
        }
    }
}

/// Puts back what [`lift_append_only`] lifted.
pub(crate) async fn restore_append_only(tx: &mut WriteTx, restore: String) -> Result<()> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(restore))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// While on, SQLite zeroes the space it frees in `tx` (deleted or shrunk rows), so rewritten
/// text does not linger in the file; PostgreSQL has no such setting (see [`compact`]).
pub(crate) async fn zero_freed_space(tx: &mut WriteTx, on: bool) -> Result<()> {
    if tx.backend() == Backend::Sqlite {
        let sql = if on {
            "PRAGMA secure_delete = ON"
        } else {
            "PRAGMA secure_delete = OFF"
        };
        sqlx::raw_sql(sql).execute(&mut **tx).await?;
    }
    Ok(())
}

/// After a committed rewrite of `table`: what removes the old text from disk. SQLite's log
/// frames go with a truncating checkpoint; PostgreSQL's old row versions when the table is
/// rewritten.
pub(crate) fn compact(backend: Backend, table: &str) -> String {
    match backend {
        Backend::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)".into(),
        Backend::Postgres => format!("VACUUM FULL {table}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_positional_on_sqlite_and_numbered_on_postgres() {
        let rows = vec![
            vec![Val::Int(1), Val::Int(2)],
            vec![Val::Int(3), Val::Int(4)],
        ];
        assert_eq!(placeholders(Backend::Sqlite, 3, &rows), "(?, ?), (?, ?)");
        assert_eq!(
            placeholders(Backend::Postgres, 3, &rows),
            "($3, $4), ($5, $6)"
        );
    }

    #[test]
    fn the_backend_comes_from_the_url_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://duban.db?mode=rwc").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("postgres://postgres@127.0.0.1/test").ok(),
            Some(Backend::Postgres)
        );
        assert!(Backend::from_url("mysql://x").is_err());
    }
}
