//! Group robots, where offices read their notices: a 企业微信 (WeCom) group robot and a 钉钉
//! (DingTalk) custom robot. Each takes a short text as JSON (`{"msgtype":"text",…}`) POSTed to
//! its address and answers `{"errcode":0,"errmsg":"ok"}`; DingTalk's request is signed with the
//! robot's secret (HMAC-SHA256 over `timestamp + "\n" + secret`, as its documentation gives).

use base64::Engine as _;
use duban_storage::Delivery;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::channel::{Channel, SendFuture};
use crate::webhook::{http_client, unanswered};

/// WeCom takes at most 2,048 bytes of text; DingTalk more, but a notice is short anyway.
const MAX_TEXT_BYTES: usize = 2_000;

/// The body both robots take: a text message, cut at a character boundary to fit.
pub fn text_message(text: &str) -> String {
    let mut end = text.len().min(MAX_TEXT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    json!({"msgtype": "text", "text": {"content": &text[..end]}}).to_string()
}

/// DingTalk's `sign` for `timestamp_ms`: Base64 of HMAC-SHA256, keyed by the secret, over
/// `"{timestamp}\n{secret}"` (before URL-encoding).
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Which robot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    WeCom,
    DingTalk,
}

/// A robot channel.
#[derive(Debug, Clone)]
pub struct Robot {
    vendor: Vendor,
    client: reqwest::Client,
}

impl Robot {
    /// Trusting the system's roots and the certificates of `ca_pem`.
    pub fn new(vendor: Vendor, ca_pem: Option<&[u8]>) -> Result<Self, String> {
        Ok(Self {
            vendor,
            client: http_client(ca_pem)?,
        })
    }

    fn vendor_name(&self) -> &'static str {
        match self.vendor {
            Vendor::WeCom => "WeCom",
            Vendor::DingTalk => "DingTalk",
        }
    }
}

impl Channel for Robot {
    fn name(&self) -> &'static str {
        match self.vendor {
            Vendor::WeCom => "wecom",
            Vendor::DingTalk => "dingtalk",
        }
    }

    fn send<'a>(
        &'a self,
        d: &'a Delivery,
        secret: Option<&'a str>,
        now_unix: i64,
    ) -> SendFuture<'a> {
        Box::pin(async move {
            let mut url = url::Url::parse(&d.address)
                .map_err(|_| format!("the {} robot's address is not a URL", self.vendor_name()))?;
            if self.vendor == Vendor::DingTalk {
                // A robot set up with 加签 refuses unsigned messages; one without takes them.
                if let Some(secret) = secret {
                    let ms = now_unix.saturating_mul(1000);
                    url.query_pairs_mut()
                        .append_pair("timestamp", &ms.to_string())
                        .append_pair("sign", &dingtalk_sign(secret, ms));
                }
            }
            let res = self
                .client
                .post(url)
                .header("Content-Type", "application/json")
                .body(d.body.clone())
                .send()
                .await
                .map_err(unanswered)?;
            let status = res.status();
            if !status.is_success() {
                return Err(format!("HTTP {}", status.as_u16()));
            }
            // Both answer 200 with their own error code: 0 is delivered; anything else (a
            // robot removed, 20 a minute exceeded, a bad signature) is not.
            let bytes = res.bytes().await.map_err(unanswered)?;
            let answer: Value = serde_json::from_slice(&bytes).map_err(|_| {
                format!(
                    "the {} robot's answer is not its JSON (errcode)",
                    self.vendor_name()
                )
            })?;
            match answer.get("errcode").and_then(Value::as_i64) {
                Some(0) => Ok(()),
                Some(code) => Err(format!(
                    "{} errcode {code}: {}",
                    self.vendor_name(),
                    answer
                        .get("errmsg")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                )),
                None => Err(format!(
                    "the {} robot's answer has no errcode",
                    self.vendor_name()
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dingtalk_sign_is_base64_hmac_sha256_of_timestamp_newline_secret() {
        // Checked with Python, as DingTalk's documentation computes it:
        // base64.b64encode(hmac.new(b"SEC123", b"1700000000000\nSEC123", hashlib.sha256).digest())
        assert_eq!(
            dingtalk_sign("SEC123", 1_700_000_000_000),
            "lkcPI1uoxBY1gUnCnnPH1Kkru0Hqjo7rFpA3haIVhEQ="
        );
    }

    #[test]
    fn text_is_cut_at_a_character_boundary() {
        let long = "督".repeat(1_000);
        let body: Value = serde_json::from_str(&text_message(&long)).unwrap();
        let content = body["text"]["content"].as_str().unwrap();
        assert!(content.len() <= MAX_TEXT_BYTES);
        assert_eq!(content.chars().count(), MAX_TEXT_BYTES / 3);
        assert_eq!(body["msgtype"], "text");
    }
}
