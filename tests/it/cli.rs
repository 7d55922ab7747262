//! End-to-end tests of the `duban` binary's definition commands, run as a user would run them.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use crate::common::TempDir;

fn duban(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_duban"))
        .args(args)
        .env_remove("DUBAN_WORKFLOWS")
        .output()
        .expect("run duban")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_shipped_workflows_pass_check_from_the_binary_and_from_the_directory() {
    let built_in = duban(&["workflows", "check"]);
    assert!(built_in.status.success(), "{}", stderr(&built_in));
    assert!(
        stdout(&built_in).contains("suggestion v1"),
        "{}",
        stdout(&built_in)
    );

    let dir = repo().join("workflows");
    let from_dir = duban(&["workflows", "check", dir.to_str().expect("utf-8 path")]);
    assert!(from_dir.status.success(), "{}", stderr(&from_dir));
    assert!(
        stdout(&from_dir).contains("holiday calendars: 2024, 2025, 2026"),
        "{}",
        stdout(&from_dir)
    );
}

#[test]
fn a_broken_directory_fails_check_with_every_problem_as_file_line_reason() {
    let tmp = TempDir::new("broken");
    for name in ["many_problems.toml", "unreachable.toml"] {
        let src = repo().join("crates/core/tests/fixtures/broken").join(name);
        fs::copy(&src, tmp.0.join(name)).expect("copy fixture");
    }
    fs::create_dir_all(tmp.0.join("calendars")).expect("calendars dir");
    fs::write(
        tmp.0.join("calendars/cn-2024.toml"),
        "year = 2024\nmake_up_workdays = [2024-02-05]\n",
    )
    .expect("write");
    let out = duban(&["workflows", "check", tmp.0.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let file = |n: &str| tmp.0.join(n).display().to_string();
    for want in [
        format!("{}:37: unknown state `handeld`", file("many_problems.toml")),
        format!("{}:43: unknown role `clerk`", file("many_problems.toml")),
        format!("{}:23: unknown key `titel`", file("many_problems.toml")),
        format!("{}:46: unknown state `asigned`", file("many_problems.toml")),
        format!(
            "{}:22: state `archived` cannot be reached",
            file("unreachable.toml")
        ),
        format!(
            "{}:2: make-up working day 2024-02-05",
            file("calendars/cn-2024.toml")
        ),
    ] {
        assert!(err.contains(&want), "missing `{want}` in:\n{err}");
    }
}

#[test]
fn deadline_prints_the_due_date_whether_provisional_and_the_explanation() {
    let cases = [
        (
            ["suggestion", "assigned", "2024-09-30"],
            "due: 2024-12-30",
            "provisional: no",
        ),
        (
            ["suggestion", "assigned", "2024-11-30"],
            "due: 2025-02-28",
            "provisional: no",
        ),
        (
            ["suggestion", "assigned", "2024-07-01T10:00"],
            "due: 2024-10-08",
            "provisional: no",
        ),
        (
            ["suggestion", "reassignment_requested", "2024-09-26T15:00"],
            "due: 2024-10-09",
            "provisional: no",
        ),
        (
            ["suggestion", "rehandling", "2024-12-31"],
            "due: 2025-02-05",
            "provisional: no",
        ),
        (
            ["petition", "accepted", "2026-11-27"],
            "due: 2027-01-26",
            "provisional: yes",
        ),
        (
            ["mediation", "assigned", "2024-09-01"],
            "due: 2024-10-08",
            "provisional: no",
        ),
    ];
    for ([kind, state, from], due, provisional) in cases {
        let out = duban(&["deadline", "--kind", kind, "--state", state, "--from", from]);
        assert!(out.status.success(), "{kind} {state}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains(due) && text.contains(provisional),
            "{kind} {state} {from}:\n{text}"
        );
        assert!(text.contains("explanation: 自"), "{text}");
    }
}

#[test]
fn deadline_explains_what_is_wrong_with_its_arguments() {
    let out = duban(&[
        "deadline",
        "--kind",
        "suggestion",
        "--state",
        "evaluated",
        "--from",
        "2024-01-01",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("carries no deadline"),
        "{}",
        stderr(&out)
    );
    let out = duban(&[
        "deadline",
        "--kind",
        "motion",
        "--state",
        "assigned",
        "--from",
        "2024-01-01",
    ]);
    assert!(
        stderr(&out).contains("unknown kind `motion`"),
        "{}",
        stderr(&out)
    );
    let out = duban(&[
        "deadline",
        "--kind",
        "suggestion",
        "--state",
        "assigned",
        "--from",
        "yesterday",
    ]);
    assert!(
        stderr(&out).contains("`--from yesterday`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn graph_prints_a_mermaid_state_diagram() {
    let out = duban(&["workflows", "graph", "suggestion"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("stateDiagram-v2"));
    assert!(text.contains("[*] --> received"));
    assert!(
        text.contains("handled --> rehandling: evaluate [deputy]"),
        "{text}"
    );
    assert!(
        text.contains("rehandled --> escalated: evaluate [deputy]"),
        "{text}"
    );
    assert!(text.contains("evaluated --> [*]"));
    let out = duban(&["workflows", "graph", "motion"]);
    assert!(!out.status.success());
}

#[test]
fn migrate_creates_the_schema_once_and_then_reports_it_up_to_date() {
    let tmp = TempDir::new("migrate");
    let url = format!("sqlite://{}?mode=rwc", tmp.0.join("other.db").display());
    let first = Command::new(env!("CARGO_BIN_EXE_duban"))
        .args(["migrate", "--database-url", &url])
        .output()
        .expect("run");
    assert!(first.status.success(), "{}", stderr(&first));
    let all: Vec<String> = duban_storage::MIGRATIONS
        .iter()
        .map(|m| m.version.to_string())
        .collect();
    let latest = all.last().cloned().unwrap_or_default();
    let applied = format!("applied migration(s) {}", all.join(", "));
    assert!(stdout(&first).contains(&applied), "{}", stdout(&first));
    let second = Command::new(env!("CARGO_BIN_EXE_duban"))
        .args(["migrate"])
        .env("DATABASE_URL", &url)
        .output()
        .expect("run");
    assert!(second.status.success(), "{}", stderr(&second));
    let up_to_date = format!("schema is up to date (version {latest})");
    assert!(stdout(&second).contains(&up_to_date), "{}", stdout(&second));
    // The default database is a file in the working directory.
    let here = Command::new(env!("CARGO_BIN_EXE_duban"))
        .arg("migrate")
        .env_remove("DATABASE_URL")
        .current_dir(&tmp.0)
        .output()
        .expect("run");
    assert!(here.status.success(), "{}", stderr(&here));
    assert!(tmp.0.join("duban.db").exists());
    let bad = Command::new(env!("CARGO_BIN_EXE_duban"))
        .args(["migrate", "--database-url", "mysql://x"])
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("expected sqlite:… or postgres://…"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_dry_run_lists_what_migrate_would_apply_and_a_newer_schema_is_refused() {
    let tmp = TempDir::new("migrate-guards");
    let url = format!("sqlite://{}?mode=rwc", tmp.0.join("duban.db").display());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_duban"))
            .args(args)
            .env("DATABASE_URL", &url)
            .current_dir(&tmp.0)
            .output()
            .expect("run")
    };
    let dry = run(&["migrate", "--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    let text = stdout(&dry);
    let listed: Vec<&str> = text.lines().collect();
    assert_eq!(listed.len(), duban_storage::MIGRATIONS.len(), "{listed:?}");
    assert_eq!(listed[0], "would apply 0001 initial");
    assert!(
        !tmp.0.join("duban.keys").exists(),
        "a dry run makes no keys"
    );
    let again = run(&["migrate", "--dry-run"]);
    assert_eq!(
        stdout(&again).lines().count(),
        duban_storage::MIGRATIONS.len(),
        "the dry run changed nothing"
    );
    assert!(run(&["migrate"]).status.success());
    assert!(stdout(&run(&["migrate", "--dry-run"])).contains("nothing to apply"));
    // A newer binary migrated it: this one serves nothing, and says which versions.
    crate::common::migrated_by_a_newer_duban(&url);
    let newest = duban_storage::MIGRATIONS.last().expect("last").version;
    for args in [&["serve", "--addr", "127.0.0.1:0"][..], &["migrate"][..]] {
        let out = run(args);
        assert!(!out.status.success(), "{args:?} ran on a newer schema");
        let text = stderr(&out);
        assert!(
            text.contains("version 99") && text.contains(&format!("this binary's {newest}")),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn the_report_goes_to_standard_output_for_a_dash() {
    let tmp = TempDir::new("report-dash");
    let out = Command::new(env!("CARGO_BIN_EXE_duban"))
        .args(["report", "--year", "2024", "--format", "json", "--out", "-"])
        .env_remove("DATABASE_URL")
        .current_dir(&tmp.0)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert!(report.is_object());
    assert!(!tmp.0.join("-").exists(), "no file named -");
}
