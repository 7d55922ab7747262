//! Helpers shared by Duban's test suites, and a dev-dependency of those suites only.
//!
//! - [`PgDatabase`]: a PostgreSQL database made for one test, dropped with it.
//! - [`TestDb`] with [`sqlite`] and [`postgres`]: a store on a fresh database.
//! - [`World`]: the shipped workflows and calendar, acted through as the service does.
//! - [`Office`]: organisations, people, tokens and passwords, and a service on a fixed clock.
//! - [`keys`] and [`ts`]: the test keys and instants written as China time.
//!
//! `tests/it/tidy.rs` keeps it out of every crate's `[dependencies]`: nothing here is product.

mod office;
mod postgres;
mod store;
mod world;

pub use office::{Office, OfficeBuilder};
pub use postgres::{PgDatabase, admin_url};
pub use store::{TestDb, postgres, postgres_unmigrated, sqlite, sqlite_unmigrated};
pub use world::{Failure, World, actor};

use duban_storage::Keyring;
use jiff::Timestamp;

/// The personal-data keys every test store is opened with. One pair for every suite, so a
/// child process that opens its parent's database (the crash tests) reads what was written.
pub fn keys() -> Keyring {
    Keyring::new([0x11; 32], [0x22; 32])
}

/// The instant a local time in China names: `ts("2024-03-01T09:00:00")` is 09:00 in Beijing.
/// Tests write office hours as people there read them, and deadlines end at China's midnight.
pub fn ts(s: &str) -> Timestamp {
    format!("{s}+08:00")
        .parse()
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The name the test harness knows a test by, for running it alone in a child process with
/// `--exact`: its path below the test crate, so `test_name(module_path!(), "a")` in module
/// `crash` of test crate `it` is `crash::a`.
pub fn test_name(module_path: &str, test: &str) -> String {
    match module_path.split_once("::") {
        Some((_crate, module)) => format!("{module}::{test}"),
        None => test.to_string(),
    }
}
