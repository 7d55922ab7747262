//! For `duban bench`: filling a database fast (copies of a real case, made by the engine, so
//! every copy is a valid history) and the raw-SQL baseline a transition is measured against —
//! the least any correct engine must send for one action — and the disk's own limit, the
//! smallest durable transaction.

use sqlx::Row;

use crate::{Result, SqlStore};

/// How copies differ from their template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// Exact copies (same parties, same deadline): for acting on.
    Same,
    /// Spread over `departments` lead departments (`dept-N`), filed a millisecond apart after
    /// the template in the order of `n`, with deadlines a minute apart counted back from the
    /// template's, every `overdue_every`-th far in the past: for querying at scale. A county's
    /// cases are filed one by one; copies filed in one instant would make every list's order a
    /// tie.
    Departments {
        departments: i64,
        overdue_every: i64,
    },
}

/// Copies case `template` as `{prefix}{n}` for n in `from..=to`: its row, parties, events and
/// reminders, one statement per table, in one transaction.
pub async fn copy_case(
    store: &SqlStore,
    template: &str,
    prefix: &str,
    from: i64,
    to: i64,
    spread: Spread,
) -> Result<()> {
    let s = store.backend().series(from, to);
    let t = template.replace('\'', "''");
    let p = prefix.replace('\'', "''");
    let (filed, due, member, figures, raters) = match spread {
        Spread::Same => (
            "c.filed_at".to_string(),
            "c.due_key".to_string(),
            "p.member".to_string(),
            "c.figures".to_string(),
            "c.raters".to_string(),
        ),
        Spread::Departments {
            departments,
            overdue_every,
        } => (
            "c.filed_at + n".to_string(),
            // 400 days in milliseconds, written out: PostgreSQL would multiply in 32 bits.
            format!(
                "CASE WHEN c.due_key = 9223372036854775807 THEN c.due_key \
                 WHEN n % {overdue_every} = 0 THEN c.due_key - {long_ago} - (n % 1000) * 60000 \
                 ELSE c.due_key - (n % 100000) * 60000 END",
                long_ago = 400_i64 * 86_400_000
            ),
            format!(
                "CASE WHEN p.party = 'lead_department' THEN 'dept-' || (n % {departments}) ELSE p.member END"
            ),
            // The figures name the lead department too: the report groups by them.
            format!(
                "replace(c.figures, '\"lead_department\":\"' || (SELECT member FROM case_parties \
                 WHERE case_id = '{t}' AND party = 'lead_department') || '\"', \
                 '\"lead_department\":\"dept-' || (n % {departments}) || '\"')"
            ),
            // Rated, as a year's cases end up: each by one of 300 deputies, one copy in five
            // 不满意 beside a co-signer's rating, so that 代表满意度 reads as many rows as a real
            // year's and as few distinct lists.
            "'[{\"by\":\"deputy-' || (n % 300) || '\",\"rating\":\"' || \
             CASE WHEN n % 5 = 0 THEN 'dissatisfied' ELSE 'satisfied' END || '\"}' || \
             CASE WHEN n % 5 = 0 THEN ',{\"by\":\"deputy-' || ((n + 1) % 300) || \
             '\",\"rating\":\"satisfied\",\"co\":true}' ELSE '' END || ']'"
                .to_string(),
        ),
    };
    let party_due = due.replace("c.due_key", "p.due_key");
    let party_filed = filed.replace("c.filed_at", "p.filed_at");
    let statements = [
        format!(
            "INSERT INTO cases (id, kind, workflow_version, workflow_digest, title, state, version, is_open, is_key, year, \
             filed_at, entered_at, due_key, due_date, filer, supervisor, idempotency_key, request_hash, projection, updated_at, \
             figures, number, raters) \
             SELECT '{p}' || n, c.kind, c.workflow_version, c.workflow_digest, c.title, c.state, c.version, c.is_open, \
             c.is_key, c.year, {filed}, c.entered_at, {due}, c.due_date, c.filer, c.supervisor, NULL, NULL, \
             c.projection, c.updated_at, {figures}, '{p}' || n, {raters} FROM cases c, ({s}) AS series WHERE c.id = '{t}'"
        ),
        format!(
            "INSERT INTO case_parties (case_id, party, member, is_open, due_key, filed_at) \
             SELECT '{p}' || n, p.party, {member}, p.is_open, {party_due}, {party_filed} \
             FROM case_parties p, ({s}) AS series WHERE p.case_id = '{t}'"
        ),
        format!(
            "INSERT INTO case_events (case_id, seq, action, actor, actor_role, actor_org, on_behalf_of, at, from_state, \
             to_state, payload, detail, request_id) \
             SELECT '{p}' || n, e.seq, e.action, e.actor, e.actor_role, e.actor_org, e.on_behalf_of, e.at, e.from_state, \
             e.to_state, e.payload, e.detail, NULL FROM case_events e, ({s}) AS series WHERE e.case_id = '{t}'"
        ),
        format!(
            "INSERT INTO reminders (case_id, reminder_key, state, duty, rule, fire_at, due_date, notify, repeat_every_days, \
             escalate, status, attempts, created_at) \
             SELECT '{p}' || n, r.reminder_key, r.state, r.duty, r.rule, r.fire_at, r.due_date, r.notify, \
             r.repeat_every_days, r.escalate, r.status, 0, r.created_at FROM reminders r, ({s}) AS series \
             WHERE r.case_id = '{t}'"
        ),
    ];
    let mut tx = store.begin_write().await?;
    for sql in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The words copy `n` is searched by: a title naming a place and a road that vary with `n`, so
/// that a search finds a few copies, not all. A word of two characters (`{place}路`) is shared
/// by one copy in a thousand; a longer phrase by about one.
pub fn copy_words(n: i64) -> String {
    let cjk = |i: i64| char::from_u32(0x4E00 + (i % 3000) as u32).unwrap_or('字');
    format!(
        "关于{}路{}{}段交通安全的建议\n第{n}号路段",
        cjk(n % 1000),
        cjk(n / 1000 + 1000),
        cjk(n / 7 + 2000)
    )
}

/// Makes copies `{prefix}{n}`, n in `from..=to`, searchable by their number and
/// [`copy_words`], many rows a statement, each with its copy's filing time.
pub async fn index_copies(store: &SqlStore, prefix: &str, from: i64, to: i64) -> Result<()> {
    let p = prefix.replace('\'', "''");
    let mut n = from;
    while n <= to {
        // A transaction per batch: one for a million rows grows SQLite's log by gigabytes.
        let mut tx = store.begin_write().await?;
        let last = (n + 9_999).min(to);
        let filed = format!(
            "SELECT s.n, c.filed_at FROM ({}) AS s JOIN cases c ON c.id = '{p}' || s.n ORDER BY s.n",
            store.backend().series(n, last)
        );
        let rows: Vec<Vec<crate::sql::Val>> = sqlx::query(sqlx::AssertSqlSafe(filed))
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| {
                let (i, filed_at): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
                let id = format!("{prefix}{i}");
                Ok(crate::sql::search_row(&id, &id, &copy_words(i), filed_at))
            })
            .collect::<Result<_>>()?;
        crate::sql::insert_search_rows(&mut tx, &rows).await?;
        tx.commit().await?;
        n = last + 1;
    }
    Ok(())
}

