//! `duban org add|edit`, `duban user add|edit|passwd`, `duban token create|list|revoke`:
//! organisations and their contacts, people and their bearer tokens, from the command line.

use duban_storage::{Directory, Tokens};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use duban_storage::{Contacts, Org, OrgKind, Outbox};

use super::admin;
use super::setup::{self, Settings};
use duban_service::{NewPerson, OrgChange, PersonChange};

/// Where an organisation's reminders go, besides its people's inboxes.
#[derive(Debug, Clone, Default, Args)]
pub struct OrgContacts {
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
    /// A 企业微信 (WeCom) group robot's address,
    /// `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`.
    #[arg(long)]
    wecom_url: Option<String>,
    /// A 钉钉 (DingTalk) custom robot's address,
    /// `https://oapi.dingtalk.com/robot/send?access_token=…`.
    #[arg(long, requires = "dingtalk_secret")]
    dingtalk_url: Option<String>,
    /// The DingTalk robot's signing secret (加签, `SEC…`).
    #[arg(
        long,
        env = "DUBAN_DINGTALK_SECRET",
        hide_env_values = true,
        requires = "dingtalk_url"
    )]
    dingtalk_secret: Option<String>,
}

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
        #[command(flatten)]
        contacts: OrgContacts,
    },
    /// Change an organisation's name or contacts; those not named stay as they are.
    Edit {
        code: String,
        /// Its new name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        contacts: OrgContacts,
        /// Remove a contact (repeatable).
        #[arg(long, value_parser = ["email", "webhook", "wecom", "dingtalk"])]
        remove: Vec<String>,
    },
    /// List organisations, by code.
    List {
        /// Words of the code or name.
        #[arg(long)]
        q: Option<String>,
        #[arg(long, value_parser = ["department", "station", "court", "committee"])]
        kind: Option<String>,
        /// Only the disabled ones.
        #[arg(long)]
        disabled: bool,
        /// One JSON object per line, as the API gives them.
        #[arg(long)]
        json: bool,
    },
    /// Disable an organisation: its people's sessions end, and none of them can sign in or use
    /// a token while it is disabled. Nothing is deleted.
    Disable { code: String },
    /// Enable a disabled organisation again.
    Enable { code: String },
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
        /// Their mobile number (kept encrypted, shown masked).
        #[arg(long)]
        phone: Option<String>,
        /// They agreed to get reminders by SMS (needs --phone).
        #[arg(long, requires = "phone")]
        sms: bool,
        /// Also set their web password, read from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a person's name, role, organisation or contacts; those not named stay as they
    /// are. A new role or organisation ends their sessions.
    Edit {
        login: String,
        /// Their name as shown to others.
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_parser = ["leader", "staff", "deputy", "department", "mediator", "court", "auditor", "admin"])]
        role: Option<String>,
        /// Their organisation's code.
        #[arg(long, conflicts_with = "no_org")]
        org: Option<String>,
        /// Take them out of their organisation.
        #[arg(long)]
        no_org: bool,
        /// Where their reminders are e-mailed.
        #[arg(long)]
        email: Option<String>,
        /// Their mobile number (kept encrypted, shown masked).
        #[arg(long)]
        phone: Option<String>,
        /// Whether they get reminders by SMS: `true` (they agreed; they need a number) or `false`.
        #[arg(long, value_parser = clap::value_parser!(bool))]
        sms: Option<bool>,
        /// Remove a contact (repeatable); removing the phone stops SMS.
        #[arg(long, value_parser = ["email", "phone"])]
        remove: Vec<String>,
    },
    /// Set a user's web password, read from the first line of standard input (typed, or piped).
    /// It must have at least 10 characters, three of upper case, lower case, digits and other
    /// characters, and not contain the login. Clears any lock and ends every session of theirs.
    Passwd { login: String },
    /// A user's web sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// List people, by login.
    List {
        /// Words of the login or name.
        #[arg(long)]
        q: Option<String>,
        #[arg(long, value_parser = ["leader", "staff", "deputy", "department", "mediator", "court", "auditor", "admin"])]
        role: Option<String>,
        /// An organisation's code: its people (a station's deputies).
        #[arg(long)]
        org: Option<String>,
        /// Only the disabled ones.
        #[arg(long)]
        disabled: bool,
        /// One JSON object per line, as the API gives them.
        #[arg(long)]
        json: bool,
    },
    /// Disable a person: their sessions end and their tokens are revoked at once. Nothing is
    /// deleted: histories keep their name.
    Disable { login: String },
    /// Enable a disabled person again (they need new tokens).
    Enable { login: String },
    /// Give a person a temporary password, printed once: they must choose their own at their
    /// next sign-in. Their sessions end.
    ResetPassword { login: String },
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
        /// One JSON object per line, as the API gives them.
        #[arg(long)]
        json: bool,
    },
    /// Put a dead delivery back in the queue.
    Retry { id: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a new bearer token for a user and print it, alone on its line. It is shown once.
    Create {
        login: String,
        /// When it stops working: a date (`2025-06-30`, the end of that day, China time) or an
        /// RFC 3339 instant.
        #[arg(long)]
        expires: Option<String>,
    },
    /// List a user's tokens (ids and dates, never the tokens).
    List {
        login: String,
        /// One JSON object per line, as the API gives them.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id.
    Revoke { id: String },
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn check_url(flag: &str, url: &str) -> Result<()> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("{flag} must be an http:// or https:// address");
    }
    Ok(())
}

