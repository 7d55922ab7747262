//! Write transactions, begun as the dialect lets writers in, and what an action read its
//! case under ([`Held`]).

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Transaction};

use super::*;
use crate::Result;

/// A write transaction, holding this process's turn to write on SQLite.
pub(crate) struct WriteTx {
    pub(crate) tx: Transaction<'static, Any>,
    pub(crate) _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    pub(crate) backend: Backend,
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
    /// The connections writes go through (the dialect's [`Writers`]).
    pub(crate) fn writing_pool(&self) -> &sqlx::AnyPool {
        self.writers.pool(&self.pool)
    }

    pub(crate) async fn begin_write(&self) -> Result<WriteTx> {
        self.begin().await
    }

    /// A write transaction, begun as the dialect's [`Writers`] let writers in.
    pub(crate) async fn begin(&self) -> Result<WriteTx> {
        let (turn, tx) = self.writers.begin(&self.pool).await?;
        Ok(WriteTx {
            tx,
            _turn: turn,
            backend: self.backend,
        })
    }

    /// An action's read: in a write transaction of its own, begun for it and returned with
    /// the row, where the dialect reads to act there (see [`Held`]); else as any read.
    pub(crate) async fn read_to_act_on(
        &self,
        query: Query<'_, Any, AnyArguments>,
    ) -> Result<(Option<AnyRow>, Option<WriteTx>)> {
        if !self.backend.reads_to_act_in_write_tx() {
            return Ok((query.fetch_optional(&self.pool).await?, None));
        }
        let mut tx = self.begin().await?;
        let row = query.fetch_optional(&mut *tx).await?;
        Ok((row, Some(tx)))
    }
}
