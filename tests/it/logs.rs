//! What `duban serve` writes to standard error: with `DUBAN_LOG_FORMAT=json` every line is a
//! JSON record from the first, each request ends in one INFO access line (method, route
//! template, status, duration, request id, user) that never carries the raw path, and no
//! colour codes reach a pipe. `--version` names the commit and the build date.

use std::io::Read;
use std::process::Stdio;

use crate::common::{Serve, TempDir, duban, duban_ok, http};

/// Runs `duban serve` with `env`, makes `requests`, stops it and returns what it wrote to
/// standard error.
fn stderr_of_serve(dir: &TempDir, env: &[(&str, &str)], token: &str) -> String {
    let mut serve = Serve::start(dir.path(), &[], env, Stdio::piped());
    let auth = format!("Bearer {token}");
    for path in [
        "/api/v1/cases?limit=5",
        "/api/v1/cases/0190f1a2-0000-7000-8000-00000000abcd",
    ] {
        let reply = http(
            &serve.addr,
            "GET",
            path,
            &[("Authorization", &auth), ("X-Request-Id", "req-probe-1")],
            None,
        )
        .expect("answer");
        assert!(
            reply.status == 200 || reply.status == 404,
            "{path}: {}",
            reply.status
        );
    }
    let _ = serve.child.kill();
    let mut text = String::new();
    serve
        .child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut text)
        .expect("read stderr");
    text
}

/// A directory with staff `xu` and a token for them; the keys file is created here, so its
/// message is part of the first start's output.
fn office(name: &str) -> (TempDir, String) {
    let dir = TempDir::new(name);
    let out = crate::common::duban_with_input(
        dir.path(),
        &["user", "add", "xu", "--role", "staff", "--password-stdin"],
        "Duban@2024x\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = duban_ok(dir.path(), &["token", "create", "xu"]);
    (dir, token)
}

#[test]
fn json_logs_are_json_from_the_first_line_with_one_access_line_per_request() {
    let (dir, token) = office("logs-json");
    // A fresh keys file: the first thing the server says is that it made one.
    std::fs::remove_file(dir.path().join("duban.keys")).ok();
    let text = stderr_of_serve(&dir, &[("DUBAN_LOG_FORMAT", "json")], &token);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines[0].to_string().contains("personal-data keys"),
        "the first line is the keys message, as JSON: {}",
        lines[0]
    );
    let access: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "finished processing request")
        .collect();
    assert_eq!(access.len(), 2, "{text}");
    for line in &access {
        assert_eq!(line["level"], "INFO", "{line}");
        let span = &line["span"];
        assert_eq!(span["method"], "GET", "{line}");
        assert_eq!(span["request_id"], "req-probe-1", "{line}");
        assert_eq!(span["user"], "xu", "{line}");
        assert!(line["fields"]["status"].is_number(), "{line}");
        assert!(line["fields"]["latency"].is_string(), "{line}");
    }
    assert_eq!(access[0]["span"]["route"], "/api/v1/cases");
    assert_eq!(access[1]["span"]["route"], "/api/v1/cases/{id}");
    // The raw path (an id) and the query never reach the log.
    assert!(!text.contains("abcd"), "{text}");
    assert!(!text.contains("limit=5"), "{text}");
}

#[test]
fn text_logs_to_a_pipe_carry_no_colour_codes() {
    let (dir, token) = office("logs-text");
    let text = stderr_of_serve(&dir, &[], &token);
    assert!(text.contains("finished processing request"), "{text}");
    assert!(!text.contains('\u{1b}'), "escape codes in a pipe: {text:?}");
}

#[test]
fn the_version_names_the_commit_and_the_build_date() {
    let dir = TempDir::new("version");
    let out = duban(dir.path(), &["--version"]);
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // duban 0.1.0 (0123456789ab, built 2026-12-05)
    let (_, rest) = line.split_once(" (").unwrap_or_else(|| panic!("{line}"));
    let (commit, date) = rest
        .trim_end_matches(')')
        .split_once(", built ")
        .unwrap_or_else(|| panic!("{line}"));
    assert!(!commit.is_empty() && !date.is_empty(), "{line}");
    assert!(
        date == "unknown" || jiff::civil::Date::strptime("%Y-%m-%d", date).is_ok(),
        "{line}"
    );
}
