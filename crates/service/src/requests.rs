//! Requests waiting for an answer (an extension asked for): what was asked, by whom and when,
//! so that whoever decides sees it, and their form opens with it filled in.

use super::*;

/// A request still waiting on a case, as it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRequest {
    /// The request's action and its title (申请延期答复).
    pub action: String,
    pub title: String,
    pub at: Timestamp,
    /// Who asked (a login).
    pub by: String,
    /// What was asked (the date wanted, the reason); personal data masked.
    pub payload: serde_json::Map<String, Value>,
    /// The actions that answer it.
    pub answered_by: Vec<String>,
}

/// The requests pending on `case`, from its history (oldest first), as the workflow `wf`
/// defines them.
pub fn pending_requests(wf: &Workflow, case: &Case, events: &[StoredEvent]) -> Vec<PendingRequest> {
    wf.actions_from(&case.state)
        .filter(|a| machine::pending(a, case))
        .filter_map(|a| {
            let asked = events.iter().rev().find(|e| e.event.action == a.name)?;
            Some(PendingRequest {
                action: a.name.clone(),
                title: a.title.clone(),
                at: asked.event.at,
                by: asked.event.actor.user.clone(),
                payload: asked.event.payload.clone(),
                answered_by: a.answered_by.clone(),
            })
        })
        .collect()
}

impl<S: Store + Audit> Service<S> {
    /// The requests pending on a case the caller can see.
    #[tracing::instrument(skip_all, fields(case_id = id))]
    pub async fn pending_requests(&self, p: &Principal, id: &str) -> Result<Vec<PendingRequest>> {
        let record = self.visible(self.now(), p, id).await?;
        let wf = self.workflow(&record.case.kind)?;
        if !wf.actions.iter().any(|a| machine::pending(a, &record.case)) {
            return Ok(Vec::new());
        }
        let events = self.store.events(id).await?;
        Ok(pending_requests(wf, &record.case, &events))
    }
}
