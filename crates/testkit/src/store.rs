//! A store on a fresh database for one test: a SQLite file in the temp directory or a
//! PostgreSQL database, either removed when the test is done.

use std::path::PathBuf;

use duban_storage::{Schema, SqlStore};

use crate::{PgDatabase, keys};

/// A store on a fresh database, opened with the test [`keys`]; removed when dropped.
#[derive(Debug)]
pub struct TestDb {
    pub store: SqlStore,
    pub url: String,
    place: Place,
}

/// Where the database lives, and so how it is removed.
#[derive(Debug)]
enum Place {
    File(PathBuf),
    // Kept only to be dropped: fields drop in order, so the store's pool goes first.
    Postgres { _database: PgDatabase },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Place::File(path) = &self.place {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// A fresh SQLite file in the temp directory, migrated.
pub async fn sqlite() -> TestDb {
    let db = sqlite_unmigrated().await;
    db.store.migrate().await.expect("migrate sqlite");
    db
}

/// A fresh SQLite file with no schema yet: for tests of databases made by older versions.
pub async fn sqlite_unmigrated() -> TestDb {
    let path =
        std::env::temp_dir().join(format!("duban_test_{}.db", uuid::Uuid::now_v7().simple()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let store = SqlStore::connect(&url, 8)
        .await
        .expect("open sqlite")
        .with_keys(keys());
    TestDb {
        store,
        url,
        place: Place::File(path),
    }
}

/// A fresh PostgreSQL database, migrated; `None` as for [`PgDatabase::create`].
pub async fn postgres() -> Option<TestDb> {
    let db = postgres_unmigrated().await?;
    db.store.migrate().await.expect("migrate postgres");
    Some(db)
}

/// A fresh PostgreSQL database with no schema yet; `None` as for [`PgDatabase::create`].
pub async fn postgres_unmigrated() -> Option<TestDb> {
    let database = PgDatabase::create().await?;
    let url = database.url().to_string();
    let store = SqlStore::connect(&url, 20)
        .await
        .expect("open postgres")
        .with_keys(keys());
    Some(TestDb {
        store,
        url,
        place: Place::Postgres {
            _database: database,
        },
    })
}