/// Adds `count` pending reminders firing at `fire_at_ms` (milliseconds) to each case
/// `{prefix}{n}`, n in `from..=to`, under keys `bench/0`, `bench/1`…, to the department.
pub async fn add_reminders(
    store: &SqlStore,
    prefix: &str,
    from: i64,
    to: i64,
    count: i64,
    fire_at_ms: i64,
) -> Result<()> {
    let s = store.backend().series(from, to);
    let p = prefix.replace('\'', "''");
    let mut tx = store.begin_write().await?;
    for k in 0..count {
        let sql = format!(
            "INSERT INTO reminders (case_id, reminder_key, state, duty, rule, fire_at, due_date, notify, repeat_every_days, \
             escalate, status, attempts, created_at) \
             SELECT '{p}' || n, 'bench/{k}', 'assigned', '', 0, {fire_at_ms} + n, NULL, '[\"lead_department\"]', NULL, 0, \
             'pending', 0, 0 FROM ({s}) AS series"
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Makes every pending reminder due at `at_ms` that is due by then nothing any more, so that
/// a measurement of firing fires only what it set up: the notices of copied cases and what
/// earlier rounds left due are marked sent. Returns how many.
pub async fn set_aside_due(store: &SqlStore, at_ms: i64) -> Result<u64> {
    let r = sqlx::query(
        "UPDATE reminders SET status = 'sent' WHERE status = 'pending' AND fire_at <= $1",
    )
    .bind(at_ms)
    .execute(store.pool())
    .await?;
    Ok(r.rows_affected())
}

/// Brings every pending reminder of copies `{prefix}{n}`, n in `from..=to`, due at `at_ms`:
/// real reminders of real cases (their notices and deadlines' reminders), to be fired now.
/// Returns how many.
pub async fn make_due(
    store: &SqlStore,
    prefix: &str,
    from: i64,
    to: i64,
    at_ms: i64,
) -> Result<u64> {
    let s = store.backend().series(from, to);
    let p = prefix.replace('\'', "''");
    let sql = format!(
        "UPDATE reminders SET fire_at = {at_ms} WHERE status = 'pending' \
         AND case_id IN (SELECT '{p}' || n FROM ({s}) AS series)"
    );
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(store.pool())
        .await?;
    Ok(r.rows_affected())
}

/// Settles the database after a bulk load: fresh statistics, and on PostgreSQL the visibility
/// map that autovacuum would keep.
pub async fn analyze(store: &SqlStore) -> Result<()> {
    sqlx::raw_sql(store.backend().after_bulk_load())
        .execute(store.pool())
        .await?;
    Ok(())
}

/// The payload and detail of a case's latest event, as stored: the baseline appends events of
/// the same size and shape.
pub async fn last_event(store: &SqlStore, case_id: &str) -> Result<(String, String)> {
    let row = sqlx::query(
        "SELECT payload, detail FROM case_events WHERE case_id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(case_id.to_string())
    .fetch_one(store.pool())
    .await?;
    Ok((row.try_get("payload")?, row.try_get("detail")?))
}

/// One transition as the least any correct engine must send, in one transaction: read the
/// case, update it under its version check, append the event (with `payload` and `detail`
/// as stored), upsert a reminder. Returns false when another writer got there first (the
/// version moved).
pub async fn baseline_transition(
    store: &SqlStore,
    case_id: &str,
    at_ms: i64,
    event: &(String, String),
) -> Result<bool> {
    let mut tx = store.begin_write().await?;
    let row = sqlx::query("SELECT version, state, projection FROM cases WHERE id = $1")
        .bind(case_id.to_string())
        .fetch_one(&mut *tx)
        .await?;
    let version: i64 = row.try_get("version")?;
    let state: String = row.try_get("state")?;
    let projection: String = row.try_get("projection")?;
    let updated = sqlx::query(
        "UPDATE cases SET version = $1, state = $2, entered_at = $3, updated_at = $3, projection = $4 \
         WHERE id = $5 AND version = $6",
    )
    .bind(version + 1)
    .bind(state.clone())
    .bind(at_ms)
    .bind(projection)
    .bind(case_id.to_string())
    .bind(version)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO case_events (case_id, seq, action, actor, actor_role, actor_org, on_behalf_of, at, from_state, \
         to_state, payload, detail, request_id) VALUES ($1, $2, 'keep_assignment', 'bench', 'staff', NULL, NULL, $3, \
         $4, $4, $5, $6, NULL)",
    )
    .bind(case_id.to_string())
    .bind(version + 1)
    .bind(at_ms)
    .bind(state)
    .bind(event.0.clone())
    .bind(event.1.clone())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO reminders (case_id, reminder_key, state, duty, rule, fire_at, due_date, notify, repeat_every_days, \
         escalate, status, attempts, created_at) VALUES ($1, 'baseline', 'assigned', '', 0, $2, NULL, '[]', NULL, 0, \
         'pending', 0, $2) \
         ON CONFLICT (case_id, reminder_key) DO UPDATE SET fire_at = EXCLUDED.fire_at, status = 'pending'",
    )
    .bind(case_id.to_string())
    .bind(at_ms + 86_400_000)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Queues `count` webhook deliveries to `url` for the department `jtj`, due at once, with ids
/// `{id_prefix}{n}`, each about case `{case_prefix}{n}`.
pub async fn add_deliveries(
    store: &SqlStore,
    id_prefix: &str,
    case_prefix: &str,
    count: i64,
    url: &str,
) -> Result<()> {
    let s = store.backend().series(1, count);
    let (i, c, u) = (
        id_prefix.replace('\'', "''"),
        case_prefix.replace('\'', "''"),
        url.replace('\'', "''"),
    );
    let sql = format!(
        "INSERT INTO deliveries (id, case_id, reminder_key, channel, address, org_code, subject, body, status, \
         attempts, next_attempt_at, created_at) \
         SELECT '{i}' || n, '{c}' || n, 'bench', 'webhook', '{u}', 'jtj', '【到期提醒】基准测试', \
         '代表建议《关于改善县城道路交通秩序的建议》办理期限临近。', 'pending', 0, 0, 0 FROM ({s}) AS series"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(store.pool())
        .await?;
    Ok(())
}

/// The table the commit limit updates: one row, outside the schema, made by the bench.
const COMMIT_LIMIT_TABLE: &str = "CREATE TABLE IF NOT EXISTS bench_commit_limit (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); \
     INSERT INTO bench_commit_limit (id, n) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;";

/// The disk's commit limit on SQLite: the smallest durable transaction (one single-row UPDATE,
/// in WAL with `synchronous = FULL`, as the store's connections are) committed one after the
/// other on one connection of its own for `secs`, as fast as the disk allows. Returns commits
/// per second. Each commit is one script (`BEGIN; UPDATE; COMMIT`), one hand-off to the
/// driver's thread: nothing an engine could send for a write is smaller.
pub async fn commit_limit(url: &str, secs: f64) -> Result<f64> {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    sqlx::raw_sql(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;",
    )
    .execute(&mut conn)
    .await?;
    sqlx::raw_sql(COMMIT_LIMIT_TABLE).execute(&mut conn).await?;
    let started = std::time::Instant::now();
    let mut commits = 0u64;
    while started.elapsed().as_secs_f64() < secs {
        sqlx::raw_sql("BEGIN; UPDATE bench_commit_limit SET n = n + 1 WHERE id = 1; COMMIT;")
            .execute(&mut conn)
            .await?;
        commits += 1;
    }
    let rate = commits as f64 / started.elapsed().as_secs_f64();
    conn.close().await?;
    Ok(rate)
}

/// The raw count the annual report is measured against: the year's cases grouped by kind and
/// by the figures kept with each, in one statement, with nothing parsed or written out.
/// Returns the cases counted.
pub async fn raw_year_count(store: &SqlStore, year: i16) -> Result<u64> {
    let rows = sqlx::query(
        "SELECT kind, figures, COUNT(*) AS n FROM cases WHERE year = $1 GROUP BY kind, figures",
    )
    .bind(i64::from(year))
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<i64, _>("n")? as u64))
        .sum()
}
