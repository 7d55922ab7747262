//! The shipped workflows and calendar, and a way to act through them straight on a store as the
//! service does: for suites below the service, and for child processes that write fast.

use duban_core::machine::{self, Actor, Transition};
use duban_core::{Calendar, Role, Workflows};
use duban_storage::{Indexing, Meta, NewCase, Store};
use jiff::Timestamp;
use serde_json::Value;

use crate::ts;

/// The shipped workflows and calendar.
#[derive(Debug)]
pub struct World {
    pub workflows: Workflows,
    pub calendar: Calendar,
}

/// Someone acting: `user` in `role`, of organisation `org`.
pub fn actor(user: &str, role: Role, org: Option<&str>) -> Actor {
    Actor {
        user: user.into(),
        role,
        org: org.map(str::to_string),
    }
}

/// Why an attempted action did not happen.
#[derive(Debug)]
pub enum Failure {
    Refused(machine::TransitionError),
    Store(duban_storage::Error),
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// The compiled-in workflows and holiday calendar.
    pub fn new() -> Self {
        Self {
            workflows: Workflows::builtin(),
            calendar: Calendar::builtin(),
        }
    }

    /// Files a case of `kind` as `who` at `at`; its id.
    pub async fn file<S: Store>(
        &self,
        store: &S,
        kind: &str,
        who: &Actor,
        payload: Value,
        at: Timestamp,
    ) -> String {
        let wf = self.workflows.get(kind).expect("kind");
        let t = machine::file(wf, &self.calendar, who, &payload, at)
            .unwrap_or_else(|e| panic!("file {kind}: {e}"));
        let title = payload["title"].as_str().unwrap_or("untitled").to_string();
        let id = uuid::Uuid::now_v7().to_string();
        store
            .file_case(NewCase {
                id: id.clone(),
                title,
                transition: &t,
                idempotency: None,
                meta: Meta::default(),
                index: Indexing {
                    format: &wf.number,
                    number: None,
                    words: duban_service::search_words(wf, payload.as_object().expect("object")),
                },
            })
            .await
            .expect("file_case");
        id
    }

    /// Reads the case, runs the state machine and records the result at the version read.
    pub async fn act<S: Store>(
        &self,
        store: &S,
        id: &str,
        action: &str,
        payload: Value,
        who: &Actor,
        at: Timestamp,
    ) -> Result<Transition, Failure> {
        let record = store
            .case(id)
            .await
            .map_err(Failure::Store)?
            .expect("case exists");
        let wf = self.workflows.get(&record.case.kind).expect("kind");
        let t = machine::act(wf, &self.calendar, &record.case, action, &payload, who, at)
            .map_err(Failure::Refused)?;
        store
            .record_action(id, record.case.version, &t, &Meta::default())
            .await
            .map_err(Failure::Store)?;
        Ok(t)
    }

    /// Files a suggestion, registers it and assigns it to `lead` (and `co`): the usual start.
    pub async fn assigned_suggestion<S: Store>(
        &self,
        store: &S,
        filer: &Actor,
        lead: &str,
        co: &[&str],
        filed: &str,
        assigned: &str,
    ) -> String {
        let staff = actor("xu_staff", Role::Staff, None);
        let id = self
            .file(
                store,
                "suggestion",
                filer,
                serde_json::json!({"title": format!("建议 {filed}"), "body": "……"}),
                ts(filed),
            )
            .await;
        self.must(
            store,
            &id,
            "register",
            serde_json::json!({}),
            &staff,
            ts(filed),
        )
        .await;
        let payload = serde_json::json!({"lead_department": lead, "co_departments": co});
        self.must(store, &id, "assign", payload, &staff, ts(assigned))
            .await;
        id
    }

    /// [`World::act`], which must succeed.
    pub async fn must<S: Store>(
        &self,
        store: &S,
        id: &str,
        action: &str,
        payload: Value,
        who: &Actor,
        at: Timestamp,
    ) -> Transition {
        self.act(store, id, action, payload, who, at)
            .await
            .unwrap_or_else(|e| panic!("{action}: {e:?}"))
    }
}
