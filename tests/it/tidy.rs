//! The conventions of docs/style.md that a machine can check, checked on every `cargo test`:
//! each source file opens with its `//!` line, each crate depends only on the layers below it,
//! the test helpers are only ever a dev-dependency, the HTTP edges never take the service's
//! store, only the dialect module names a database, and no source file passes 800 lines unless
//! the allow-list below says why.

use std::path::{Path, PathBuf};

/// The repository's root: this package's manifest directory.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under the project's own source folders, relative to the root.
fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    for top in ["crates", "src", "tests"] {
        walk(&root().join(top), &mut out);
    }
    out.sort();
    assert!(out.len() > 50, "found only {} source files", out.len());
    out.into_iter()
        .map(|p| p.strip_prefix(root()).map(Path::to_path_buf).unwrap_or(p))
        .collect()
}

#[test]
fn every_source_file_opens_with_a_line_saying_what_it_holds() {
    let missing: Vec<String> = sources()
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(root().join(f)).unwrap_or_default();
            !text.starts_with("//!")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "these files do not open with a `//!` line (docs/style.md): {missing:?}"
    );
}

/// What each crate may depend on among the project's own: the layers below it.
const LAYERS: &[(&str, &[&str])] = &[
    ("core", &[]),
    ("storage", &["duban-core"]),
    ("service", &["duban-core", "duban-storage"]),
    // The HTTP edges reach storage only through the service's use cases (docs/style.md).
    ("api", &["duban-core", "duban-service"]),
    ("web", &["duban-core", "duban-service"]),
    ("scheduler", &["duban-core", "duban-storage"]),
    // The test helpers: a dev-dependency of the others, never a dependency (checked below).
    ("testkit", &["duban-core", "duban-storage", "duban-service"]),
];

#[test]
fn each_crate_depends_only_on_the_layers_below_it() {
    let crates: Vec<String> = std::fs::read_dir(root().join("crates"))
        .expect("crates/")
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    for name in &crates {
        let allowed = LAYERS
            .iter()
            .find(|(c, _)| c == name)
            .map(|(_, deps)| *deps)
            .unwrap_or_else(|| panic!("crates/{name} has no place in tests/it/tidy.rs's LAYERS"));
        let manifest = std::fs::read_to_string(root().join("crates").join(name).join("Cargo.toml"))
            .expect("manifest");
        // The [dependencies] table only: tests may use what they like.
        let deps = manifest
            .split("\n[")
            .find(|t| t.starts_with("dependencies]"))
            .unwrap_or_default();
        for line in deps.lines() {
            let dep = line
                .split(['=', '.', ' '])
                .next()
                .unwrap_or_default()
                .trim();
            if dep.starts_with("duban-") {
                assert!(
                    allowed.contains(&dep),
                    "crates/{name} depends on {dep}, which is not below it (docs/style.md)"
                );
            }
        }
    }
}

/// Every manifest: the root package's and each crate's.
fn manifests() -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from("Cargo.toml")];
    for e in std::fs::read_dir(root().join("crates"))
        .expect("crates/")
        .flatten()
    {
        let manifest = e.path().join("Cargo.toml");
        if manifest.exists() {
            out.push(
                manifest
                    .strip_prefix(root())
                    .map(Path::to_path_buf)
                    .unwrap_or(manifest),
            );
        }
    }
    out.sort();
    out
}

