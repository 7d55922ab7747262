//! `duban user list|edit|disable|enable|reset-password`, `duban org list|disable|enable`,
//! `duban token create|list`: administration from the command line, through the same use cases
//! (and so the same checks, rules and audit records) as the web pages and the API, with the
//! operating-system user as the operator. `--json` prints what the API gives, one per line.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use duban_core::{OrgKind, Role};
use duban_service::{
    Error as ServiceError, OrgChange, OrgQuery, PeopleQuery, PersonChange, Principal, Service,
    SqlStore,
};

use super::setup::{self, Settings};

/// Who is at the keyboard, as the audit log names them.
pub fn operator() -> Principal {
    let name = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "operator".into());
    Principal::operator(&name)
}

/// A use case's refusal as the command line says it: each field at fault on its own line.
pub fn explain(e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Invalid { problems } => anyhow::anyhow!(
            "{}",
            problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.problem))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        ServiceError::NotFound => anyhow::anyhow!("not found"),
        other => anyhow::Error::new(other),
    }
}

async fn service(settings: &Settings) -> Result<Service<SqlStore>> {
    setup::service(settings, 1).await
}

/// Prints one JSON value on its own line.
fn json_line(v: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string(v)?);
    Ok(())
}

/// A listing is read a page of this many at a time, each from the last key the one before ended
/// at, so that a county's thousand deputies print without one query holding them all.
const PAGE: u32 = 500;

/// Prints every page `fetch` gives (from the key `key` reads off each page's last item), each
/// item as the API's JSON or as one tab-separated line.
async fn print_all<T, J: serde::Serialize>(
    json: bool,
    mut fetch: impl AsyncFnMut(Option<String>) -> Result<Vec<T>>,
    key: impl Fn(&T) -> String,
    as_json: impl Fn(&T) -> J,
    as_line: impl Fn(&T) -> String,
) -> Result<ExitCode> {
    let mut after = None;
    loop {
        let page = fetch(after.take()).await?;
        for item in &page {
            if json {
                json_line(&as_json(item))?;
            } else {
                println!("{}", as_line(item));
            }
        }
        if page.len() < PAGE as usize {
            return Ok(ExitCode::SUCCESS);
        }
        after = page.last().map(&key);
    }
}

fn active(yes: bool) -> &'static str {
    if yes { "active" } else { "disabled" }
}

/// `duban user list`.
pub fn list_users(
    settings: &Settings,
    (q, role, org, disabled): (Option<String>, Option<String>, Option<String>, bool),
    json: bool,
) -> Result<ExitCode> {
    let role = role
        .map(|r| Role::parse(&r).context("unknown role"))
        .transpose()?;
    setup::runtime()?.block_on(async {
        let service = service(settings).await?;
        let me = operator();
        let fetch = async |after| {
            let query = PeopleQuery {
                q: q.clone(),
                role,
                org: org.clone(),
                disabled: disabled.then_some(true),
                after,
                limit: PAGE,
            };
            service.people(&me, &query).await.map_err(explain)
        };
        print_all(
            json,
            fetch,
            |a| a.user.login.clone(),
            |a| duban_api::UserDto::from(a.clone()),
            |a| {
                let org = a.user.org.as_deref().unwrap_or("-");
                let (u, state) = (&a.user, active(a.active()));
                format!("{}\t{}\t{org}\t{}\t{state}", u.login, u.role, u.name)
            },
        )
        .await
    })
}

/// `duban org list`.
pub fn list_orgs(
    settings: &Settings,
    (q, kind, disabled): (Option<String>, Option<String>, bool),
    json: bool,
) -> Result<ExitCode> {
    let kind = kind
        .map(|k| OrgKind::parse(&k).context("unknown organisation kind"))
        .transpose()?;
    setup::runtime()?.block_on(async {
        let service = service(settings).await?;
        let me = operator();
        let fetch = async |after| {
            let query = OrgQuery {
                q: q.clone(),
                kind,
                disabled: disabled.then_some(true),
                after,
                limit: PAGE,
            };
            service.org_list(&me, &query).await.map_err(explain)
        };
        print_all(
            json,
            fetch,
            |o| o.org.code.clone(),
            |o| duban_api::OrgDto::from(o.clone()),
            |o| {
                let state = active(o.disabled_at.is_none());
                let (org, people) = (&o.org, o.people);
                format!(
                    "{}\t{}\t{}\t{people} people\t{state}",
                    org.code,
                    org.kind.as_str(),
                    org.name
                )
            },
        )
        .await
    })
}

