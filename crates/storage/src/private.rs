//! Files that hold the database's contents are readable by their owner alone (0600): the SQLite
//! file (its WAL and shared-memory files take the same mode from it) and backups. A database
//! created by an older version with the umask's 0644 is made private when it is next opened.

use std::path::Path;

use crate::{Error, Result};

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Url(format!("{}: {e}", path.display()))
}

/// Creates `path` empty with mode 0600 if it does not exist; otherwise takes away every
/// permission but the owner's from it and from its `-wal` and `-shm` files.
pub(crate) fn make_private(path: &Path) -> Result<()> {
    if !path.exists() {
        return create_private(path);
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            restrict(&file)?;
        }
    }
    Ok(())
}

/// Creates an empty file at `path` that only its owner may read or write; fails if it exists.
pub fn create_private(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| io(path, e))?;
    Ok(())
}

/// Writes `bytes` to `path`, replacing what is there, readable by its owner alone: exports and
/// reports hold case records too.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(|e| io(path, e))?;
    // A file that existed keeps its mode through the open: take the others' permissions away.
    restrict(path)?;
    f.write_all(bytes).map_err(|e| io(path, e))?;
    Ok(())
}

#[cfg(unix)]
fn restrict(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| io(path, e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))
            .map_err(|e| io(path, e))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_path: &Path) -> Result<()> {
    Ok(())
}