#[test]
fn the_test_helpers_are_only_ever_a_dev_dependency() {
    let mut found = Vec::new();
    for path in manifests() {
        let manifest = std::fs::read_to_string(root().join(&path)).expect("manifest");
        // Each table with its header: `dependencies]`, `dev-dependencies]`,
        // `target.'cfg(unix)'.dependencies]` …
        for table in manifest.split("\n[") {
            let header = table.lines().next().unwrap_or_default();
            let allowed = header.starts_with("dev-dependencies")
                || header.starts_with("workspace.dependencies");
            let uses = header.contains("duban-testkit")
                || table
                    .lines()
                    .skip(1)
                    .any(|l| l.trim_start().starts_with("duban-testkit"));
            if uses && !allowed {
                found.push(format!("{} [{header}", path.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "duban-testkit is for tests: list it under [dev-dependencies] only, so that nothing shipped links it: {found:?}"
    );
}

#[test]
fn the_http_edges_ask_the_service_and_never_take_its_store() {
    let mut found = Vec::new();
    for f in sources() {
        let name = f.display().to_string();
        let edge = name.starts_with("crates/api/src/") || name.starts_with("crates/web/src/");
        if !edge {
            continue;
        }
        let text = std::fs::read_to_string(root().join(&f)).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            if line.contains(".store()") {
                found.push(format!("{name}:{}", n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the API and the pages call the service's use cases, never `Service::store()` (docs/style.md): {found:?}"
    );
}

/// The one file that may name a database: everything that differs between them is a method of
/// its `Backend`, so a reader finds every difference on one page.
const DIALECT: &str = "crates/storage/src/sql/dialect.rs";

/// What only the dialect may write: a database's name as a branch, the way its writers get in
/// (SQLite's one writer and its `BEGIN IMMEDIATE`), and PostgreSQL's advisory locks.
const DIALECT_MARKS: &[&str] = &[
    "Backend::Sqlite",
    "Backend::Postgres",
    "Writers::",
    "BEGIN IMMEDIATE",
    "pg_advisory",
];

#[test]
fn only_the_dialect_module_names_a_database() {
    let mut found = Vec::new();
    for f in sources() {
        let name = f.display().to_string();
        // Tests may speak each database's own language: they read its query plans, or get
        // past its triggers as an attacker would, to check what the dialect promises.
        let test = name.starts_with("tests/") || name.contains("/tests/");
        if test || name == DIALECT {
            continue;
        }
        let text = std::fs::read_to_string(root().join(&f)).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            // Comments may say why a method exists; code may not branch on its own.
            let code = !line.trim_start().starts_with("//");
            if code && DIALECT_MARKS.iter().any(|m| line.contains(m)) {
                found.push(format!("{name}:{}", n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "a difference between the databases belongs in {DIALECT}, as a method of `Backend` (docs/style.md): {found:?}"
    );
}

/// Files allowed past 800 lines, and why. Each names the seam it is to be cut at; the list is
/// meant to shrink (issue 17, part 4).
const LONG_FILES: &[(&str, &str)] = &[];

#[test]
fn no_source_file_passes_eight_hundred_lines_without_a_reason() {
    let mut long = Vec::new();
    for f in sources() {
        let lines = std::fs::read_to_string(root().join(&f))
            .unwrap_or_default()
            .lines()
            .count();
        let name = f.display().to_string();
        let allowed = LONG_FILES.iter().any(|(path, _)| *path == name);
        if lines > 800 && !allowed {
            long.push(format!("{name} ({lines} lines)"));
        }
    }
    assert!(
        long.is_empty(),
        "these files pass 800 lines: cut them at a seam, or add them to LONG_FILES with the reason: {long:?}"
    );
    // An entry that no longer applies goes, so the list says only what is true.
    for (path, _) in LONG_FILES {
        let lines = std::fs::read_to_string(root().join(path))
            .map(|t| t.lines().count())
            .unwrap_or(0);
        assert!(
            lines > 800,
            "{path} is {lines} lines now: take it off LONG_FILES"
        );
    }
}

/// The action names of the shipped workflow files, read from their `[actions.NAME]` headers.
fn shipped_actions() -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root().join("workflows"))
        .expect("workflows/")
        .flatten()
    {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in text.lines() {
            if let Some(name) = line
                .trim()
                .strip_prefix("[actions.")
                .and_then(|rest| rest.strip_suffix(']'))
            {
                names.push(name.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    assert!(names.len() > 40, "found only {} actions", names.len());
    names
}

/// What a shipped kind does, and what its report section counts, is in its workflow file: no
/// action name of a shipped kind is written in the engine, the store, the service, the
/// scheduler or the HTTP edges (their unit tests aside). Only the words of the file format
/// itself may coincide with one: `clock = "pause"` and `"resume"`.
#[test]
fn no_action_name_of_a_shipped_kind_is_written_in_rust() {
    const FORMAT_WORDS: [&str; 2] = ["pause", "resume"];
    let actions = shipped_actions();
    let mut found = Vec::new();
    for file in sources() {
        let path = file.display().to_string();
        let layer = ["core", "storage", "service", "scheduler", "web", "api"]
            .iter()
            .any(|c| path.starts_with(&format!("crates/{c}/src/")));
        if !layer {
            continue;
        }
        let text = std::fs::read_to_string(root().join(&file)).unwrap_or_default();
        // A file's unit tests come last, after `#[cfg(test)]`.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for name in actions
            .iter()
            .filter(|n| !FORMAT_WORDS.contains(&n.as_str()))
        {
            if code.contains(&format!("\"{name}\"")) {
                found.push(format!("{path}: \"{name}\""));
            }
        }
    }
    assert!(
        found.is_empty(),
        "action names of shipped kinds written in Rust (move the rule into the workflow file): {found:?}"
    );
}
