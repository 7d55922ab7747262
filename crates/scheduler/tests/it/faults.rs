//! Under injected faults — the event insert, the effects, the reminder claim and completion, the
//! delivery claim and record failing a fifth of the time — a randomized workload of actions and
//! scheduler ticks keeps the invariants: every projection is the fold of its events with no gap,
//! no reminder is lost, and a receiver sees a delivery twice only where recording its
//! acknowledgement failed.

use duban_storage::Cases;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::common::{Recording, env};
use duban_core::Workflows;
use duban_core::machine::Case;
use duban_scheduler::{Channel, Config, Scheduler};
use duban_storage::{Faults, Outbox};
use duban_testkit::ts;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invariants_hold_while_a_fifth_of_the_store_calls_fail() {
    let base = env("http://hook.example/jtj").await;
    let faults = Arc::new(Faults::new(20241127));
    let store = base.store.clone().with_faults(faults.clone());
    let e = base.with_store(store.clone());
    let hook = Recording::new("webhook");
    let config = Config {
        owner: "faulty".into(),
        lease: Duration::from_millis(300),
        per_channel_per_tick: 500,
        ..Config::default()
    };
    let scheduler = Scheduler::new(
        store.clone(),
        Arc::new(Workflows::builtin()),
        vec![hook.clone() as Arc<dyn Channel>],
        config,
    );

    faults.set_rate(0.2);
    let mut ids = Vec::new();
    let mut failures = 0;
    for i in 0..25 {
        // A client retries what failed, as the API's callers would on a 500.
        let id = loop {
            match e
                .try_file(
                    "liu",
                    "suggestion",
                    json!({"title": format!("建议{i}"), "body": "b"}),
                    "2024-06-20T10:00:00",
                )
                .await
            {
                Ok(id) => break id,
                Err(_) => failures += 1,
            }
        };
        for (action, who, payload, at) in [
            ("register", "xu", json!({}), "2024-06-25T09:00:00"),
            (
                "assign",
                "xu",
                json!({"lead_department": "jtj"}),
                "2024-07-01T09:00:00",
            ),
        ] {
            while e
                .try_act(&id, action, who, payload.clone(), at)
                .await
                .is_err()
            {
                failures += 1;
            }
        }
        ids.push(id);
    }
    assert!(failures > 0, "faults were injected into actions");
    // The assignment notices and the 15-days-before reminders fall due; ticks fail now and
    // then and are simply run again.
    for _ in 0..40 {
        let _ = scheduler.tick(ts("2024-09-23T09:00:00")).await;
    }
    // Faults off: whatever was left claimed is rescued after its lease and finished.
    faults.set_rate(0.0);
    tokio::time::sleep(Duration::from_millis(400)).await;
    for _ in 0..5 {
        scheduler
            .tick(ts("2024-09-23T09:00:00"))
            .await
            .expect("tick");
        tokio::time::sleep(Duration::from_millis(350)).await;
    }

    for id in &ids {
        let record = store.case(id).await.expect("read").expect("case");
        let events = store.events(id).await.expect("events");
        let seqs: Vec<u64> = events.iter().map(|e| e.event.seq).collect();
        assert_eq!(
            seqs,
            (1..=record.case.version).collect::<Vec<_>>(),
            "case {id}: a gap"
        );
        let folded = Case::fold(
            &record.case.kind,
            record.case.workflow_version,
            &record.case.workflow_digest,
            events.iter().map(|e| &e.event),
        );
        assert_eq!(folded, Some(record.case.clone()), "case {id}");
        assert_eq!(record.case.state, "assigned");
        // No reminder lost: the notice and the reminder due have fired; the later ones wait.
        let reminders = store.reminders(id).await.expect("reminders");
        let due: Vec<_> = reminders
            .iter()
            .filter(|r| r.fire_at <= ts("2024-09-23T09:00:00"))
            .collect();
        assert!(
            !due.is_empty() && due.iter().all(|r| r.status == "sent"),
            "case {id}: {due:#?}"
        );
    }
    // Every webhook delivered; a repeat only where recording the acknowledgement failed.
    let sent = store
        .deliveries(Some("sent"), 1000)
        .await
        .expect("deliveries");
    let webhooks: Vec<_> = sent.iter().filter(|d| d.channel == "webhook").collect();
    assert_eq!(
        webhooks.len(),
        50,
        "two webhooks per case (the notice, the reminder), all sent"
    );
    assert!(
        store
            .deliveries(Some("pending"), 1000)
            .await
            .expect("pending")
            .iter()
            .all(|d| d.channel != "webhook")
    );
    let mut seen: HashMap<String, u32> = HashMap::new();
    for (d, _) in hook.sent() {
        *seen.entry(d.id).or_default() += 1;
    }
    assert_eq!(seen.len(), 50);
    let repeats: u64 = seen.values().map(|n| u64::from(n - 1)).sum();
    assert!(
        repeats <= faults.injected("finish_delivery.record"),
        "{repeats} repeats, {} record faults",
        faults.injected("finish_delivery.record")
    );
}
