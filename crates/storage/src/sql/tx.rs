//! Write transactions, begun as the dialect lets writers in, and what an action read its
//! case under ([`Held`]).

use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use super::*;
use crate::Result;

/// A write transaction: on SQLite a member of the group sharing the one writer's
/// transaction (`group.rs`), on PostgreSQL a transaction of its own.
pub(crate) struct WriteTx {
    pub(crate) writing: Writing,
    pub(crate) backend: Backend,
}

/// How a write is under way (the dialect's [`Writers`] choose).
#[derive(Debug)]
pub(crate) enum Writing {
    /// A transaction of its own, committed alone.
    Alone(Transaction<'static, Any>),
    /// A savepoint in a transaction shared with the writers queued beside it.
    Grouped(super::group::Member),
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        match &self.writing {
            Writing::Alone(tx) => tx,
            Writing::Grouped(member) => member.conn(),
        }
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        match &mut self.writing {
            Writing::Alone(tx) => tx,
            Writing::Grouped(member) => member.conn_mut(),
        }
    }
}

impl WriteTx {
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// Commits; a member of a group returns once the group's commit has.
    pub(crate) async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        match self.writing {
            Writing::Alone(tx) => tx.commit().await,
            Writing::Grouped(member) => member.commit().await,
        }
    }

    /// Rolls back what this write did, and only that.
    pub(crate) async fn rollback(self) -> std::result::Result<(), sqlx::Error> {
        match self.writing {
            Writing::Alone(tx) => tx.rollback().await,
            Writing::Grouped(member) => member.rollback().await,
        }
    }
}

/// What an action's unit of work read its case under, to record it in. On SQLite it is the write transaction, holding this
/// process's turn to write, that the case was read in: the read comes from the writing
/// connection's warm page cache (a reading connection re-reads from the log every page the
/// last action changed), the action decides on the state it will write over, and the write
/// needs no second turn. On PostgreSQL it is empty: the action's UPDATE checks the version.
///
/// Dropping it rolls the transaction back and lets the next writer in. It never leaves this
/// crate: the unit of work (`act.rs`) lets go of it before a refusal is handed back.
#[derive(Default)]
pub(crate) struct Held(pub(crate) Option<WriteTx>);

impl Held {
    /// Rolls back what is held, if anything, and lets the next writer in.
    pub(crate) async fn release(self) -> Result<()> {
        if let Some(tx) = self.0 {
            tx.rollback().await?;
        }
        Ok(())
    }
}

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
pub(crate) async fn hold(tx: Option<WriteTx>, found: bool) -> Result<Held> {
    let held = Held(tx);
    if found {
        return Ok(held);
    }
    held.release().await?;
    Ok(Held::default())
}

impl SqlStore {
    pub(crate) async fn begin_write(&self) -> Result<WriteTx> {
        self.begin().await
    }

    /// A write transaction, begun as the dialect's [`Writers`] let writers in.
    pub(crate) async fn begin(&self) -> Result<WriteTx> {
        Ok(WriteTx {
            writing: self.writers.begin(&self.pool).await?,
            backend: self.backend,
        })
    }

    /// An action's read (`sql` with `binds`): in a write transaction of its own, begun for it
    /// and returned with the row, where the dialect reads to act there (see [`Held`]); else
    /// as any read.
    pub(crate) async fn read_to_act_on(
        &self,
        sql: &'static str,
        binds: Vec<Val>,
    ) -> Result<(Option<AnyRow>, Option<WriteTx>)> {
        if !self.backend.reads_to_act_in_write_tx() {
            let mut query = sqlx::query(sql);
            for v in binds {
                query = v.bind_to(query);
            }
            return Ok((query.fetch_optional(&self.pool).await?, None));
        }
        let (writing, row) = self.writers.begin_reading(&self.pool, sql, binds).await?;
        let tx = WriteTx {
            writing,
            backend: self.backend,
        };
        Ok((row, Some(tx)))
    }
}
