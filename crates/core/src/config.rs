//! The configuration file (`duban.toml`): every setting the command line and the environment
//! take, grouped by section, read with every problem reported at once with its line.
//!
//! Each setting is the file's name for an environment variable the command line already reads
//! (`[server] addr` is `DUBAN_ADDR`). The binary hands the file's values on as those variables
//! where they are not already set, so a flag beats the environment, which beats the file.

use crate::diagnostic::{Diagnostics, FileDiagnostics, Source};
use crate::tomlread::{self, Table, Value};

/// What a setting's value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// A whole number from 0 up.
    Count,
    /// A number, whole or not, above 0.
    Number,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// `KEY=VALUE` pairs, comma-separated, each KEY one of these words and each VALUE given.
    Pairs(&'static [&'static str]),
    /// A list of addresses or networks (`10.0.0.0/8`), handed on comma-separated.
    Networks,
    /// An address to listen on, `host:port`.
    ListenAddress,
    /// A database URL, `sqlite:` or `postgres:`.
    DatabaseUrl,
}

/// One setting of the file.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub section: &'static str,
    pub key: &'static str,
    /// The environment variable the command line reads it from.
    pub env: &'static str,
    pub kind: Kind,
    /// Shown redacted by `duban config show`.
    pub secret: bool,
}

const fn setting(
    section: &'static str,
    key: &'static str,
    env: &'static str,
    kind: Kind,
) -> Setting {
    Setting {
        section,
        key,
        env,
        kind,
        secret: false,
    }
}

/// Every setting, in the file's order (docs/operations.md lists what each does).
pub const SETTINGS: &[Setting] = &[
    setting("database", "url", "DATABASE_URL", Kind::DatabaseUrl),
    setting(
        "database",
        "connections",
        "DUBAN_DB_CONNECTIONS",
        Kind::Count,
    ),
    setting("keys", "file", "DUBAN_KEYS_FILE", Kind::Text),
    setting("workflows", "dir", "DUBAN_WORKFLOWS", Kind::Text),
    setting("server", "addr", "DUBAN_ADDR", Kind::ListenAddress),
    setting(
        "server",
        "trusted_proxies",
        "DUBAN_TRUSTED_PROXIES",
        Kind::Networks,
    ),
    setting("server", "rate_limit", "DUBAN_RATE_LIMIT", Kind::Number),
    setting("server", "rate_burst", "DUBAN_RATE_BURST", Kind::Number),
    setting(
        "sign_in",
        "lockout_failures",
        "DUBAN_LOCKOUT_FAILURES",
        Kind::Count,
    ),
    setting(
        "sign_in",
        "lockout_minutes",
        "DUBAN_LOCKOUT_MINUTES",
        Kind::Count,
    ),
    setting(
        "sign_in",
        "session_hours",
        "DUBAN_SESSION_HOURS",
        Kind::Count,
    ),
    setting(
        "sign_in",
        "password_max_age_days",
        "DUBAN_PASSWORD_MAX_AGE_DAYS",
        Kind::Count,
    ),
    setting(
        "attachments",
        "max_mb",
        "DUBAN_MAX_ATTACHMENT_MB",
        Kind::Count,
    ),
    setting("attachments", "types", "DUBAN_ATTACHMENT_TYPES", Kind::Text),
    setting("print", "office", "DUBAN_OFFICE_NAME", Kind::Text),
    setting("print", "seal", "DUBAN_SEAL_TEXT", Kind::Text),
    setting("print", "signatures", "DUBAN_SIGNATURE_LINES", Kind::Text),
    setting("reminders", "base_url", "DUBAN_BASE_URL", Kind::Text),
    setting(
        "reminders",
        "max_attempts",
        "DUBAN_MAX_ATTEMPTS",
        Kind::Count,
    ),
    setting(
        "reminders",
        "delivery_rate",
        "DUBAN_DELIVERY_RATE",
        Kind::Count,
    ),
    setting(
        "reminders",
        "lease_seconds",
        "DUBAN_LEASE_SECONDS",
        Kind::Count,
    ),
    setting("mail", "smtp", "DUBAN_SMTP", Kind::Text),
    setting("mail", "from", "DUBAN_SMTP_FROM", Kind::Text),
    setting("mail", "ca_file", "DUBAN_SMTP_CA_FILE", Kind::Text),
    setting("webhooks", "ca_file", "DUBAN_WEBHOOK_CA_FILE", Kind::Text),
    setting("sms", "endpoint", "DUBAN_SMS_ENDPOINT", Kind::Text),
    setting(
        "sms",
        "access_key_id",
        "DUBAN_SMS_ACCESS_KEY_ID",
        Kind::Text,
    ),
    setting("sms", "sign_name", "DUBAN_SMS_SIGN_NAME", Kind::Text),
    setting(
        "sms",
        "templates",
        "DUBAN_SMS_TEMPLATES",
        Kind::Pairs(&crate::labels::NOTICE_KINDS),
    ),
    setting("sms", "daily_cap", "DUBAN_SMS_DAILY_CAP", Kind::Count),
    setting(
        "audit",
        "retention_days",
        "DUBAN_AUDIT_RETENTION_DAYS",
        Kind::Count,
    ),
    setting(
        "log",
        "format",
        "DUBAN_LOG_FORMAT",
        Kind::OneOf(&["text", "json"]),
    ),
    setting("log", "level", "RUST_LOG", Kind::Text),
];

