//! The scheduler's office: people with e-mail addresses and a department with a webhook, the
//! suggestion the reminders are about, and a channel that records what it is asked to send.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use duban_core::Role;
use duban_scheduler::{Channel, SendFuture};
use duban_storage::{Contacts, Delivery, Inbox, OrgKind, Page, SqlStore};
use duban_testkit::Office;

/// (login, role, organisation, e-mail)
pub const PEOPLE: &[(&str, Role, Option<&str>, Option<&str>)] = &[
    ("liu", Role::Deputy, None, None),
    ("xu", Role::Staff, None, Some("xu@rd.example")),
    (
        "zhang",
        Role::Department,
        Some("jtj"),
        Some("zhang@jtj.example"),
    ),
    ("chen", Role::Leader, None, Some("chen@rd.example")),
    ("li", Role::Leader, None, None),
];

/// The office on a fresh database, its department's webhook at `webhook`.
pub async fn env(webhook: &str) -> Office {
    let office = people().build().await;
    contacts(&office.store, webhook).await;
    office
}

/// The people, organisations and a service over an existing store.
pub async fn env_on(store: SqlStore, webhook: &str) -> Office {
    let office = people().build_on(store).await;
    contacts(&office.store, webhook).await;
    office
}

/// The office with a second department, `sjj` and its clerk `wang`, over `store`.
pub async fn two_departments_on(store: SqlStore, webhook: &str) -> Office {
    let office = people()
        .org("sjj", OrgKind::Department, "县水利局")
        .user("wang", Role::Department, Some("sjj"))
        .build_on(store)
        .await;
    contacts(&office.store, webhook).await;
    office
        .store
        .set_user_email("wang", Some("wang@sjj.example"))
        .await
        .expect("email");
    office
}

pub fn people() -> duban_testkit::OfficeBuilder {
    PEOPLE.iter().fold(
        Office::builder().org("jtj", OrgKind::Department, "县交通运输局"),
        |b, (login, role, org, _)| b.user(login, *role, *org),
    )
}

/// Where reminders go: the department's office mailbox and webhook, and each person's e-mail.
async fn contacts(store: &SqlStore, webhook: &str) {
    store
        .set_org_contact(
            "jtj",
            Some("office@jtj.example"),
            Some((webhook, "jtj-secret")),
        )
        .await
        .expect("contact");
    for (login, _, _, email) in PEOPLE {
        store.set_user_email(login, *email).await.expect("email");
    }
}

/// A suggestion filed 2024-06-20 by `liu`, registered, and assigned on 2024-07-01 09:00 to
/// `jtj` (due 2024-10-08: National Day rolls it; reminders 09-23, 10-05, from 10-09).
pub async fn assigned_suggestion(office: &Office, title: &str) -> String {
    assigned_with(office, title, serde_json::json!({"lead_department": "jtj"})).await
}

/// [`assigned_suggestion`], assigned as `assign` says (co-handlers' opinions due 2024-08-01).
pub async fn assigned_with(office: &Office, title: &str, assign: serde_json::Value) -> String {
    let id = office
        .file(
            "liu",
            "suggestion",
            serde_json::json!({"title": title, "body": "……"}),
            "2024-06-20T10:00:00",
        )
        .await;
    office
        .act(
            &id,
            "register",
            "xu",
            serde_json::json!({}),
            "2024-06-25T09:00:00",
        )
        .await;
    office
        .act(&id, "assign", "xu", assign, "2024-07-01T09:00:00")
        .await;
    id
}

/// A scheduler over the office's store that delivers e-mail to a recording channel: for suites
/// that read the inbox only.
pub fn inbox_scheduler(office: &Office) -> duban_scheduler::Scheduler<SqlStore> {
    let channels: Vec<std::sync::Arc<dyn Channel>> = vec![Recording::new("email")];
    duban_scheduler::Scheduler::new(
        office.store.clone(),
        std::sync::Arc::new(duban_core::Workflows::builtin()),
        channels,
        duban_scheduler::Config {
            owner: "test".into(),
            ..duban_scheduler::Config::default()
        },
    )
}

/// The titles in `login`'s inbox, newest first.
pub async fn inbox(office: &Office, login: &str) -> Vec<String> {
    office
        .store
        .notifications(login, &Page::first(100), false)
        .await
        .expect("inbox")
        .0
        .into_iter()
        .map(|n| n.title)
        .collect()
}

/// A channel that records what it sends; it can be told to fail its first `fail_first` sends,
/// or all of them.
pub struct Recording {
    pub name: &'static str,
    pub fail_first: AtomicU32,
    pub always_fail: bool,
    pub sent: Mutex<Vec<(Delivery, Option<String>)>>,
    pub calls: AtomicU32,
}

impl Recording {
    pub fn new(name: &'static str) -> Arc<Self> {
        Arc::new(Self {
            name,
            fail_first: AtomicU32::new(0),
            always_fail: false,
            sent: Mutex::new(Vec::new()),
            calls: AtomicU32::new(0),
        })
    }

    pub fn sent(&self) -> Vec<(Delivery, Option<String>)> {
        self.sent.lock().expect("lock").clone()
    }
}

impl Channel for Recording {
    fn name(&self) -> &'static str {
        self.name
    }

    fn send<'a>(&'a self, d: &'a Delivery, secret: Option<&'a str>, _now: i64) -> SendFuture<'a> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.always_fail {
                return Err("receiver down".into());
            }
            if self.fail_first.load(Ordering::SeqCst) > 0 {
                self.fail_first.fetch_sub(1, Ordering::SeqCst);
                return Err("HTTP 503".into());
            }
            self.sent
                .lock()
                .expect("lock")
                .push((d.clone(), secret.map(str::to_string)));
            Ok(())
        })
    }
}
