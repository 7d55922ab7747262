//! Webhooks: an HTTP POST of a JSON body, signed with HMAC-SHA256, the delivery id as the
//! idempotency key. Over HTTPS it trusts the system's roots and the operator's CA; it follows
//! no redirect and gives up after set timeouts, and a failure says why (the certificate, the
//! name, the refusal).

use std::time::Duration;

use duban_storage::Delivery;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::channel::{Channel, SendFuture, reasons};

/// The signature header value for a webhook body: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "<t>.<body>">`. Receivers recompute it with their secret and reject stale timestamps.
pub fn signature(secret: &str, unix: i64, body: &str) -> String {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(format!("{unix}.{body}").as_bytes());
    format!("t={unix},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// What every request says it is.
pub fn user_agent() -> String {
    format!("duban/{}", env!("CARGO_PKG_VERSION"))
}

#[derive(Debug, Clone)]
pub struct Webhook {
    client: reqwest::Client,
}

impl Webhook {
    /// Trusting the system's roots.
    pub fn new() -> Result<Self, String> {
        Self::with_ca(None)
    }

    /// Trusting the system's roots and the certificates of `ca_pem`.
    pub fn with_ca(ca_pem: Option<&[u8]>) -> Result<Self, String> {
        Ok(Self {
            client: http_client(ca_pem)?,
        })
    }
}

/// The HTTPS client every HTTP channel uses (webhooks, robots, the SMS gateway): the system's
/// roots and the operator's CA, `duban/<version>`, no redirects, set timeouts.
pub(crate) fn http_client(ca_pem: Option<&[u8]>) -> Result<reqwest::Client, String> {
    let extra = match ca_pem {
        Some(pem) => crate::tls::certificates(pem)?,
        None => Vec::new(),
    };
    let tls = crate::tls::client_config(crate::tls::roots(&extra)?)?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(user_agent())
        // A receiver that moved says so with a redirect; following it would send the
        // signed body somewhere nobody configured.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("the HTTP client: {}", reasons(&e)))
}

/// Why a request got no answer, without its URL: a robot's or gateway's address carries its
/// key, and the reason is kept with the attempt.
pub(crate) fn unanswered(e: reqwest::Error) -> String {
    format!("HTTP: {}", reasons(&e.without_url()))
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
            let res = req.send().await.map_err(unanswered)?;
            let status = res.status();
            if status.is_success() {
                Ok(())
            } else if status.is_redirection() {
                Err(format!(
                    "HTTP {} (redirects are not followed: set the address it names)",
                    status.as_u16()
                ))
            } else {
                Err(format!("HTTP {}", status.as_u16()))
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
