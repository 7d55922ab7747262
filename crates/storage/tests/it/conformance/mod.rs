//! The storage conformance suite: every scenario is written once, generic over the `Store`
//! trait, and run on SQLite (a temp file) and PostgreSQL (a fresh database per test). Cut by
//! storage area, one file each; the helpers they share are here.

use std::collections::BTreeSet;
use std::sync::Arc;

use duban_core::Role;
use duban_core::machine::{self, Case};
use duban_storage::{
    Access, CaseQuery, Error, Filed, Idempotency, Indexing, ListFilter, Meta, NewCase,
    Notification, Order, Org, OrgKind, Page, PartyList, Store, StoredReminder, User,
};
use duban_testkit::{World, actor, ts};
use serde_json::json;
use sqlx::Row;

/// Runs each scenario of the module it is called in against both backends.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = duban_testkit::sqlite().await;
                    super::$name(&db.store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = duban_testkit::postgres().await else { return };
                    super::$name(&db.store).await;
                }
            )*
        }
    };
}

mod accounts;
mod admin;
mod attachments;
mod cases;
mod commits;
mod directory;
mod lists;
mod outbox;
mod personal;
mod reminders;
mod repeats;
mod unit;

/// A suggestion staff filed on 2024-03-01, with nothing else done.
pub(super) async fn plain_suggestion<S: Store>(w: &World, s: &S) -> String {
    w.file(
        s,
        "suggestion",
        &staff(),
        json!({"title": "t", "body": "b"}),
        ts("2024-03-01T09:00:00"),
    )
    .await
}

/// `register` decided by staff on `record` (a suggestion) as it is stored, to be written at
/// `skew` past its version.
pub(super) fn registered(
    w: &World,
    record: duban_storage::CaseRecord,
    skew: u64,
) -> duban_storage::Record {
    let wf = w.workflows.get("suggestion").expect("wf");
    let transition = machine::act(
        wf,
        &w.calendar,
        &record.case,
        "register",
        &json!({}),
        &staff(),
        ts("2024-03-02T09:00:00"),
    )
    .expect("allowed");
    duban_storage::Record {
        case_id: record.id,
        expected_version: record.case.version + skew,
        transition,
        meta: Meta::default(),
        files: Vec::new(),
    }
}

/// A staff clerk, added to the directory: the user the unit-of-work tests act as.
pub(super) async fn added_clerk<S: Store>(s: &S) -> User {
    let clerk = User {
        login: "xu_staff".into(),
        role: Role::Staff,
        org: None,
        name: "徐".into(),
    };
    s.add_user(&clerk).await.expect("user");
    clerk
}

pub(super) fn staff() -> duban_core::machine::Actor {
    actor("xu_staff", Role::Staff, None)
}

pub(super) trait AsPool {
    fn as_pool(&self) -> &sqlx::AnyPool;
}

impl AsPool for duban_storage::SqlStore {
    fn as_pool(&self) -> &sqlx::AnyPool {
        self.pool()
    }
}
