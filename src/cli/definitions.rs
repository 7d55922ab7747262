//! Loading workflow and calendar files from a directory, or the compiled-in defaults.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use duban_core::calendar::BUILTIN_CALENDARS;
use duban_core::workflow::BUILTIN_WORKFLOWS;
use duban_core::{Calendar, Diagnostics, Source, Workflows};

/// The definitions in use and where they came from.
#[derive(Debug)]
pub struct Definitions {
    pub workflows: Workflows,
    pub calendar: Calendar,
    pub origin: String,
}

/// Every problem found, or an I/O error reading the files.
#[derive(Debug)]
pub enum LoadError {
    Invalid(Diagnostics),
    Io(anyhow::Error),
}

/// The `*.toml` files directly in `dir`, sorted, as (path shown in diagnostics, text).
fn read_toml_files(dir: &Path) -> Result<Vec<(String, String)>> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot list {}", dir.display()))?;
    paths.retain(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"));
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text =
                fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
            Ok((p.display().to_string(), text))
        })
        .collect()
}

/// Loads from `dir` (workflows in it, calendars in `dir/calendars`, falling back to the shipped
/// calendars when that folder is absent), or the compiled-in defaults when `dir` is `None`.
pub fn load(dir: Option<&Path>) -> Result<Definitions, LoadError> {
    let Some(dir) = dir else {
        let workflows = Workflows::load(BUILTIN_WORKFLOWS).map_err(LoadError::Invalid)?;
        let calendar = Calendar::load(BUILTIN_CALENDARS).map_err(LoadError::Invalid)?;
        return Ok(Definitions {
            workflows,
            calendar,
            origin: "the definitions built into duban".into(),
        });
    };
    let files = read_toml_files(dir).map_err(LoadError::Io)?;
    if files.is_empty() {
        return Err(LoadError::Io(anyhow::anyhow!(
            "no workflow files (*.toml) in {}",
            dir.display()
        )));
    }
    let cal_dir = dir.join("calendars");
    let cal_files = if cal_dir.is_dir() {
        read_toml_files(&cal_dir).map_err(LoadError::Io)?
    } else {
        Vec::new()
    };
    let wf_sources: Vec<Source<'_>> = files
        .iter()
        .map(|(n, t)| Source { name: n, text: t })
        .collect();
    let cal_sources: Vec<Source<'_>> = cal_files
        .iter()
        .map(|(n, t)| Source { name: n, text: t })
        .collect();
    // Validate both before giving up, so that one run shows every problem.
    let workflows = Workflows::load(&wf_sources);
    let calendar = if cal_dir.is_dir() {
        Calendar::load(&cal_sources)
    } else {
        Calendar::load(BUILTIN_CALENDARS)
    };
    match (workflows, calendar) {
        (Ok(workflows), Ok(calendar)) => Ok(Definitions {
            workflows,
            calendar,
            origin: dir.display().to_string(),
        }),
        (Err(a), Err(b)) => Err(LoadError::Invalid(Diagnostics(
            a.0.into_iter().chain(b.0).collect(),
        ))),
        (Err(a), _) | (_, Err(a)) => Err(LoadError::Invalid(a)),
    }
}

/// Loads, turning diagnostics into an error for commands that only need valid definitions.
pub fn load_valid(dir: Option<&Path>) -> Result<Definitions> {
    match load(dir) {
        Ok(d) => Ok(d),
        Err(LoadError::Io(e)) => Err(e),
        Err(LoadError::Invalid(d)) => Err(anyhow::anyhow!("invalid definitions:\n{d}")),
    }
}