/// The file's settings as `(setting, value)`, the value as its environment variable takes it;
/// or every problem in the file, each with its line.
pub fn read(source: &Source<'_>) -> Result<Vec<(Setting, String)>, Diagnostics> {
    let mut diags = FileDiagnostics::new(source);
    let mut found = Vec::new();
    if let Some(root) = tomlread::parse(source, &mut diags) {
        let sections: Vec<&str> = section_names();
        tomlread::check_keys(root.get_ref(), "", &sections, &mut diags);
        for section in sections {
            let Some((table, _)) = tomlread::table(root.get_ref(), section, "", &mut diags) else {
                continue;
            };
            let keys: Vec<&str> = SETTINGS
                .iter()
                .filter(|s| s.section == section)
                .map(|s| s.key)
                .collect();
            tomlread::check_keys(table, section, &keys, &mut diags);
            for s in SETTINGS.iter().filter(|s| s.section == section) {
                if let Some(value) = value_of(table, s, &mut diags) {
                    found.push((*s, value));
                }
            }
        }
    }
    if diags.found.is_empty() {
        Ok(found)
    } else {
        Err(Diagnostics(diags.found))
    }
}

fn section_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = Vec::new();
    for s in SETTINGS {
        if !names.contains(&s.section) {
            names.push(s.section);
        }
    }
    names
}

