//! The configuration file on the command line: which file (`--config`, `DUBAN_CONFIG`, else
//! `/etc/duban/duban.toml` if present), its values as the defaults of the arguments that read
//! the same environment variables (so a flag beats the environment, which beats the file), and
//! `duban config check|show`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use duban_core::Source;
use duban_core::config::{SETTINGS, Setting};

/// Where the system's configuration lives when nothing else is named.
pub const SYSTEM_FILE: &str = "/etc/duban/duban.toml";

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration file: every unknown key and bad value, each with its line.
    Check {
        /// The file (default: the one `duban` would read); `-` reads standard input.
        file: Option<PathBuf>,
    },
    /// Print the effective settings and where each comes from, secrets redacted.
    Show,
}

/// The configuration file to read: `--config FILE` (or `--config=FILE`) on the command line,
/// else `DUBAN_CONFIG`, else the system file if it exists. Read before the command line is
/// parsed, since its values become the arguments' defaults.
pub fn path(args: &[String]) -> Option<PathBuf> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--config" {
            return iter.next().map(PathBuf::from);
        }
        if let Some(file) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(file));
        }
    }
    if let Some(file) = std::env::var_os("DUBAN_CONFIG") {
        return Some(PathBuf::from(file));
    }
    Path::new(SYSTEM_FILE)
        .exists()
        .then(|| PathBuf::from(SYSTEM_FILE))
}

/// The file's settings, by environment variable; every problem in it at once otherwise.
pub fn read(file: &Path) -> Result<Vec<(Setting, String)>> {
    let text = String::from_utf8(super::stdio::read_input(file)?)
        .with_context(|| format!("{} is not UTF-8 text", file.display()))?;
    let name = file.display().to_string();
    duban_core::config::read(&Source {
        name: &name,
        text: &text,
    })
    .map_err(|problems| anyhow::anyhow!("{problems}"))
}

/// `cmd` with the file's values as the defaults of the arguments that read the same
/// environment variables, where the environment does not set them, in every subcommand.
pub fn with_defaults(cmd: clap::Command, values: &HashMap<&'static str, String>) -> clap::Command {
    let mut cmd = cmd;
    let ids: Vec<(clap::Id, String)> = cmd
        .get_arguments()
        .filter_map(|a| {
            let env = a.get_env()?.to_str()?;
            (values.contains_key(env) && std::env::var_os(env).is_none())
                .then(|| (a.get_id().clone(), env.to_string()))
        })
        .collect();
    for (id, env) in ids {
        // clap keeps defaults as `&'static str`; a handful of settings, read once per run.
        let value: &'static str = Box::leak(values[env.as_str()].clone().into_boxed_str());
        // Not shown by --help: a file's database URL may hold a password.
        cmd = cmd.mut_arg(id, |a| a.default_value(value).hide_default_value(true));
    }
    let subcommands: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subcommands {
        cmd = cmd.mut_subcommand(name, |s| with_defaults(s, values));
    }
    cmd
}

/// `duban config check|show`.
pub fn run(cmd: ConfigCommand, file: Option<PathBuf>) -> Result<ExitCode> {
    match cmd {
        ConfigCommand::Check { file: named } => {
            let Some(file) = named.or(file) else {
                bail!(
                    "no configuration file: name one (`duban config check FILE`), or set --config"
                );
            };
            match read(&file) {
                Ok(settings) => {
                    println!(
                        "{}: {} setting(s), all valid",
                        file.display(),
                        settings.len()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(problems) => {
                    eprintln!("{problems}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        ConfigCommand::Show => {
            let from_file: HashMap<&str, String> = match &file {
                Some(f) => read(f)?.into_iter().map(|(s, v)| (s.env, v)).collect(),
                None => HashMap::new(),
            };
            let defaults = defaults(&super::Cli::command_for_config());
            match &file {
                Some(f) => println!("# configuration file: {}", f.display()),
                None => println!("# no configuration file"),
            }
            let mut section = "";
            for s in SETTINGS {
                if s.section != section {
                    section = s.section;
                    println!("\n[{section}]");
                }
                let (value, source) = match (std::env::var(s.env), from_file.get(s.env)) {
                    (Ok(v), _) => (v, "environment"),
                    (Err(_), Some(v)) => (v.clone(), "file"),
                    (Err(_), None) => match defaults.get(s.env) {
                        Some(v) => (v.clone(), "default"),
                        None => {
                            println!("# {} is not set ({})", s.key, s.env);
                            continue;
                        }
                    },
                };
                println!("{} = {:?}   # {source}, {}", s.key, shown(s, &value), s.env);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A value as `config show` prints it: passwords in URLs and secrets never.
fn shown(s: &Setting, value: &str) -> String {
    if s.secret {
        return "***".into();
    }
    let redacted = super::migrate::redacted(value);
    // A URL's password may also be a query parameter (`?password=`).
    match redacted.find("password=") {
        Some(at) => format!("{}password=***", &redacted[..at]),
        None => redacted,
    }
}

/// Each environment variable's default, as the command line declares it.
fn defaults(cmd: &clap::Command) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for a in cmd.get_arguments() {
        if let (Some(env), Some(default)) = (a.get_env(), a.get_default_values().first()) {
            out.insert(
                env.to_string_lossy().to_string(),
                default.to_string_lossy().to_string(),
            );
        }
    }
    for s in cmd.get_subcommands() {
        for (k, v) in defaults(s) {
            out.entry(k).or_insert(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_of_the_file_is_read_by_the_command_line_or_the_log() {
        let cmd = super::super::Cli::command_for_config();
        let mut read: Vec<String> = vec!["RUST_LOG".into(), "DUBAN_LOG_FORMAT".into()];
        fn envs(cmd: &clap::Command, out: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                if let Some(e) = a.get_env() {
                    out.push(e.to_string_lossy().to_string());
                }
            }
            for s in cmd.get_subcommands() {
                envs(s, out);
            }
        }
        envs(&cmd, &mut read);
        for s in SETTINGS {
            assert!(
                read.contains(&s.env.to_string()),
                "{} reads {}, which nothing reads",
                s.key,
                s.env
            );
        }
    }

    #[test]
    fn the_config_flag_is_found_before_parsing() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            path(&args(&["duban", "--config", "/x.toml", "serve"])),
            Some(PathBuf::from("/x.toml"))
        );
        assert_eq!(
            path(&args(&["duban", "serve", "--config=/y.toml"])),
            Some(PathBuf::from("/y.toml"))
        );
    }

    #[test]
    fn passwords_in_database_urls_are_not_shown() {
        let url = SETTINGS[0];
        assert_eq!(
            shown(&url, "postgres://duban:s3cret@db/duban"),
            "postgres://duban:***@db/duban"
        );
        assert_eq!(
            shown(&url, "postgres://db/duban?user=d&password=s3cret"),
            "postgres://db/duban?user=d&password=***"
        );
    }
}
