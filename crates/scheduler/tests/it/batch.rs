//! Firing in bulk: a tick reads a whole batch of reminders' cases and recipients at once and
//! records their outcomes in one transaction. Whatever the batch size, each reminder must reach
//! exactly the people of its own case, and one whose case moved on must be cancelled: the
//! same office acted out twice, fired one reminder at a time and in batches, ends with the
//! same inboxes and the same queue, on SQLite and PostgreSQL.

use std::sync::Arc;

use duban_core::Workflows;
use duban_scheduler::{Config, Scheduler, TickReport};
use duban_storage::{Inbox, Outbox, Page, SqlStore};
use duban_testkit::ts;
use serde_json::json;

use crate::common::two_departments_on;

/// The instants the office's reminders are looked at: the assignments' notices, a reply's,
/// 15 and 3 days before the deadline (2024-10-08), overdue, and a week later.
const TICKS: [&str; 6] = [
    "2024-07-01T09:00:00",
    "2024-07-02T11:00:00",
    "2024-09-23T09:00:00",
    "2024-10-05T09:00:00",
    "2024-10-09T09:00:00",
    "2024-10-16T09:00:00",
];

/// What an office's people were told: each inbox entry (person, title), and each queued
/// message (channel, address, subject), sorted; and the ticks' reports.
type Told = (
    Vec<(String, String)>,
    Vec<(String, String, String)>,
    Vec<TickReport>,
);

/// Eight suggestions assigned alternately to `jtj` and `sjj`; one of each answered the next
/// day; everything fired by a scheduler that claims `batch` reminders at a time.
async fn act_out(store: SqlStore, batch: u32) -> Told {
    let office = two_departments_on(store, "http://hook.example/jtj").await;
    let mut ids = Vec::new();
    for i in 0..8 {
        let id = office
            .file(
                "liu",
                "suggestion",
                json!({"title": format!("关于第{i}条道路的建议"), "body": "……"}),
                "2024-06-20T10:00:00",
            )
            .await;
        office
            .act(&id, "register", "xu", json!({}), "2024-06-25T09:00:00")
            .await;
        let department = if i % 2 == 0 { "jtj" } else { "sjj" };
        office
            .act(
                &id,
                "assign",
                "xu",
                json!({"lead_department": department}),
                "2024-07-01T09:00:00",
            )
            .await;
        ids.push(id);
    }
    let scheduler = Scheduler::new(
        office.store.clone(),
        Arc::new(Workflows::builtin()),
        Vec::new(),
        Config {
            owner: "batch".into(),
            batch,
            ..Config::default()
        },
    );
    let mut reports = Vec::new();
    for (n, at) in TICKS.iter().enumerate() {
        if n == 1 {
            for (id, who) in [(&ids[0], "zhang"), (&ids[1], "wang")] {
                office
                    .act(
                        id,
                        "reply",
                        who,
                        json!({"classification": "A", "answer": "已完成"}),
                        "2024-07-02T10:00:00",
                    )
                    .await;
            }
        }
        reports.push(scheduler.tick(ts(at)).await.expect("tick"));
    }
    let mut inboxes = Vec::new();
    for login in ["liu", "xu", "zhang", "wang", "chen", "li"] {
        let (items, _) = office
            .store
            .notifications(login, &Page::first(500), false)
            .await
            .expect("inbox");
        inboxes.extend(items.into_iter().map(|n| (login.to_string(), n.title)));
    }
    inboxes.sort();
    let mut queued: Vec<(String, String, String)> = office
        .store
        .deliveries(None, 5_000)
        .await
        .expect("deliveries")
        .into_iter()
        .map(|d| (d.channel, d.address, d.subject))
        .collect();
    queued.sort();
    (inboxes, queued, reports)
}

async fn one_at_a_time_and_in_batches_tell_the_same(one: SqlStore, many: SqlStore) {
    let (inboxes, queued, reports) = act_out(one, 1).await;
    // The office is busy enough to mean something: both departments, several rounds, and
    // reminders cancelled by the replies.
    assert!(inboxes.iter().any(|(who, _)| who == "wang"));
    assert!(inboxes.iter().any(|(who, _)| who == "zhang"));
    assert!(
        inboxes.iter().any(|(who, _)| who == "chen"),
        "escalated to leaders"
    );
    assert!(queued.iter().any(|(_, to, _)| to == "wang@sjj.example"));
    assert!(queued.iter().any(|(_, to, _)| to == "office@jtj.example"));
    assert!(
        reports.iter().map(|r| r.cancelled).sum::<u64>() > 0,
        "{reports:?}"
    );
    assert!(reports[2].fired >= 6, "one tick fires many: {reports:?}");
    let batched = act_out(many, 200).await;
    assert_eq!(batched.0, inboxes, "the same inboxes");
    assert_eq!(batched.1, queued, "the same queue");
    assert_eq!(batched.2, reports, "the same ticks");
}

#[tokio::test]
async fn sqlite_one_at_a_time_and_in_batches_reach_the_same_people() {
    let (one, many) = (duban_testkit::sqlite().await, duban_testkit::sqlite().await);
    one_at_a_time_and_in_batches_tell_the_same(one.store.clone(), many.store.clone()).await;
}

#[tokio::test]
async fn postgres_one_at_a_time_and_in_batches_reach_the_same_people() {
    let (Some(one), Some(many)) = (
        duban_testkit::postgres().await,
        duban_testkit::postgres().await,
    ) else {
        return;
    };
    one_at_a_time_and_in_batches_tell_the_same(one.store.clone(), many.store.clone()).await;
}
