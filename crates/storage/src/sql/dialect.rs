//! Every difference between SQLite and PostgreSQL that the SQL itself cannot hide, in one
//! place: [`Backend`] is the one value whose methods answer "what differs here". Code elsewhere
//! asks it and never names a database (`tests/it/tidy.rs` checks that). The schema's own
//! differences (types, triggers) are in `migrations/sqlite` and `migrations/postgres`.

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use super::*;
use crate::migrate::Migration;
use crate::{Error, Result};

/// Which database a store talks to, from its URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How an action's statements go to the database (`SqlStore::record`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActionWrite {
    /// The UPDATE under its version, the event, the parties and the reminders in one
    /// statement, which is its own transaction: each statement is a round trip and a wake-up
    /// on both sides.
    OneStatement,
    /// The UPDATE first and alone, answering with its count; the rest only if it held.
    UpdateThenRest,
    /// Every statement as one script on the writing connection's thread.
    Script,
    /// Every statement as one script, sent whole to the writer of this process, which runs
    /// it among the writes sent beside it (`Group::write`); without such a writer, as
    /// `Script` in a transaction of its own.
    Sent,
}

/// How a database is copied whole while it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnlineCopy {
    /// `VACUUM INTO` a file, which a restore copies back.
    VacuumInto,
    /// The database's own tools, run as programs.
    Tools {
        dump: &'static str,
        restore: &'static str,
    },
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

    /// The database as a person reads it, with the settings that matter to a benchmark.
    pub fn title(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite (WAL, synchronous = FULL)",
            Backend::Postgres => "PostgreSQL",
        }
    }

    /// How `duban backup` and `duban restore` copy the database.
    pub fn online_copy(self) -> OnlineCopy {
        match self {
            Backend::Sqlite => OnlineCopy::VacuumInto,
            Backend::Postgres => OnlineCopy::Tools {
                dump: "pg_dump",
                restore: "pg_restore",
            },
        }
    }

    /// Opens the pools: the readers', and the way writers get in ([`Writers`]), chosen here
    /// once for the store's life.
    pub(crate) async fn connect_pools(
        self,
        url: &str,
        max_connections: u32,
    ) -> Result<(AnyPool, Writers)> {
        let options = |n: u32| {
            self.pool_options(
                AnyPoolOptions::new()
                    .max_connections(n.max(1))
                    .acquire_timeout(std::time::Duration::from_secs(10)),
            )
        };
        Ok(match self {
            Backend::Sqlite => {
                let readers = options(max_connections.min(ONE_WRITER_READERS))
                    .connect(url)
                    .await?;
                let group =
                    super::group::Group::new(options(1).connect(url).await?, "BEGIN IMMEDIATE");
                super::checkpoint::spawn(readers.clone(), std::sync::Arc::downgrade(&group));
                (readers, Writers::OneAtATime(group))
            }
            Backend::Postgres => (options(max_connections).connect(url).await?, Writers::Pool),
        })
    }

    /// Whether this process's writes share their commits (SQLite's group commit, `group.rs`):
    /// then the engine can pass the disk's commit limit, and `duban bench` measures it
    /// against that. PostgreSQL's server shares WAL flushes itself; there the bench measures
    /// against the raw-SQL baseline of the same transaction.
    pub fn groups_commits(self) -> bool {
        self == Backend::Sqlite
    }

    /// How an action's statements go: `simple` if it only moves the case, appends its event,
    /// sets parties and schedules reminders (no personal data, nothing cancelled); `held`
    /// if they go in a write transaction the caller holds (an import's batch).
    pub(crate) fn action_write(self, simple: bool, held: bool) -> ActionWrite {
        match self {
            // A cancellation (a duty done, a deadline extended) may touch a row the same
            // action schedules again, which one statement cannot do twice.
            Backend::Postgres if simple && !held => ActionWrite::OneStatement,
            Backend::Postgres => ActionWrite::UpdateThenRest,
            Backend::Sqlite if held => ActionWrite::Script,
            Backend::Sqlite => ActionWrite::Sent,
        }
    }

    /// Whether several statements go as one script (`batch::run`). sqlx runs every statement
    /// of a query string on SQLite, binding each `$N` to the query's N-th value: one
    /// hand-off to the connection's thread instead of one per statement. PostgreSQL's
    /// extended protocol takes one statement a query.
    pub(crate) fn runs_scripts(self) -> bool {
        self == Backend::Sqlite
    }

    /// The pool's options for this database.
    pub(crate) fn pool_options(self, options: AnyPoolOptions) -> AnyPoolOptions {
        match self {
            Backend::Sqlite => sqlite_options(options),
            Backend::Postgres => postgres_options(options),
        }
    }

    /// A migration's text for this database.
    pub fn migration_sql(self, m: &Migration) -> &'static str {
        match self {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        }
    }

    /// What makes one transaction at a time take a turn across processes, by `key`: several
    /// processes starting at once (one migrates, the others wait and find it done), or audit
    /// appends (each links to the one committed before it). SQLite's writers already take
    /// turns: its `BEGIN IMMEDIATE` takes the one write lock.
    pub(crate) fn turn_across_processes(self, key: i64) -> Option<String> {
        match self {
            Backend::Postgres => Some(format!("SELECT pg_advisory_xact_lock({key})")),
            Backend::Sqlite => None,
        }
    }

    /// What a claim's SELECT ends with so that processes claiming at once take different
    /// rows (SQLite's one writer needs nothing).
    pub(crate) fn skip_locked(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }

    /// The `n`-th bound value of a statement whose other values are written with
    /// [`Backend::placeholders`]: numbered on PostgreSQL, positional on SQLite.
    pub(crate) fn param(self, n: usize) -> String {
        match self {
            Backend::Postgres => format!("${n}"),
            Backend::Sqlite => "?".into(),
        }
    }

    /// `n` placeholders separated by commas, for `IN (…)`, numbered from `first` on
    /// PostgreSQL. Callers send at most [`IN_LIST`] at a time.
    pub(crate) fn list(self, first: usize, n: usize) -> String {
        (first..first + n)
            .map(|i| self.param(i))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `(…), (…)`: one parenthesised list of placeholders per row, for `VALUES`, numbered
    /// from `first` on PostgreSQL.
    pub(crate) fn placeholders(self, first: usize, rows: &[Vec<Val>]) -> String {
        match self {
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

    /// What settles a database after a bulk load, as a running one is settled by its upkeep:
    /// fresh statistics for the planner, and on PostgreSQL the visibility map that autovacuum
    /// keeps, without which a count over an index still visits every row it counts.
    #[cfg(feature = "bench")]
    pub(crate) fn after_bulk_load(self) -> &'static str {
        match self {
            Backend::Postgres => "VACUUM (ANALYZE)",
            Backend::Sqlite => "ANALYZE",
        }
    }

    /// What is put before a query to see its plan, and the column of the answer that holds
    /// each line of it.
    pub(crate) fn explain(self) -> (&'static str, usize) {
        match self {
            Backend::Sqlite => ("EXPLAIN QUERY PLAN ", 3),
            Backend::Postgres => ("EXPLAIN ", 0),
        }
    }

    /// The condition that a list's case (`c.id`) holds every one of `terms` (each two
    /// characters or more) in its number, title or body, with the values it binds from `$first`
    /// on. SQLite asks its FTS5 trigram table in one MATCH; PostgreSQL asks pg_trgm's GIN
    /// indexes with LIKE. A term of two characters looks in the pairs (`|道路|`), which hold the
    /// trigrams `|道路` and `道路|`; longer terms look in the text itself.
    ///
    /// `id` is the column naming the list's case. In a person's list (`p.case_id`) the person's
    /// rows, found by the member index, should drive and the search narrow them: SQLite's
    /// planner takes a full-text match as always cheap and would look up every case the words
    /// find (a thousand, for two common characters) before keeping the person's few, so there
    /// the condition is made unindexable with a unary `+`. PostgreSQL given the ids found as
    /// an array probed the person's rows by case for each of them (a thousand probes at
    /// 1,000,000 cases: 10 ms with the pages in its cache, 27 ms without); as a semi-join it
    /// hashes the person's rows, read from the member index alone, and matches the words'
    /// rows against them (3.5 and 22 ms: what is left is reading the words' rows).
    pub(crate) fn search(self, id: &str, terms: &[String], first: usize) -> (String, Vec<Bind>) {
        let (matching, binds) = self.search_rows(terms, first);
        let found = format!("SELECT case_id FROM case_search WHERE {matching}");
        (self.among_found(id, &found), binds)
    }

    /// The condition that `id` is among the cases `found` (a query of `case_id`s from
    /// `case_search`) names, as [`Backend::search`] explains.
    pub(crate) fn among_found(self, id: &str, found: &str) -> String {
        let persons = id != "c.id";
        match (self, persons) {
            (Backend::Sqlite, true) => format!("+{id} IN ({found})"),
            (Backend::Sqlite, false) | (Backend::Postgres, true) => format!("{id} IN ({found})"),
            // Over every case, PostgreSQL cannot estimate how many rows a trigram LIKE finds,
            // and took a rare word for a common one: it walked every case newest first,
            // probing each (180 ms at 100,000 cases). The ids found, gathered once, drive.
            (Backend::Postgres, false) => format!("{id} = ANY (ARRAY({found}))"),
        }
    }

    /// The condition on `case_search`'s rows that [`Backend::search`] asks for: alone, it
    /// counts a search over every case without touching the cases.
    pub(crate) fn search_rows(self, terms: &[String], first: usize) -> (String, Vec<Bind>) {
        let terms: Vec<String> = terms.iter().map(|t| t.to_lowercase()).collect();
        let two = |t: &str| t.chars().count() == 2;
        match self {
            Backend::Sqlite => {
                let expr = terms
                    .iter()
                    .map(|t| {
                        let quoted = t.replace('"', "\"\"");
                        if two(t) {
                            format!("pairs : \"|{quoted}|\"")
                        } else {
                            format!("doc : \"{quoted}\"")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" AND ");
                (
                    format!("case_search MATCH ${first}"),
                    vec![Bind::Text(expr)],
                )
            }
            Backend::Postgres => {
                let escape = |t: &str| {
                    t.replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                };
                let mut conditions = Vec::new();
                let mut binds = Vec::new();
                for (i, t) in terms.iter().enumerate() {
                    let n = first + i;
                    if two(t) {
                        conditions.push(format!("pairs LIKE ${n}"));
                        binds.push(Bind::Text(format!("%|{}|%", escape(t))));
                    } else {
                        conditions.push(format!("doc LIKE ${n}"));
                        binds.push(Bind::Text(format!("%{}%", escape(t))));
                    }
                }
                (conditions.join(" AND "), binds)
            }
        }
    }

    /// Whether `case_search`'s rowids run in the order of filing, so that a search finds where
    /// its page lies among the rows the words match without reading each one
    /// ([`filing_window`]). SQLite's full-text index hands out its matches in rowid order,
    /// from either end, reading only its own lists; PostgreSQL's trigram index hands out an
    /// unordered bitmap, and each row it finds must be read to be checked anyway.
    pub(crate) fn search_rowids_in_filing_order(self) -> bool {
        self == Backend::Sqlite
    }

    /// The statement that adds `case_search` rows, whose `values` are lists of
    /// `(case_id, doc, pairs, filed_at)`.
    pub(crate) fn search_insert(self, values: &str) -> String {
        match self {
            Backend::Postgres => {
                format!("INSERT INTO case_search (case_id, doc, pairs, filed_at) VALUES {values}")
            }
            // Through a view whose trigger gives each row the next rowid of the second it was
            // filed in ([`ROWIDS_PER_SECOND`]), counted in `case_search_seconds`
            // (`migrations/sqlite/0026`). A rowid left to the table would be the last one plus
            // one: a case imported with an old filing time would sort among today's. (Finding
            // the second's last rowid in the table instead is a range the planner scanned
            // whole when its statistics were older than the rows.)
            Backend::Sqlite => format!(
                "INSERT INTO case_search_new (case_id, doc, pairs, filed_at) VALUES {values}"
            ),
        }
    }

    /// A query whose rows are the numbers `from..=to`, as column `n` (for filling a database
    /// fast, in benchmarks and tests).
    pub fn series(self, from: i64, to: i64) -> String {
        match self {
            Backend::Postgres => {
                format!("SELECT g AS n FROM generate_series({from}::bigint, {to}::bigint) AS g")
            }
            Backend::Sqlite => format!(
                "WITH RECURSIVE s(n) AS (SELECT {from} UNION ALL SELECT n + 1 FROM s WHERE n < {to}) SELECT n FROM s"
            ),
        }
    }
}

/// `(…), (…)`: one parenthesised list of numbered placeholders per row, for `VALUES`, from
/// `$first` on.
/// The most values an `IN (…)` list carries in one statement: far below either database's
/// limit on bound values, and a batch of the scheduler's in one.
pub(crate) const IN_LIST: usize = 1_000;

pub(crate) fn numbered(first: usize, rows: &[Vec<Val>]) -> String {
    let mut sql = String::new();
    let mut n = first;
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..row.len() {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${n}"));
            n += 1;
        }
        sql.push(')');
    }
    sql
}

/// How writers get in: the way chosen by `Backend::connect_pools`.
#[derive(Debug, Clone)]
pub(crate) enum Writers {
    /// SQLite lets one writer in at a time; others would sleep in its busy handler (1 ms, 2,
    /// 5 … up to 100 ms a try), which makes the slowest answers hundreds of milliseconds under
    /// load. So writers of this process queue for one connection of their own, in order, and
    /// wake at once; no other writer ever invalidates its page cache. The writers queued
    /// together share one transaction and its commit (`group.rs`): each commit waits for the
    /// disk, and sharing it is how the engine passes the disk's commit rate. `BEGIN IMMEDIATE`
    /// takes the database's write lock at the start, so a writer of another process waits on
    /// the busy timeout instead of failing when it upgrades a read lock.
    OneAtATime(std::sync::Arc<super::group::Group>),
    /// PostgreSQL's writers run side by side, each on a connection of the readers' pool; its
    /// WAL flush already shares a commit among the backends committing at once.
    Pool,
}

impl Writers {
    /// SQLite's group of writers, where writes share commits.
    pub(crate) fn group(&self) -> Option<&std::sync::Arc<super::group::Group>> {
        match self {
            Writers::OneAtATime(group) => Some(group),
            Writers::Pool => None,
        }
    }

    /// Begins a write: a member of SQLite's group, or a transaction of the pool's.
    pub(crate) async fn begin(&self, readers: &AnyPool) -> Result<Writing> {
        Ok(match self {
            Writers::OneAtATime(group) => Writing::Grouped(group.join().await?),
            Writers::Pool => Writing::Alone(readers.begin().await?),
        })
    }

    /// Closes the writers' own connections, if they have any.
    pub(crate) async fn close(&self) {
        if let Some(group) = self.group() {
            group.close().await;
        }
    }
}

/// Reading connections beside SQLite's one writer, whatever more was asked for: every
/// connection is a thread of sqlx's and a memory map of its own, remapped as the file grows;
/// more of them than cores only switch between each other (measured: with 68, an action cost
/// half again as much).
const ONE_WRITER_READERS: u32 = 2;

/// A PostgreSQL connection idle this long is pinged before use (`postgres_options`).
const PING_IF_IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// A ping before every use of a connection is a round trip of its own: as many as an
/// action's statements. Only a connection idle for a second or more is pinged (a server
/// restart, which takes longer, or a firewall's idle timeout drops those), so a busy pool
/// sends none. A connection in use while the server restarts fails its next request once
/// and is dropped from the pool.
fn postgres_options(options: AnyPoolOptions) -> AnyPoolOptions {
    options
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IF_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// An embedded database's connections cannot drop, so no ping before each use (it is a round
/// trip to the connection's thread). WAL with `synchronous = FULL`: an acknowledged action
/// survives a power cut. Reads go through a memory map (shared by every connection, paged by
/// the OS) rather than a read call per page. Savepoint journals stay in memory: group commit
/// nests one savepoint per write in the shared transaction, and SQLite copies each page a
/// member first changes into that journal, which otherwise spills to a temporary file past
/// 64 KiB (a write and a read back for every page: half again the engine's rate at 16 workers).
///
/// New databases get 2 KiB pages, not SQLite's 4 KiB: a commit writes whole pages to the log
/// and its time grows with their bytes (docs/performance.md, "seventh round"). A WAL database
/// keeps the size it was made with; `VACUUM INTO` writes the size asked for here, so `duban
/// backup` converts an older one.
///
/// `wal_autocheckpoint` is ten times SQLite's default: checkpoints are run beside the writer
/// (`checkpoint.rs`), and the writer copies the log back itself only should they fall behind.
fn sqlite_options(options: AnyPoolOptions) -> AnyPoolOptions {
    options.test_before_acquire(false).after_connect(|conn, _| {
        Box::pin(async move {
            sqlx::raw_sql(
                "PRAGMA page_size = 2048; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                 PRAGMA mmap_size = 268435456; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 10000;",
            )
            .execute(conn)
            .await?;
            Ok(())
        })
    })
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
        assert_eq!(Backend::Sqlite.placeholders(3, &rows), "(?, ?), (?, ?)");
        assert_eq!(
            Backend::Postgres.placeholders(3, &rows),
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
