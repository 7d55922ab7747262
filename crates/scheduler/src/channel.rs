//! What a delivery channel is (e-mail in `email.rs`, webhooks in `webhook.rs`, group robots in
//! `robot.rs`, SMS in `sms.rs`). The in-app inbox is not a channel here: it is written in the
//! same transaction that fires the reminder.

use std::future::Future;
use std::pin::Pin;

use duban_storage::Delivery;

/// What a channel's `send` returns: `Err` carries the reason, recorded with the attempt.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// A way to deliver a message. `secret` is what the store keeps sealed for the delivery
/// (`Outbox::sealed_for`): the organisation's signing secret for a webhook or a DingTalk robot,
/// the person's mobile number for an SMS.
pub trait Channel: Send + Sync {
    /// `email`, `webhook`, `wecom`, `dingtalk` or `sms`: the deliveries this channel takes.
    fn name(&self) -> &'static str;
    fn send<'a>(
        &'a self,
        delivery: &'a Delivery,
        secret: Option<&'a str>,
        now_unix: i64,
    ) -> SendFuture<'a>;
}

/// An error with every cause beneath it, `a: b: c`: a client library's own message is often
/// only "error sending request", and the reason a delivery failed (an unknown issuer, a name
/// the certificate does not hold, a refused connection) is further down.
pub fn reasons(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = cause.source();
    }
    parts.join(": ")
}
