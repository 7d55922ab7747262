//! SMS through Alibaba Cloud's gateway (阿里云短信服务, `SendSms` of API version 2017-05-25),
//! signed as its documentation gives: the parameters sorted and percent-encoded per RFC 3986,
//! `POST&%2F&<encoded query>`, HMAC-SHA1 keyed by `secret + "&"`, Base64. Chinese SMS go out
//! only as pre-approved templates with parameters: the template code for each notice kind is
//! configured, and a delivery carries the kind and the parameters. The number is not in the
//! delivery (it is personal data): the store opens it from the person's record at sending.

use std::collections::BTreeMap;

use base64::Engine as _;
use duban_storage::Delivery;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha1::Sha1;

use crate::channel::{Channel, SendFuture};
use crate::webhook::{http_client, unanswered};

pub use duban_core::labels::NOTICE_KINDS;

/// Alibaba Cloud's public endpoint.
pub const ALIYUN_ENDPOINT: &str = "https://dysmsapi.aliyuncs.com/";

/// How to reach the gateway, and the templates.
#[derive(Clone, Default)]
pub struct SmsSettings {
    /// The gateway's address (a private endpoint or a test double elsewhere).
    pub endpoint: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    /// The approved signature shown in 【】 before each message, e.g. 某县人大常委会.
    pub sign_name: String,
    /// The approved template code for each notice kind (`overdue` → `SMS_123456789`).
    pub templates: BTreeMap<String, String>,
}

impl std::fmt::Debug for SmsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSettings")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("sign_name", &self.sign_name)
            .field("templates", &self.templates)
            .finish_non_exhaustive()
    }
}

