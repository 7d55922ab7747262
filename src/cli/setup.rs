//! Opening the store as the commands need it: the database URL, the personal-data keys, the
//! workflow definitions, and the async runtime.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use duban_service::{Service, SystemClock};
use duban_storage::{Keyring, SqlStore};

use super::definitions;
use super::migrate::redacted;

/// Settings every database command shares.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub workflows: Option<PathBuf>,
    pub keys_file: PathBuf,
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub fn random_key() -> [u8; 32] {
    // Two v4 UUIDs: 244 bits from the operating system's random source.
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key
}

/// The personal-data keys: from `DUBAN_DATA_KEY` and `DUBAN_INDEX_KEY` (64 hex digits each),
/// else from the keys file, which is created with new random keys on first use. Losing the
/// keys loses the personal data: back the file up with the database.
pub fn keys(keys_file: &Path) -> Result<Keyring> {
    match (
        std::env::var("DUBAN_DATA_KEY"),
        std::env::var("DUBAN_INDEX_KEY"),
    ) {
        (Ok(data), Ok(index)) => {
            return Keyring::from_hex(&data, &index).map_err(anyhow::Error::msg);
        }
        (Ok(_), Err(_)) | (Err(_), Ok(_)) => {
            bail!("set both DUBAN_DATA_KEY and DUBAN_INDEX_KEY, or neither")
        }
        _ => {}
    }
    if !keys_file.exists() {
        let text = format!(
            "# Duban personal-data keys. Keep this file secret and back it up with the database:\n\
             # without it the encrypted personal data cannot be read.\n\
             data_key = {}\nindex_key = {}\n",
            hex::encode(random_key()),
            hex::encode(random_key())
        );
        write_private(keys_file, &text)
            .with_context(|| format!("cannot create {}", keys_file.display()))?;
        crate::telemetry::say(&format!(
            "created new personal-data keys in {}",
            keys_file.display()
        ));
    }
    let text = fs::read_to_string(keys_file)
        .with_context(|| format!("cannot read {}", keys_file.display()))?;
    let value = |name: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim().to_string())
            .with_context(|| format!("{} has no `{name}`", keys_file.display()))
    };
    let mut ring = Keyring::from_hex(&value("data_key")?, &value("index_key")?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", keys_file.display()))?;
    // Keys being rotated out: still needed to read what they encrypted.
    for old in text
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.trim() == "old_data_key")
    {
        let bytes = hex::decode(old.1.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok());
        let key = bytes.with_context(|| {
            format!(
                "{}: an old_data_key is not 64 hexadecimal digits",
                keys_file.display()
            )
        })?;
        ring = ring.with_old_key(key);
    }
    Ok(ring)
}

/// Rotates the data key in the keys file: a new key becomes current, every record is
/// re-encrypted under it, and only then is the old key dropped from the file.
pub fn rotate(keys_file: &Path, database_url: &str) -> Result<(u64, u64)> {
    if std::env::var("DUBAN_DATA_KEY").is_ok() {
        bail!(
            "the keys come from DUBAN_DATA_KEY/DUBAN_INDEX_KEY: rotate them by hand (set the new key and list the old one in a keys file) or use a keys file"
        );
    }
    let text = fs::read_to_string(keys_file)
        .with_context(|| format!("cannot read {}", keys_file.display()))?;
    let line = |name: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim().to_string())
    };
    let (Some(old), Some(index)) = (line("data_key"), line("index_key")) else {
        bail!("{} has no data_key and index_key", keys_file.display());
    };
    let new = hex::encode(random_key());
    let header = "# Duban personal-data keys. Keep this file secret and back it up apart from the database.\n";
    // Step 1: the new key is current, the old one still listed, so nothing becomes unreadable
    // if the re-encryption is interrupted.
    replace_file(
        keys_file,
        &format!("{header}data_key = {new}\nindex_key = {index}\nold_data_key = {old}\n"),
    )?;
    let counts = runtime()?.block_on(async {
        let store = SqlStore::open_with_keys(database_url, 1, keys(keys_file)?).await?;
        let counts = store.reencrypt().await?;
        super::audit::record(
            &store,
            "keys_rotated",
            "data key",
            &format!("{} record(s), {} secret(s)", counts.0, counts.1),
        )
        .await?;
        store.close().await;
        anyhow::Ok(counts)
    })?;
    // Step 2: everything is under the new key; the old one goes.
    replace_file(
        keys_file,
        &format!("{header}data_key = {new}\nindex_key = {index}\n"),
    )?;
    Ok(counts)
}

/// Writes a file by renaming a private temporary one over it, so a crash leaves old or new.
fn replace_file(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("keys.tmp");
    let _ = fs::remove_file(&tmp);
    write_private(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    fs::write(path, text)
}

/// Opens the database (creating the schema if needed) with the keys.
pub async fn store(settings: &Settings, max_connections: u32) -> Result<SqlStore> {
    let keys = keys(&settings.keys_file)?;
    SqlStore::open_with_keys(&settings.database_url, max_connections, keys)
        .await
        .with_context(|| {
            format!(
                "cannot open the database at {}",
                redacted(&settings.database_url)
            )
        })
}

/// The service over the store, with the workflow definitions and the system clock. Cases
/// written before numbers and search existed are numbered and indexed first (in filing order;
/// once done, this is one empty read).
pub async fn service(settings: &Settings, max_connections: u32) -> Result<Service<SqlStore>> {
    let defs = definitions::load_valid(settings.workflows.as_deref())?;
    let store = store(settings, max_connections).await?;
    let links = store.link_key();
    let service = Service::new(
        store,
        Arc::new(defs.workflows),
        Arc::new(defs.calendar),
        Arc::new(SystemClock),
    )
    .with_links(links);
    let indexed = service
        .index_unindexed()
        .await
        .context("numbering and indexing the cases written before numbers existed")?;
    if indexed > 0 {
        tracing::info!(cases = indexed, "numbered and indexed earlier cases");
    }
    Ok(service)
}
