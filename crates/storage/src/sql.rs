//! The SQL store: one implementation over sqlx's `Any` driver, run on SQLite or PostgreSQL.
//!
//! The two dialects differ only where they must (schema types and triggers in `migrations/`,
//! how a write transaction begins, the advisory lock around migrations, EXPLAIN's syntax, an
//! action in one statement on PostgreSQL), so one body of SQL with `$N` placeholders serves
//! both and is tested against both.

use std::collections::BTreeMap;
use std::sync::Once;

use duban_core::deadline::china_date;
use duban_core::machine::{Actor, Case, Effect, Event, OpenDuty, StateDeadline, Transition};
use duban_core::vocabulary::party;
use duban_core::{Person, Role};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, AssertSqlSafe, Row, Transaction};

use crate::batch::{self, Stmt, numbered};
use crate::crypto::Keyring;
use crate::migrate::MIGRATIONS;
use crate::{
    Access, CaseAndFiling, CaseHistory, CaseQuery, CaseRecord, CaseSummary, Cursor, Error, Filed,
    ListFilter, Listing, Meta, NewCase, Notification, Org, OrgKind, Page, PartyList,
    PersonalRecord, Plan, Result, Store, StoredEvent, StoredReminder, TokenInfo, User,
};

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

/// The store. Cloning shares the connection pool.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    keys: Option<Keyring>,
    faults: Option<std::sync::Arc<crate::Faults>>,
    /// SQLite's writer (see [`SqliteWriter`]); `None` on PostgreSQL.
    writer: Option<SqliteWriter>,
}

/// SQLite lets one writer in at a time; others would sleep in its busy handler (1 ms, 2, 5 …
/// up to 100 ms a try), which makes the slowest answers hundreds of milliseconds under load.
/// Writers of this process queue on `turn` instead, in order, and wake at once; they write
/// through one connection of their own, whose page cache no other writer ever invalidates.
#[derive(Debug, Clone)]
struct SqliteWriter {
    turn: std::sync::Arc<tokio::sync::Mutex<()>>,
    pool: AnyPool,
}

/// Reading connections for SQLite, whatever more was asked for: every connection is a thread
/// of sqlx's and a memory map of its own, remapped as the file grows; more of them than cores
/// only switch between each other (measured: with 68, an action cost half again as much).
const SQLITE_READERS: u32 = 2;

/// A write transaction, holding this process's turn to write on SQLite.
pub(crate) struct WriteTx {
    tx: Transaction<'static, Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    backend: Backend,
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

impl WriteTx {
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub(crate) async fn rollback(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

/// What an action read its case under, to be handed back when it is recorded
/// ([`Store::record_held_action`]). On SQLite it is the write transaction, holding this
/// process's turn to write, that the case was read in: the read comes from the writing
/// connection's warm page cache (a reading connection re-reads from the log every page the
/// last action changed), the action decides on the state it will write over, and the write
/// needs no second turn. On PostgreSQL it is empty: the action's UPDATE checks the version.
///
/// Dropping it rolls the transaction back and lets the next writer in. Anything else that
/// writes (an audit record of a refusal) waits for the same turn, so let go of it first.
#[derive(Default)]
pub struct Held(Option<WriteTx>);

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.0.is_some() {
            "the write turn"
        } else {
            "nothing"
        };
        f.debug_tuple("Held").field(&what).finish()
    }
}

/// What `read_to_act_on` began, kept for the action if it found a case to act on; otherwise
/// rolled back at once, so that no one waits on a read that leads to no write.
async fn hold(tx: Option<WriteTx>, found: bool) -> Result<Held> {
    match tx {
        Some(tx) if found => Ok(Held(Some(tx))),
        Some(tx) => {
            tx.rollback().await?;
            Ok(Held::default())
        }
        None => Ok(Held::default()),
    }
}

/// A case with its first event's payload, what it was filed with (`case_and_filing_from_row`).
const CASE_AND_FILING: &str = "SELECT c.id, c.title, c.projection, e.payload FROM cases c \
     LEFT JOIN case_events e ON e.case_id = c.id AND e.seq = 1 WHERE c.id = $1";

/// A PostgreSQL connection idle this long is pinged before use (`postgres_options`).
const PING_IF_IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// No deadline sorts last.
const NO_DEADLINE: i64 = i64::MAX;

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub(crate) fn from_ms(v: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(v).map_err(|e| Error::Corrupt(format!("instant {v}: {e}")))
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Corrupt(e.to_string()))
}

fn parse<T: for<'de> Deserialize<'de>>(s: &str, what: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::Corrupt(format!("{what}: {e}")))
}

/// What an event set besides its payload, kept as JSON in `case_events.detail`. `at` is kept
/// here at full precision; the `at` column holds milliseconds for queries.
#[derive(Debug, Serialize, Deserialize)]
struct Detail {
    at: Timestamp,
    sets: BTreeMap<String, Vec<String>>,
    deadline: Option<StateDeadline>,
    duties: Vec<OpenDuty>,
    closed: bool,
}

/// A bind value for the list queries, which are built from a static SQL text and a list.
#[derive(Debug, Clone)]
enum Bind {
    Int(i64),
    Text(String),
}

/// A case from a row with its `id`, `title` and `projection`.
fn record_from_row(r: &AnyRow) -> Result<CaseRecord> {
    Ok(CaseRecord {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        case: parse(&r.try_get::<String, _>("projection")?, "case projection")?,
    })
}

/// `record_from_row` with the first event's `payload` beside it, read by a LEFT JOIN (no first
/// event, no filing).
fn case_and_filing_from_row(r: &AnyRow) -> Result<CaseAndFiling> {
    let filing = match r.try_get::<Option<String>, _>("payload")? {
        Some(p) => parse(&p, "event payload")?,
        None => Map::new(),
    };
    Ok((record_from_row(r)?, filing))
}

/// A value in a multi-row insert.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Blob(Vec<u8>),
}

