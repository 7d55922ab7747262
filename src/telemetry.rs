//! Logging set-up: human-readable by default, JSON with `DUBAN_LOG_FORMAT=json`; the level from
//! `RUST_LOG` (default `info`). Libraries only emit; this is the one place that decides, and
//! [`say`] is how the binary's own messages to the operator follow the same format.

use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

/// The format chosen at start: JSON or not.
static JSON: OnceLock<bool> = OnceLock::new();

/// Whether every line on standard error is JSON (`DUBAN_LOG_FORMAT=json`, or `[log] format`
/// in the configuration file): a log collector then reads each line as one record, the first
/// included.
pub fn json() -> bool {
    *JSON.get_or_init(|| std::env::var("DUBAN_LOG_FORMAT").is_ok_and(|v| v == "json"))
}

/// Sets up logging: the environment's `DUBAN_LOG_FORMAT` and `RUST_LOG` first, else the
/// configuration file's `format` and `level`, else human-readable at `info`.
pub fn init(format: Option<&str>, level: Option<&str>) {
    let format = std::env::var("DUBAN_LOG_FORMAT")
        .ok()
        .or(format.map(str::to_string));
    let _ = JSON.set(format.as_deref() == Some("json"));
    let filter = EnvFilter::try_from_default_env()
        .ok()
        .or_else(|| level.and_then(|l| EnvFilter::try_new(l).ok()))
        .unwrap_or_else(|| EnvFilter::new("info,sqlx=warn"));
    // Colour only for a person at a terminal, and never when NO_COLOR is set (no-color.org):
    // escape codes in a file or a journal are noise.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is harmless: keep the first.
    let _ = if json() {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// A message for the operator: a plain line on standard error, or with `DUBAN_LOG_FORMAT=json`
/// a log record at INFO, so that the output stays one format from its first line.
pub fn say(message: &str) {
    if json() {
        tracing::info!("{message}");
    } else {
        eprintln!("{message}");
    }
}

/// The error that ends the command, in the same format as the rest of the output.
pub fn fail(message: &str) {
    if json() {
        tracing::error!("{message}");
    } else {
        eprintln!("duban: {message}");
    }
}