/// `duban user edit|disable|enable`: one change through the use case.
pub fn change_user(settings: &Settings, login: &str, change: PersonChange) -> Result<ExitCode> {
    if change == PersonChange::default() {
        bail!(
            "nothing to change: give --name, --role, --org, --no-org, --email, --phone, --sms or --remove"
        );
    }
    setup::runtime()?.block_on(async {
        let service = service(settings).await?;
        let after = service
            .change_person(&operator(), login, &change)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound => anyhow::anyhow!("no user `{login}`"),
                e => explain(e),
            })?;
        let state = active(after.active());
        println!(
            "`{login}`: {} {} {} ({state})",
            after.user.role,
            after.user.org.as_deref().unwrap_or("-"),
            after.user.name
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// `duban user reset-password`.
pub fn reset_password(settings: &Settings, login: &str) -> Result<ExitCode> {
    setup::runtime()?.block_on(async {
        let service = service(settings).await?;
        let temporary = service
            .reset_password(&operator(), login)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound => anyhow::anyhow!("no user `{login}`"),
                e => explain(e),
            })?;
        eprintln!(
            "temporary password for `{login}` (shown once; they must replace it at their next sign-in):"
        );
        println!("{temporary}");
        Ok(ExitCode::SUCCESS)
    })
}

/// `duban org edit --name`, `duban org disable|enable`.
pub fn change_org(settings: &Settings, code: &str, change: OrgChange) -> Result<ExitCode> {
    setup::runtime()?.block_on(async {
        let service = service(settings).await?;
        let after = service
            .change_org(&operator(), code, &change)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound => anyhow::anyhow!("no organisation `{code}`"),
                e => explain(e),
            })?;
        let state = active(after.disabled_at.is_none());
        println!("`{code}`: {} ({state})", after.org.name);
        Ok(ExitCode::SUCCESS)
    })
}

/// An expiry as typed: a date means the end of that day in China.
fn expiry(s: &str) -> Result<jiff::Timestamp> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    let day: jiff::civil::Date = s.parse().with_context(|| {
        format!("--expires `{s}`: give a date (2025-06-30) or an RFC 3339 instant")
    })?;
    Ok(duban_core::deadline::end_of_day(day))
}

/// `duban token create`.
pub fn create_token(settings: &Settings, login: &str, expires: Option<&str>) -> Result<ExitCode> {
    let expires = expires.map(expiry).transpose()?;
    setup::runtime()?.block_on(async {
        let service = service(settings).await?;
        let (token, id) = service
            .create_token(&operator(), login, expires)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound => anyhow::anyhow!("no user `{login}`"),
                e => explain(e),
            })?;
        match expires {
            Some(at) => {
                eprintln!("token {id} for `{login}`, until {at} (shown once; store it safely):")
            }
            None => eprintln!("token {id} for `{login}` (shown once; store it safely):"),
        }
        println!("{token}");
        Ok(ExitCode::SUCCESS)
    })
}

/// `duban token list`.
pub fn list_tokens(settings: &Settings, login: &str, json: bool) -> Result<ExitCode> {
    setup::runtime()?.block_on(async {
        let service = service(settings).await?;
        let tokens = service
            .person_tokens(&operator(), login)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound => anyhow::anyhow!("no user `{login}`"),
                e => explain(e),
            })?;
        for t in tokens {
            if json {
                json_line(&duban_api::TokenDto::from(t))?;
                continue;
            }
            let state = match (t.revoked_at, t.expires_at) {
                (Some(at), _) => format!("revoked {at}"),
                (None, Some(at)) => format!("expires {at}"),
                (None, None) => "active".into(),
            };
            println!("{}\tcreated {}\t{state}", t.id, t.created_at);
        }
        Ok(ExitCode::SUCCESS)
    })
}
