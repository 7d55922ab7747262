//! Connecting: the pools and their options for each database, and opening a store with its
//! schema brought up to date.

use std::sync::Once;

use sqlx::any::AnyPoolOptions;

use super::*;
use crate::crypto::Keyring;
use crate::{Result, Schema};

/// A PostgreSQL connection idle this long is pinged before use (`postgres_options`).
pub(crate) const PING_IF_IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(1);

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
    pub(crate) fn postgres_options(options: AnyPoolOptions) -> AnyPoolOptions {
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

    pub(crate) fn sqlite_options(options: AnyPoolOptions) -> AnyPoolOptions {
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

    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(w) = &self.writer {
            w.pool.close().await;
        }
    }
}