impl Val {
    pub(crate) fn bind_to(self, q: Query<'_, Any, AnyArguments>) -> Query<'_, Any, AnyArguments> {
        match self {
            Val::Int(i) => q.bind(i),
            Val::OptInt(i) => q.bind(i),
            Val::Text(t) => q.bind(t),
            Val::OptText(t) => q.bind(t),
            Val::Blob(b) => q.bind(b),
        }
    }
}

/// Inserts `rows` into `target` (`table (col, …)`) in as few statements as the databases'
/// limits on bound values allow.
async fn insert_rows(tx: &mut WriteTx, target: &str, rows: &[Vec<Val>]) -> Result<()> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(());
    };
    // About a thousand values a statement: far below SQLite's 32,766 and PostgreSQL's 65,535,
    // and measured faster than bigger statements (binding slows as a statement grows).
    let per_statement = (1_000 / width).max(1);
    for chunk in rows.chunks(per_statement) {
        let sql = format!(
            "INSERT INTO {target} VALUES {}",
            placeholders(tx.backend, 1, chunk)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for v in chunk.iter().flatten() {
            q = v.clone().bind_to(q);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// An action's UPDATE of its case, under the version the action was decided on.
const UPDATE_CASE: &str = "UPDATE cases SET state = $1, version = $2, is_open = $3, is_key = $4, \
    entered_at = $5, due_key = $6, due_date = $7, supervisor = $8, projection = $9, updated_at = $10, \
    figures = $11 WHERE id = $12 AND version = $13";

/// PostgreSQL: the department parties' copies of the case's open flag and deadline (what the
/// inbox reads) follow the case inside the case's own statement, `WITH u AS (UPDATE_CASE
/// RETURNING 1), INBOX_COPY …`, and only where they changed. SQLite's `cases_inbox_copy`
/// trigger does this there (migration 8); PostgreSQL's trigger cost every action a PL/pgSQL
/// call and a queued after-trigger event, a tenth of the database's time (migration 10).
const INBOX_COPY: &str = "p AS (UPDATE case_parties SET is_open = $3, due_key = $6 FROM u \
    WHERE case_parties.case_id = $12 AND case_parties.party IN ('lead_department', 'co_departments') \
    AND (case_parties.is_open <> $3 OR case_parties.due_key <> $6))";

/// PostgreSQL: the case's UPDATE with its inbox copies, as the opening of a `WITH` whose rest
/// selects from `u` (one row if the version check passed). Every PostgreSQL action's UPDATE of
/// its case goes through here, so the copies cannot be left behind. `INBOX_COPY` reads
/// `UPDATE_CASE`'s values: $3 the open flag, $6 the deadline, $12 the case.
fn update_case_with_inbox_copy() -> String {
    format!("WITH u AS ({UPDATE_CASE} RETURNING 1), {INBOX_COPY}")
}

/// `UPDATE_CASE`'s values, in order.
fn case_update_binds(
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
    ]
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

/// `reminders` and the columns `reminder_row` fills, in its order.
const REMINDERS_TARGET: &str = "reminders (case_id, reminder_key, state, duty, rule, fire_at, \
    due_date, notify, repeat_every_days, escalate, status, created_at)";

/// Scheduling is idempotent per (case, key): a cancelled reminder scheduled again (re-entering
/// a state with the same deadline) comes back to life; a pending or sent one is left alone.
const REVIVE_CANCELLED: &str = "ON CONFLICT (case_id, reminder_key) DO UPDATE \
    SET status = 'pending', fire_at = excluded.fire_at WHERE reminders.status = 'cancelled'";

/// A reminder's row for `reminders`, in `REMINDERS_TARGET`'s order.
fn reminder_row(
    case_id: &str,
    r: &duban_core::machine::Reminder,
    status: &str,
    created_at: i64,
) -> Result<Vec<Val>> {
    Ok(vec![
        Val::Text(case_id.to_string()),
        Val::Text(r.key.clone()),
        Val::Text(r.state.clone()),
        Val::Text(r.duty.clone().unwrap_or_default()),
        Val::Int(r.rule as i64),
        Val::Int(ms(r.at)),
        Val::OptText(r.due_date.map(|d| d.to_string())),
        Val::Text(json(&r.notify)?),
        Val::OptInt(r.repeat_every_days.map(i64::from)),
        Val::Int(i64::from(r.escalate)),
        Val::Text(status.to_string()),
        Val::Int(created_at),
    ])
}

/// The rows of reminders scheduled together, one per key (a key twice in one statement is an
/// error on PostgreSQL; the later wins, as it would in two statements).
fn scheduled_rows(
    case_id: &str,
    run: &[&duban_core::machine::Reminder],
    now: i64,
) -> Result<Vec<Vec<Val>>> {
    let mut by_key: BTreeMap<&str, &duban_core::machine::Reminder> = BTreeMap::new();
    for r in run {
        by_key.insert(r.key.as_str(), r);
    }
    by_key
        .values()
        .map(|r| reminder_row(case_id, r, "pending", now))
        .collect()
}

/// `case_events` and its columns, in `event_row`'s order.
const EVENTS_TARGET: &str = "case_events (case_id, seq, action, actor, actor_role, actor_org, \
    on_behalf_of, at, from_state, to_state, payload, detail, request_id)";

/// An event's row for `case_events`, in its column order.
fn event_row(case_id: &str, e: &Event, meta: &Meta) -> Result<Vec<Val>> {
    let detail = Detail {
        at: e.at,
        sets: e.sets.clone(),
        deadline: e.deadline.clone(),
        duties: e.duties.clone(),
        closed: e.closed,
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

fn bind_all<'q>(
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

/// The columns of a case summary, as every list query selects them.
const SUMMARY_COLUMNS: &str =
    "c.id, c.kind, c.title, c.state, c.is_key, c.filed_at, c.due_key, c.due_date, c.supervisor";

/// The rows a list query selects, before the optional filters and the page: static
/// `FROM … WHERE …` SQL with `$1…` placeholders, its binds, and the columns it sorts by (the
/// first of which the page's cursor carries as `sort_key`).
struct Selection {
    from_where: &'static str,
    binds: Vec<Bind>,
    sort: (&'static str, &'static str),
}

/// Flags are compared with literals, not binds, so that PostgreSQL can match its partial
/// indexes.
fn selection(q: &CaseQuery) -> Selection {
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
fn list_sql(q: &CaseQuery, filter: &ListFilter, page: &Page) -> (String, Vec<Bind>) {
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

fn summary(row: &AnyRow) -> Result<(CaseSummary, i64)> {
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

pub(crate) fn reminder(row: &AnyRow) -> Result<StoredReminder> {
    let duty: String = row.try_get("duty")?;
    let notify: String = row.try_get("notify")?;
    Ok(StoredReminder {
        case_id: row.try_get("case_id")?,
        key: row.try_get("reminder_key")?,
        state: row.try_get("state")?,
        duty: if duty.is_empty() { None } else { Some(duty) },
        rule: row.try_get("rule")?,
        fire_at: from_ms(row.try_get("fire_at")?)?,
        due_date: row.try_get("due_date")?,
        notify: parse(&notify, "reminder notify")?,
        repeat_every_days: row.try_get("repeat_every_days")?,
        escalate: row.try_get::<i64, _>("escalate")? == 1,
        status: row.try_get("status")?,
    })
}

/// The columns of `cases` that copy the projection, for one case.
struct Columns {
    projection: String,
    is_open: i64,
    is_key: i64,
    due_key: i64,
    due_date: Option<String>,
    supervisor: Option<String>,
    /// The filer's login (empty if none): the idempotency key is unique per filer.
    filer: String,
    /// What the case counts for in the year's figures (`Figures::key`).
    figures: String,
}

/// The parties whose copies of the case's open flag and deadline follow the case after every
/// action: what a department's inbox reads (`INBOX_COPY`, and SQLite's `cases_inbox_copy`).
const DEPARTMENT_PARTIES: [&str; 2] = party::DEPARTMENTS;

/// A case's open flag and deadline, as `case_parties` copies them.
fn inbox_copy(case: &Case) -> (i64, i64) {
    let due_key = case
        .deadline
        .as_ref()
        .map(|d| ms(d.deadline.due_at))
        .unwrap_or(NO_DEADLINE);
    (i64::from(!case.closed), due_key)
}

impl Columns {
    fn of(case: &Case) -> Result<Columns> {
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
        })
    }
}

impl SqlStore {
    /// Connects to `url` (`sqlite://PATH?mode=rwc` or `postgres://…`). SQLite runs in WAL mode
    /// with `synchronous = FULL`: an acknowledged action survives a power cut.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let backend = Backend::from_url(url)?;
        let options = |n: u32| {
            let options = AnyPoolOptions::new()
                .max_connections(n.max(1))
                .acquire_timeout(std::time::Duration::from_secs(10));
            match backend {
                Backend::Sqlite => Self::sqlite_options(options),
                Backend::Postgres => Self::postgres_options(options),
            }
        };
        let (pool, writer) = match backend {
            Backend::Sqlite => {
                if let Some(path) = sqlite_file(url) {
                    crate::private::make_private(&path)?;
                }
                let pool = options(max_connections.min(SQLITE_READERS))
                    .connect(url)
                    .await?;
                let writer = SqliteWriter {
                    turn: std::sync::Arc::new(tokio::sync::Mutex::new(())),
                    pool: options(1).connect(url).await?,
                };
                (pool, Some(writer))
            }
            Backend::Postgres => (options(max_connections).connect(url).await?, None),
        };
        Ok(Self {
            pool,
            backend,
            keys: None,
            faults: None,
            writer,
        })
    }

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

    fn sqlite_options(options: AnyPoolOptions) -> AnyPoolOptions {
        // An embedded database's connections cannot drop, so no ping before each use (it is
        // a round trip to the connection's thread). Reads go through a memory map (shared by
        // every connection, paged by the OS) rather than a read call per page.
        options.test_before_acquire(false).after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::raw_sql(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                     PRAGMA mmap_size = 268435456;",
                )
                .execute(conn)
                .await?;
                Ok(())
            })
        })
    }

    /// Connects and brings the schema up to date: what `serve` does at start.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self> {
        let store = Self::connect(url, max_connections).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects with the keys and brings the schema up to date: the migrations that rewrite
    /// the history or the audit chain record themselves in the audit log, keyed from them.
    pub async fn open_with_keys(url: &str, max_connections: u32, keys: Keyring) -> Result<Self> {
        let store = Self::connect(url, max_connections).await?.with_keys(keys);
        store.migrate().await?;
        Ok(store)
    }

    /// The keys for personal data; without them, filing personal data is refused.
    pub fn with_keys(mut self, keys: Keyring) -> Self {
        self.keys = Some(keys);
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for tests and tools that inspect the database directly.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// An online, consistent copy of an SQLite database into `path` (`VACUUM INTO`). PostgreSQL
    /// is backed up with its own tool, `pg_dump`.
    pub async fn sqlite_backup(&self, path: &std::path::Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(Error::Url(
                "VACUUM INTO is for SQLite; use pg_dump for PostgreSQL".into(),
            ));
        }
        let path = path
            .to_str()
            .ok_or_else(|| Error::Url("the backup path must be UTF-8".into()))?;
        // Created empty and private first, which VACUUM INTO accepts: the copy holds everything
        // the database does and must be no more readable than it.
        crate::private::create_private(std::path::Path::new(path))?;
        // A path is not a bindable value in VACUUM INTO; quote it as an SQL string literal.
        let sql = format!("VACUUM INTO '{}'", path.replace('\'', "''"));
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Re-encrypts every personal-data record and webhook secret not under the current key, in
    /// one transaction (key rotation). Returns how many of each were rewritten.
    pub async fn reencrypt(&self) -> Result<(u64, u64)> {
        let keys = self
            .keys
            .clone()
            .ok_or_else(|| Error::Crypto("no personal-data key is configured".into()))?;
        let mut tx = self.begin().await?;
        let rows =
            sqlx::query("SELECT case_id, seq, field, key_id, nonce, ciphertext FROM personal_data")
                .fetch_all(&mut *tx)
                .await?;
        let mut records = 0;
        for r in &rows {
            let key_id: String = r.try_get("key_id")?;
            if !keys.is_old(&key_id) {
                continue;
            }
            let (case_id, seq, field): (String, i64, String) = (
                r.try_get("case_id")?,
                r.try_get("seq")?,
                r.try_get("field")?,
            );
            let aad = format!("{case_id}/{seq}/{field}");
            let plain = keys.decrypt(
                &key_id,
                &r.try_get::<Vec<u8>, _>("nonce")?,
                &r.try_get::<Vec<u8>, _>("ciphertext")?,
                aad.as_bytes(),
            )?;
            let (new_id, nonce, ct) = keys.encrypt(aad.as_bytes(), &plain)?;
            sqlx::query("UPDATE personal_data SET key_id = $4, nonce = $5, ciphertext = $6 WHERE case_id = $1 AND seq = $2 AND field = $3")
                .bind(case_id)
                .bind(seq)
                .bind(field)
                .bind(new_id)
                .bind(nonce)
                .bind(ct)
                .execute(&mut *tx)
                .await?;
            records += 1;
        }
        let orgs =
            sqlx::query("SELECT code, webhook_secret FROM orgs WHERE webhook_secret IS NOT NULL")
                .fetch_all(&mut *tx)
                .await?;
        let mut secrets = 0;
        for o in &orgs {
            let code: String = o.try_get("code")?;
            let stored: String = o.try_get("webhook_secret")?;
            let mut parts = stored.splitn(3, ':');
            let (Some(id), Some(nonce), Some(ct)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(Error::Corrupt(format!("webhook secret of {code}")));
            };
            if !keys.is_old(id) {
                continue;
            }
            let aad = format!("org/{code}/webhook");
            let bad = || Error::Corrupt(format!("webhook secret of {code}"));
            let plain = keys.decrypt(
                id,
                &hex::decode(nonce).map_err(|_| bad())?,
                &hex::decode(ct).map_err(|_| bad())?,
                aad.as_bytes(),
            )?;
            let (new_id, n, c) = keys.encrypt(aad.as_bytes(), &plain)?;
            sqlx::query("UPDATE orgs SET webhook_secret = $2 WHERE code = $1")
                .bind(code)
                .bind(format!("{new_id}:{}:{}", hex::encode(n), hex::encode(c)))
                .execute(&mut *tx)
                .await?;
            secrets += 1;
        }
        tx.commit().await?;
        Ok((records, secrets))
    }

    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(w) = &self.writer {
            w.pool.close().await;
        }
    }

    /// A write transaction. SQLite takes the write lock at BEGIN (IMMEDIATE), so two writers
    /// queue on the busy timeout instead of one failing when it upgrades a read lock.
    /// Injects faults at named points (tests of what survives failures).
    pub fn with_faults(mut self, faults: std::sync::Arc<crate::Faults>) -> Self {
        self.faults = Some(faults);
        self
    }

    /// Fails here if a test asked for a fault at `point`.
    pub(crate) fn fault(&self, point: &str) -> Result<()> {
        match &self.faults {
            Some(f) => f.check(point),
            None => Ok(()),
        }
    }

    /// The personal-data keys, if configured.
    pub(crate) fn keys(&self) -> Option<&Keyring> {
        self.keys.as_ref()
    }

    pub(crate) async fn begin_write(&self) -> Result<WriteTx> {
        self.begin().await
    }

    async fn begin(&self) -> Result<WriteTx> {
        let (turn, tx) = match &self.writer {
            Some(w) => {
                let turn = w.turn.clone().lock_owned().await;
                (Some(turn), w.pool.begin_with("BEGIN IMMEDIATE").await?)
            }
            None => (None, self.pool.begin().await?),
        };
        Ok(WriteTx {
            tx,
            _turn: turn,
            backend: self.backend,
        })
    }

    /// An action's read: on SQLite in a write transaction of its own, begun for it and
    /// returned with the row (see [`Held`]); on PostgreSQL as any read.
    async fn read_to_act_on(
        &self,
        query: Query<'_, Any, AnyArguments>,
    ) -> Result<(Option<AnyRow>, Option<WriteTx>)> {
        if self.writer.is_none() {
            return Ok((query.fetch_optional(&self.pool).await?, None));
        }
        let mut tx = self.begin().await?;
        let row = query.fetch_optional(&mut *tx).await?;
        Ok((row, Some(tx)))
    }

    /// Rebuilds every case's projection from its events and writes its figures: run once, by
    /// the migration that began keeping the figures, for cases written before it. The fold is
    /// the same one every action applies, so the result is what those actions would have kept.
    async fn refold_cases(tx: &mut WriteTx) -> Result<()> {
        let cases = sqlx::query("SELECT id, kind, workflow_version, workflow_digest FROM cases")
            .fetch_all(&mut **tx)
            .await?;
        for c in &cases {
            let id: String = c.try_get("id")?;
            let rows = sqlx::query(HISTORY_SQL)
                .bind(id.clone())
                .fetch_all(&mut **tx)
                .await?;
            let events = rows
                .iter()
                .map(|r| event_from_row(r).map(|e| e.event))
                .collect::<Result<Vec<_>>>()?;
            let Some(case) = Case::fold(
                &c.try_get::<String, _>("kind")?,
                c.try_get::<i64, _>("workflow_version")? as u32,
                &c.try_get::<String, _>("workflow_digest")?,
                &events,
            ) else {
                continue;
            };
            let cols = Columns::of(&case)?;
            sqlx::query("UPDATE cases SET projection = $1, figures = $2 WHERE id = $3")
                .bind(cols.projection)
                .bind(cols.figures)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// The statement appending an event.
    fn event_statement(case_id: &str, e: &Event, meta: &Meta) -> Result<Stmt> {
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
    async fn insert_case(
        tx: &mut WriteTx,
        id: &str,
        title: &str,
        case: &Case,
        cols: &Columns,
        idempotency: Option<&crate::Idempotency>,
        updated_at: Timestamp,
    ) -> std::result::Result<sqlx::any::AnyQueryResult, sqlx::Error> {
        sqlx::query(
            "INSERT INTO cases (id, kind, workflow_version, workflow_digest, title, state, version, is_open, is_key, \
             year, filed_at, entered_at, due_key, due_date, filer, supervisor, idempotency_key, request_hash, \
             projection, updated_at, figures) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
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
        .execute(&mut **tx)
        .await
    }

    /// Writes whole cases — each a filing and the actions after it — in one transaction: all of
    /// them or none (spreadsheet import). Reminders whose time has already passed are left out:
    /// a historical record should not set off a storm of old reminders.
    async fn write_imported(
        &self,
        cases: &[crate::ImportedCase<'_>],
        now: Timestamp,
    ) -> Result<()> {
        // Every row of every table is gathered first and written in multi-row statements: an
        // import is thousands of cases, and each statement is a round trip to the database.
        let mut case_rows = Vec::new();
        let mut event_rows = Vec::new();
        let mut party_rows = Vec::new();
        let mut reminder_rows = Vec::new();
        for c in cases {
            let Some(last) = c.transitions.last() else {
                continue;
            };
            let case = &last.case;
            let cols = Columns::of(case)?;
            case_rows.push(vec![
                Val::Text(c.id.clone()),
                Val::Text(case.kind.clone()),
                Val::Int(i64::from(case.workflow_version)),
                Val::Text(case.workflow_digest.clone()),
                Val::Text(c.title.clone()),
                Val::Text(case.state.clone()),
                Val::Int(case.version as i64),
                Val::Int(cols.is_open),
                Val::Int(cols.is_key),
                Val::Int(i64::from(china_date(case.filed_at).year())),
                Val::Int(ms(case.filed_at)),
                Val::Int(ms(case.entered_at)),
                Val::Int(cols.due_key),
                Val::OptText(cols.due_date.clone()),
                Val::Text(cols.filer.clone()),
                Val::OptText(cols.supervisor.clone()),
                Val::Text(cols.projection.clone()),
                Val::Int(ms(last.event.at)),
                Val::Text(cols.figures.clone()),
            ]);
            // The reminders as the effects leave them, worked out here rather than by
            // replaying each upsert and cancel against the table.
            let mut reminders: BTreeMap<String, (duban_core::machine::Reminder, bool, i64)> =
                BTreeMap::new();
            for t in c.transitions {
                event_rows.push(event_row(&c.id, &t.event, &Meta::default())?);
                for effect in &t.effects {
                    match effect {
                        Effect::ScheduleReminder(r) if r.at <= now => {}
                        Effect::ScheduleReminder(r) => match reminders.get_mut(&r.key) {
                            None => {
                                reminders.insert(r.key.clone(), (r.clone(), true, ms(t.event.at)));
                            }
                            Some((old, pending, _)) if !*pending => {
                                old.at = r.at;
                                *pending = true;
                            }
                            Some(_) => {}
                        },
                        Effect::CancelReminders { state, duty } => {
                            for (r, pending, _) in reminders.values_mut() {
                                if &r.state == state && r.duty == *duty {
                                    *pending = false;
                                }
                            }
                        }
                    }
                }
            }
            for (r, pending, created) in reminders.into_values() {
                let status = if pending { "pending" } else { "cancelled" };
                reminder_rows.push(reminder_row(&c.id, &r, status, created)?);
            }
            // The parties as the live path leaves them: each member's copies of the open flag
            // and deadline as they were when the event naming it was written, and the
            // departments' kept up to date with the case (what `INBOX_COPY` and SQLite's
            // trigger do after every action).
            let mut parties: BTreeMap<(&str, &str), (i64, i64)> = BTreeMap::new();
            for t in c.transitions {
                let copy = inbox_copy(&t.case);
                for (party, members) in &t.event.sets {
                    parties.retain(|(p, _), _| p != party);
                    for member in members {
                        parties.entry((party, member)).or_insert(copy);
                    }
                }
                for ((party, _), v) in parties.iter_mut() {
                    if DEPARTMENT_PARTIES.contains(party) {
                        *v = copy;
                    }
                }
            }
            for ((party, member), (is_open, due_key)) in parties {
                party_rows.push(vec![
                    Val::Text(c.id.clone()),
                    Val::Text(party.to_string()),
                    Val::Text(member.to_string()),
                    Val::Int(is_open),
                    Val::Int(due_key),
                    Val::Int(ms(case.filed_at)),
                ]);
            }
        }
        let mut tx = self.begin().await?;
        match insert_rows(
            &mut tx,
            "cases (id, kind, workflow_version, workflow_digest, title, state, version, is_open, is_key, \
             year, filed_at, entered_at, due_key, due_date, filer, supervisor, projection, updated_at, figures)",
            &case_rows,
        )
        .await
        {
            Ok(()) => {}
            Err(Error::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                return Err(Error::Duplicate {
                    what: "case",
                    id: "one of the imported cases".into(),
                });
            }
            Err(e) => return Err(e),
        }
        insert_rows(&mut tx, EVENTS_TARGET, &event_rows).await?;
        insert_rows(
            &mut tx,
            "case_parties (case_id, party, member, is_open, due_key, filed_at)",
            &party_rows,
        )
        .await?;
        insert_rows(&mut tx, REMINDERS_TARGET, &reminder_rows).await?;
        let mut personal = Vec::new();
        for c in cases {
            for t in c.transitions {
                self.personal_statements(&mut personal, &c.id, t)?;
            }
        }
        // One statement at a time: an import may carry thousands, and a script of them all
        // would be one prepared statement as long, its `$N` looked up one by one.
        for s in personal {
            batch::run(&mut tx, vec![s]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Writes the parties an event filled, with copies of the case's open flag and deadline
    /// (kept up to date afterwards with the case: `INBOX_COPY`).
    fn party_statements(
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

    /// Carries out the state machine's effects in the action's transaction (transactional
    /// outbox). Scheduling is idempotent per (case, key); a cancelled reminder scheduled again
    /// (re-entering a state with the same deadline) comes back to life, a sent one does not.
    fn effect_statements(
        out: &mut Vec<Stmt>,
        case_id: &str,
        effects: &[Effect],
        now: i64,
    ) -> Result<()> {
        // Reminders scheduled together go in one statement: a transition schedules a state's
        // whole set at once.
        let mut i = 0;
        while i < effects.len() {
            let run: Vec<&duban_core::machine::Reminder> = effects[i..]
                .iter()
                .map_while(|e| match e {
                    Effect::ScheduleReminder(r) => Some(r),
                    Effect::CancelReminders { .. } => None,
                })
                .collect();
            if !run.is_empty() {
                i += run.len();
                let rows = scheduled_rows(case_id, &run, now)?;
                out.push(Stmt::new(
                    format!(
                        "INSERT INTO {REMINDERS_TARGET} VALUES {} {REVIVE_CANCELLED}",
                        numbered(1, &rows)
                    ),
                    rows.into_iter().flatten().collect(),
                ));
                continue;
            }
            // Cancellations in a row (a state's reminders and its duties') go in one statement.
            let mut sql = String::from(
                "UPDATE reminders SET status = 'cancelled' WHERE case_id = $1 AND status = 'pending' AND (",
            );
            let mut binds = vec![Val::Text(case_id.to_string())];
            while let Some(Effect::CancelReminders { state, duty }) = effects.get(i) {
                i += 1;
                if binds.len() > 1 {
                    sql.push_str(" OR ");
                }
                binds.push(Val::Text(state.clone()));
                binds.push(Val::Text(duty.clone().unwrap_or_default()));
                sql.push_str(&format!(
                    "(state = ${} AND duty = ${})",
                    binds.len() - 1,
                    binds.len()
                ));
            }
            sql.push(')');
            out.push(Stmt::new(sql, binds));
        }
        Ok(())
    }

    /// PostgreSQL: the case's UPDATE under its version, the event and the scheduled reminders
    /// in one statement, which is its own transaction. The event and the reminders are
    /// written only if the case's row was (they select from the UPDATE's result). Returns
    /// whether it was.
    async fn record_in_one_statement(
        &self,
        case_id: &str,
        expected_version: u64,
        t: &Transition,
        cols: &Columns,
        effects: &[Effect],
        meta: &Meta,
    ) -> Result<bool> {
        let event = event_row(case_id, &t.event, meta)?;
        let scheduled: Vec<&duban_core::machine::Reminder> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::ScheduleReminder(r) => Some(r),
                Effect::CancelReminders { .. } => None,
            })
            .collect();
        let reminders = scheduled_rows(case_id, &scheduled, ms(t.event.at))?;
        let update = case_update_binds(case_id, expected_version, t, cols);
        let first = update.len() + 1;
        let mut sql = format!(
            "{}, e AS (INSERT INTO {EVENTS_TARGET} SELECT v.* FROM u CROSS JOIN (VALUES {}) AS v)",
            update_case_with_inbox_copy(),
            numbered(first, std::slice::from_ref(&event))
        );
        if !reminders.is_empty() {
            sql.push_str(&format!(
                ", r AS (INSERT INTO {REMINDERS_TARGET} SELECT v.* FROM u CROSS JOIN (VALUES {}) AS v \
                 {REVIVE_CANCELLED})",
                numbered(first + event.len(), &reminders)
            ));
        }
        sql.push_str(" SELECT count(*) FROM u");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for v in update
            .into_iter()
            .chain(event)
            .chain(reminders.into_iter().flatten())
        {
            q = v.bind_to(q);
        }
        let updated: i64 = q.fetch_one(&self.pool).await?.try_get(0)?;
        Ok(updated == 1)
    }

    /// Why a case's UPDATE under its version changed no row: another action moved the version
    /// first, or there is no such case.
    async fn why_not_updated(&self, case_id: &str, expected_version: u64) -> Result<Error> {
        let actual: Option<i64> = sqlx::query_scalar("SELECT version FROM cases WHERE id = $1")
            .bind(case_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match actual {
            Some(v) => Error::Conflict {
                id: case_id.into(),
                expected: expected_version,
                actual: v as u64,
            },
            None => Error::NotFound {
                what: "case",
                id: case_id.into(),
            },
        })
    }

    /// The statements storing a transition's personal data, encrypted, with the blind index of
    /// any ID number.
    fn personal_statements(
        &self,
        out: &mut Vec<Stmt>,
        case_id: &str,
        t: &Transition,
    ) -> Result<()> {
        if t.personal.is_empty() {
            return Ok(());
        }
        let keys = self
            .keys
            .as_ref()
            .ok_or_else(|| Error::Crypto("no personal-data key is configured".into()))?;
        for p in &t.personal {
            let aad = format!("{case_id}/{}/{}", t.event.seq, p.field);
            let plain = serde_json::to_vec(&p.person).map_err(|e| Error::Corrupt(e.to_string()))?;
            let (key_id, nonce, ct) = keys.encrypt(aad.as_bytes(), &plain)?;
            out.push(Stmt::new(
                "INSERT INTO personal_data (case_id, seq, field, key_id, nonce, ciphertext, id_number_hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vec![
                    Val::Text(case_id.to_string()),
                    Val::Int(t.event.seq as i64),
                    Val::Text(p.field.clone()),
                    Val::Text(key_id),
                    Val::Blob(nonce),
                    Val::Blob(ct),
                    Val::OptText(p.person.id_number.as_deref().map(|id| keys.blind_index(id))),
                ],
            ));
        }
        Ok(())
    }
}

pub(crate) fn user_from_row(r: &AnyRow) -> Result<User> {
    let role: String = r.try_get("role")?;
    Ok(User {
        login: r.try_get("login")?,
        role: Role::parse(&role).ok_or_else(|| Error::Corrupt(format!("role {role}")))?,
        org: r.try_get("org_code")?,
        name: r.try_get("name")?,
    })
}

fn event_from_row(row: &AnyRow) -> Result<StoredEvent> {
    let role: String = row.try_get("actor_role")?;
    let detail: Detail = parse(&row.try_get::<String, _>("detail")?, "event detail")?;
    let payload: Map<String, Value> =
        parse(&row.try_get::<String, _>("payload")?, "event payload")?;
    Ok(StoredEvent {
        case_id: row.try_get("case_id")?,
        event: Event {
            seq: row.try_get::<i64, _>("seq")? as u64,
            action: row.try_get("action")?,
            actor: Actor {
                user: row.try_get("actor")?,
                role: Role::parse(&role)
                    .ok_or_else(|| Error::Corrupt(format!("unknown role {role}")))?,
                org: row.try_get("actor_org")?,
            },
            at: detail.at,
            payload,
            from_state: row.try_get("from_state")?,
            to_state: row.try_get("to_state")?,
            sets: detail.sets,
            deadline: detail.deadline,
            duties: detail.duties,
            closed: detail.closed,
        },
        meta: Meta {
            request_id: row.try_get("request_id")?,
            on_behalf_of: row.try_get("on_behalf_of")?,
        },
    })
}

const HISTORY_SQL: &str = "SELECT case_id, seq, action, actor, actor_role, actor_org, on_behalf_of, at, from_state, \
    to_state, payload, detail, request_id FROM case_events WHERE case_id = $1 ORDER BY seq";

/// Served by the covering index `cases_figures`: on SQLite the rows arrive grouped and nothing
/// is sorted or read from the table.
const FIGURE_GROUPS_SQL: &str = "SELECT figures, COUNT(*) AS cases, \
    SUM(CASE WHEN is_open = 1 AND due_key < $3 THEN 1 ELSE 0 END) AS overdue \
    FROM cases WHERE kind = $1 AND year = $2 AND figures IS NOT NULL AND updated_at <= $3 \
    GROUP BY figures";

const DUE_REMINDERS_SQL: &str = "SELECT case_id, reminder_key, state, duty, rule, fire_at, due_date, notify, \
    repeat_every_days, escalate, status FROM reminders WHERE status = 'pending' AND fire_at <= $1 ORDER BY fire_at LIMIT $2";

impl Store for SqlStore {
    async fn import_cases(&self, cases: &[crate::ImportedCase<'_>], now: Timestamp) -> Result<()> {
        self.write_imported(cases, now).await
    }

    async fn directory(&self) -> Result<Vec<(String, String, String)>> {
        let rows = sqlx::query(
            "SELECT code, name, kind FROM orgs UNION ALL SELECT login, name, 'user' FROM users",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    async fn histories(&self, kind: &str, year: i16) -> Result<Vec<CaseHistory>> {
        let mut out = Vec::new();
        self.each_history(kind, year, None, |h| out.push(h)).await?;
        Ok(out)
    }

    async fn figure_groups(
        &self,
        kind: &str,
        year: i16,
        as_of: Timestamp,
    ) -> Result<Vec<crate::FigureGroup>> {
        let rows = sqlx::query(FIGURE_GROUPS_SQL)
            .bind(kind.to_string())
            .bind(i64::from(year))
            .bind(ms(as_of))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(crate::FigureGroup {
                    figures: r.try_get("figures")?,
                    cases: r.try_get::<i64, _>("cases")? as u64,
                    overdue: r.try_get::<i64, _>("overdue")? as u64,
                })
            })
            .collect()
    }

    async fn each_history<F>(
        &self,
        kind: &str,
        year: i16,
        changed_after: Option<Timestamp>,
        mut each: F,
    ) -> Result<()>
    where
        F: FnMut(CaseHistory) + Send,
    {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query(
            "SELECT c.title, c.kind, c.workflow_version, c.workflow_digest, e.case_id, e.seq, e.action, e.actor, \
             e.actor_role, e.actor_org, e.on_behalf_of, e.at, e.from_state, e.to_state, e.payload, e.detail, e.request_id \
             FROM cases c JOIN case_events e ON e.case_id = c.id WHERE c.kind = $1 AND c.year = $2 \
             AND ($3 IS NULL OR c.updated_at > $3 OR c.figures IS NULL) \
             ORDER BY c.filed_at, c.id, e.seq",
        )
        .bind(kind.to_string())
        .bind(i64::from(year))
        .bind(changed_after.map(ms))
            .fetch(&self.pool);
        let mut current: Option<CaseHistory> = None;
        while let Some(r) = rows.try_next().await? {
            let e = event_from_row(&r)?;
            match current.as_mut() {
                Some(h) if h.id == e.case_id => h.events.push(e.event),
                _ => {
                    if let Some(done) = current.take() {
                        each(done);
                    }
                    current = Some(CaseHistory {
                        id: e.case_id.clone(),
                        kind: r.try_get("kind")?,
                        title: r.try_get("title")?,
                        workflow_version: r.try_get::<i64, _>("workflow_version")? as u32,
                        workflow_digest: r.try_get("workflow_digest")?,
                        events: vec![e.event],
                    });
                }
            }
        }
        if let Some(done) = current {
            each(done);
        }
        Ok(())
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<Vec<i64>> {
        let mut tx = self.begin().await?;
        if self.backend == Backend::Postgres {
            // Several processes starting at once: one migrates, the others wait and find it done.
            sqlx::raw_sql("SELECT pg_advisory_xact_lock(4242000001)")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations \
             (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
            .fetch_all(&mut *tx)
            .await?;
        let mut applied = Vec::new();
        for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
            let sql = match self.backend {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(ms(Timestamp::now()))
            .execute(&mut *tx)
            .await?;
            applied.push(m.version);
        }
        if applied.contains(&7) {
            Self::refold_cases(&mut tx).await?;
        }
        // Data migrations that rewrite what is append-only, each recorded in the audit log.
        let audit_key = self.keys.as_ref().map(Keyring::audit_key);
        if applied.contains(&12) {
            crate::audit::key_the_chain(&mut tx, audit_key).await?;
        }
        if applied.contains(&13) {
            crate::remask::remask_events(&mut tx, audit_key).await?;
        }
        tx.commit().await?;
        Ok(applied)
    }

    async fn add_org(&self, org: &Org) -> Result<()> {
        let r = sqlx::query(
            "INSERT INTO orgs (code, kind, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING",
        )
        .bind(org.code.clone())
        .bind(org.kind.as_str())
        .bind(org.name.clone())
        .bind(ms(Timestamp::now()))
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            return Err(Error::Duplicate {
                what: "organisation",
                id: org.code.clone(),
            });
        }
        Ok(())
    }

    async fn org(&self, code: &str) -> Result<Option<Org>> {
        let row = sqlx::query("SELECT code, kind, name FROM orgs WHERE code = $1")
            .bind(code.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(Org {
                code: r.try_get("code")?,
                kind: OrgKind::parse(&kind)
                    .ok_or_else(|| Error::Corrupt(format!("org kind {kind}")))?,
                name: r.try_get("name")?,
            })
        })
        .transpose()
    }

    async fn add_user(&self, user: &User) -> Result<()> {
        if let Some(org) = &user.org
            && self.org(org).await?.is_none()
        {
            return Err(Error::NotFound {
                what: "organisation",
                id: org.clone(),
            });
        }
        let r = sqlx::query(
            "INSERT INTO users (login, role, org_code, name, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (login) DO NOTHING",
        )
        .bind(user.login.clone())
        .bind(user.role.as_str())
        .bind(user.org.clone())
        .bind(user.name.clone())
        .bind(ms(Timestamp::now()))
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            return Err(Error::Duplicate {
                what: "user",
                id: user.login.clone(),
            });
        }
        Ok(())
    }

    async fn user(&self, login: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT login, role, org_code, name FROM users WHERE login = $1")
            .bind(login.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn code_kind(&self, held: &mut Held, org: bool, code: &str) -> Result<Option<String>> {
        let sql = if org {
            "SELECT kind FROM orgs WHERE code = $1"
        } else {
            "SELECT role AS kind FROM users WHERE login = $1"
        };
        let query = sqlx::query(sql).bind(code.to_string());
        let row = match &mut held.0 {
            Some(tx) => query.fetch_optional(&mut **tx).await?,
            None => query.fetch_optional(&self.pool).await?,
        };
        row.map(|r| Ok(r.try_get::<String, _>("kind")?)).transpose()
    }

    async fn file_case(&self, new: NewCase<'_>) -> Result<Filed> {
        let t = new.transition;
        let case = &t.case;
        let cols = Columns::of(case)?;
        let mut tx = self.begin().await?;
        let inserted = Self::insert_case(
            &mut tx,
            &new.id,
            &new.title,
            case,
            &cols,
            new.idempotency.as_ref(),
            t.event.at,
        )
        .await;
        let inserted = match inserted {
            Ok(r) => r,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(Error::Duplicate {
                    what: "case",
                    id: new.id,
                });
            }
            Err(e) => return Err(e.into()),
        };
        if inserted.rows_affected() == 0 {
            // Only the idempotency key can conflict without an error.
            let idem = new
                .idempotency
                .as_ref()
                .ok_or_else(|| Error::Corrupt("unexpected conflict".into()))?;
            let row = sqlx::query(
                "SELECT id, request_hash FROM cases WHERE filer = $1 AND idempotency_key = $2",
            )
            .bind(cols.filer.clone())
            .bind(idem.key.clone())
            .fetch_one(&mut *tx)
            .await?;
            let hash: Option<String> = row.try_get("request_hash")?;
            tx.rollback().await?;
            return if hash.as_deref() == Some(idem.request_hash.as_str()) {
                Ok(Filed::Replayed {
                    id: row.try_get("id")?,
                })
            } else {
                Err(Error::IdempotencyMismatch {
                    key: idem.key.clone(),
                })
            };
        }
        self.fault("file_case.event_insert")?;
        let mut rest = vec![Self::event_statement(&new.id, &t.event, &new.meta)?];
        Self::party_statements(&mut rest, &new.id, &case.parties, &cols, ms(case.filed_at));
        Self::effect_statements(&mut rest, &new.id, &t.effects, ms(t.event.at))?;
        self.personal_statements(&mut rest, &new.id, t)?;
        batch::run(&mut tx, rest).await?;
        tx.commit().await?;
        Ok(Filed::Created { id: new.id })
    }

    async fn record_action(
        &self,
        case_id: &str,
        expected_version: u64,
        t: &Transition,
        meta: &Meta,
    ) -> Result<()> {
        self.record_held_action(Held::default(), case_id, expected_version, t, meta)
            .await
    }

    async fn record_held_action(
        &self,
        held: Held,
        case_id: &str,
        expected_version: u64,
        t: &Transition,
        meta: &Meta,
    ) -> Result<()> {
        if t.event.seq != expected_version + 1 {
            return Err(Error::Conflict {
                id: case_id.into(),
                expected: expected_version,
                actual: t.event.seq.saturating_sub(1),
            });
        }
        let cols = Columns::of(&t.case)?;
        let effects = &t.effects;
        // On PostgreSQL an action that only moves the case, appends its event and schedules
        // reminders is one statement (its own transaction): each statement is a round trip
        // and a wake-up on both sides. A cancellation (a duty done, a deadline extended) may
        // touch a row the same action schedules again, which one statement cannot do twice.
        let schedules_only = effects
            .iter()
            .all(|e| matches!(e, Effect::ScheduleReminder(_)));
        if self.backend == Backend::Postgres
            && held.0.is_none()
            && schedules_only
            && t.event.sets.is_empty()
            && t.personal.is_empty()
        {
            self.fault("record_action.event_insert")?;
            self.fault("record_action.effects")?;
            let updated = self
                .record_in_one_statement(case_id, expected_version, t, &cols, effects, meta)
                .await?;
            if !updated {
                return Err(self.why_not_updated(case_id, expected_version).await?);
            }
            return Ok(());
        }
        let mut tx = match held.0 {
            Some(tx) => tx,
            None => self.begin().await?,
        };
        let update = Stmt::new(
            UPDATE_CASE,
            case_update_binds(case_id, expected_version, t, &cols),
        );
        let mut rest = vec![Self::event_statement(case_id, &t.event, meta)?];
        Self::party_statements(
            &mut rest,
            case_id,
            &t.event.sets,
            &cols,
            ms(t.case.filed_at),
        );
        Self::effect_statements(&mut rest, case_id, effects, ms(t.event.at))?;
        self.personal_statements(&mut rest, case_id, t)?;
        let updated = match self.backend {
            // One script: the UPDATE under its version first, the rest after it. Should the
            // version have moved (only without `held`), the rest fails or is rolled back.
            Backend::Sqlite => {
                self.fault("record_action.event_insert")?;
                self.fault("record_action.effects")?;
                rest.insert(0, update);
                batch::run(&mut tx, rest).await?
            }
            // The UPDATE first, alone: it answers with a row, and the rest is sent only if
            // the version held.
            Backend::Postgres => {
                let mut q = sqlx::query(AssertSqlSafe(format!(
                    "{} SELECT count(*) FROM u",
                    update_case_with_inbox_copy()
                )));
                for v in update.binds {
                    q = v.bind_to(q);
                }
                let updated = q.fetch_one(&mut *tx).await?.try_get::<i64, _>(0)? as u64;
                if updated == 1 {
                    self.fault("record_action.event_insert")?;
                    self.fault("record_action.effects")?;
                    batch::run(&mut tx, rest).await?;
                }
                updated
            }
        };
        if updated == 0 {
            tx.rollback().await?;
            return Err(self.why_not_updated(case_id, expected_version).await?);
        }
        tx.commit().await?;
        Ok(())
    }

    async fn case(&self, id: &str) -> Result<Option<CaseRecord>> {
        let row = sqlx::query("SELECT id, title, projection FROM cases WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record_from_row).transpose()
    }

    async fn events(&self, id: &str) -> Result<Vec<StoredEvent>> {
        let rows = sqlx::query(HISTORY_SQL)
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn case_and_filing(&self, id: &str) -> Result<Option<CaseAndFiling>> {
        let row = sqlx::query(CASE_AND_FILING)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(case_and_filing_from_row).transpose()
    }

    async fn case_to_act_on(&self, id: &str) -> Result<(Option<CaseAndFiling>, Held)> {
        let (row, tx) = self
            .read_to_act_on(sqlx::query(CASE_AND_FILING).bind(id.to_string()))
            .await?;
        let case = row.as_ref().map(case_and_filing_from_row).transpose()?;
        let held = hold(tx, case.is_some()).await?;
        Ok((case, held))
    }

    async fn filing(&self, id: &str) -> Result<Option<Map<String, Value>>> {
        let row = sqlx::query("SELECT payload FROM case_events WHERE case_id = $1 AND seq = 1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| parse(&r.try_get::<String, _>("payload")?, "event payload"))
            .transpose()
    }

    async fn case_as_of(&self, id: &str, at: Timestamp) -> Result<Option<Case>> {
        let Some(head) =
            sqlx::query("SELECT kind, workflow_version, workflow_digest FROM cases WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let events = self.events(id).await?;
        let kind: String = head.try_get("kind")?;
        let version: i64 = head.try_get("workflow_version")?;
        let digest: String = head.try_get("workflow_digest")?;
        Ok(Case::fold(
            &kind,
            version as u32,
            &digest,
            events.iter().map(|e| &e.event).filter(|e| e.at <= at),
        ))
    }

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
        let (prefix, column) = match self.backend {
            Backend::Sqlite => ("EXPLAIN QUERY PLAN ", 3),
            Backend::Postgres => ("EXPLAIN ", 0),
        };
        let rows = bind_all(sqlx::query(AssertSqlSafe(format!("{prefix}{sql}"))), &binds)
            .fetch_all(&self.pool)
            .await?;
        let lines: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>(column))
            .collect::<Result<_, _>>()?;
        Ok(lines.join("\n"))
    }

    async fn due_reminders(&self, now: Timestamp, limit: u32) -> Result<Vec<StoredReminder>> {
        let rows = sqlx::query(DUE_REMINDERS_SQL)
            .bind(ms(now))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(reminder).collect()
    }

    async fn reminders(&self, case_id: &str) -> Result<Vec<StoredReminder>> {
        let rows = sqlx::query(
            "SELECT case_id, reminder_key, state, duty, rule, fire_at, due_date, notify, repeat_every_days, escalate, status \
             FROM reminders WHERE case_id = $1 ORDER BY reminder_key",
        )
        .bind(case_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(reminder).collect()
    }

    async fn personal_data(&self, case_id: &str) -> Result<Vec<PersonalRecord>> {
        let keys = self
            .keys
            .as_ref()
            .ok_or_else(|| Error::Crypto("no personal-data key is configured".into()))?;
        let rows = sqlx::query(
            "SELECT seq, field, key_id, nonce, ciphertext FROM personal_data WHERE case_id = $1 ORDER BY seq, field",
        )
        .bind(case_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get("seq")?;
                let field: String = r.try_get("field")?;
                let key_id: String = r.try_get("key_id")?;
                let nonce: Vec<u8> = r.try_get("nonce")?;
                let ct: Vec<u8> = r.try_get("ciphertext")?;
                let aad = format!("{case_id}/{seq}/{field}");
                let plain = keys.decrypt(&key_id, &nonce, &ct, aad.as_bytes())?;
                let person: Person =
                    serde_json::from_slice(&plain).map_err(|e| Error::Corrupt(e.to_string()))?;
                Ok(PersonalRecord {
                    seq: seq as u64,
                    field,
                    person,
                })
            })
            .collect()
    }

    async fn cases_by_id_number(&self, id_number: &str) -> Result<Vec<String>> {
        let keys = self
            .keys
            .as_ref()
            .ok_or_else(|| Error::Crypto("no personal-data key is configured".into()))?;
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT case_id FROM personal_data WHERE id_number_hash = $1 ORDER BY case_id",
        )
        .bind(keys.blind_index(id_number))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn record_access(&self, a: &Access) -> Result<()> {
        sqlx::query(
            "INSERT INTO personal_data_access (case_id, at, actor, actor_role, fields, reason, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(a.case_id.clone())
        .bind(ms(a.at))
        .bind(a.actor.clone())
        .bind(a.role.as_str())
        .bind(json(&a.fields)?)
        .bind(a.reason.clone())
        .bind(a.request_id.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn accesses(&self, case_id: &str) -> Result<Vec<Access>> {
        let rows = sqlx::query(
            "SELECT case_id, at, actor, actor_role, fields, reason, request_id FROM personal_data_access \
             WHERE case_id = $1 ORDER BY at",
        )
        .bind(case_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("actor_role")?;
                Ok(Access {
                    case_id: r.try_get("case_id")?,
                    at: from_ms(r.try_get("at")?)?,
                    actor: r.try_get("actor")?,
                    role: Role::parse(&role)
                        .ok_or_else(|| Error::Corrupt(format!("role {role}")))?,
                    fields: parse(&r.try_get::<String, _>("fields")?, "access fields")?,
                    reason: r.try_get("reason")?,
                    request_id: r.try_get("request_id")?,
                })
            })
            .collect()
    }

    async fn add_token(
        &self,
        id: &str,
        login: &str,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<()> {
        if self.user(login).await?.is_none() {
            return Err(Error::NotFound {
                what: "user",
                id: login.into(),
            });
        }
        sqlx::query(
            "INSERT INTO tokens (id, login, token_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.to_string())
        .bind(login.to_string())
        .bind(token_hash.to_string())
        .bind(ms(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn user_for_token(&self, token_hash: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(
            "SELECT u.login, u.role, u.org_code, u.name, t.id FROM tokens t JOIN users u ON u.login = t.login \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((user_from_row(&r)?, r.try_get("id")?)))
            .transpose()
    }

    async fn user_and_case_for_token(
        &self,
        token_hash: &str,
        case_id: &str,
    ) -> Result<Option<(User, Option<CaseAndFiling>, Held)>> {
        let query = sqlx::query(
            "SELECT u.login, u.role, u.org_code, u.name, c.id, c.title, c.projection, e.payload \
             FROM tokens t JOIN users u ON u.login = t.login \
             LEFT JOIN cases c ON c.id = $2 \
             LEFT JOIN case_events e ON e.case_id = c.id AND e.seq = 1 \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash.to_string())
        .bind(case_id.to_string());
        let (row, tx) = self.read_to_act_on(query).await?;
        let case = match &row {
            Some(r) if r.try_get::<Option<String>, _>("id")?.is_some() => {
                Some(case_and_filing_from_row(r)?)
            }
            _ => None,
        };
        let held = hold(tx, case.is_some()).await?;
        Ok(row
            .map(|r| user_from_row(&r))
            .transpose()?
            .map(|user| (user, case, held)))
    }

    async fn tokens(&self, login: &str) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT id, login, created_at, revoked_at FROM tokens WHERE login = $1 ORDER BY created_at, id",
        )
        .bind(login.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let revoked: Option<i64> = r.try_get("revoked_at")?;
                Ok(TokenInfo {
                    id: r.try_get("id")?,
                    login: r.try_get("login")?,
                    created_at: from_ms(r.try_get("created_at")?)?,
                    revoked_at: revoked.map(from_ms).transpose()?,
                })
            })
            .collect()
    }

    async fn revoke_token(&self, id: &str, at: Timestamp) -> Result<bool> {
        let r =
            sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id.to_string())
                .bind(ms(at))
                .execute(&self.pool)
                .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn add_notification(&self, n: &Notification) -> Result<()> {
        sqlx::query(
            "INSERT INTO notifications (id, recipient, case_id, reminder_key, title, body, escalate, created_at, read_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(n.id.clone())
        .bind(n.recipient.clone())
        .bind(n.case_id.clone())
        .bind(n.reminder_key.clone())
        .bind(n.title.clone())
        .bind(n.body.clone())
        .bind(i64::from(n.escalate))
        .bind(ms(n.created_at))
        .bind(n.read_at.map(ms))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn notifications(
        &self,
        recipient: &str,
        page: &Page,
    ) -> Result<(Vec<Notification>, Option<Cursor>)> {
        // Newest first: the page starts before the cursor; the first page before everything.
        let after = page.after.clone().unwrap_or(Cursor {
            key: i64::MAX,
            id: "~".into(),
        });
        let rows = sqlx::query(
            "SELECT id, recipient, case_id, reminder_key, title, body, escalate, created_at, read_at \
             FROM notifications WHERE recipient = $1 AND (created_at, id) < ($2, $3) \
             ORDER BY created_at DESC, id DESC LIMIT $4",
        )
        .bind(recipient.to_string())
        .bind(after.key)
        .bind(after.id)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut items = rows
            .iter()
            .map(|r| {
                let read: Option<i64> = r.try_get("read_at")?;
                Ok(Notification {
                    id: r.try_get("id")?,
                    recipient: r.try_get("recipient")?,
                    case_id: r.try_get("case_id")?,
                    reminder_key: r.try_get("reminder_key")?,
                    title: r.try_get("title")?,
                    body: r.try_get("body")?,
                    escalate: r.try_get::<i64, _>("escalate")? == 1,
                    created_at: from_ms(r.try_get("created_at")?)?,
                    read_at: read.map(from_ms).transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let next = if items.len() > page.limit as usize {
            items.truncate(page.limit as usize);
            items.last().map(|n| Cursor {
                key: ms(n.created_at),
                id: n.id.clone(),
            })
        } else {
            None
        };
        Ok((items, next))
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
    fn the_inbox_sql_names_the_department_parties_of_the_vocabulary() {
        let listed = format!(
            "party IN ('{}', '{}')",
            party::DEPARTMENTS[0],
            party::DEPARTMENTS[1]
        );
        assert!(INBOX_COPY.contains(&listed), "{INBOX_COPY}");
        let open = selection(&CaseQuery::DepartmentOpen {
            department: "jtj".into(),
        });
        assert!(open.from_where.contains(&listed), "{}", open.from_where);
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
