//! The SQL store: one implementation over sqlx's `Any` driver, run on SQLite or PostgreSQL, cut
//! by area: each file implements one of the storage traits (or serves those that do).
//!
//! The two dialects differ only where they must (schema types and triggers in `migrations/`;
//! in Rust, `dialect.rs` lists where), so one body of SQL with `$N` placeholders serves both
//! and is tested against both. The submodules share this
//! module's items and each other's through `use super::*`: they are one implementation, cut
//! into files for reading.

mod act;
mod batch;
mod cases;
mod checkpoint;
mod connect;
mod dialect;
mod directory;
mod effects;
mod group;
mod import;
mod inbox;
mod lists;
mod numbers;
mod personal;
mod repeats;
mod reporting;
mod rows;
mod schema;
mod search;
mod tokens;
mod tx;
mod values;

pub(crate) use batch::{Stmt, run as run_batch};
pub(crate) use cases::*;
pub(crate) use dialect::*;
pub(crate) use directory::*;
pub(crate) use effects::*;
pub(crate) use reporting::*;
pub(crate) use rows::*;
pub(crate) use search::*;
pub(crate) use tx::*;
pub(crate) use values::*;

pub use dialect::{Backend, OnlineCopy, sqlite_file};
pub use group::CommitSharing;
pub use import::SqlImport;

use crate::Result;
use crate::crypto::Keyring;
use sqlx::AnyPool;

/// The store. Cloning shares the connection pool.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    keys: Option<Keyring>,
    faults: Option<std::sync::Arc<crate::Faults>>,
    /// How writers get in: the dialect's choice ([`Writers`]).
    writers: Writers,
}

impl SqlStore {
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

    /// The database connections this process holds, as (in use, idle), over the readers' pool
    /// and the writer's where it has one of its own (kept by the writer, so counted in use):
    /// what the `/metrics` gauges show.
    pub fn connections(&self) -> (u32, u32) {
        let size = self.pool.size();
        let free = u32::try_from(self.pool.num_idle())
            .unwrap_or(u32::MAX)
            .min(size);
        let writer = self.writers.group().map_or(0, |g| u32::from(g.connected()));
        (size - free + writer, free)
    }

    /// How much this process's writes have shared their commits since the store opened: on
    /// SQLite, where writes queued together share one (group commit); `None` on PostgreSQL,
    /// whose server shares its WAL flushes itself.
    pub fn commit_sharing(&self) -> Option<CommitSharing> {
        self.writers.group().map(|g| g.sharing())
    }

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

    /// The key signed links are sealed under: none without personal-data keys.
    pub fn link_key(&self) -> Option<crate::LinkKey> {
        self.keys.as_ref().map(Keyring::link_key)
    }
}
