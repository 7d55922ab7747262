//! `duban migrate`: create or upgrade the database schema.

use duban_storage::Schema;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use duban_storage::{MIGRATIONS, SqlStore};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// List the migrations that would be applied, after the same checks, and change nothing.
    #[arg(long)]
    dry_run: bool,
}

/// With no settings, Duban keeps its data in an SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://duban.db?mode=rwc";

/// The URL with any password replaced, for messages.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// The keys are needed too: the migrations that rewrite history record it in the keyed audit log.
pub fn run(args: MigrateArgs, settings: &super::setup::Settings) -> Result<ExitCode> {
    let database_url = settings.database_url.as_str();
    // A dry run changes nothing, so it needs no keys (and makes no keys file).
    let keys = if args.dry_run {
        None
    } else {
        Some(super::setup::keys(&settings.keys_file)?)
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = SqlStore::connect(database_url, 1)
            .await
            .with_context(|| format!("cannot open the database at {}", redacted(database_url)))?;
        let store = match keys {
            Some(keys) => store.with_keys(keys),
            None => store,
        };
        if args.dry_run {
            let pending = store.pending_migrations().await?;
            if pending.is_empty() {
                println!("nothing to apply at {}", redacted(database_url));
            }
            for (version, name) in &pending {
                println!("would apply {version:04} {name}");
            }
            store.close().await;
            return Ok(ExitCode::SUCCESS);
        }
        let applied = store
            .migrate()
            .await
            .context("migration failed; nothing was changed")?;
        let latest = MIGRATIONS.last().map(|m| m.version).unwrap_or(0);
        if applied.is_empty() {
            println!(
                "schema is up to date (version {latest}) at {}",
                redacted(database_url)
            );
        } else {
            let list: Vec<String> = applied.iter().map(|v| v.to_string()).collect();
            println!(
                "applied migration(s) {} at {}; schema is at version {latest}",
                list.join(", "),
                redacted(database_url)
            );
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redacted("postgres://duban:s3cret@db.local/duban"),
            "postgres://duban:***@db.local/duban"
        );
        assert_eq!(
            redacted("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(redacted(DEFAULT_DATABASE_URL), DEFAULT_DATABASE_URL);
    }
}
