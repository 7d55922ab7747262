//! `duban org add`, `duban user add|passwd`, `duban token create|list|revoke`: organisations, people
//! and their bearer tokens, from the command line.

use duban_storage::{Directory, Tokens};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use duban_core::Role;
use duban_storage::{Org, OrgKind, Outbox, User};

use super::setup::{self, Settings};

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Add an organisation: a department, a station (deputy home or liaison station), a court.
    Add {
        /// A short code, e.g. `jtj` for the transport bureau.
        code: String,
        #[arg(long, value_parser = ["department", "station", "court", "committee"])]
        kind: String,
        #[arg(long)]
        name: String,
        /// Where reminders for this organisation are e-mailed.
        #[arg(long)]
        email: Option<String>,
        /// Where reminders for this organisation are POSTed (JSON, signed).
        #[arg(long, requires = "webhook_secret")]
        webhook_url: Option<String>,
        /// The shared secret for the webhook's HMAC-SHA256 signature.
        #[arg(
            long,
            env = "DUBAN_WEBHOOK_SECRET",
            hide_env_values = true,
            requires = "webhook_url"
        )]
        webhook_secret: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person who signs in.
    Add {
        login: String,
        #[arg(long, value_parser = ["leader", "staff", "deputy", "department", "mediator", "court", "auditor", "admin"])]
        role: String,
        /// Their organisation: required for department and court users; a deputy's station.
        #[arg(long)]
        org: Option<String>,
        /// Their name as shown to others (default: the login).
        #[arg(long)]
        name: Option<String>,
        /// Where their reminders are e-mailed.
        #[arg(long)]
        email: Option<String>,
        /// Also set their web password, read from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's web password, read from the first line of standard input (typed, or piped).
    /// It must have at least 10 characters, three of upper case, lower case, digits and other
    /// characters, and not contain the login. Clears any lock and ends every session of theirs.
    Passwd { login: String },
    /// A user's web sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// End every web session of a user at once (a lost laptop, a leaver): they must sign in again.
    End { login: String },
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    if std::io::stdin().is_terminal() {
        eprint!("new password (shown as typed; clear the screen afterwards): ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

async fn set_password(store: &duban_storage::SqlStore, login: &str, password: &str) -> Result<()> {
    use duban_storage::Accounts;
    if let Err(weak) = duban_service::check_password(login, password) {
        bail!("password for `{login}`: {weak}");
    }
    let hash = duban_service::hash_password(password);
    if !store
        .set_password(login, &hash, jiff::Timestamp::now(), None)
        .await?
    {
        bail!("no user `{login}`");
    }
    super::audit::record(store, "password_set", login, "").await?;
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum DeliveriesCommand {
    /// List deliveries, newest last (`--status dead` for those that gave up).
    List {
        #[arg(long, value_parser = ["pending", "claimed", "sent", "dead"])]
        status: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Put a dead delivery back in the queue.
    Retry { id: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a new bearer token for a user and print it, alone on its line. It is shown once.
    Create { login: String },
    /// List a user's tokens (ids and dates, never the tokens).
    List { login: String },
    /// Revoke a token by its id.
    Revoke { id: String },
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

pub fn org(cmd: OrgCommand, settings: &Settings) -> Result<ExitCode> {
    let OrgCommand::Add {
        code,
        kind,
        name,
        email,
        webhook_url,
        webhook_secret,
    } = cmd;
    if let Some(url) = &webhook_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        bail!("--webhook-url must be an http:// or https:// address");
    }
    if !is_code(&code) {
        bail!("organisation code `{code}`: use letters, digits, - _ . (at most 64)");
    }
    let kind = OrgKind::parse(&kind).context("unknown organisation kind")?;
    setup::runtime()?.block_on(async {
        let store = setup::store(settings, 1).await?;
        store
            .add_org(&Org {
                code: code.clone(),
                kind,
                name: name.trim().to_string(),
            })
            .await?;
        if email.is_some() || webhook_url.is_some() {
            let webhook = webhook_url.as_deref().zip(webhook_secret.as_deref());
            store
                .set_org_contact(&code, email.as_deref(), webhook)
                .await?;
        }
        println!("added {} `{code}`: {}", kind.as_str(), name.trim());
        Ok(ExitCode::SUCCESS)
    })
}

pub fn user(cmd: UserCommand, settings: &Settings) -> Result<ExitCode> {
    let (login, role, org, name, email, password_stdin) = match cmd {
        UserCommand::Add {
            login,
            role,
            org,
            name,
            email,
            password_stdin,
        } => (login, role, org, name, email, password_stdin),
        UserCommand::Passwd { login } => {
            let password = read_password()?;
            return setup::runtime()?.block_on(async {
                let store = setup::store(settings, 1).await?;
                set_password(&store, &login, &password).await?;
                println!("password set for `{login}`; every session of theirs has ended");
                Ok(ExitCode::SUCCESS)
            });
        }
        UserCommand::Sessions(SessionsCommand::End { login }) => {
            return setup::runtime()?.block_on(async {
                use duban_storage::Accounts;
                let store = setup::store(settings, 1).await?;
                if store.user(&login).await?.is_none() {
                    bail!("no user `{login}`");
                }
                let ended = store.end_sessions(&login, None).await?;
                super::audit::record(
                    &store,
                    "sessions_ended",
                    &login,
                    &format!("{ended} session(s)"),
                )
                .await?;
                println!("ended {ended} session(s) of `{login}`");
                Ok(ExitCode::SUCCESS)
            });
        }
    };
    // Checked before anything is written, so that a weak password adds no half-made user.
    let password = if password_stdin {
        let p = read_password()?;
        if let Err(weak) = duban_service::check_password(&login, &p) {
            bail!("password for `{login}`: {weak}");
        }
        Some(p)
    } else {
        None
    };
    if !is_code(&login) {
        bail!("login `{login}`: use letters, digits, - _ . (at most 64)");
    }
    let role = Role::parse(&role).context("unknown role")?;
    setup::runtime()?.block_on(async {
        let store = setup::store(settings, 1).await?;
        if let Some(code) = &org {
            let Some(o) = store.org(code).await? else {
                bail!("no organisation `{code}`; add it with `duban org add`");
            };
            let fits = match role {
                Role::Department => o.kind == OrgKind::Department,
                Role::Court => o.kind == OrgKind::Court,
                Role::Deputy => o.kind == OrgKind::Station,
                _ => true,
            };
            if !fits {
                bail!(
                    "a {role} user cannot belong to {} `{code}`",
                    o.kind.as_str()
                );
            }
        } else if matches!(role, Role::Department | Role::Court) {
            bail!("a {role} user needs --org (their {role})");
        }
        let user = User {
            login: login.clone(),
            role,
            org,
            name: name.unwrap_or_else(|| login.clone()),
        };
        store.add_user(&user).await?;
        if email.is_some() {
            store.set_user_email(&login, email.as_deref()).await?;
        }
        if let Some(p) = &password {
            set_password(&store, &login, p).await?;
        }
        println!("added {role} `{login}`");
        Ok(ExitCode::SUCCESS)
    })
}

pub fn token(cmd: TokenCommand, settings: &Settings) -> Result<ExitCode> {
    setup::runtime()?.block_on(async {
        let store = setup::store(settings, 1).await?;
        let now = jiff::Timestamp::now();
        match cmd {
            TokenCommand::Create { login } => {
                let (token, id) = duban_service::new_token();
                store
                    .add_token(&id, &login, &duban_service::hash_token(&token), now)
                    .await
                    .with_context(|| format!("cannot create a token for `{login}`"))?;
                super::audit::record(&store, "token_created", &id, &format!("for {login}")).await?;
                eprintln!("token {id} for `{login}` (shown once; store it safely):");
                println!("{token}");
            }
            TokenCommand::List { login } => {
                for t in store.tokens(&login).await? {
                    let state = match t.revoked_at {
                        Some(at) => format!("revoked {at}"),
                        None => "active".into(),
                    };
                    println!("{}\tcreated {}\t{state}", t.id, t.created_at);
                }
            }
            TokenCommand::Revoke { id } => {
                if !store.revoke_token(&id, now).await? {
                    bail!("no active token with id `{id}`");
                }
                super::audit::record(&store, "token_revoked", &id, "").await?;
                println!("revoked {id}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn deliveries(cmd: DeliveriesCommand, settings: &Settings) -> Result<ExitCode> {
    setup::runtime()?.block_on(async {
        let store = setup::store(settings, 1).await?;
        match cmd {
            DeliveriesCommand::List { status, limit } => {
                for d in store.deliveries(status.as_deref(), limit).await? {
                    println!(
                        "{}\t{}\t{}\t{}\tattempts {}\t{}",
                        d.id,
                        d.status,
                        d.channel,
                        d.address,
                        d.attempts,
                        d.last_error.unwrap_or_default()
                    );
                }
            }
            DeliveriesCommand::Retry { id } => {
                if !store.retry_delivery(&id, jiff::Timestamp::now()).await? {
                    bail!("no dead delivery with id `{id}`");
                }
                println!("{id} is queued again");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