impl OrgContacts {
    fn is_empty(&self) -> bool {
        [
            &self.email,
            &self.webhook_url,
            &self.wecom_url,
            &self.dingtalk_url,
        ]
        .iter()
        .all(|c| c.is_none())
    }

    fn check(&self) -> Result<()> {
        for (flag, url) in [
            ("--webhook-url", &self.webhook_url),
            ("--wecom-url", &self.wecom_url),
            ("--dingtalk-url", &self.dingtalk_url),
        ] {
            if let Some(url) = url {
                check_url(flag, url)?;
            }
        }
        Ok(())
    }

    /// Writes the contacts given; `remove` takes contacts away. Each change is audited by
    /// channel, never with the address or secret.
    async fn apply(
        &self,
        store: &duban_storage::SqlStore,
        code: &str,
        remove: &[String],
    ) -> Result<Vec<&'static str>> {
        let mut changed = Vec::new();
        let given = [
            ("email", self.email.as_deref(), None),
            (
                "webhook",
                self.webhook_url.as_deref(),
                self.webhook_secret.as_deref(),
            ),
            ("wecom", self.wecom_url.as_deref(), None),
            (
                "dingtalk",
                self.dingtalk_url.as_deref(),
                self.dingtalk_secret.as_deref(),
            ),
        ];
        for (channel, address, secret) in given {
            let removed = remove.iter().any(|r| r == channel);
            if address.is_some() && removed {
                bail!("--remove {channel} and a new {channel} contact: choose one");
            }
            if address.is_some() || removed {
                store
                    .set_org_channel(code, channel, address, secret)
                    .await?;
                changed.push(channel);
            }
        }
        if !changed.is_empty() {
            super::audit::record(store, "org_contacts_changed", code, &changed.join(",")).await?;
        }
        Ok(changed)
    }
}