/// One setting's value, checked against its kind.
fn value_of(table: &Table<'_>, s: &Setting, diags: &mut FileDiagnostics<'_>) -> Option<String> {
    let path = format!("{}.{}", s.section, s.key);
    let v: &Value<'_> = tomlread::get(table, s.key)?;
    let line = diags.line_of_span(&v.span());
    let text = match s.kind {
        Kind::Count => {
            return tomlread::count(table, s.key, s.section, diags).map(|n| n.value.to_string());
        }
        Kind::Number => {
            let raw = v.get_ref();
            let n = raw
                .as_float()
                .and_then(|f| f.as_str().parse::<f64>().ok())
                .or_else(|| {
                    raw.as_integer()
                        .and_then(|i| i.as_str().replace('_', "").parse().ok())
                });
            return match n {
                Some(n) if n > 0.0 && n.is_finite() => Some(n.to_string()),
                _ => {
                    diags.at_line(line, format!("`{path}` must be a number above 0"));
                    None
                }
            };
        }
        Kind::Networks => {
            let items = tomlread::strings(table, s.key, s.section, diags)?;
            for item in &items {
                if let Err(why) = network(&item.value) {
                    diags.at_line(item.line, format!("`{path}`: {why}"));
                }
            }
            return Some(
                items
                    .into_iter()
                    .map(|i| i.value)
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        _ => tomlread::string(table, s.key, s.section, diags)?.value,
    };
    let problem = match s.kind {
        Kind::OneOf(words) if !words.contains(&text.as_str()) => {
            Some(format!("`{path}` must be one of: {}", words.join(", ")))
        }
        Kind::Pairs(words) => text
            .split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
            .find(|pair| {
                !pair
                    .split_once('=')
                    .is_some_and(|(k, v)| words.contains(&k.trim()) && !v.trim().is_empty())
            })
            .map(|pair| {
                format!(
                    "`{path}`: `{pair}` is not KEY=VALUE with KEY one of: {}",
                    words.join(", ")
                )
            }),
        Kind::ListenAddress if text.parse::<std::net::SocketAddr>().is_err() => Some(format!(
            "`{path}` must be an address and port, such as 127.0.0.1:8080"
        )),
        Kind::DatabaseUrl
            if !["sqlite:", "postgres:", "postgresql:"]
                .iter()
                .any(|scheme| text.starts_with(scheme)) =>
        {
            Some(format!(
                "`{path}` must start with sqlite: or postgres: (sqlite:///var/lib/duban/duban.db?mode=rwc)"
            ))
        }
        _ => None,
    };
    match problem {
        Some(p) => {
            diags.at_line(line, p);
            None
        }
        None => Some(text),
    }
}

/// Checks an address or network such as `10.0.0.0/8`.
fn network(text: &str) -> Result<(), String> {
    let (ip, prefix) = match text.split_once('/') {
        Some((ip, prefix)) => (ip, Some(prefix)),
        None => (text, None),
    };
    let bad = || format!("`{text}` is not an address or a network such as 10.0.0.0/8");
    // As strictly as `serve` reads them: no spaces inside.
    let ip: std::net::IpAddr = ip.parse().map_err(|_| bad())?;
    let most = if ip.is_ipv4() { 32 } else { 128 };
    match prefix.map(|p| p.parse::<u8>()) {
        None => Ok(()),
        Some(Ok(p)) if p <= most => Ok(()),
        Some(_) => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<Vec<(String, String)>, Vec<String>> {
        read(&Source {
            name: "duban.toml",
            text,
        })
        .map(|v| v.into_iter().map(|(s, v)| (s.env.to_string(), v)).collect())
        .map_err(|d| d.0.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn settings_become_the_variables_the_command_line_reads() {
        let got = read_text(
            "[database]\nurl = \"sqlite:///var/lib/duban/duban.db?mode=rwc\"\n\n\
             [server]\naddr = \"0.0.0.0:8080\"\ntrusted_proxies = [\"127.0.0.1/32\", \"10.0.0.0/8\"]\n\
             rate_limit = 20\n\n[log]\nformat = \"json\"\n",
        )
        .expect("valid");
        assert_eq!(
            got,
            vec![
                (
                    "DATABASE_URL".to_string(),
                    "sqlite:///var/lib/duban/duban.db?mode=rwc".to_string()
                ),
                ("DUBAN_ADDR".into(), "0.0.0.0:8080".into()),
                (
                    "DUBAN_TRUSTED_PROXIES".into(),
                    "127.0.0.1/32,10.0.0.0/8".into()
                ),
                ("DUBAN_RATE_LIMIT".into(), "20".into()),
                ("DUBAN_LOG_FORMAT".into(), "json".into()),
            ]
        );
    }

    #[test]
    fn every_unknown_key_and_bad_value_is_reported_at_once_with_its_line() {
        let problems = read_text(
            "[server]\naddr = \"here\"\nport = 80\ntrusted_proxies = [\"nginx\"]\n\n\
             [sign_in]\nlockout_failures = -1\n\n[logs]\nformat = \"json\"\n\n\
             [log]\nformat = \"xml\"\n",
        )
        .expect_err("invalid");
        assert_eq!(
            problems,
            vec![
                "duban.toml:9: unknown key `logs` at the top level (expected one of: database, keys, workflows, server, sign_in, attachments, print, reminders, mail, webhooks, sms, audit, log)",
                "duban.toml:3: unknown key `port` in `server` (expected one of: addr, trusted_proxies, rate_limit, rate_burst)",
                "duban.toml:2: `server.addr` must be an address and port, such as 127.0.0.1:8080",
                "duban.toml:4: `server.trusted_proxies`: `nginx` is not an address or a network such as 10.0.0.0/8",
                "duban.toml:7: `sign_in.lockout_failures` must be a whole number from 0 to 4294967295, found integer",
                "duban.toml:13: `log.format` must be one of: text, json",
            ]
        );
    }

    #[test]
    fn sms_templates_name_known_kinds() {
        let ok = read_text("[sms]\ntemplates = \"new=SMS_1, overdue=SMS_2\"\n").expect("valid");
        assert_eq!(
            ok,
            vec![(
                "DUBAN_SMS_TEMPLATES".to_string(),
                "new=SMS_1, overdue=SMS_2".to_string()
            )]
        );
        for bad in ["weekly=SMS_1", "overdue", "overdue="] {
            let problems =
                read_text(&format!("[sms]\ntemplates = \"new=SMS_1,{bad}\"\n")).expect_err(bad);
            assert_eq!(
                problems,
                vec![format!(
                    "duban.toml:2: `sms.templates`: `{bad}` is not KEY=VALUE with KEY one of: new, due, at_due, overdue, escalated, notice"
                )]
            );
        }
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let problems = read_text("[server]\naddr = \n").expect_err("invalid");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("duban.toml:2: TOML syntax"),
            "{problems:?}"
        );
    }
}
