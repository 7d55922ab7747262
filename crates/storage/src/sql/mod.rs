//! The SQL store: one implementation over sqlx's `Any` driver, run on SQLite or PostgreSQL, cut
//! by area: each file implements one of the storage traits (or serves those that do).
//!
//! The two dialects differ only where they must (schema types and triggers in `migrations/`;
//! in Rust, `dialect.rs` lists where), so one body of SQL with `$N` placeholders serves both
//! and is tested against both. The submodules share this
//! module's items and each other's through `use super::*`: they are one implementation, cut
//! into files for reading.

mod act;
mod cases;
mod connect;
mod dialect;
mod directory;
mod import;
mod inbox;
mod lists;
mod numbers;
mod personal;
mod reporting;
mod rows;
mod schema;
mod search;
mod tokens;
mod tx;
mod values;

pub(crate) use cases::*;
pub(crate) use dialect::*;
pub(crate) use directory::*;
pub(crate) use reporting::*;
pub(crate) use rows::*;
pub(crate) use search::*;
pub(crate) use tx::*;
pub(crate) use values::*;

pub use dialect::{Backend, OnlineCopy, sqlite_file};

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
    /// The one writing connection where the dialect has one writer (see [`SqliteWriter`]).
    writer: Option<SqliteWriter>,
}

/// Where the dialect lets one writer in at a time ([`Backend::one_writer`]), writers of this
/// process queue on `turn`, in order, and wake at once; they write through one connection of
/// their own, whose page cache no other writer ever invalidates.
#[derive(Debug, Clone)]
struct SqliteWriter {
    turn: std::sync::Arc<tokio::sync::Mutex<()>>,
    pool: AnyPool,
}

/// Reading connections beside the one writer, whatever more was asked for: every connection is a thread
/// of sqlx's and a memory map of its own, remapped as the file grows; more of them than cores
/// only switch between each other (measured: with 68, an action cost half again as much).
const ONE_WRITER_READERS: u32 = 2;

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
}