pub fn org(cmd: OrgCommand, settings: &Settings) -> Result<ExitCode> {
    let (code, kind, name, contacts, remove) = match cmd {
        OrgCommand::Add {
            code,
            kind,
            name,
            contacts,
        } => (code, Some(kind), Some(name), contacts, Vec::new()),
        OrgCommand::Edit {
            code,
            name,
            contacts,
            remove,
        } => {
            if let Some(name) = name {
                // The name through the use case; the contacts, if any, as below.
                let change = OrgChange {
                    name: Some(name),
                    ..OrgChange::default()
                };
                admin::change_org(settings, &code, change)?;
                if contacts.is_empty() && remove.is_empty() {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            (code, None, None, contacts, remove)
        }
        OrgCommand::List {
            q,
            kind,
            disabled,
            json,
        } => return admin::list_orgs(settings, (q, kind, disabled), json),
        OrgCommand::Disable { code } => {
            let change = OrgChange {
                disabled: Some(true),
                ..OrgChange::default()
            };
            return admin::change_org(settings, &code, change);
        }
        OrgCommand::Enable { code } => {
            let change = OrgChange {
                disabled: Some(false),
                ..OrgChange::default()
            };
            return admin::change_org(settings, &code, change);
        }
    };
    contacts.check()?;
    if !is_code(&code) {
        bail!("organisation code `{code}`: use letters, digits, - _ . (at most 64)");
    }
    let kind = kind
        .map(|k| OrgKind::parse(&k).context("unknown organisation kind"))
        .transpose()?;
    setup::runtime()?.block_on(async {
        let store = setup::store(settings, 1).await?;
        if let (Some(kind), Some(name)) = (kind, &name) {
            store
                .add_org(&Org {
                    code: code.clone(),
                    kind,
                    name: name.trim().to_string(),
                })
                .await?;
            super::audit::record(&store, "org_added", &code, kind.as_str()).await?;
            contacts.apply(&store, &code, &remove).await?;
            println!("added {} `{code}`: {}", kind.as_str(), name.trim());
        } else {
            if store.org(&code).await?.is_none() {
                bail!("no organisation `{code}`");
            }
            let changed = contacts.apply(&store, &code, &remove).await?;
            if changed.is_empty() {
                bail!("nothing to change: give a contact (--email, --webhook-url, --wecom-url, --dingtalk-url) or --remove");
            }
            println!("`{code}`: {} changed", changed.join(", "));
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `--phone` as the mobile number it must be.
fn mobile(phone: &str) -> Result<String> {
    duban_core::person::mobile_number(phone).with_context(|| {
        "--phone: a mainland mobile number has 11 digits and starts with 13–19 (e.g. 13800135678)"
    })
}

pub fn user(cmd: UserCommand, settings: &Settings) -> Result<ExitCode> {
    let (login, role, org, name, email, phone, sms, password_stdin) = match cmd {
        UserCommand::Add {
            login,
            role,
            org,
            name,
            email,
            phone,
            sms,
            password_stdin,
        } => (login, role, org, name, email, phone, sms, password_stdin),
        UserCommand::Edit {
            login,
            name,
            role,
            org,
            no_org,
            email,
            phone,
            sms,
            remove,
        } => {
            let removed = |what: &str| remove.iter().any(|r| r == what);
            for (field, given) in [("email", email.is_some()), ("phone", phone.is_some())] {
                if given && removed(field) {
                    bail!("--remove {field} and --{field}: choose one");
                }
            }
            let change = PersonChange {
                name,
                role,
                org: if no_org { Some(None) } else { org.map(Some) },
                email: if removed("email") {
                    Some(None)
                } else {
                    email.map(Some)
                },
                phone: if removed("phone") {
                    Some(None)
                } else {
                    phone.map(Some)
                },
                sms,
                disabled: None,
            };
            return admin::change_user(settings, &login, change);
        }
        UserCommand::List {
            q,
            role,
            org,
            disabled,
            json,
        } => return admin::list_users(settings, (q, role, org, disabled), json),
        UserCommand::Disable { login } => {
            let change = PersonChange {
                disabled: Some(true),
                ..PersonChange::default()
            };
            return admin::change_user(settings, &login, change);
        }
        UserCommand::Enable { login } => {
            let change = PersonChange {
                disabled: Some(false),
                ..PersonChange::default()
            };
            return admin::change_user(settings, &login, change);
        }
        UserCommand::ResetPassword { login } => return admin::reset_password(settings, &login),
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
    // Checked before anything is written, as the password is.
    let phone = phone.as_deref().map(mobile).transpose()?;
    setup::runtime()?.block_on(async {
        // Through the use case, as the web page and the API add people: the same checks, the
        // same audit record, and a new administrator announced to the others.
        let service = setup::service(settings, 1).await?;
        let new = NewPerson {
            login: login.clone(),
            name: name.unwrap_or_else(|| login.clone()),
            role,
            org,
            email,
            phone,
            sms,
        };
        let added = service
            .add_person(&admin::operator(), &new)
            .await
            .map_err(admin::explain)?;
        if let Some(p) = &password {
            set_password(service.store(), &login, p).await?;
        }
        println!("added {} `{login}`", added.user.role);
        Ok(ExitCode::SUCCESS)
    })
}

pub fn token(cmd: TokenCommand, settings: &Settings) -> Result<ExitCode> {
    match cmd {
        TokenCommand::Create { login, expires } => {
            admin::create_token(settings, &login, expires.as_deref())
        }
        TokenCommand::List { login, json } => admin::list_tokens(settings, &login, json),
        TokenCommand::Revoke { id } => setup::runtime()?.block_on(async {
            let store = setup::store(settings, 1).await?;
            if !store.revoke_token(&id, jiff::Timestamp::now()).await? {
                bail!("no active token with id `{id}`");
            }
            super::audit::record(&store, "token_revoked", &id, "").await?;
            println!("revoked {id}");
            Ok(ExitCode::SUCCESS)
        }),
    }
}

pub fn deliveries(cmd: DeliveriesCommand, settings: &Settings) -> Result<ExitCode> {
    setup::runtime()?.block_on(async {
        let store = setup::store(settings, 1).await?;
        match cmd {
            DeliveriesCommand::List {
                status,
                limit,
                json,
            } => {
                for d in store.deliveries(status.as_deref(), limit).await? {
                    if json {
                        let attempts = store.attempts(&d.id).await?;
                        println!(
                            "{}",
                            serde_json::to_string(&duban_api::DeliveryDto::new(d, attempts))?
                        );
                        continue;
                    }
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
