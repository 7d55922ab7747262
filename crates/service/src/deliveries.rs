//! Reminder deliveries, for administrators: which failed for good, and retrying them.

use super::*;

/// Reminder deliveries, for administrators: which failed for good, and retrying them.
impl<S: Store + Outbox + Audit> Service<S> {
    fn admin_only(p: &Principal) -> Result<()> {
        if p.role() == Role::Admin {
            Ok(())
        } else {
            Err(Error::Forbidden {
                detail: "deliveries are for administrators".into(),
            })
        }
    }

    /// Deliveries, optionally in one status (`dead` for those that gave up), with their attempts.
    #[tracing::instrument(skip_all)]
    pub async fn deliveries(
        &self,
        p: &Principal,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(Delivery, Vec<Attempt>)>> {
        Self::admin_only(p)?;
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
        Self::admin_only(p)?;
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
