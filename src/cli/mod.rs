//! Command-line interface: argument parsing and dispatch to the subcommands.

mod admin;
mod audit;
mod backup;
mod bench;
mod config;
mod deadline;
mod definitions;
mod demo;
mod metrics;
mod migrate;
mod people;
mod report;
mod schedule;
mod serve;
mod setup;
mod sheets;
mod stdio;
mod workflows;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// `duban --version`: the version, the commit and the build date (`build.rs`).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("DUBAN_COMMIT"),
    ", built ",
    env!("DUBAN_BUILD_DATE"),
    ")"
);

/// 督办 Duban — case tracking for people's congress standing committees: deputies'
/// suggestions, petitions taken on by deputies, and pre-litigation mediation.
#[derive(Debug, Parser)]
#[command(name = "duban", version = VERSION, about, long_about = None)]
pub struct Cli {
    /// The configuration file (`duban.toml`); without it, `/etc/duban/duban.toml` if present.
    /// Flags beat the environment, which beats the file.
    #[arg(long, global = true, env = "DUBAN_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// A directory of workflow files (`*.toml`, with yearly holiday files in `calendars/`) to
    /// use instead of the definitions compiled into the binary.
    #[arg(long, global = true, env = "DUBAN_WORKFLOWS", value_name = "DIR")]
    workflows: Option<PathBuf>,

    /// The database: `sqlite://PATH?mode=rwc` (the default is `duban.db` in the working
    /// directory) or `postgres://USER@HOST/DB`.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true, value_name = "URL", default_value = migrate::DEFAULT_DATABASE_URL)]
    database_url: String,

    /// The personal-data keys file, created on first use when `DUBAN_DATA_KEY` and
    /// `DUBAN_INDEX_KEY` are not set.
    #[arg(
        long,
        global = true,
        env = "DUBAN_KEYS_FILE",
        value_name = "FILE",
        default_value = "duban.keys"
    )]
    keys_file: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check workflow definitions or draw them.
    #[command(subcommand)]
    Workflows(workflows::WorkflowsCommand),
    /// Compute the deadline a state carries, with the rule and the holidays that moved it.
    Deadline(deadline::DeadlineArgs),
    /// Create or upgrade the database schema (also done on first start).
    Migrate(migrate::MigrateArgs),
    /// Serve the HTTP API.
    Serve(Box<serve::ServeArgs>),
    /// Print the API's OpenAPI document (what `/api/v1/openapi.json` serves).
    Openapi,
    /// Import cases from a spreadsheet (.xlsx or .csv): every row checked first, all or nothing.
    Import(sheets::ImportArgs),
    /// Export a year's cases of a kind to .xlsx or .csv, personal data masked.
    Export(sheets::ExportArgs),
    /// An online, consistent backup of the database (SQLite: VACUUM INTO; PostgreSQL: pg_dump).
    Backup(backup::BackupArgs),
    /// Put a backup back (SQLite: the file; PostgreSQL: pg_restore).
    Restore(backup::RestoreArgs),
    /// The security audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// The personal-data keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Fill an empty database with a living demo year.
    Demo(demo::DemoArgs),
    /// Measure the engine against the database's own limit (docs/performance.md).
    Bench(bench::BenchArgs),
    /// The year's figures, computed from the records.
    Report(report::ReportArgs),
    /// Run the reminder scheduler alone (several may run against one PostgreSQL).
    Scheduler(schedule::SchedulerArgs),
    /// Reminder deliveries: list them, retry a dead one.
    #[command(subcommand)]
    Deliveries(people::DeliveriesCommand),
    /// Organisations: departments, stations, courts.
    #[command(subcommand)]
    Org(people::OrgCommand),
    /// People who sign in.
    #[command(subcommand)]
    User(people::UserCommand),
    /// Bearer tokens for the API.
    #[command(subcommand)]
    Token(people::TokenCommand),
    /// The configuration file: check one, or show the effective settings.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Print a shell completion script: `duban completions bash > /etc/bash_completion.d/duban`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Make a new data key and re-encrypt every personal-data record under it; the old key is
    /// dropped once nothing needs it. The blind-index key stays (repeat-petition look-ups keep
    /// working).
    Rotate,
}

/// The completion script for `shell`, written whole: a reader that stops early (`| head`)
/// ends the command quietly rather than with a panic.
fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "duban", &mut script);
    match std::io::stdout().write_all(&script) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

