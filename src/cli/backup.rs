//! `duban backup FILE` and `duban restore FILE`: an online, consistent copy of the database and
//! putting one back — SQLite with `VACUUM INTO`, PostgreSQL with `pg_dump` / `pg_restore`.
//! The personal-data keys are not in the backup: keep `duban.keys` (or the key variables)
//! safe separately, or the restored personal data cannot be read.

use duban_storage::{Lists, Schema};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use clap::Args;
use duban_storage::{Backend, OnlineCopy, SqlStore};

use super::migrate::redacted;
use super::setup::{self, Settings};
use super::stdio::{is_stdio, read_input};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the backup (must not exist); `-` writes it to standard output.
    file: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A file written by `duban backup`; `-` reads it from standard input.
    file: PathBuf,
    /// Replace a database that already has data.
    #[arg(long)]
    force: bool,
}

/// The SQLite file a `sqlite://PATH?…` URL names.
fn run_tool(tool: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .with_context(|| format!("cannot run `{tool}`: install the PostgreSQL client tools"))?;
    if !out.status.success() {
        bail!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// A private file of this process's own in the temporary directory, for a backup that passes
/// through standard input or output: both tools write and read files.
fn spool() -> PathBuf {
    std::env::temp_dir().join(format!("duban-backup-{}", uuid::Uuid::new_v4().simple()))
}

/// The file is removed when this is dropped, whatever happened.
struct Spooled(PathBuf);

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub fn backup(args: BackupArgs, settings: &Settings) -> Result<ExitCode> {
    if is_stdio(&args.file) {
        let spooled = Spooled(spool());
        let code = backup(
            BackupArgs {
                file: spooled.0.clone(),
            },
            settings,
        )?;
        let bytes = std::fs::read(&spooled.0).context("cannot read the spooled backup")?;
        std::io::Write::write_all(&mut std::io::stdout(), &bytes)
            .context("cannot write standard output")?;
        return Ok(code);
    }
    if args.file.exists() {
        bail!(
            "{} already exists; a backup never overwrites",
            args.file.display()
        );
    }
    match Backend::from_url(&settings.database_url)?.online_copy() {
        OnlineCopy::VacuumInto => setup::runtime()?.block_on(async {
            let store = setup::store(settings, 1).await?;
            // Recorded before the copy, so that the backup holds its own record.
            super::audit::record(&store, "backup", &args.file.display().to_string(), "").await?;
            store.sqlite_backup(&args.file).await?;
            store.close().await;
            anyhow::Ok(())
        })?,
        OnlineCopy::Tools { dump, .. } => {
            setup::runtime()?.block_on(async {
                let store = setup::store(settings, 1).await?;
                // Recorded before the dump, so that the backup holds its own record.
                super::audit::record(&store, "backup", &args.file.display().to_string(), "")
                    .await?;
                store.close().await;
                anyhow::Ok(())
            })?;
            // Created private first: pg_dump writes into it and keeps its mode.
            duban_storage::create_private(&args.file)?;
            let dumped = run_tool(
                dump,
                &[
                    "--format=custom",
                    "--no-owner",
                    "--file",
                    path_str(&args.file)?,
                    &settings.database_url,
                ],
            );
            if dumped.is_err() {
                // No empty file left behind: the next backup would refuse to overwrite it.
                let _ = std::fs::remove_file(&args.file);
            }
            dumped?
        }
    }
    // On standard error: with `-` standard output is the backup itself.
    eprintln!(
        "backed up {} to {}",
        redacted(&settings.database_url),
        args.file.display()
    );
    eprintln!(
        "keep the personal-data keys (duban.keys or DUBAN_DATA_KEY/DUBAN_INDEX_KEY) safe separately"
    );
    Ok(ExitCode::SUCCESS)
}

/// Refuses an SQLite backup whose schema is newer than this binary's, naming both versions.
/// Read from `staged`, a copy of the backup: opening a file as a store may change it (its
/// journal mode), and the backup itself must stay as it was made.
fn refuse_newer_backup(staged: &Path, backup: &Path) -> Result<()> {
    let url = format!("sqlite://{}?mode=rw", path_str(staged)?);
    let newest = duban_storage::MIGRATIONS.last().map_or(0, |m| m.version);
    let found: Option<i64> = setup::runtime()?.block_on(async {
        let store = SqlStore::connect(&url, 1)
            .await
            .with_context(|| format!("{} is not a backup duban can read", backup.display()))?;
        let found = store
            .schema_version()
            .await
            .with_context(|| format!("{} is not a backup duban made", backup.display()));
        store.close().await;
        found
    })?;
    if let Some(version) = found.filter(|v| *v > newest) {
        bail!(
            "{} was made at schema version {version}, newer than this binary's {newest}: restore it with the newer duban; nothing was replaced",
            backup.display()
        );
    }
    Ok(())
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str().context("the file path must be UTF-8")
}

pub fn restore(args: RestoreArgs, settings: &Settings) -> Result<ExitCode> {
    if is_stdio(&args.file) {
        let spooled = Spooled(spool());
        duban_storage::write_private(&spooled.0, &read_input(&args.file)?)?;
        return restore(
            RestoreArgs {
                file: spooled.0.clone(),
                force: args.force,
            },
            settings,
        );
    }
    if !args.file.exists() {
        bail!("{} does not exist", args.file.display());
    }
    let has_data = setup::runtime()?.block_on(async {
        match SqlStore::connect(&settings.database_url, 1).await {
            Ok(store) => {
                let empty = store.migrate().await.is_ok()
                    && store
                        .list(
                            &duban_storage::CaseQuery::All,
                            &duban_storage::Page::first(1),
                        )
                        .await
                        .map(|l| l.items.is_empty())
                        .unwrap_or(true);
                store.close().await;
                !empty
            }
            Err(_) => false,
        }
    });
    if has_data && !args.force {
        bail!(
            "{} already has cases; pass --force to replace them with the backup",
            redacted(&settings.database_url)
        );
    }
    match Backend::from_url(&settings.database_url)?.online_copy() {
        OnlineCopy::VacuumInto => {
            let target = duban_storage::sqlite_file(&settings.database_url)
                .context("an in-memory database cannot be restored into")?;
            // Staged beside the database and checked before anything is replaced: a backup a
            // newer duban made cannot be served by this one, and the database it would
            // replace is still good. Then moved into place in one rename.
            let staged = Spooled(PathBuf::from(format!("{}.restoring", target.display())));
            let side = |suffix: &str| PathBuf::from(format!("{}{suffix}", staged.0.display()));
            std::fs::copy(&args.file, &staged.0)
                .with_context(|| format!("cannot write {}", staged.0.display()))?;
            let checked = refuse_newer_backup(&staged.0, &args.file);
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(side(suffix));
            }
            checked?;
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
            }
            std::fs::rename(&staged.0, &target)
                .with_context(|| format!("cannot write {}", target.display()))?;
        }
        OnlineCopy::Tools { restore, .. } => run_tool(
            restore,
            &[
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--dbname",
                &settings.database_url,
                path_str(&args.file)?,
            ],
        )?,
    }
    // The restored schema is brought up to date for this version of duban.
    setup::runtime()?.block_on(async {
        let store = setup::store(settings, 1).await?;
        super::audit::record(&store, "restore", &args.file.display().to_string(), "").await?;
        store.close().await;
        anyhow::Ok(())
    })?;
    println!(
        "restored {} into {}",
        args.file.display(),
        redacted(&settings.database_url)
    );
    Ok(ExitCode::SUCCESS)
}
