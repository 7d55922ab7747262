//! Connecting: the pools and their options for each database, and opening a store with its
//! schema brought up to date.

use std::sync::Once;

use super::*;
use crate::crypto::Keyring;
use crate::{Result, Schema};

impl SqlStore {
    /// Connects to `url` (`sqlite://PATH?mode=rwc` or `postgres://…`), with the options the
    /// dialect gives (SQLite: WAL with `synchronous = FULL`, so an acknowledged action
    /// survives a power cut).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let backend = Backend::from_url(url)?;
        if let Some(path) = sqlite_file(url) {
            crate::private::make_private(&path)?;
        }
        let (pool, writers) = backend.connect_pools(url, max_connections).await?;
        Ok(Self {
            pool,
            backend,
            keys: None,
            faults: None,
            writers,
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

    pub async fn close(&self) {
        self.pool.close().await;
        self.writers.close().await;
    }
}
