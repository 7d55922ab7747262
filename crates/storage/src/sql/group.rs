//! Group commit for SQLite's one writer: the writes that queue for it share one transaction,
//! each in a savepoint of its own, and every writer is answered once that transaction's
//! COMMIT has returned.
//!
//! Why: in WAL with `synchronous = FULL` every commit waits for the disk, and SQLite writes
//! one transaction at a time, so one commit per action caps the engine at the disk's commit
//! rate, however cheap its statements. PostgreSQL already shares one WAL flush among the
//! backends committing at once; this is the same promise for the embedded default.
//!
//! How: a write comes in one of two ways, and both take the same lock, in order.
//!
//! - **Sent whole** ([`Group::write`]): an action, decided before it is sent, hands over its
//!   statements, the first an UPDATE under the version it read. Whoever holds the lock runs
//!   every write sent so far together, one script for all; a write whose UPDATE found the
//!   version moved, or that failed, is rolled back to its own savepoint, and the writes after
//!   it in that script run again.
//! - **Joined** ([`Group::join`]): a writer that reads and decides as it writes (a filing, an
//!   import, the scheduler) holds the lock from its savepoint to its end.
//!
//! The writer that finds no transaction open begins one. Each write works inside `SAVEPOINT
//! member`, nested in those of the writes kept before it: a kept write leaves its savepoint
//! open; a refused, conflicting or failed one is rolled back to its own savepoint (the
//! innermost) alone, and its neighbours never see it. Then, if another writer is queued and
//! the group is not full, the transaction is left open for it; otherwise it is committed and
//! every member answered. A write that comes alone commits at once: nothing waits for company.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use sqlx::{AnyConnection, AnyPool, Connection};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

use super::Val;
use super::batch::{self, Stmt};

/// At most this many writers join one transaction, kept or not. Each member waits for the
/// statements of every member after it, so the bound caps what grouping adds to a write's
/// latency (32 actions at about 0.5 ms each, against the 20 ms p99 the API promises).
const GROUP_LIMIT: usize = 32;

/// At most this many values are bound in one script of writes run together: a statement's
/// highest `$N` may not pass SQLite's limit of 32,766, and the numbers run on through a script.
/// A write that does not fit waits for the next script.
const SCRIPT_VALUES: usize = 30_000;

/// Where one write's statements fall among the answers of a script run together: its UPDATE
/// under its version, and the end of its statements.
#[derive(Clone, Copy)]
struct Part {
    update: usize,
    end: usize,
}

/// Whom to tell what became of a write: `Ok(true)` once its group has committed, `Ok(false)`
/// if its UPDATE found the version moved and nothing of it was written (told once the
/// transaction it was in is over), or the error that stopped it.
type Told = oneshot::Sender<Result<bool, sqlx::Error>>;

/// A write handed to the group whole ([`Group::write`]): its statements, the first an UPDATE
/// under the version it was decided at, and whom to tell.
struct Sent {
    stmts: Vec<Stmt>,
    told: Told,
}

/// The one writer of this process and the transaction its queued writes share.
pub(crate) struct Group {
    open: Arc<Mutex<Open>>,
    /// Writers queued for the lock, and writes sent and not yet taken: while any is, the
    /// transaction is left open for them.
    waiting: AtomicUsize,
    /// Writes sent whole, in order, for whoever holds the lock next to run.
    sent: std::sync::Mutex<VecDeque<Sent>>,
    pool: AnyPool,
    /// What begins a group's transaction and its first member's savepoint. The dialect gives
    /// the beginning: SQLite's `BEGIN IMMEDIATE` takes the write lock at once, so another
    /// process's writer waits on the busy timeout instead of failing when it upgrades a read
    /// lock.
    begin_member: String,
    /// How many statements `begin_member` is.
    begin_statements: usize,
    /// Whether the group holds its connection (for the connections gauge, read without the
    /// lock).
    connected: AtomicBool,
    /// Commits made and the writes they kept, since the store opened.
    commits: AtomicU64,
    writes: AtomicU64,
    /// Scripts of writes sent whole, and the writes they carried (a write run again after a
    /// neighbour's conflict counted again), since the store opened.
    scripts: AtomicU64,
    carried: AtomicU64,
}

/// How much commits were shared since the store opened: `writes` kept by `commits` COMMITs.
/// Each write waited for one commit; their ratio is how many shared it, on average. Beside
/// it, how many writes sent whole each hand-off to the connection's thread carried: `carried`
/// in `scripts`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitSharing {
    pub commits: u64,
    pub writes: u64,
    pub scripts: u64,
    pub carried: u64,
}