impl Cli {
    /// The command line as declared, for reading its defaults and environment variables.
    fn command_for_config() -> clap::Command {
        Cli::command()
    }
}

pub fn run() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let file = config::path(&args);
    // `duban config …` must get to a broken file's problems rather than stop at them. The
    // subcommand is found by clap itself, so that an argument's value that happens to read
    // `config` is not taken for it.
    let checking = Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(&args)
        .ok()
        .and_then(|m| m.subcommand_name().map(|name| name == "config"))
        .unwrap_or(false);
    let values: std::collections::HashMap<&'static str, String> = match &file {
        // Standard input is for the commands that read it (`config check -`, `import -`).
        Some(f) if stdio::is_stdio(f) && checking => Default::default(),
        Some(f) if stdio::is_stdio(f) => {
            crate::telemetry::init(None, None);
            crate::telemetry::fail(
                "--config takes a file, not `-`: check standard input with `duban config check -`",
            );
            return ExitCode::FAILURE;
        }
        Some(f) => match config::read(f) {
            Ok(settings) => settings.into_iter().map(|(s, v)| (s.env, v)).collect(),
            Err(_) if checking => Default::default(),
            Err(e) => {
                // In the format the environment asks for, JSON included.
                crate::telemetry::init(None, None);
                crate::telemetry::fail(&format!("{e:#}"));
                return ExitCode::FAILURE;
            }
        },
        None => Default::default(),
    };
    crate::telemetry::init(
        values.get("DUBAN_LOG_FORMAT").map(String::as_str),
        values.get("RUST_LOG").map(String::as_str),
    );
    let matches = config::with_defaults(Cli::command(), &values).get_matches();
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // Under systemd the keys arrive as a credential (`LoadCredential=duban.keys:…`): used
    // unless a keys file was named on the command line or in the environment. It beats the
    // configuration file's `[keys] file`, which names the same keys for the commands an
    // administrator runs outside the service.
    let credential = std::env::var_os("CREDENTIALS_DIRECTORY")
        .map(|d| PathBuf::from(d).join("duban.keys"))
        .filter(|f| f.exists());
    let keys_file = match credential {
        Some(f)
            if matches.value_source("keys_file")
                == Some(clap::parser::ValueSource::DefaultValue) =>
        {
            f
        }
        _ => cli.keys_file.clone(),
    };
    let settings = setup::Settings {
        database_url: cli.database_url.clone(),
        workflows: cli.workflows.clone(),
        keys_file,
    };
    let result = match cli.command {
        Command::Workflows(cmd) => workflows::run(cmd, cli.workflows.as_deref()),
        Command::Deadline(args) => deadline::run(args, cli.workflows.as_deref()),
        Command::Migrate(args) => migrate::run(args, &settings),
        Command::Serve(args) => serve::run(*args, &settings),
        Command::Scheduler(args) => schedule::run(args, &settings),
        Command::Report(args) => report::run(args, &settings),
        Command::Demo(args) => demo::run(args, &settings),
        Command::Bench(args) => bench::run(args, &settings),
        Command::Import(args) => sheets::import(args, &settings),
        Command::Backup(args) => backup::backup(args, &settings),
        Command::Audit(cmd) => audit::run(cmd, &settings),
        Command::Keys(KeysCommand::Rotate) => setup::rotate(&settings.keys_file, &settings.database_url).map(|(records, secrets)| {
            println!("rotated the data key: {records} personal-data record(s) and {secrets} sealed contact(s) (signing secrets, phone numbers) re-encrypted");
            ExitCode::SUCCESS
        }),
        Command::Restore(args) => backup::restore(args, &settings),
        Command::Export(args) => sheets::export(args, &settings),
        Command::Deliveries(cmd) => people::deliveries(cmd, &settings),
        Command::Openapi => definitions::load_valid(cli.workflows.as_deref()).and_then(|d| {
            let doc = serde_json::to_string_pretty(&duban_api::openapi_json(&d.workflows))?;
            println!("{doc}");
            Ok(ExitCode::SUCCESS)
        }),
        Command::Org(cmd) => people::org(cmd, &settings),
        Command::User(cmd) => people::user(cmd, &settings),
        Command::Token(cmd) => people::token(cmd, &settings),
        Command::Completions { shell } => completions(shell),
        Command::Config(cmd) => config::run(cmd, file.clone()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::telemetry::fail(&format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}
