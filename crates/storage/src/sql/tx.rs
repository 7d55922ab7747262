//! Write transactions, begun as the dialect lets writers in.

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
}