/// The writer's connection and what rides on its open transaction.
#[derive(Default)]
struct Open {
    /// Kept here between writers, so that its page cache stays warm: no other connection ever
    /// writes through this process. Detached from its pool, so that a store dropped outside
    /// the runtime (a test's) can close it without one.
    conn: Option<AnyConnection>,
    /// Whether a transaction is open on `conn`.
    begun: bool,
    /// Writers that joined the open transaction, kept or not: the group's bound counts them
    /// all, so that refused writers arriving one after another cannot hold a commit back.
    joined: usize,
    /// The members released into the open transaction, waiting for its commit.
    kept: Vec<Told>,
    /// The members rolled back out of the open transaction, waiting for it to end.
    waiting_out: Vec<Told>,
}

impl Open {
    /// Runs `sql` (one script: one hand-off to the connection's thread) on the writer's
    /// connection.
    async fn run(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        match self.conn.as_mut() {
            Some(conn) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(conn)
                .await
                .map(|_| ()),
            None => Err(sqlx::Error::PoolClosed),
        }
    }

    /// [`batch::counts`] on the writer's connection.
    async fn counts(
        &mut self,
        sql: String,
        binds: Vec<Val>,
        persistent: bool,
    ) -> (Vec<u64>, Option<sqlx::Error>) {
        match self.conn.as_mut() {
            Some(conn) => batch::counts(conn, sql, binds, persistent).await,
            None => (Vec::new(), Some(sqlx::Error::PoolClosed)),
        }
    }
}

/// A writer that sent its write and may stop waiting for the answer (its request dropped)
/// before any holder of the turn took it. The transaction may have been left open for that
/// write, so then someone must run what is sent and end it: a task of its own does.
struct Unanswered(Option<Arc<Group>>);

