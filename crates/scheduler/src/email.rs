//! E-mail through an SMTP relay, by lettre over rustls: a plain intranet relay
//! (`smtp://host:25`), STARTTLS with a login (`smtp://user:pass@host:587?tls=required`) or
//! implicit TLS (`smtps://user:pass@host:465`), trusting the system's roots and the operator's
//! CA. Each message is valid RFC 5322, marked as sent by a machine.

use std::time::Duration;

use duban_storage::Delivery;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::channel::{Channel, SendFuture};

/// The name mail clients show as the sender.
pub const SENDER_NAME: &str = "督办系统";

/// How to reach the relay and who the mail is from.
#[derive(Clone, Default)]
pub struct SmtpSettings {
    /// `smtp://host:25`, `smtp://user@host:587?tls=required`, `smtps://user@host:465`; a bare
    /// `host[:port]` is a plain relay, as before URLs were taken.
    pub url: String,
    /// The login's password, when it is not in the URL (`DUBAN_SMTP_PASSWORD`, or a
    /// credentials file).
    pub password: Option<String>,
    /// A CA to trust besides the system's, as PEM.
    pub ca_pem: Option<Vec<u8>>,
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry the password: only where it points is shown.
        f.debug_struct("SmtpSettings")
            .field("relay", &relay_of(&self.url))
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// `scheme://host:port` of a relay URL, without the login.
pub fn relay_of(url: &str) -> String {
    match url::Url::parse(&normalised(url)) {
        Ok(u) => format!(
            "{}://{}:{}",
            u.scheme(),
            u.host_str().unwrap_or_default(),
            u.port().map(|p| p.to_string()).unwrap_or_default()
        ),
        Err(_) => "(not a URL)".into(),
    }
}

/// A bare `host[:port]` as the plain relay URL it has always meant.
fn normalised(url: &str) -> String {
    if url.contains("://") {
        url.to_string()
    } else if url.contains(':') {
        format!("smtp://{url}")
    } else {
        format!("smtp://{url}:25")
    }
}

/// E-mail through the relay.
pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The right-hand side of Message-IDs: the sender's domain.
    domain: String,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Email {
    /// The channel, or what is wrong with the settings (said at start-up, not at the first
    /// delivery).
    pub fn new(s: &SmtpSettings) -> Result<Self, String> {
        let mut url = url::Url::parse(&normalised(&s.url))
            .map_err(|e| format!("--smtp is not a relay URL such as smtp://host:25: {e}"))?;
        if !matches!(url.scheme(), "smtp" | "smtps") {
            return Err("--smtp takes smtp:// or smtps://".into());
        }
        let host = url.host_str().ok_or("--smtp names no host")?.to_string();
        if let Some(password) = &s.password {
            if url.username().is_empty() {
                return Err(
                    "a password is given but --smtp names no user (smtp://user@host…)".into(),
                );
            }
            if url.password().is_none() {
                url.set_password(Some(password))
                    .map_err(|()| "the password cannot be put in the relay URL")?;
            }
        }
        let tls_mode = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.to_string());
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.as_str())
            .map_err(|e| format!("--smtp: {e}"))?;
        if let Some(pem) = &s.ca_pem {
            let mut params = TlsParameters::builder(host.clone());
            let certs =
                crate::tls::certificates(pem).map_err(|e| format!("--smtp-ca-file: {e}"))?;
            for der in certs {
                params = params.add_root_certificate(
                    Certificate::from_der(der.to_vec()).map_err(|e| format!("the CA file: {e}"))?,
                );
            }
            let params = params.build_rustls().map_err(|e| format!("TLS: {e}"))?;
            let tls = match (url.scheme(), tls_mode.as_deref()) {
                ("smtps", _) => Tls::Wrapper(params),
                (_, Some("required")) => Tls::Required(params),
                (_, Some("opportunistic")) => Tls::Opportunistic(params),
                _ => {
                    return Err(
                        "--smtp-ca-file is for a relay spoken to over TLS: smtps://… or smtp://…?tls=required"
                            .into(),
                    );
                }
            };
            builder = builder.tls(tls);
        }
        let from: Mailbox = s
            .from
            .parse::<lettre::Address>()
            .map(|a| Mailbox::new(Some(SENDER_NAME.into()), a))
            .map_err(|e| format!("--smtp-from is not an e-mail address: {e}"))?;
        let domain = from.email.domain().to_string();
        Ok(Self {
            transport: builder.timeout(Some(Duration::from_secs(20))).build(),
            from,
            domain,
        })
    }

    /// The message for a delivery: the Message-ID comes from the delivery's id, so that a
    /// retried delivery is the same message to the receiving side.
    pub fn message(&self, d: &Delivery) -> Result<Message, String> {
        Message::builder()
            .from(self.from.clone())
            .to(d
                .address
                .parse()
                .map_err(|e| format!("recipient address: {e}"))?)
            .subject(d.subject.clone())
            .message_id(Some(format!("<{}@{}>", d.id, self.domain)))
            .header(AutoSubmitted)
            .header(DeliveryId(d.id.clone()))
            .singlepart(SinglePart::plain(d.body.clone()))
            .map_err(|e| format!("building the message: {e}"))
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no auto-replies, no vacation notices back.
#[derive(Clone)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

/// The custom header that carries the delivery id to mail systems, for de-duplication.
#[derive(Clone)]
struct DeliveryId(String);

impl lettre::message::header::Header for DeliveryId {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Duban-Delivery")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

impl Channel for Email {
    fn name(&self) -> &'static str {
        "email"
    }

    fn send<'a>(
        &'a self,
        d: &'a Delivery,
        _secret: Option<&'a str>,
        _now_unix: i64,
    ) -> SendFuture<'a> {
        Box::pin(async move {
            let message = self.message(d)?;
            self.transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| format!("SMTP: {}", crate::channel::reasons(&e)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_host_is_a_plain_relay_and_the_login_is_never_shown() {
        assert_eq!(relay_of("mail.rd.example:25"), "smtp://mail.rd.example:25");
        assert_eq!(relay_of("mail.rd.example"), "smtp://mail.rd.example:25");
        let s = SmtpSettings {
            url: "smtps://duban:s3cret@mail.rd.example:465".into(),
            from: "duban@rd.example".into(),
            ..SmtpSettings::default()
        };
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("duban:"),
            "{shown}"
        );
    }

    #[test]
    fn wrong_settings_are_said_at_once() {
        let with = |url: &str, password: Option<&str>, ca: bool| {
            Email::new(&SmtpSettings {
                url: url.into(),
                password: password.map(str::to_string),
                ca_pem: ca.then(|| b"not pem".to_vec()),
                from: "duban@rd.example".into(),
            })
            .err()
            .unwrap_or_default()
        };
        assert!(with("http://x", None, false).contains("smtp://"));
        assert!(with("smtp://mail:25", Some("p"), false).contains("names no user"));
        assert!(with("smtp://mail:25", None, true).contains("no certificate"));
    }
}
