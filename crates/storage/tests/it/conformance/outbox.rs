//! Conformance: the outbox: claims that hold against racing senders, and outcomes recorded where the claim still holds.

use super::*;

conformance!(
    a_batch_of_delivery_outcomes_is_recorded_where_the_claim_still_holds,
    a_batch_of_reminder_outcomes_writes_only_where_the_claim_still_holds,
    sixteen_parallel_attempts_claim_at_most_the_threshold,
);

/// Raw access for the few scenarios that must prove what the database itself refuses.
/// A chunk of deliveries is recorded in one compare-and-set: sent, to retry, dead — each only
/// if this worker still holds its claim — with one attempt row for each one recorded.
async fn a_batch_of_delivery_outcomes_is_recorded_where_the_claim_still_holds<
    S: Store + AsPool + duban_storage::Outbox,
>(
    s: &S,
) {
    use duban_storage::Finish;
    let w = World::new();
    let id = plain_suggestion(&w, s).await;
    for n in 1..=4 {
        sqlx::query(
            "INSERT INTO deliveries (id, case_id, reminder_key, channel, address, org_code, subject, body, status, \
             attempts, next_attempt_at, created_at) VALUES ($1, $2, 'k', 'webhook', 'http://127.0.0.1:9/', 'jtj', \
             's', 'b', 'pending', 0, 0, 0)",
        )
        .bind(format!("d{n}"))
        .bind(id.clone())
        .execute(s.as_pool())
        .await
        .expect("queue");
    }
    let now = ts("2024-03-02T09:00:00");
    let claimed = s
        .claim_deliveries("webhook", now, "w1", ts("2024-03-02T09:05:00"), 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 4);
    // d4's lease was taken over by another worker meanwhile.
    sqlx::query("UPDATE deliveries SET lease_owner = 'w2' WHERE id = 'd4'")
        .execute(s.as_pool())
        .await
        .expect("steal");
    let by_id = |n: &str| claimed.iter().find(|d| d.id == n).expect("claimed").clone();
    let retry_at = ts("2024-03-02T09:10:00");
    let batch = vec![
        (by_id("d1"), Finish::Sent),
        (
            by_id("d2"),
            Finish::Retry {
                at: retry_at,
                error: "503".into(),
            },
        ),
        (
            by_id("d3"),
            Finish::Dead {
                error: "410".into(),
            },
        ),
        (by_id("d4"), Finish::Sent),
    ];
    let held = s
        .finish_deliveries(&batch, "w1", now)
        .await
        .expect("finish");
    assert_eq!(held, vec![true, true, true, false]);
    let row = |n: &'static str| async move {
        sqlx::query(
            "SELECT status, next_attempt_at, last_error, sent_at, lease_owner FROM deliveries WHERE id = $1",
        )
        .bind(n)
        .fetch_one(s.as_pool())
        .await
        .expect("row")
    };
    let d1 = row("d1").await;
    assert_eq!(d1.get::<String, _>("status"), "sent");
    assert_eq!(
        d1.get::<Option<i64>, _>("sent_at"),
        Some(now.as_millisecond())
    );
    assert_eq!(d1.get::<Option<String>, _>("lease_owner"), None);
    let d2 = row("d2").await;
    assert_eq!(d2.get::<String, _>("status"), "pending");
    assert_eq!(
        d2.get::<i64, _>("next_attempt_at"),
        retry_at.as_millisecond()
    );
    assert_eq!(
        d2.get::<Option<String>, _>("last_error").as_deref(),
        Some("503")
    );
    assert_eq!(d2.get::<Option<i64>, _>("sent_at"), None);
    let d3 = row("d3").await;
    assert_eq!(d3.get::<String, _>("status"), "dead");
    assert_eq!(
        d3.get::<Option<String>, _>("last_error").as_deref(),
        Some("410")
    );
    let d4 = row("d4").await;
    assert_eq!(d4.get::<String, _>("status"), "claimed");
    assert_eq!(
        d4.get::<Option<String>, _>("lease_owner").as_deref(),
        Some("w2")
    );
    let attempts: Vec<(String, String)> =
        sqlx::query("SELECT delivery_id, outcome FROM delivery_attempts ORDER BY delivery_id")
            .fetch_all(s.as_pool())
            .await
            .expect("attempts")
            .iter()
            .map(|r| (r.get("delivery_id"), r.get("outcome")))
            .collect();
    assert_eq!(
        attempts,
        vec![
            ("d1".to_string(), "sent".to_string()),
            ("d2".into(), "failed".into()),
            ("d3".into(), "dead".into()),
        ]
    );
}

/// A batch of fired and cancelled reminders is completed in one compare-and-set: each writes
/// its status, its next firing, its inbox entries and its queued messages only if this worker
/// still holds its claim; a claim taken over meanwhile writes nothing, and completing the same
/// claims again writes nothing twice.
async fn a_batch_of_reminder_outcomes_writes_only_where_the_claim_still_holds<
    S: Store + AsPool + duban_storage::Outbox,