impl Unanswered {
    fn answered(mut self) {
        self.0 = None;
    }
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        let Some(group) = self.0.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let open = group.open.clone().lock_owned().await;
                group.run_sent(open).await;
            });
        }
    }
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("waiting", &self.waiting.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Group {
    /// A group over `pool` (one connection), whose transactions begin with `begin`.
    pub(crate) fn new(pool: AnyPool, begin: &'static str) -> Arc<Self> {
        Arc::new(Group {
            open: Arc::new(Mutex::new(Open::default())),
            waiting: AtomicUsize::new(0),
            sent: std::sync::Mutex::new(VecDeque::new()),
            pool,
            begin_member: format!("{begin}; SAVEPOINT member"),
            begin_statements: begin.split(';').filter(|s| !s.trim().is_empty()).count() + 1,
            connected: AtomicBool::new(false),
            commits: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            scripts: AtomicU64::new(0),
            carried: AtomicU64::new(0),
        })
    }

    /// Whether the group holds its connection: it is taken from the pool at the first write
    /// and kept, so the pool no longer counts it.
    pub(crate) fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// How much commits were shared so far.
    pub(crate) fn sharing(&self) -> CommitSharing {
        CommitSharing {
            commits: self.commits.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            scripts: self.scripts.load(Ordering::Relaxed),
            carried: self.carried.load(Ordering::Relaxed),
        }
    }

    /// Closes the writer's connection: the one kept between writers first, then the pool.
    pub(crate) async fn close(&self) {
        let conn = self.open.lock().await.conn.take();
        if let Some(conn) = conn {
            let _ = conn.close().await;
            self.connected.store(false, Ordering::Relaxed);
        }
        self.pool.close().await;
    }

    /// Joins the open transaction, or begins one, and opens this writer's savepoint in it.
    pub(crate) async fn join(self: &Arc<Self>) -> Result<Member, sqlx::Error> {
        let mut open = self.enter().await?;
        let begun = open.begun;
        let (entry, _) = self.entry(begun);
        if let Err(e) = open.run(entry).await {
            if begun {
                // Nothing of this writer's is in the transaction; the members kept in it
                // are answered as usual.
                self.hand_on(open).await;
            } else {
                // Whatever part of the transaction began is rolled back; nothing rides on it.
                let _ = open.run("ROLLBACK").await;
            }
            return Err(e);
        }
        Ok(self.member(open))
    }

    /// Writes `stmts` in a savepoint of the group's transaction and answers once it has
    /// committed: `true`, or `false` if the first statement (an UPDATE under the version the
    /// write was decided at) changed no row, and then nothing of it was written.
    ///
    /// Why: a writer that joins ([`Group::join`]) holds the one writer's turn while it decides
    /// and between its statements, and every writer queued waits for that. A write sent whole
    /// was decided before it was sent: whoever holds the turn runs every write sent so far,
    /// in one hand-off to the connection's thread.
    pub(crate) async fn write(self: &Arc<Self>, stmts: Vec<Stmt>) -> Result<bool, sqlx::Error> {
        let (told, mut answer) = oneshot::channel();
        // Counted before it can be taken, so that a count taken off is always there.
        self.waiting.fetch_add(1, Ordering::AcqRel);
        self.sent_writes().push_back(Sent { stmts, told });
        let unanswered = Unanswered(Some(self.clone()));
        loop {
            tokio::select! {
                biased;
                told = &mut answer => {
                    unanswered.answered();
                    return told.unwrap_or_else(|_| Err(group_failed("it ended without an answer")));
                }
                open = self.open.clone().lock_owned() => {
                    // A task of its own, so that a caller who gives up (its request dropped)
                    // cannot stop the writer halfway through a script, with part of a write
                    // in the transaction and the writes it took never told.
                    let group = self.clone();
                    let _ = tokio::spawn(async move { group.run_sent(open).await }).await;
                }
            }
        }
    }

    fn sent_writes(&self) -> std::sync::MutexGuard<'_, VecDeque<Sent>> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// With the turn to write: runs the writes sent so far, as many as the group has room
    /// for, together, then hands the transaction on.
    async fn run_sent(&self, mut open: OwnedMutexGuard<Open>) {
        let room = GROUP_LIMIT.saturating_sub(open.joined);
        let mut rest: VecDeque<Sent> = {
            let mut sent = self.sent_writes();
            let n = room.min(sent.len());
            self.waiting.fetch_sub(n, Ordering::AcqRel);
            // A writer that gave up waiting (its request dropped) is not written for.
            sent.drain(..n).filter(|s| !s.told.is_closed()).collect()
        };
        while !rest.is_empty() {
            if let Err(e) = self.connect(&mut open).await {
                if let Some(sent) = rest.pop_front() {
                    let _ = sent.told.send(Err(e));
                }
                continue;
            }
            self.run_together(&mut open, &mut rest).await;
        }
        self.hand_on(open).await;
    }

    /// Runs the writes at the front of `rest` as one script, each its savepoint (the first's
    /// begins the transaction, if none is open) and its statements, and takes off `rest` those
    /// it settles. The writes kept are those before the first whose UPDATE found the version
    /// moved, or that failed; that one is rolled back to its savepoint, with whatever ran after
    /// it, and the writes after it stay at the front of `rest`, to run again.
    ///
    /// Why one script: each script is a hand-off to the connection's thread and back, and
    /// between two of them that thread waits until this task is run again on the runtime,
    /// which the actions deciding meanwhile share. Those waits were about a third of the
    /// writer's time when every write was a script of its own.
    async fn run_together(&self, open: &mut Open, rest: &mut VecDeque<Sent>) {
        let begun = open.begun;
        let mut sql = String::new();
        let mut binds = Vec::new();
        let mut parts: Vec<Part> = Vec::new();
        let mut at = 0;
        for sent in rest.iter() {
            let values: usize = sent.stmts.iter().map(|s| s.binds.len()).sum();
            if !parts.is_empty() && binds.len() + values > SCRIPT_VALUES {
                break;
            }
            // Only the first write can find no transaction open.
            let (entry, opening) = self.entry(begun || !parts.is_empty());
            sql.push_str(entry);
            sql.push_str(";\n");
            batch::append(&mut sql, &mut binds, &sent.stmts);
            parts.push(Part {
                update: at + opening,
                end: at + opening + sent.stmts.len(),
            });
            at += opening + sent.stmts.len();
        }
        // One write alone has the text it had the last time it came alone; several together
        // rarely come again in the same order and shapes.
        let (counts, failed) = open.counts(sql, binds, parts.len() == 1).await;
        self.scripts.fetch_add(1, Ordering::Relaxed);
        self.carried
            .fetch_add(parts.len() as u64, Ordering::Relaxed);
        let ran = counts.len();
        let stop = parts
            .iter()
            .position(|p| ran < p.end || counts.get(p.update) != Some(&1));
        let kept = stop.unwrap_or(parts.len());
        if kept > 0 {
            open.begun = true;
            open.joined += kept;
            open.kept.extend(rest.drain(..kept).map(|sent| sent.told));
        }
        let Some(k) = stop else {
            return;
        };
        let part = parts[k];
        let Some(sent) = rest.pop_front() else {
            return;
        };
        if ran < part.update {
            // Its savepoint never opened: nothing of it is in the transaction, and nothing
            // after it ran (a script stops at its first failure).
            if k == 0 && !begun {
                let _ = open.run("ROLLBACK").await;
            }
            let _ = sent
                .told
                .send(Err(failed.unwrap_or(sqlx::Error::WorkerCrashed)));
            return;
        }
        open.begun = true;
        open.joined += 1;
        // Its savepoint and those of the writes after it that opened theirs, innermost first.
        let opened = parts[k..].iter().filter(|p| ran >= p.update).count();
        let undo = "ROLLBACK TO member; RELEASE member;\n".repeat(opened);
        if let Err(e) = open.run(&undo).await {
            let cause = e.to_string();
            let _ = sent.told.send(Err(e));
            return self.abandon(open, &cause).await;
        }
        // The failure is this write's only if the script stopped inside it.
        let failed = if ran < part.end { failed } else { None };
        match (counts.get(part.update).copied(), failed) {
            // The version had moved (a statement after it may fail for that very reason):
            // told once the transaction is over, so that a read after it sees what moved it.
            (Some(0), _) => open.waiting_out.push(sent.told),
            (_, Some(e)) => {
                let _ = sent.told.send(Err(e));
            }
            (n, None) => {
                let _ = sent.told.send(Err(group_failed(&format!(
                    "a write's first statement changed {n:?} rows"
                ))));
            }
        }
    }

    /// Takes this process's turn to write, in order, with the writer's connection.
    async fn enter(self: &Arc<Self>) -> Result<OwnedMutexGuard<Open>, sqlx::Error> {
        let queued = Queued::new(self);
        let mut open = self.open.clone().lock_owned().await;
        queued.got_in();
        self.connect(&mut open).await?;
        Ok(open)
    }

    /// Gives the writer its connection, if it has none yet (or lost it).
    async fn connect(&self, open: &mut Open) -> Result<(), sqlx::Error> {
        if open.conn.is_none() {
            open.conn = Some(self.pool.acquire().await?.detach());
            self.connected.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// What opens a writer's savepoint, and how many statements that is: in the open
    /// transaction if one is `begun`, or in one begun with it.
    fn entry(&self, begun: bool) -> (&str, usize) {
        if begun {
            ("SAVEPOINT member", 1)
        } else {
            (&self.begin_member, self.begin_statements)
        }
    }

    /// A writer that has opened its savepoint.
    fn member(self: &Arc<Self>, mut open: OwnedMutexGuard<Open>) -> Member {
        open.begun = true;
        open.joined += 1;
        Member {
            group: self.clone(),
            open: Some(open),
        }
    }

    /// Rolls a member's work back to its savepoint, then hands the transaction on. If even
    /// that fails, the transaction is beyond saving: it is rolled back whole, and every member
    /// kept in it is told.
    ///
    /// With `wait`, returns only once the transaction is over, as a kept member would: a
    /// writer refused because another changed the case first (a conflict) then reads what
    /// that other wrote, not the state before it, and does not come straight back to conflict
    /// again while the group is still open.
    async fn undo(&self, mut open: OwnedMutexGuard<Open>, wait: bool) -> Result<(), sqlx::Error> {
        if let Err(e) = open.run("ROLLBACK TO member; RELEASE member").await {
            self.abandon(&mut open, &e.to_string()).await;
            return Err(e);
        }
        if wait && !open.kept.is_empty() && self.more_to_come(&open) {
            let (told, over) = oneshot::channel();
            open.waiting_out.push(told);
            drop(open);
            let _ = over.await;
            return Ok(());
        }
        self.hand_on(open).await;
        Ok(())
    }

    /// Whether the writer now holding the lock should leave the transaction open for the
    /// next: one is queued, and the group has room.
    fn more_to_come(&self, open: &Open) -> bool {
        open.joined < GROUP_LIMIT && self.waiting.load(Ordering::Acquire) > 0
    }

    /// Leaves the transaction open for the next writer if one is queued and the group has
    /// room; else ends it: committed if a member kept anything, rolled back if not.
    async fn hand_on(&self, mut open: OwnedMutexGuard<Open>) {
        if !open.begun || self.more_to_come(&open) {
            return;
        }
        let end = if open.kept.is_empty() {
            "ROLLBACK"
        } else {
            "COMMIT"
        };
        let ended = open.run(end).await;
        self.answer(&mut open, ended).await;
    }

    /// Answers every member kept in the transaction just ended: committed, or abandoned with
    /// the error that ended it.
    async fn answer(&self, open: &mut Open, ended: Result<(), sqlx::Error>) {
        if let Err(e) = ended {
            return self.abandon(open, &e.to_string()).await;
        }
        open.begun = false;
        open.joined = 0;
        if !open.kept.is_empty() {
            self.commits.fetch_add(1, Ordering::Relaxed);
            self.writes
                .fetch_add(open.kept.len() as u64, Ordering::Relaxed);
        }
        for member in open.kept.drain(..) {
            let _ = member.send(Ok(true));
        }
        for member in open.waiting_out.drain(..) {
            let _ = member.send(Ok(false));
        }
    }

    /// Rolls the whole transaction back and tells every member kept in it that nothing of
    /// theirs was written. A connection that cannot even roll back is closed, and the next
    /// writer opens a fresh one.
    async fn abandon(&self, open: &mut Open, cause: &str) {
        tracing::error!(
            cause,
            members = open.kept.len(),
            "a group of writes was rolled back"
        );
        if let Some(mut conn) = open.conn.take() {
            // SQLite may have rolled back already (a full disk does). Either way the connection
            // is closed, which rolls back whatever is left, and the next writer opens a fresh one.
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
            let _ = conn.close().await;
            self.connected.store(false, Ordering::Relaxed);
        }
        open.begun = false;
        open.joined = 0;
        for member in open.kept.drain(..) {
            let _ = member.send(Err(group_failed(cause)));
        }
        for member in open.waiting_out.drain(..) {
            let _ = member.send(Ok(false));
        }
    }
}

/// Counts a writer as queued until it gets in. A writer given up while queued (its request
/// dropped) may be the one the open transaction was left for, so then someone must look
/// again: a task of its own takes the lock and ends the group if no one else is queued.
struct Queued<'a> {
    group: &'a Arc<Group>,
    inside: bool,
}

impl<'a> Queued<'a> {
    fn new(group: &'a Arc<Group>) -> Self {
        group.waiting.fetch_add(1, Ordering::AcqRel);
        Queued {
            group,
            inside: false,
        }
    }

    fn got_in(mut self) {
        self.inside = true;
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.group.waiting.fetch_sub(1, Ordering::AcqRel);
        if self.inside {
            return;
        }
        let group = self.group.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let open = group.open.clone().lock_owned().await;
                group.hand_on(open).await;
            });
        }
    }
}