/// RFC 3986 percent-encoding as Alibaba Cloud signs: only `A-Z a-z 0-9 - _ . ~` stay.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The canonical query: every parameter but `Signature`, sorted, encoded, joined by `&`.
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The request's `Signature` for HTTP `method`.
pub fn aliyun_signature(method: &str, params: &BTreeMap<String, String>, secret: &str) -> String {
    let to_sign = format!(
        "{method}&{}&{}",
        percent_encode("/"),
        percent_encode(&canonical_query(params))
    );
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(format!("{secret}&").as_bytes())
        .unwrap_or_else(|_| unreachable!());
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The SMS channel.
#[derive(Debug, Clone)]
pub struct Sms {
    settings: SmsSettings,
    client: reqwest::Client,
}

impl Sms {
    /// Checks the settings (every template's kind is known; the keys and the signature name
    /// are there) and makes the client, trusting the system's roots and `ca_pem`.
    pub fn new(settings: SmsSettings, ca_pem: Option<&[u8]>) -> Result<Self, String> {
        for kind in settings.templates.keys() {
            if !NOTICE_KINDS.contains(&kind.as_str()) {
                return Err(format!(
                    "SMS template for `{kind}`: the notice kinds are {}",
                    NOTICE_KINDS.join(", ")
                ));
            }
        }
        for (value, what) in [
            (&settings.access_key_id, "the AccessKey ID"),
            (&settings.access_key_secret, "the AccessKey secret"),
            (&settings.sign_name, "the signature name (签名)"),
        ] {
            if value.trim().is_empty() {
                return Err(format!("SMS needs {what}"));
            }
        }
        if !(settings.endpoint.starts_with("https://") || settings.endpoint.starts_with("http://"))
        {
            return Err("the SMS endpoint must be an http:// or https:// address".into());
        }
        Ok(Self {
            settings,
            client: http_client(ca_pem)?,
        })
    }

    /// The signed form for one message.
    fn form(
        &self,
        phone: &str,
        template: &str,
        params: &Value,
        out_id: &str,
        now_unix: i64,
    ) -> BTreeMap<String, String> {
        let timestamp = jiff::Timestamp::from_second(now_unix)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let mut form: BTreeMap<String, String> = [
            ("AccessKeyId", self.settings.access_key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("OutId", out_id),
            ("PhoneNumbers", phone),
            ("RegionId", "cn-hangzhou"),
            ("SignName", self.settings.sign_name.as_str()),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", template),
            ("Timestamp", timestamp.as_str()),
            ("Version", "2017-05-25"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        // The gateway refuses a nonce it has seen within 15 minutes: each attempt its own.
        form.insert(
            "SignatureNonce".into(),
            uuid::Uuid::new_v4().hyphenated().to_string(),
        );
        form.insert("TemplateParam".into(), params.to_string());
        let signature = aliyun_signature("POST", &form, &self.settings.access_key_secret);
        form.insert("Signature".into(), signature);
        form
    }
}

impl Channel for Sms {
    fn name(&self) -> &'static str {
        "sms"
    }

    /// `phone` is the person's number, opened by the store (`None`: they withdrew it or
    /// their consent since the message was queued).
    fn send<'a>(
        &'a self,
        d: &'a Delivery,
        phone: Option<&'a str>,
        now_unix: i64,
    ) -> SendFuture<'a> {
        Box::pin(async move {
            let phone =
                phone.ok_or("the person has no mobile number or no consent to SMS any more")?;
            let message: Value = serde_json::from_str(&d.body)
                .map_err(|_| "the queued SMS is not its JSON (kind, params)".to_string())?;
            let kind = message["kind"].as_str().unwrap_or_default();
            let template = self
                .settings
                .templates
                .get(kind)
                .ok_or_else(|| format!("no SMS template is configured for `{kind}` notices"))?;
            let form = self.form(phone, template, &message["params"], &d.id, now_unix);
            // A form body, never a query: the number must not appear in a URL.
            let body = form
                .iter()
                .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            let res = self
                .client
                .post(&self.settings.endpoint)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .map_err(unanswered)?;
            let status = res.status();
            let bytes = res.bytes().await.map_err(unanswered)?;
            let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let code = answer.get("Code").and_then(Value::as_str);
            match code {
                Some("OK") if status.is_success() => Ok(()),
                Some(code) => Err(format!(
                    "SMS gateway {code}: {}",
                    answer
                        .get("Message")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                )),
                None => Err(format!("SMS gateway HTTP {}", status.as_u16())),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Alibaba Cloud's SMS documentation (短信服务 › HTTP 协议及签名): these
    /// parameters, AccessKey secret `testSecret`, GET, signature `zJDF+Lrzhj/ThnlvIToysFRq6t4=`.
    #[test]
    fn the_signature_matches_the_vendors_documented_example() {
        let params: BTreeMap<String, String> = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert!(canonical_query(&params).starts_with(
            "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001\
             &RegionId=cn-hangzhou&SignName=%E9%98%BF%E9%87%8C%E4%BA%91"
        ));
        assert!(
            canonical_query(&params)
                .ends_with("&TemplateParam=%7B%22customer%22%3A%22test%22%7D&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25")
        );
        assert_eq!(
            aliyun_signature("GET", &params, "testSecret"),
            "zJDF+Lrzhj/ThnlvIToysFRq6t4="
        );
    }

    #[test]
    fn settings_name_what_is_missing_or_unknown() {
        let good = SmsSettings {
            endpoint: ALIYUN_ENDPOINT.into(),
            access_key_id: "id".into(),
            access_key_secret: "secret".into(),
            sign_name: "某县人大".into(),
            templates: [("overdue".to_string(), "SMS_1".to_string())].into(),
        };
        assert!(Sms::new(good.clone(), None).is_ok());
        let mut bad = good.clone();
        bad.templates.insert("weekly".into(), "SMS_2".into());
        assert!(Sms::new(bad, None).unwrap_err().contains("`weekly`"));
        let mut bad = good;
        bad.sign_name = " ".into();
        assert!(Sms::new(bad, None).unwrap_err().contains("签名"));
    }
}
