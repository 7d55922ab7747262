//! SQLite's checkpoints, run beside the one writer instead of inside its commits.
//!
//! Why: in WAL mode the connection that commits past `wal_autocheckpoint` pages copies the
//! log back into the database file and syncs it before its COMMIT returns. With group commit
//! that connection is the one writer every action waits for, so each such copy stalled a
//! whole group (measured: the engine's actions per second rose by a fifth with the copy moved
//! out of the writer's way). A PASSIVE checkpoint from a reading connection does the same copy
//! without taking the write lock, and the writer only appends to the log and syncs it.
//!
//! The writer keeps a backstop of its own (`wal_autocheckpoint` in `sqlite_options`,
//! `dialect.rs`): should this task fall behind, the log still cannot grow without bound.

use std::sync::Weak;
use std::time::Duration;

use sqlx::AnyPool;

use super::group::Group;

/// How often the log is copied back while writes come in: about 4,000 pages at the engine's
/// fastest, so each copy stays small and the log's pages are still in the OS cache.
const EVERY: Duration = Duration::from_millis(100);

/// Runs checkpoints on `readers` while `group` (the store's writer) lives and writes: a task
/// of its own, ended when the store is dropped or its pool closed.
pub(crate) fn spawn(readers: AnyPool, group: Weak<Group>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let mut copied = 0;
        loop {
            tokio::time::sleep(EVERY).await;
            let Some(writes) = group.upgrade().map(|g| g.sharing().writes) else {
                return;
            };
            if writes == copied {
                continue;
            }
            if readers.is_closed() {
                return;
            }
            match sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&readers)
                .await
            {
                Ok(_) => copied = writes,
                // Closed while this round waited for a connection: the store is shutting
                // down (a command such as `backup` finishing), which ends the task, not a fault.
                Err(sqlx::Error::PoolClosed) => return,
                // The next round tries again; the writer's backstop bounds the log meanwhile.
                Err(e) => tracing::warn!(error = %e, "a checkpoint failed"),
            }
        }
    });
}