/// One writer's part of a group: its turn on the writer's connection, inside its savepoint.
/// Dropped without [`Member::commit`] or [`Member::rollback`] (an error returned early, a
/// request dropped), its work is rolled back to the savepoint by a task of its own, which then
/// hands the transaction on.
pub(crate) struct Member {
    group: Arc<Group>,
    /// Held from `join` until the member ends; `None` only while it is ending.
    open: Option<OwnedMutexGuard<Open>>,
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member").finish_non_exhaustive()
    }
}

impl Member {
    fn take(&mut self) -> OwnedMutexGuard<Open> {
        self.open.take().expect("a member ends once")
    }

    /// The writer's connection, in this member's savepoint.
    pub(crate) fn conn(&self) -> &AnyConnection {
        self.open
            .as_ref()
            .expect("a member holds the lock until it ends")
            .conn
            .as_ref()
            .expect("a member's group has its connection")
    }

    /// The writer's connection, in this member's savepoint.
    pub(crate) fn conn_mut(&mut self) -> &mut AnyConnection {
        self.open
            .as_mut()
            .expect("a member holds the lock until it ends")
            .conn
            .as_mut()
            .expect("a member's group has its connection")
    }

    /// Keeps this member's work: released into the group's transaction, and answered once
    /// that transaction has committed (or with the error that rolled it back).
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        let group = self.group.clone();
        let mut open = self.take();
        // Kept by leaving its savepoint open: the next member's nests inside it, so that a
        // rollback to the innermost `member` is always the current writer's own. Releasing
        // it would be one more hand-off to the connection's thread, and those hand-offs, not
        // SQLite's work, are most of what a write costs here.
        let (told, outcome) = oneshot::channel();
        open.kept.push(told);
        if !group.more_to_come(&open) {
            // The last of its group: COMMIT ends every savepoint still open, and every
            // member, this one too, is answered before the lock is let go.
            let ended = open.run("COMMIT").await;
            group.answer(&mut open, ended).await;
        }
        // Else the writer queued next gets in with the transaction open; it, or one after
        // it, commits and answers this one.
        drop(open);
        match outcome.await {
            Ok(told) => told.map(|_| ()),
            Err(_) => Err(group_failed("it ended without an answer")),
        }
    }

    /// Rolls this member's work back to its savepoint; its neighbours keep theirs.
    pub(crate) async fn rollback(mut self) -> Result<(), sqlx::Error> {
        let group = self.group.clone();
        let open = self.take();
        group.undo(open, true).await
    }
}