>(
    s: &S,
) {
    use duban_storage::{NewDelivery, Notification, ReminderOutcome};
    let w = World::new();
    let id = plain_suggestion(&w, s).await;
    sqlx::query("UPDATE reminders SET status = 'cancelled' WHERE case_id = $1")
        .bind(id.clone())
        .execute(s.as_pool())
        .await
        .expect("quiet the filing's own");
    let now = ts("2024-03-02T09:00:00");
    for key in ["r1", "r2", "r3"] {
        sqlx::query(
            "INSERT INTO reminders (case_id, reminder_key, state, duty, rule, fire_at, due_date, notify, \
             repeat_every_days, escalate, status, attempts, created_at) \
             VALUES ($1, $2, 'received', '', 0, $3, NULL, '[\"role:staff\"]', NULL, 0, 'pending', 0, 0)",
        )
        .bind(id.clone())
        .bind(key)
        .bind(now.as_millisecond() - 1)
        .execute(s.as_pool())
        .await
        .expect("due");
    }
    let claimed = s
        .claim_reminders(now, "w1", ts("2024-03-02T09:05:00"), 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 3);
    // r3's lease was taken over by another worker meanwhile.
    sqlx::query("UPDATE reminders SET lease_owner = 'w2' WHERE reminder_key = 'r3'")
        .execute(s.as_pool())
        .await
        .expect("steal");
    let fired = |key: &str, next_fire| ReminderOutcome::Fired {
        notifications: vec![Notification {
            id: format!("ntf-{key}"),
            recipient: "xu".into(),
            case_id: Some(id.clone()),
            reminder_key: Some(key.into()),
            title: format!("提醒{key}"),
            body: "b".into(),
            escalate: false,
            created_at: now,
            read_at: None,
        }],
        deliveries: vec![NewDelivery {
            id: format!("dlv-{key}"),
            channel: "email".into(),
            address: "xu@rd.example".into(),
            org_code: None,
            subject: format!("提醒{key}"),
            body: "b".into(),
        }],
        next_fire,
    };
    let next = ts("2024-03-09T09:00:00");
    let by_key = |k: &str| {
        claimed
            .iter()
            .find(|c| c.reminder.key == k)
            .expect("claimed")
            .clone()
    };
    let batch = vec![
        (by_key("r1"), fired("r1", Some(next))),
        (by_key("r2"), ReminderOutcome::Cancelled),
        (by_key("r3"), fired("r3", None)),
    ];
    let held = s.complete_reminders(&batch, now).await.expect("complete");
    assert_eq!(held, vec![true, true, false]);
    let rows: Vec<(String, String, i64, Option<String>)> = sqlx::query(
        "SELECT reminder_key, status, fire_at, lease_owner FROM reminders \
         WHERE case_id = $1 AND reminder_key LIKE 'r%' ORDER BY reminder_key",
    )
    .bind(id.clone())
    .fetch_all(s.as_pool())
    .await
    .expect("reminders")
    .iter()
    .map(|r| {
        (
            r.get("reminder_key"),
            r.get("status"),
            r.get("fire_at"),
            r.get("lease_owner"),
        )
    })
    .collect();
    assert_eq!(
        rows,
        vec![
            ("r1".into(), "pending".into(), next.as_millisecond(), None),
            (
                "r2".into(),
                "cancelled".into(),
                now.as_millisecond() - 1,
                None
            ),
            (
                "r3".into(),
                "claimed".into(),
                now.as_millisecond() - 1,
                Some("w2".into())
            ),
        ]
    );
    let written = |table: &'static str| async move {
        sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM {table} ORDER BY id"
        )))
        .fetch_all(s.as_pool())
        .await
        .expect("ids")
    };
    assert_eq!(written("notifications").await, ["ntf-r1"]);
    assert_eq!(written("deliveries").await, ["dlv-r1"]);
    // The same claims completed again: none is held any more, nothing is written twice.
    let again = s.complete_reminders(&batch, now).await.expect("again");
    assert_eq!(again, vec![false, false, false]);
    assert_eq!(written("notifications").await, ["ntf-r1"]);
}

async fn sixteen_parallel_attempts_claim_at_most_the_threshold<
    S: Store + duban_storage::Accounts,
>(
    s: &S,
) {
    use duban_storage::SignInAttempt;
    let now = ts("2024-03-01T09:00:00");
    let until = ts("2024-03-01T09:15:00");
    for login in ["zhang", "no-such-login"] {
        let claims =
            futures_util::future::join_all((0..16).map(|_| s.claim_attempt(login, now, 5, until)))
                .await;
        let claims: Vec<SignInAttempt> = claims.into_iter().map(|c| c.expect("claim")).collect();
        let counted: Vec<u32> = claims
            .iter()
            .filter_map(|c| match c {
                SignInAttempt::Counted { failures, .. } => Some(*failures),
                SignInAttempt::Locked(_) => None,
            })
            .collect();
        assert_eq!(
            counted.iter().copied().collect::<BTreeSet<u32>>(),
            (1..=5).collect(),
            "{login}: exactly five attempts may check a password, each with its own count: {claims:?}"
        );
        assert_eq!(
            claims
                .iter()
                .filter(|c| matches!(c, SignInAttempt::Counted { locks: true, .. }))
                .count(),
            1
        );
        assert_eq!(
            claims
                .iter()
                .filter(|c| **c == SignInAttempt::Locked(until))
                .count(),
            11
        );
    }
}
