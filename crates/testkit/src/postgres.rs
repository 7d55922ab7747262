//! A PostgreSQL database made for one test on the `TEST_DATABASE_URL` server, dropped with it.

use std::io::Write;
use std::time::Duration;

/// The server the PostgreSQL legs use: `TEST_DATABASE_URL`, else the local default.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A uniquely named database on the test server, dropped with its connections when dropped.
#[derive(Debug)]
pub struct PgDatabase {
    url: String,
    admin_url: String,
    name: String,
}

impl PgDatabase {
    /// Creates a fresh database, or returns `None` when no server answers outside CI. Under
    /// `CI=true` a missing server fails the test: CI must never pass by skipping.
    pub async fn create() -> Option<PgDatabase> {
        let admin_url = admin_url();
        // A short timeout: a developer without a server should not wait for every test.
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(3))
            .connect(&admin_url)
            .await;
        let admin = match admin {
            Ok(pool) => pool,
            Err(e) => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("CI=true but PostgreSQL is unreachable at {admin_url}: {e}");
                }
                // Written straight to stderr, past the test harness's capture, so it is seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** PostgreSQL leg SKIPPED: no server at {admin_url} ({e}). Set TEST_DATABASE_URL to run it. ***\n"
                );
                return None;
            }
        };
        let name = format!("duban_test_{}", uuid::Uuid::now_v7().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("TEST_DATABASE_URL must end in /DATABASE"),
        };
        Some(PgDatabase {
            url,
            admin_url,
            name,
        })
    }

    /// [`PgDatabase::create`] for a test that has no runtime of its own.
    pub fn create_blocking() -> Option<PgDatabase> {
        on_own_thread(Self::create()).expect("create test database")
    }

    /// The URL to connect to the database with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL of the server's administrative database, for statements about this one.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = on_own_thread(async move {
            if let Ok(pool) = sqlx::PgPool::connect(&admin_url).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&pool).await;
                pool.close().await;
            }
        });
    }
}

/// Runs `work` on a runtime of its own, on a thread of its own: `Drop` cannot await, and a
/// runtime cannot be started inside the test's own. `None` if that thread panicked.
fn on_own_thread<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> Option<T> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(work)
    })
    .join()
    .ok()
}