/// What a member is told when the group its write went into was rolled back.
fn group_failed(cause: &str) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(format!(
        "the group of writes this one was in was rolled back: {cause}"
    )))
}

impl Drop for Member {
    fn drop(&mut self) {
        let Some(open) = self.open.take() else {
            return;
        };
        let group = self.group.clone();
        // Without a runtime the process is ending, and its connection with it: SQLite rolls
        // back what was never committed.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = group.undo(open, false).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;
    use sqlx::any::AnyPoolOptions;

    /// A write to row `id` of `t`, under the value `v` it was decided at, that then logs `id`
    /// into `into` (a table that may not exist, to make the write fail after its UPDATE).
    fn write(id: i64, v: i64, into: &str) -> Vec<Stmt> {
        vec![
            Stmt::new(
                "UPDATE t SET v = v + 1 WHERE id = $1 AND v = $2",
                vec![Val::Int(id), Val::Int(v)],
            ),
            Stmt::new(
                format!("INSERT INTO {into} VALUES ($1)"),
                vec![Val::Int(id)],
            ),
        ]
    }

    /// Five writes queued while the turn is held, so that they run in one script: a conflict
    /// and a failure among them are each rolled back alone, the writes after each run again,
    /// and the three kept share one commit.
    #[tokio::test]
    async fn writes_run_together_are_each_settled_alone() {
        sqlx::any::install_default_drivers();
        let path = std::env::temp_dir().join(format!("group-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .expect("pool");
        sqlx::raw_sql(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);
             INSERT INTO t VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0);
             CREATE TABLE log (id INTEGER NOT NULL);",
        )
        .execute(&pool)
        .await
        .expect("schema");
        // A plain BEGIN: one process here, and the dialect alone names how writers get in.
        let group = Group::new(pool.clone(), "BEGIN");
        let writes = [
            write(1, 0, "log"),
            write(2, 7, "log"), // decided at a stale value: a conflict
            write(3, 0, "log"),
            write(4, 0, "missing"), // fails after its UPDATE
            write(5, 0, "log"),
        ];
        let held = group.open.clone().lock_owned().await;
        let tasks: Vec<_> = writes
            .into_iter()
            .map(|stmts| {
                let group = group.clone();
                tokio::spawn(async move { group.write(stmts).await })
            })
            .collect();
        while group.sent_writes().len() < tasks.len() {
            tokio::task::yield_now().await;
        }
        drop(held);
        let mut told = Vec::new();
        for task in tasks {
            told.push(task.await.expect("task"));
        }
        assert!(matches!(told[0], Ok(true)), "{:?}", told[0]);
        assert!(matches!(told[1], Ok(false)), "{:?}", told[1]);
        assert!(matches!(told[2], Ok(true)), "{:?}", told[2]);
        assert!(told[3].is_err(), "{:?}", told[3]);
        assert!(matches!(told[4], Ok(true)), "{:?}", told[4]);
        // The five went in one script; after the conflict the last three again; after the
        // failure the last alone.
        assert_eq!(
            group.sharing(),
            CommitSharing {
                commits: 1,
                writes: 3,
                scripts: 3,
                carried: 9,
            }
        );
        group.close().await;
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .expect("pool");
        let rows = sqlx::query("SELECT id, v FROM t ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("rows");
        let values: Vec<(i64, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(values, [(1, 1), (2, 0), (3, 1), (4, 0), (5, 1)]);
        let logged = sqlx::query("SELECT id FROM log ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("log");
        let logged: Vec<i64> = logged.iter().map(|r| r.get(0)).collect();
        assert_eq!(logged, [1, 3, 5]);
        pool.close().await;
        let _ = std::fs::remove_file(&path);
    }
}
