//! Reminder deliveries, for administrators: which failed for good, and retrying them.

use super::*;

/// Reminder deliveries, for administrators: which failed for good, and retrying them.
impl<S: Store + Outbox + Audit> Service<S> {
    /// Deliveries, optionally in one status (`dead` for those that gave up), with their attempts.
    #[tracing::instrument(skip_all)]
    pub async fn deliveries(
        &self,
        p: &Principal,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(Delivery, Vec<Attempt>)>> {
        crate::admin::admin_only(p)?;
        if let Some(s) = status
            && !["pending", "claimed", "sent", "dead"].contains(&s)
        {
            return Err(Error::Invalid {
                problems: vec![FieldProblem {
                    field: "status".into(),
                    problem: "one of pending, claimed, sent, dead".into(),
                }],
            });
        }
        let mut out = Vec::new();
        for d in self.store.deliveries(status, limit.clamp(1, 500)).await? {
            let attempts = self.store.attempts(&d.id).await?;
            out.push((d, attempts));
        }
        Ok(out)
    }

    /// Puts a dead delivery back in the queue.
    #[tracing::instrument(skip_all)]
    pub async fn retry_delivery(&self, p: &Principal, id: &str) -> Result<()> {
        crate::admin::admin_only(p)?;
        if self.store.retry_delivery(id, self.now()).await? {
            if let Some(w) = &self.wake {
                w.notify_one();
            }
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }
}

/// One notice or reminder that went out about a case: when, which (its headline), to whom, by
/// which channel, and how it fared. What it said is not part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentNotice {
    pub at: jiff::Timestamp,
    /// `新交办`, `到期提醒` …: the notice's headline, not its text.
    pub headline: String,
    /// A user login (inbox, SMS), an organisation code (its mailbox, webhook or robots) or an
    /// e-mail address (a person's mailbox).
    pub to: String,
    /// `inbox`, `email`, `webhook`, `wecom`, `dingtalk` or `sms`.
    pub channel: String,
    pub outcome: SentOutcome,
    pub attempts: i64,
}

/// How a sent notice fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentOutcome {
    /// In the person's inbox, read.
    Read,
    /// In the person's inbox, not yet read.
    Unread,
    /// Accepted by the mail relay, the webhook's receiver, the robot or the SMS gateway.
    Delivered,
    /// Waiting for its first attempt or its next one.
    Pending,
    /// Failed its last attempt; an administrator may retry it.
    Failed,
}

/// `【新交办】代表建议《…》` → `新交办`.
fn headline(title: &str) -> String {
    title
        .strip_prefix('【')
        .and_then(|t| t.split_once('】'))
        .map_or_else(|| "提醒".to_string(), |(h, _)| h.to_string())
}

/// What went out about a case, for the committee (leaders, staff, auditors), who see every
/// case: each inbox message and each delivery, oldest first.
impl<S: Store + Outbox + Audit> Service<S> {
    pub async fn sent_notices(&self, p: &Principal, case_id: &str) -> Result<Vec<SentNotice>> {
        if !matches!(p.role(), Role::Leader | Role::Staff | Role::Auditor) {
            return Err(Error::Forbidden {
                detail: "what went out about a case is for leaders, staff and auditors".into(),
            });
        }
        let mut out: Vec<SentNotice> = self
            .store
            .case_notifications(case_id)
            .await?
            .into_iter()
            .map(|n| SentNotice {
                at: n.created_at,
                headline: headline(&n.title),
                to: n.recipient,
                channel: "inbox".into(),
                outcome: if n.read_at.is_some() {
                    SentOutcome::Read
                } else {
                    SentOutcome::Unread
                },
                attempts: 1,
            })
            .collect();
        out.extend(
            self.store
                .case_deliveries(case_id)
                .await?
                .into_iter()
                .map(|d| SentNotice {
                    at: d.created_at,
                    headline: headline(&d.subject),
                    to: d.org_code.unwrap_or(d.address),
                    outcome: match d.status.as_str() {
                        "sent" => SentOutcome::Delivered,
                        "dead" => SentOutcome::Failed,
                        _ => SentOutcome::Pending,
                    },
                    channel: d.channel,
                    attempts: d.attempts,
                }),
        );
        out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.channel.cmp(&b.channel)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_is_named_by_its_headline_only() {
        assert_eq!(
            headline("【新交办】代表建议《关于…》（建议〔2024〕007号）"),
            "新交办"
        );
        assert_eq!(headline("没有标题"), "提醒");
    }
}
