//! The configuration file, used as an operator would: its values take effect, the environment
//! beats it and a flag beats both; `config check` names every problem with its line at once;
//! `config show` says where each value came from and never shows a password.

use std::process::Stdio;

use crate::common::{Serve, TempDir, duban_command, http};

fn run(dir: &TempDir, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = duban_command(dir.path(), args, env)
        .env_remove("DUBAN_CONFIG")
        .envs(env.iter().copied())
        .output()
        .expect("run duban");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_flag_beats_the_environment_which_beats_the_file() {
    let dir = TempDir::new("config-precedence");
    std::fs::write(
        dir.path().join("duban.toml"),
        "[database]\nurl = \"sqlite://from-file.db?mode=rwc\"\n",
    )
    .expect("write");
    let (ok, out, err) = run(&dir, &["--config", "duban.toml", "migrate"], &[]);
    assert!(ok, "{err}");
    assert!(out.contains("from-file.db"), "{out}");
    let env = [("DATABASE_URL", "sqlite://from-env.db?mode=rwc")];
    let (ok, out, err) = run(&dir, &["--config", "duban.toml", "migrate"], &env);
    assert!(ok, "{err}");
    assert!(out.contains("from-env.db"), "{out}");
    let (ok, out, err) = run(
        &dir,
        &[
            "--config",
            "duban.toml",
            "migrate",
            "--database-url",
            "sqlite://from-flag.db?mode=rwc",
        ],
        &env,
    );
    assert!(ok, "{err}");
    assert!(out.contains("from-flag.db"), "{out}");
    // DUBAN_CONFIG names the file too.
    let (ok, out, _) = run(&dir, &["migrate"], &[("DUBAN_CONFIG", "duban.toml")]);
    assert!(ok && out.contains("from-file.db"), "{out}");
}

#[test]
fn the_file_sets_what_serve_does() {
    let dir = TempDir::new("config-serve");
    std::fs::write(
        dir.path().join("duban.toml"),
        "[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\nrate_limit = 0.1\nrate_burst = 1\n",
    )
    .expect("write");
    let serve = Serve::start(dir.path(), &["--config", "duban.toml"], &[], Stdio::null());
    let health = |client: &str| {
        http(
            &serve.addr,
            "GET",
            "/healthz",
            &[("X-Forwarded-For", client)],
            None,
        )
        .expect("answer")
        .status
    };
    // A burst of one per client, and clients told apart through the trusted proxy.
    assert_eq!(health("203.0.113.1"), 200);
    assert_eq!(health("203.0.113.1"), 429);
    assert_eq!(health("203.0.113.2"), 200);
}

#[test]
fn check_names_every_problem_with_its_line_and_a_broken_file_stops_every_command() {
    let dir = TempDir::new("config-check");
    std::fs::write(
        dir.path().join("duban.toml"),
        "[server]\nport = 8080\naddr = \"everywhere\"\n\n[sign_in]\nsession_hours = \"8\"\n\n[extra]\n",
    )
    .expect("write");
    let (ok, _, err) = run(&dir, &["config", "check", "duban.toml"], &[]);
    assert!(!ok);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("duban.toml:8: unknown key `extra`")),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("duban.toml:2: unknown key `port`")),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("duban.toml:3: `server.addr`")),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("duban.toml:6: `sign_in.session_hours`")),
        "{err}"
    );
    let (ok, _, err) = run(&dir, &["--config", "duban.toml", "migrate"], &[]);
    assert!(!ok, "a command must not run on a file it cannot read");
    assert!(err.contains("duban.toml:2"), "{err}");
    std::fs::write(dir.path().join("good.toml"), "[log]\nformat = \"text\"\n").expect("write");
    let (ok, out, err) = run(&dir, &["config", "check", "good.toml"], &[]);
    assert!(ok, "{err}");
    assert!(out.contains("1 setting(s), all valid"), "{out}");
}

#[test]
fn show_says_where_each_value_comes_from_and_hides_passwords() {
    let dir = TempDir::new("config-show");
    std::fs::write(
        dir.path().join("duban.toml"),
        "[database]\nurl = \"postgres://duban:s3cret@db.example/duban\"\n\n[server]\naddr = \"0.0.0.0:8080\"\n",
    )
    .expect("write");
    let (ok, out, err) = run(
        &dir,
        &["--config", "duban.toml", "config", "show"],
        &[("DUBAN_RATE_LIMIT", "7")],
    );
    assert!(ok, "{err}");
    assert!(!out.contains("s3cret"), "{out}");
    assert!(
        out.contains("url = \"postgres://duban:***@db.example/duban\"   # file"),
        "{out}"
    );
    assert!(out.contains("addr = \"0.0.0.0:8080\"   # file"), "{out}");
    assert!(out.contains("rate_limit = \"7\"   # environment"), "{out}");
    assert!(out.contains("session_hours = \"8\"   # default"), "{out}");
}

#[test]
fn the_shipped_example_is_valid() {
    let dir = TempDir::new("config-example");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/duban.toml");
    let (ok, out, err) = run(&dir, &["config", "check", example], &[]);
    assert!(ok, "{err}");
    assert!(out.contains("all valid"), "{out}");
}

#[test]
fn check_reads_standard_input_for_a_dash() {
    let dir = TempDir::new("config-stdin");
    let out = crate::common::duban_env_with_input(
        dir.path(),
        &["config", "check", "-"],
        &[],
        "[log]\nformat = \"xml\"\n",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("-:2: `log.format` must be one of: text, json"),
        "{err}"
    );
}

#[test]
fn only_the_config_command_passes_a_broken_file_and_help_hides_its_password() {
    let dir = TempDir::new("config-guards");
    std::fs::write(dir.path().join("broken.toml"), "[server]\nport = 1\n").expect("write");
    // A value that reads `config` is not the config command.
    let (ok, _, err) = run(
        &dir,
        &[
            "--config",
            "broken.toml",
            "--workflows",
            "config",
            "migrate",
        ],
        &[],
    );
    assert!(!ok, "ran on a broken file");
    assert!(err.contains("broken.toml:2"), "{err}");
    // `--config -` would take standard input from the commands that read it.
    let (ok, _, err) = run(&dir, &["--config", "-", "migrate"], &[]);
    assert!(!ok);
    assert!(err.contains("not `-`"), "{err}");
    std::fs::write(
        dir.path().join("secret.toml"),
        "[database]\nurl = \"postgresql://duban:s3cret@db.example/duban\"\n",
    )
    .expect("write");
    let (ok, out, err) = run(&dir, &["config", "check", "secret.toml"], &[]);
    assert!(ok, "postgresql:// is a PostgreSQL URL too: {err}");
    assert!(out.contains("all valid"), "{out}");
    let (_, help, _) = run(&dir, &["--config", "secret.toml", "migrate", "--help"], &[]);
    assert!(help.contains("--database-url"), "{help}");
    assert!(!help.contains("s3cret"), "{help}");
    let env = [("DATABASE_URL", "postgres://duban:s3cret@db.example/duban")];
    let (_, help, _) = run(&dir, &["migrate", "--help"], &env);
    assert!(!help.contains("s3cret"), "{help}");
}
