//! Backup and restore as an operator runs them: a demo year is backed up while the database is
//! open, the database is wiped, the backup restored, and the same records are there — on SQLite
//! and on PostgreSQL.

use std::path::Path;
use std::process::Command;

use duban_testkit::PgDatabase;

use crate::common::TempDir;

fn duban(dir: &Path, url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_duban"))
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .output()
        .expect("run duban")
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn figures(dir: &Path, url: &str) -> String {
    let report = ok(duban(
        dir,
        url,
        &[
            "report",
            "--year",
            "2024",
            "--as-of",
            "2024-12-31",
            "--format",
            "json",
        ],
    ));
    let r: serde_json::Value = serde_json::from_str(&report).expect("json");
    format!(
        "{} {} {}",
        r["kinds"], r["petitions"]["transferred"], r["mediation"]["agreement"]
    )
}

fn round_trip(dir: &Path, url: &str, wipe: &dyn Fn()) {
    ok(duban(dir, url, &["demo", "--scale", "0.2"]));
    let before = figures(dir, url);
    let file = dir.join("backup.duban");
    ok(duban(dir, url, &["backup", file.to_str().expect("path")]));
    assert!(
        !duban(dir, url, &["backup", file.to_str().expect("path")])
            .status
            .success(),
        "never overwrites"
    );
    // A database with data is not replaced without --force.
    assert!(
        !duban(dir, url, &["restore", file.to_str().expect("path")])
            .status
            .success()
    );
    wipe();
    assert!(figures(dir, url).contains("\"filed\":0"), "wiped");
    ok(duban(dir, url, &["restore", file.to_str().expect("path")]));
    assert_eq!(figures(dir, url), before, "the same records after restore");
    // The restored personal data still decrypts with the kept keys: an export works, masked.
    ok(duban(
        dir,
        url,
        &["export", "--kind", "petition", "--year", "2024", "p.csv"],
    ));
    // Through a pipe: `backup -` writes the backup alone to standard output, and
    // `restore -` reads one from standard input.
    let piped = duban(dir, url, &["backup", "-"]);
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert!(!piped.stdout.is_empty());
    wipe();
    ok(crate::common::duban_env_with_input(
        dir,
        &["restore", "-", "--force"],
        &[("DATABASE_URL", url)],
        &piped.stdout,
    ));
    assert_eq!(figures(dir, url), before, "the same records through a pipe");
}

#[test]
fn sqlite_backup_wipe_restore() {
    let tmp = TempDir::new("backup");
    let db = tmp.path().join("duban.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    round_trip(tmp.path(), &url, &|| {
        for s in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{s}", db.display()));
        }
    });
}

/// Runs `sql` on the server's administrative database; whether it succeeded.
fn psql(admin_url: &str, sql: &str) -> bool {
    Command::new("psql")
        .args([admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn postgres_backup_wipe_restore() {
    let Some(db) = PgDatabase::create_blocking() else {
        return;
    };
    let tmp = TempDir::new("backup-pg");
    round_trip(tmp.path(), db.url(), &|| {
        assert!(
            psql(
                db.admin_url(),
                &format!("DROP DATABASE {} WITH (FORCE)", db.name())
            ) && psql(db.admin_url(), &format!("CREATE DATABASE {}", db.name()))
        );
    });
}

#[test]
fn a_backup_from_a_newer_version_is_refused_before_anything_is_replaced() {
    let tmp = TempDir::new("backup-newer");
    let db = tmp.path().join("duban.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    ok(duban(tmp.path(), &url, &["demo", "--scale", "0.1"]));
    let before = figures(tmp.path(), &url);
    let file = tmp.path().join("newer.duban");
    ok(duban(
        tmp.path(),
        &url,
        &["backup", file.to_str().expect("path")],
    ));
    // A newer duban's backup: its schema has a migration this binary does not know.
    crate::common::migrated_by_a_newer_duban(&format!("sqlite://{}?mode=rw", file.display()));
    let out = duban(
        tmp.path(),
        &url,
        &["restore", file.to_str().expect("path"), "--force"],
    );
    assert!(!out.status.success(), "restored a newer backup");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("schema version 99") && err.contains("nothing was replaced"),
        "{err}"
    );
    assert_eq!(
        figures(tmp.path(), &url),
        before,
        "the database is as it was"
    );
    assert!(
        !tmp.path().join("duban.db.restoring").exists(),
        "no staged copy left behind"
    );
}

/// An SQLite file's page size, read through a connection of its own.
fn page_size(file: &Path) -> i64 {
    sql_on(file, "PRAGMA page_size")
}

/// Runs `sql` on an SQLite file (creating it if need be); the first column of its last row.
fn sql_on(file: &Path, sql: &str) -> i64 {
    use sqlx::{Connection, Row};
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let url = format!("sqlite://{}?mode=rwc", file.display());
            let mut conn = sqlx::sqlite::SqliteConnection::connect(&url)
                .await
                .expect("open");
            let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .fetch_all(&mut conn)
                .await
                .expect("sql");
            let last = rows.last().map(|r| r.get::<i64, _>(0)).unwrap_or(0);
            conn.close().await.expect("close");
            last
        })
}

/// New databases get 2 KiB pages (each action writes whole pages to the log, so smaller ones
/// commit faster: docs/performance.md). A database made before keeps its own while open, and
/// `backup` writes the copy in the new size, so a backup and a restore convert it.
#[test]
fn a_backup_converts_an_older_database_to_the_page_size_new_ones_get() {
    let tmp = TempDir::new("backup-pages");
    let fresh = tmp.path().join("fresh.db");
    ok(duban(
        tmp.path(),
        &format!("sqlite://{}?mode=rwc", fresh.display()),
        &["migrate"],
    ));
    assert_eq!(page_size(&fresh), 2048, "a new database");

    // A database made by an earlier duban: SQLite's default 4 KiB pages, in WAL.
    let old = tmp.path().join("old.db");
    sql_on(
        &old,
        "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; \
         CREATE TABLE t (a); DROP TABLE t; SELECT 0",
    );
    let old_url = format!("sqlite://{}?mode=rwc", old.display());
    ok(duban(tmp.path(), &old_url, &["demo", "--scale", "0.1"]));
    assert_eq!(page_size(&old), 4096, "an open database keeps its pages");

    let file = tmp.path().join("pages.duban");
    ok(duban(
        tmp.path(),
        &old_url,
        &["backup", file.to_str().expect("path")],
    ));
    assert_eq!(page_size(&file), 2048, "the backup");
    let restored = tmp.path().join("restored.db");
    let restored_url = format!("sqlite://{}?mode=rwc", restored.display());
    ok(duban(
        tmp.path(),
        &restored_url,
        &["restore", file.to_str().expect("path")],
    ));
    assert_eq!(page_size(&restored), 2048, "the restored database");
    assert_eq!(
        figures(tmp.path(), &restored_url),
        figures(tmp.path(), &old_url),
        "the same records"
    );
}
