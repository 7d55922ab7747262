//! Delivery channels: e-mail over SMTP and webhooks signed with HMAC-SHA256. The in-app inbox is
//! not a channel here: it is written in the same transaction that fires the reminder.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use duban_storage::Delivery;
use hmac::{Hmac, Mac};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::Sha256;

/// What a channel's `send` returns: `Err` carries the reason, recorded with the attempt.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// A way to deliver a message. `secret` is the organisation's webhook secret, for signing.
pub trait Channel: Send + Sync {
    /// `email` or `webhook`: the deliveries this channel takes.
    fn name(&self) -> &'static str;
    fn send<'a>(
        &'a self,
        delivery: &'a Delivery,
        secret: Option<&'a str>,
        now_unix: i64,
    ) -> SendFuture<'a>;
}

/// SMTP settings.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub from: String,
}

/// E-mail through an SMTP relay (the office's mail server, without authentication or TLS,
/// as intranet relays are usually set up).
pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: String,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Email {
    pub fn new(s: &SmtpSettings) -> Self {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.as_str())
            .port(s.port)
            .timeout(Some(Duration::from_secs(20)))
            .build();
        Self {
            transport,
            from: s.from.clone(),
        }
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
            let message = Message::builder()
                .from(
                    self.from
                        .parse()
                        .map_err(|e| format!("sender address: {e}"))?,
                )
                .to(d
                    .address
                    .parse()
                    .map_err(|e| format!("recipient address: {e}"))?)
                .subject(d.subject.clone())
                .header(ContentType::TEXT_PLAIN)
                .header(DeliveryId(d.id.clone()))
                .body(d.body.clone())
                .map_err(|e| format!("building the message: {e}"))?;
            self.transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| format!("SMTP: {e}"))
        })
    }
}

/// The signature header value for a webhook body: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "<t>.<body>">`. Receivers recompute it with their secret and reject stale timestamps.
pub fn signature(secret: &str, unix: i64, body: &str) -> String {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(format!("{unix}.{body}").as_bytes());
    format!("t={unix},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// HTTP POST of a JSON body, signed, with the delivery id as idempotency key.
#[derive(Debug, Clone)]
pub struct Webhook {
    client: reqwest::Client,
}

impl Default for Webhook {
    fn default() -> Self {
        Self::new()
    }
}

impl Webhook {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self { client }
    }
}

impl Channel for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn send<'a>(
        &'a self,
        d: &'a Delivery,
        secret: Option<&'a str>,
        now_unix: i64,
    ) -> SendFuture<'a> {
        Box::pin(async move {
            let mut req = self
                .client
                .post(&d.address)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", &d.id)
                .body(d.body.clone());
            if let Some(s) = secret {
                req = req.header("X-Duban-Signature", signature(s, now_unix, &d.body));
            }
            let res = req.send().await.map_err(|e| format!("HTTP: {e}"))?;
            if res.status().is_success() {
                Ok(())
            } else {
                Err(format!("HTTP {}", res.status().as_u16()))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_and_body() {
        // Checked with: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
        assert_eq!(
            signature("s3cret", 1_700_000_000, "{\"a\":1}"),
            "t=1700000000,v1=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940"
        );
    }
}
