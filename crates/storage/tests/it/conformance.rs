//! The storage conformance suite: every scenario is written once, generic over the `Store`
//! trait, and run on SQLite (a temp file) and PostgreSQL (a fresh database per test).

use std::collections::BTreeSet;
use std::sync::Arc;

use duban_core::Role;
use duban_core::machine::{self, Case};
use duban_storage::{
    Access, CaseQuery, Error, Filed, Idempotency, Indexing, ListFilter, Meta, NewCase,
    Notification, Org, OrgKind, Page, PartyList, Store, StoredReminder, User,
};
use duban_testkit::{World, actor, ts};
use serde_json::json;
use sqlx::Row;

/// Runs each scenario against both backends.
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

conformance!(
    migrating_twice_changes_nothing,
    organisations_and_people_are_kept_with_their_relations,
    every_action_appends_an_event_and_the_projection_is_their_fold,
    a_stale_version_is_a_conflict_that_writes_nothing,
    an_idempotency_key_files_once,
    reminders_are_written_and_apply_while_their_state_lasts,
    reminders_of_an_earlier_deadline_do_not_apply_after_reassignment,
    the_history_refuses_updates_and_deletes,
    the_lists_find_what_each_user_needs_page_by_page,
    personal_data_is_stored_encrypted_and_found_by_blind_index,
    racing_writers_on_one_case_win_exactly_as_often_as_the_workflow_allows,
    tokens_are_kept_as_hashes_and_can_be_revoked,
    a_token_and_the_case_it_acts_on_are_read_together,
    an_action_is_recorded_in_what_its_case_was_read_under,
    the_inbox_and_the_access_record_are_kept_per_person_and_case,
    filters_narrow_any_list,
    the_audit_chain_verifies_and_survives_pruning,
    passwords_locks_and_sessions_are_kept,
    sixteen_parallel_attempts_claim_at_most_the_threshold,
    acting_and_importing_the_same_steps_leave_the_same_rows,
    a_password_change_ends_every_other_session,
    a_batch_of_delivery_outcomes_is_recorded_where_the_claim_still_holds,
);

/// A suggestion staff filed on 2024-03-01, with nothing else done.
async fn plain_suggestion<S: Store>(w: &World, s: &S) -> String {
    w.file(
        s,
        "suggestion",
        &staff(),
        json!({"title": "t", "body": "b"}),
        ts("2024-03-01T09:00:00"),
    )
    .await
}

fn staff() -> duban_core::machine::Actor {
    actor("xu_staff", Role::Staff, None)
}

async fn migrating_twice_changes_nothing<S: Store>(s: &S) {
    assert_eq!(
        s.migrate().await.expect("migrate"),
        Vec::<i64>::new(),
        "already migrated at open"
    );
}

async fn organisations_and_people_are_kept_with_their_relations<S: Store>(s: &S) {
    let jtj = Org {
        code: "jtj".into(),
        kind: OrgKind::Department,
        name: "县交通运输局".into(),
    };
    s.add_org(&jtj).await.expect("add org");
    assert_eq!(s.org("jtj").await.expect("org"), Some(jtj.clone()));
    assert!(matches!(
        s.add_org(&jtj).await,
        Err(Error::Duplicate { .. })
    ));
    let clerk = User {
        login: "zhang".into(),
        role: Role::Department,
        org: Some("jtj".into()),
        name: "张科长".into(),
    };
    s.add_user(&clerk).await.expect("add user");
    assert_eq!(s.user("zhang").await.expect("user"), Some(clerk.clone()));
    assert!(matches!(
        s.add_user(&clerk).await,
        Err(Error::Duplicate { .. })
    ));
    let stray = User {
        login: "li".into(),
        role: Role::Department,
        org: Some("nowhere".into()),
        name: "李".into(),
    };
    assert!(matches!(
        s.add_user(&stray).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(s.user("li").await.expect("user"), None);
}

async fn every_action_appends_an_event_and_the_projection_is_their_fold<S: Store>(s: &S) {
    let w = World::new();
    let deputy = actor("liu", Role::Deputy, None);
    let dept = actor("zhang", Role::Department, Some("jtj"));
    let id = w
        .file(
            s,
            "suggestion",
            &deputy,
            json!({"title": "关于农村公路的建议", "body": "……", "cosigners": ["wang"]}),
            ts("2024-06-20T10:00:00"),
        )
        .await;
    w.must(
        s,
        &id,
        "register",
        json!({}),
        &staff(),
        ts("2024-06-25T09:00:00"),
    )
    .await;
    w.must(
        s,
        &id,
        "assign",
        json!({"lead_department": "jtj", "co_departments": ["zrzyj"]}),
        &staff(),
        ts("2024-07-01T09:00:00"),
    )
    .await;
    w.must(
        s,
        &id,
        "mark_key",
        json!({"supervisor": "chen"}),
        &staff(),
        ts("2024-07-02T09:00:00"),
    )
    .await;
    w.must(
        s,
        &id,
        "reply",
        json!({"classification": "A", "answer": "已纳入计划"}),
        &dept,
        ts("2024-09-01T09:00:00"),
    )
    .await;

    let record = s.case(&id).await.expect("read").expect("exists");
    assert_eq!(record.title, "关于农村公路的建议");
    assert_eq!(record.case.state, "handled");
    assert_eq!(record.case.version, 5);
    let events = s.events(&id).await.expect("events");
    let seqs: Vec<u64> = events.iter().map(|e| e.event.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert_eq!(events[2].event.payload["lead_department"], "jtj");
    let folded = Case::fold(
        &record.case.kind,
        record.case.workflow_version,
        &record.case.workflow_digest,
        events.iter().map(|e| &e.event),
    );
    assert_eq!(folded, Some(record.case.clone()));

    // Time travel: as of a moment between events, the case is what it was then.
    let then = s
        .case_as_of(&id, ts("2024-07-01T12:00:00"))
        .await
        .expect("as of")
        .expect("filed by then");
    assert_eq!(then.state, "assigned");
    assert_eq!(
        then.deadline
            .as_ref()
            .map(|d| d.deadline.due_date.to_string()),
        Some("2024-10-08".into())
    );
    assert!(!then.parties.contains_key("supervisor"));
    assert_eq!(
        s.case_as_of(&id, ts("2024-06-01T00:00:00"))
            .await
            .expect("as of"),
        None
    );
    assert!(s.case("no-such-case").await.expect("read").is_none());

    // The figures kept with the case: grouped for the year's report as of any instant after
    // its last action; before that the case is left to be replayed from its events.
    let figures = record.case.figures();
    assert!(figures.milestones.assigned);
    assert_eq!(figures.milestones.answered_on_time, Some(true));
    assert_eq!(figures.lead_department.as_deref(), Some("jtj"));
    assert_eq!(figures.supervisor.as_deref(), Some("chen"));
    let groups = s
        .figure_groups("suggestion", 2024, ts("2024-12-31T00:00:00"))
        .await
        .expect("groups");
    assert_eq!(
        groups,
        vec![duban_storage::FigureGroup {
            figures: figures.key(),
            cases: 1,
            // Still open, and the deputy's time to evaluate the reply ran out in the autumn.
            overdue: 1
        }]
    );
    let early = ts("2024-08-01T00:00:00");
    assert!(
        s.figure_groups("suggestion", 2024, early)
            .await
            .expect("groups")
            .is_empty()
    );
    let mut replayed = Vec::new();
    s.each_history("suggestion", 2024, Some(early), |h| replayed.push(h.id))
        .await
        .expect("histories");
    assert_eq!(replayed, vec![id.clone()]);
    let mut unchanged = Vec::new();
    s.each_history("suggestion", 2024, Some(ts("2024-12-31T00:00:00")), |h| {
        unchanged.push(h.id)
    })
    .await
    .expect("histories");
    assert!(unchanged.is_empty());
}

async fn a_stale_version_is_a_conflict_that_writes_nothing<S: Store>(s: &S) {
    let w = World::new();
    let id = plain_suggestion(&w, s).await;
    let before = s.case(&id).await.expect("read").expect("exists");
    let wf = w.workflows.get("suggestion").expect("wf");
    let t = machine::act(
        wf,
        &w.calendar,
        &before.case,
        "register",
        &json!({}),
        &staff(),
        ts("2024-03-02T09:00:00"),
    )
    .expect("allowed");
    s.record_action(&id, before.case.version, &t, &Meta::default())
        .await
        .expect("first wins");
    // The same transition again, computed from the same (now stale) version.
    let again = s
        .record_action(&id, before.case.version, &t, &Meta::default())
        .await;
    assert!(
        matches!(
            again,
            Err(Error::Conflict {
                expected: 1,
                actual: 2,
                ..
            })
        ),
        "{again:?}"
    );
    assert_eq!(s.events(&id).await.expect("events").len(), 2);
    let missing = s
        .record_action("no-such-case", 1, &t, &Meta::default())
        .await;
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );
}

async fn an_idempotency_key_files_once<S: Store>(s: &S) {
    let w = World::new();
    let wf = w.workflows.get("suggestion").expect("wf");
    let deputy = actor("liu", Role::Deputy, None);
    let t = machine::file(
        wf,
        &w.calendar,
        &deputy,
        &json!({"title": "t", "body": "b"}),
        ts("2024-03-01T09:00:00"),
    )
    .expect("file");
    let new = |id: &str, hash: &str| NewCase {
        id: id.into(),
        title: "t".into(),
        transition: &t,
        idempotency: Some(Idempotency {
            key: "req-1".into(),
            request_hash: hash.into(),
        }),
        meta: Meta::default(),
        index: Indexing {
            format: &wf.number,
            number: None,
            words: "t b".into(),
        },
    };
    let first = s.file_case(new("case-a", "h1")).await.expect("first");
    assert_eq!(
        first,
        Filed::Created {
            id: "case-a".into()
        }
    );
    let again = s.file_case(new("case-b", "h1")).await.expect("replay");
    assert_eq!(
        again,
        Filed::Replayed {
            id: "case-a".into()
        }
    );
    let other = s.file_case(new("case-c", "h2")).await;
    assert!(
        matches!(other, Err(Error::IdempotencyMismatch { .. })),
        "{other:?}"
    );
    assert!(s.case("case-b").await.expect("read").is_none());
    assert!(s.case("case-c").await.expect("read").is_none());
    assert_eq!(s.events("case-a").await.expect("events").len(), 1);
}

async fn reminders_are_written_and_apply_while_their_state_lasts<S: Store>(s: &S) {
    let w = World::new();
    let dept = actor("zhang", Role::Department, Some("jtj"));
    let id = w
        .assigned_suggestion(
            s,
            &staff(),
            "jtj",
            &["zrzyj"],
            "2024-06-20T10:00:00",
            "2024-07-01T09:00:00",
        )
        .await;
    let pending: Vec<_> = s
        .reminders(&id)
        .await
        .expect("reminders")
        .into_iter()
        .filter(|r| r.status == "pending")
        .collect();
    // The notice of the assignment, due the moment it happened, and five reminders.
    let (notices, pending): (Vec<_>, Vec<_>) =
        pending.into_iter().partition(|r| r.headline.is_some());
    assert_eq!(notices.len(), 1, "{notices:#?}");
    assert_eq!(notices[0].headline.as_deref(), Some("新交办"));
    assert_eq!(notices[0].fire_at, ts("2024-07-01T09:00:00"));
    assert_eq!(pending.len(), 5, "{pending:#?}");
    let fires: BTreeSet<String> = pending.iter().map(|r| r.fire_at.to_string()).collect();
    assert!(
        fires.contains("2024-09-23T01:00:00Z") && fires.contains("2024-10-09T01:00:00Z"),
        "{fires:?}"
    );

    // Due at a moment: only what has fallen due, oldest first.
    let due = s
        .due_reminders(ts("2024-09-24T00:00:00"), 10)
        .await
        .expect("due");
    let keys: Vec<&str> = due.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(due.windows(2).all(|p| p[0].fire_at <= p[1].fire_at));
    assert_eq!(due[0].headline.as_deref(), Some("新交办"));
    assert_eq!(due[1].duty.as_deref(), Some("co_opinion"));

    // Asking for reassignment leaves `assigned`: its reminders no longer apply (nothing is
    // written to them; the scheduler cancels each when it falls due). Keeping the assignment
    // re-enters it with the same deadline, and the same reminders apply again.
    w.must(
        s,
        &id,
        "request_reassignment",
        json!({"reason": "r"}),
        &dept,
        ts("2024-07-05T09:00:00"),
    )
    .await;
    let applying = |case: &Case, rs: &[StoredReminder]| -> Vec<String> {
        rs.iter()
            .filter(|r| {
                r.status == "pending"
                    && r.headline.is_none()
                    && case.reminder_applies(&r.state, r.duty.as_deref(), r.due_date.as_deref())
            })
            .map(|r| r.key.clone())
            .collect()
    };
    let case = s.case(&id).await.expect("read").expect("exists").case;
    let after_leave = s.reminders(&id).await.expect("reminders");
    let keys = applying(&case, &after_leave);
    assert!(
        !keys.is_empty()
            && keys
                .iter()
                .all(|k| k.starts_with("reassignment_requested/")),
        "{keys:?}"
    );
    w.must(
        s,
        &id,
        "keep_assignment",
        json!({"reason": "r"}),
        &staff(),
        ts("2024-07-06T09:00:00"),
    )
    .await;
    let case = s.case(&id).await.expect("read").expect("exists").case;
    let back = applying(&case, &s.reminders(&id).await.expect("reminders"));
    assert_eq!(back.len(), 5, "{back:#?}");
    assert!(back.iter().all(|k| k.starts_with("assigned/")), "{back:?}");

    w.must(
        s,
        &id,
        "reply",
        json!({"classification": "A", "answer": "a"}),
        &dept,
        ts("2024-08-01T09:00:00"),
    )
    .await;
    let case = s.case(&id).await.expect("read").expect("exists").case;
    let after_reply = s.reminders(&id).await.expect("reminders");
    assert!(
        applying(&case, &after_reply)
            .iter()
            .all(|k| !k.starts_with("assigned/")),
        "{after_reply:#?}"
    );
}

/// Re-entering a state with another deadline: the reminders of the earlier deadline, still
/// pending, do not apply; the new deadline's do.
async fn reminders_of_an_earlier_deadline_do_not_apply_after_reassignment<S: Store>(s: &S) {
    let w = World::new();
    let dept = actor("zhang", Role::Department, Some("jtj"));
    let id = w
        .assigned_suggestion(
            s,
            &staff(),
            "jtj",
            &[],
            "2024-06-20T10:00:00",
            "2024-07-01T09:00:00",
        )
        .await;
    let first_due = s.case(&id).await.expect("read").expect("exists").case;
    let first_due = first_due
        .deadline
        .expect("deadline")
        .deadline
        .due_date
        .to_string();
    // The department asks to be reassigned; staff assign another one, whose deadline counts
    // from this later assignment.
    for (action, payload, who, at) in [
        (
            "request_reassignment",
            json!({"reason": "r"}),
            &dept,
            "2024-07-05T09:00:00",
        ),
        (
            "assign",
            json!({"lead_department": "zrzyj"}),
            &staff(),
            "2024-07-10T09:00:00",
        ),
    ] {
        w.must(s, &id, action, payload, who, ts(at)).await;
    }
    let case = s.case(&id).await.expect("read").expect("exists").case;
    let second_due = case
        .deadline
        .clone()
        .expect("deadline")
        .deadline
        .due_date
        .to_string();
    assert_ne!(first_due, second_due);
    let reminders = s.reminders(&id).await.expect("reminders");
    let (old, new): (Vec<_>, Vec<_>) = reminders
        .iter()
        .filter(|r| r.state == "assigned" && r.status == "pending")
        .partition(|r| r.due_date.as_deref() == Some(first_due.as_str()));
    assert!(!old.is_empty() && !new.is_empty(), "{reminders:#?}");
    assert!(
        old.iter().all(|r| !case.reminder_applies(
            &r.state,
            r.duty.as_deref(),
            r.due_date.as_deref()
        )),
        "{old:#?}"
    );
    assert!(
        new.iter().all(|r| case.reminder_applies(
            &r.state,
            r.duty.as_deref(),
            r.due_date.as_deref()
        )),
        "{new:#?}"
    );
}

async fn the_history_refuses_updates_and_deletes<S: Store + AsPool>(s: &S) {
    let w = World::new();
    let id = plain_suggestion(&w, s).await;
    let pool = s.as_pool();
    let update = sqlx::query("UPDATE case_events SET action = 'forged' WHERE case_id = $1")
        .bind(id.clone())
        .execute(pool)
        .await;
    assert!(update.is_err(), "an event was updated");
    assert!(
        update
            .expect_err("refused")
            .to_string()
            .contains("append-only")
    );
    let delete = sqlx::query("DELETE FROM case_events WHERE case_id = $1")
        .bind(id.clone())
        .execute(pool)
        .await;
    assert!(delete.is_err(), "an event was deleted");
    assert_eq!(s.events(&id).await.expect("events")[0].event.action, "file");
}

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

trait AsPool {
    fn as_pool(&self) -> &sqlx::AnyPool;
}

impl AsPool for duban_storage::SqlStore {
    fn as_pool(&self) -> &sqlx::AnyPool {
        self.pool()
    }
}

async fn the_lists_find_what_each_user_needs_page_by_page<S: Store>(s: &S) {
    let w = World::new();
    let court = actor("clerk", Role::Court, Some("court-1"));
    let deputy = actor("liu", Role::Deputy, Some("station-1"));
    let mut suggestions = Vec::new();
    for i in 0..5 {
        // Filed in order, assigned in reverse order: deadlines three months after assignment.
        let lead = if i % 2 == 0 { "jtj" } else { "jyj" };
        let filed = format!("2024-03-0{}T09:00:00", i + 1);
        let assigned = format!("2024-03-1{}T09:00:00", 5 - i);
        let id = w
            .assigned_suggestion(s, &deputy, lead, &["czj"], &filed, &assigned)
            .await;
        suggestions.push(id);
    }
    w.must(
        s,
        &suggestions[1],
        "mark_key",
        json!({"supervisor": "chen"}),
        &staff(),
        ts("2024-03-20T09:00:00"),
    )
    .await;
    let dept = actor("x", Role::Department, Some("jtj"));
    w.must(
        s,
        &suggestions[4],
        "reply",
        json!({"classification": "B", "answer": "a"}),
        &dept,
        ts("2024-04-01T09:00:00"),
    )
    .await;
    let petition = w
        .file(s, "petition", &deputy, json!({"title": "拖欠工资", "body": "b", "station": "station-1", "constituent": {"name": "王小明"}}), ts("2024-04-02T09:00:00"))
        .await;
    let mediation = w
        .file(s, "mediation", &court, json!({"title": "合同纠纷", "summary": "s", "court": "court-1", "dispute_type": "contract", "applicant": {"name": "甲"}, "respondent": {"name": "乙"}}), ts("2024-04-03T09:00:00"))
        .await;
    w.must(
        s,
        &mediation,
        "assign_mediators",
        json!({"mediators": ["med-1"]}),
        &court,
        ts("2024-04-04T09:00:00"),
    )
    .await;

    let ids = |l: &duban_storage::Listing| l.items.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    let all = |q: CaseQuery| async move {
        // Walk the pages two at a time; the result must equal one big page.
        let mut out = Vec::new();
        let mut page = Page::first(2);
        loop {
            let l = s.list(&q, &page).await.expect("list");
            assert!(l.items.len() <= 2);
            out.extend(l.items.iter().map(|c| c.id.clone()));
            match l.next {
                Some(c) => {
                    page = Page {
                        after: Some(c),
                        ..Page::first(2)
                    }
                }
                None => break,
            }
        }
        let one = s.list(&q, &Page::first(100)).await.expect("list");
        assert_eq!(
            out,
            one.items.iter().map(|c| c.id.clone()).collect::<Vec<_>>()
        );
        out
    };

    // jtj leads 0, 2 and 4, soonest deadline first: 4 (answered, now in its 1-month evaluation
    // period), then 2 (due 06-13), then 0 (due 06-17). A case stays in the inbox while open.
    let jtj = all(CaseQuery::DepartmentOpen {
        department: "jtj".into(),
    })
    .await;
    assert_eq!(
        jtj,
        [
            suggestions[4].clone(),
            suggestions[2].clone(),
            suggestions[0].clone()
        ]
    );
    // czj co-handles all five.
    assert_eq!(
        all(CaseQuery::DepartmentOpen {
            department: "czj".into()
        })
        .await
        .len(),
        5
    );
    // Overdue at noon on 2024-06-14, most overdue first: the petition (received, 15 days to
    // 04-17), suggestion 4 (answered 04-01, the deputy's month to evaluate ran out on 05-06),
    // suggestions 3 and 2 (assigned 03-12 and 03-13: due 06-12 and 06-13). Suggestion 1 is due
    // at the end of today and suggestion 0 on 06-17 (06-15 is a Saturday).
    let overdue = all(CaseQuery::Overdue {
        now: ts("2024-06-14T12:00:00"),
    })
    .await;
    assert_eq!(
        overdue,
        [
            petition.clone(),
            suggestions[4].clone(),
            suggestions[3].clone(),
            suggestions[2].clone()
        ]
    );
    let key = s
        .list(&CaseQuery::KeySuggestions, &Page::first(10))
        .await
        .expect("key");
    assert_eq!(ids(&key), [suggestions[1].clone()]);
    assert_eq!(key.items[0].supervisor.as_deref(), Some("chen"));
    assert!(key.items[0].is_key);
    let mine = all(CaseQuery::Party(PartyList::Deputy("liu".into()))).await;
    assert_eq!(mine.len(), 6, "five suggestions and a petition");
    assert_eq!(
        all(CaseQuery::Party(PartyList::Station("station-1".into()))).await,
        vec![petition.clone()]
    );
    assert_eq!(
        all(CaseQuery::Party(PartyList::Mediator("med-1".into()))).await,
        vec![mediation.clone()]
    );
    assert_eq!(
        all(CaseQuery::Party(PartyList::Court("court-1".into()))).await,
        vec![mediation.clone()]
    );
    assert_eq!(
        all(CaseQuery::ByKind {
            kind: "suggestion".into(),
            year: 2024,
            state: None
        })
        .await,
        suggestions
    );
    assert_eq!(
        all(CaseQuery::ByKind {
            kind: "suggestion".into(),
            year: 2024,
            state: Some("handled".into())
        })
        .await,
        [suggestions[4].clone()]
    );
    assert!(
        all(CaseQuery::ByKind {
            kind: "suggestion".into(),
            year: 2025,
            state: None
        })
        .await
        .is_empty()
    );
}

async fn personal_data_is_stored_encrypted_and_found_by_blind_index<S: Store + AsPool>(s: &S) {
    let w = World::new();
    let deputy = actor("liu", Role::Deputy, Some("station-1"));
    let person = json!({"name": "王小明", "id_number": "110101199003074477", "phone": "13812345678", "address": "城关镇解放路88号"});
    let first = w
        .file(s, "petition", &deputy, json!({"title": "拖欠工资", "body": "b", "station": "station-1", "constituent": person}), ts("2024-04-02T09:00:00"))
        .await;
    let repeat = w
        .file(s, "petition", &deputy, json!({"title": "再次反映", "body": "b", "station": "station-1", "constituent": {"name": "王小明", "id_number": "110101199003074477"}}), ts("2024-05-02T09:00:00"))
        .await;
    let records = s.personal_data(&first).await.expect("decrypt");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].person.phone.as_deref(), Some("13812345678"));
    let mut found = s
        .cases_by_id_number("110101199003074477")
        .await
        .expect("lookup");
    found.sort();
    let mut want = vec![first.clone(), repeat.clone()];
    want.sort();
    assert_eq!(found, want);
    assert!(
        s.cases_by_id_number("11010519491231002X")
            .await
            .expect("lookup")
            .is_empty()
    );

    // Dump every row of every table as text: no plaintext ID number, phone, name or address.
    let pool = s.as_pool();
    let mut dump = String::new();
    for table in [
        "cases",
        "case_events",
        "case_parties",
        "reminders",
        "personal_data",
    ] {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}")))
            .fetch_all(pool)
            .await
            .expect("dump");
        for r in rows {
            for i in 0..r.len() {
                if let Ok(Some(t)) = r.try_get::<Option<String>, _>(i) {
                    dump.push_str(&t);
                } else if let Ok(Some(b)) = r.try_get::<Option<Vec<u8>>, _>(i) {
                    dump.push_str(&String::from_utf8_lossy(&b));
                }
                dump.push('\t');
            }
        }
    }
    assert!(
        dump.contains("110***********4477"),
        "the masked form is what the history keeps"
    );
    for secret in [
        "110101199003074477",
        "199003074477",
        "13812345678",
        "12345678",
        "王小明",
        "小明",
        "解放路88号",
    ] {
        assert!(
            !dump.contains(secret),
            "plaintext `{secret}` found in the database dump"
        );
    }
}

async fn racing_writers_on_one_case_win_exactly_as_often_as_the_workflow_allows<S>(s: &S)
where
    S: Store + Clone + 'static,
{
    let w = Arc::new(World::new());
    let id = plain_suggestion(&w, s).await;
    let dept = actor("x", Role::Department, Some("jtj"));
    let deputy = actor("xu_staff", Role::Deputy, None);
    let leader = actor("chen", Role::Leader, None);
    // The path through the workflow: seven actions, each possible only after the one before.
    let path = Arc::new(vec![
        ("register", json!({}), staff()),
        ("assign", json!({"lead_department": "jtj"}), staff()),
        (
            "reply",
            json!({"classification": "C", "answer": "a"}),
            dept.clone(),
        ),
        (
            "evaluate",
            json!({"rating": "dissatisfied", "comment": "没有解决"}),
            deputy.clone(),
        ),
        (
            "reply",
            json!({"classification": "B", "answer": "b"}),
            dept.clone(),
        ),
        (
            "evaluate",
            json!({"rating": "dissatisfied", "comment": "没有解决"}),
            deputy.clone(),
        ),
        ("conclude", json!({"conclusion": "c"}), leader.clone()),
    ]);
    let attempts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (s, w, path, attempts, id) = (
            s.clone(),
            w.clone(),
            path.clone(),
            attempts.clone(),
            id.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (mut won, mut conflicts, mut refused) = (0, 0, 0);
            while attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 100 {
                // Each attempt takes the next step the case it reads is at.
                let Some(record) = s.case(&id).await.expect("read") else {
                    panic!("case vanished")
                };
                let step = (record.case.version as usize)
                    .saturating_sub(1)
                    .min(path.len() - 1);
                let (action, payload, who) = &path[step];
                let at = ts("2024-04-01T09:00:00");
                let wf = w.workflows.get("suggestion").expect("wf");
                match machine::act(wf, &w.calendar, &record.case, action, payload, who, at) {
                    Ok(t) => match s
                        .record_action(&id, record.case.version, &t, &Meta::default())
                        .await
                    {
                        Ok(()) => won += 1,
                        Err(Error::Conflict { .. }) => conflicts += 1,
                        Err(e) => panic!("unexpected store error: {e}"),
                    },
                    Err(_) => refused += 1,
                }
            }
            (won, conflicts, refused)
        }));
    }
    let mut totals = (0, 0, 0);
    for t in tasks {
        let (a, b, c) = t.await.expect("task");
        totals = (totals.0 + a, totals.1 + b, totals.2 + c);
    }
    assert_eq!(
        totals.0, 7,
        "exactly the seven steps of the path succeed: {totals:?}"
    );
    assert_eq!(totals.0 + totals.1 + totals.2, 100, "{totals:?}");
    let events = s.events(&id).await.expect("events");
    let seqs: Vec<u64> = events.iter().map(|e| e.event.seq).collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>(), "no gaps, no duplicates");
    let record = s.case(&id).await.expect("read").expect("exists");
    assert_eq!(record.case.state, "evaluated");
    let folded = Case::fold(
        &record.case.kind,
        record.case.workflow_version,
        &record.case.workflow_digest,
        events.iter().map(|e| &e.event),
    );
    assert_eq!(folded, Some(record.case));
}

async fn tokens_are_kept_as_hashes_and_can_be_revoked<S: Store>(s: &S) {
    s.add_org(&Org {
        code: "jtj".into(),
        kind: OrgKind::Department,
        name: "交通局".into(),
    })
    .await
    .expect("org");
    let user = User {
        login: "zhang".into(),
        role: Role::Department,
        org: Some("jtj".into()),
        name: "张".into(),
    };
    s.add_user(&user).await.expect("user");
    let at = ts("2024-03-01T09:00:00");
    s.add_token("tok-1", "zhang", "hash-1", at)
        .await
        .expect("token");
    s.add_token("tok-2", "zhang", "hash-2", at)
        .await
        .expect("token");
    assert!(matches!(
        s.add_token("tok-3", "nobody", "hash-3", at).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        s.user_for_token("hash-1").await.expect("lookup"),
        Some((user.clone(), "tok-1".into()))
    );
    assert_eq!(s.user_for_token("nope").await.expect("lookup"), None);
    assert!(s.revoke_token("tok-1", at).await.expect("revoke"));
    assert!(!s.revoke_token("tok-1", at).await.expect("revoke twice"));
    assert_eq!(s.user_for_token("hash-1").await.expect("lookup"), None);
    let listed = s.tokens("zhang").await.expect("list");
    assert_eq!(listed.len(), 2);
    assert!(listed[0].revoked_at.is_some() && listed[1].revoked_at.is_none());
}

/// What a test decision saw inside its unit of work, and what it looked up there.
#[derive(Debug)]
struct Seen {
    actor: User,
    case: Option<(String, serde_json::Map<String, serde_json::Value>)>,
    kinds: Vec<Option<String>>,
}

/// A decision for these tests: looks `codes` up, then registers the case at its version plus
/// `skew`, or refuses, saying what it saw either way.
struct Register<'w> {
    w: &'w World,
    refuse: bool,
    skew: u64,
    codes: &'w [(bool, &'w str)],
}

impl duban_storage::Decide for Register<'_> {
    type Kept = Seen;
    type Refusal = Seen;

    fn action(&self) -> &str {
        "register"
    }

    async fn decide<L: duban_storage::Lookup>(
        self,
        actor: &User,
        found: Option<duban_storage::CaseAndFiling>,
        lookup: &mut L,
    ) -> Result<(duban_storage::Record, Seen), Seen> {
        let mut kinds = Vec::new();
        for (org, code) in self.codes {
            kinds.push(lookup.code_kind(*org, code).await.expect("look up"));
        }
        let seen = Seen {
            actor: actor.clone(),
            case: found.as_ref().map(|(r, f)| (r.id.clone(), f.clone())),
            kinds,
        };
        let Some((record, _)) = found.filter(|_| !self.refuse) else {
            return Err(seen);
        };
        let wf = self.w.workflows.get("suggestion").expect("wf");
        let transition = machine::act(
            wf,
            &self.w.calendar,
            &record.case,
            "register",
            &json!({}),
            &staff(),
            ts("2024-03-02T09:00:00"),
        )
        .expect("allowed");
        let to_record = duban_storage::Record {
            case_id: record.id,
            expected_version: record.case.version + self.skew,
            transition,
            meta: Meta::default(),
        };
        Ok((to_record, seen))
    }
}

/// One unit of work with a test decision; it must not be kept waiting (by a unit before it
/// that still holds the write turn).
async fn unit<S: Store>(
    s: &S,
    acting: duban_storage::Acting<'_>,
    case: &str,
    decision: Register<'_>,
) -> Result<duban_storage::Acted<Seen, Seen>, Error> {
    let within = std::time::Duration::from_secs(10);
    tokio::time::timeout(within, s.act(acting, case, decision))
        .await
        .expect("not kept waiting")
}

impl<'w> Register<'w> {
    fn new(w: &'w World) -> Self {
        Register {
            w,
            refuse: false,
            skew: 0,
            codes: &[],
        }
    }
}

async fn a_token_and_the_case_it_acts_on_are_read_together<S: Store>(s: &S) {
    use duban_storage::{Acted, Acting};
    let w = World::new();
    let user = User {
        login: "xu_staff".into(),
        role: Role::Staff,
        org: None,
        name: "徐".into(),
    };
    s.add_user(&user).await.expect("user");
    let at = ts("2024-03-01T09:00:00");
    s.add_token("tok-1", "xu_staff", "hash-1", at)
        .await
        .expect("token");
    let id = plain_suggestion(&w, s).await;
    let alone = s.case_and_filing(&id).await.expect("read").expect("case");
    let refuse = Register {
        refuse: true,
        ..Register::new(&w)
    };
    let seen = |acted: Acted<Seen, Seen>| match acted {
        Acted::Refused { actor, refusal } => {
            assert_eq!(actor, refusal.actor);
            Some((actor, refusal.case))
        }
        Acted::UnknownToken => None,
        Acted::Recorded { .. } => panic!("a refusing decision recorded"),
    };
    let act = |token: &'static str, case: String, decision| async move {
        unit(s, Acting::Token(token), &case, decision)
            .await
            .expect("read")
    };
    // The token's user and the case, as each is read alone.
    let (who, case) = seen(act("hash-1", id.clone(), refuse).await).expect("a live token");
    assert_eq!(who, user);
    assert_eq!(case, Some((alone.0.id.clone(), alone.1.clone())));
    assert_eq!(alone.1["title"], "t");
    // No such case: the user still, and no case.
    let refuse = |w| Register {
        refuse: true,
        ..Register::new(w)
    };
    assert_eq!(
        seen(act("hash-1", "no-such-case".into(), refuse(&w)).await),
        Some((user.clone(), None))
    );
    // No such token, or a revoked one: nothing, case or not.
    assert_eq!(seen(act("nope", id.clone(), refuse(&w)).await), None);
    assert!(s.revoke_token("tok-1", at).await.expect("revoke"));
    assert_eq!(seen(act("hash-1", id.clone(), refuse(&w)).await), None);
    // None of these units kept anyone from writing.
    s.add_token("tok-2", "xu_staff", "hash-2", at)
        .await
        .expect("a write after them");
    // A live token's decision is recorded.
    let recorded = act("hash-2", id.clone(), Register::new(&w)).await;
    assert!(matches!(recorded, Acted::Recorded { .. }), "{recorded:?}");
    assert_eq!(s.events(&id).await.expect("events").len(), 2);
}

/// An action's unit of work records what its decision gave in what the case was read under;
/// a refusal writes nothing and, once handed back, keeps no one from writing.
async fn an_action_is_recorded_in_what_its_case_was_read_under<S: Store>(s: &S) {
    use duban_storage::{Acted, Acting};
    let w = World::new();
    let clerk = User {
        login: "xu_staff".into(),
        role: Role::Staff,
        org: None,
        name: "徐".into(),
    };
    s.add_user(&clerk).await.expect("user");
    let id = plain_suggestion(&w, s).await;
    let clerk = &clerk;
    let act =
        |case: String, decision| async move { unit(s, Acting::User(clerk), &case, decision).await };

    // Refused: nothing written, and the next writer gets in.
    let refused = act(
        id.clone(),
        Register {
            refuse: true,
            ..Register::new(&w)
        },
    )
    .await
    .expect("read");
    match refused {
        Acted::Refused { actor, refusal } => {
            assert_eq!(&actor, clerk);
            assert_eq!(refusal.case.expect("the case").1["title"], "t");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.events(&id).await.expect("events").len(), 1);
    let other = plain_suggestion(&w, s).await;

    // Decided at a version that is not the case's: a conflict that writes nothing.
    let stale = act(
        id.clone(),
        Register {
            skew: 1,
            ..Register::new(&w)
        },
    )
    .await;
    assert!(matches!(stale, Err(Error::Conflict { .. })), "{stale:?}");
    assert_eq!(s.events(&id).await.expect("events").len(), 1);

    // Decided and recorded: the action is written once. Codes are looked up inside the unit.
    s.add_org(&Org {
        code: "jtj".into(),
        kind: OrgKind::Department,
        name: "县交通运输局".into(),
    })
    .await
    .expect("org");
    let codes = [
        (true, "jtj"),
        (true, "xu_staff"),
        (false, "xu_staff"),
        (false, "nobody"),
    ];
    let recorded = act(
        id.clone(),
        Register {
            codes: &codes,
            ..Register::new(&w)
        },
    )
    .await
    .expect("recorded");
    let Acted::Recorded { record, kept, .. } = recorded else {
        panic!("{recorded:?}");
    };
    assert_eq!(
        kept.kinds,
        [Some("department".into()), None, Some("staff".into()), None]
    );
    let after = s.case(&id).await.expect("read").expect("the case");
    assert_eq!(after.case, record.transition.case);
    assert_eq!(s.events(&id).await.expect("events").len(), 2);
    // The same codes read outside a unit.
    assert_eq!(
        s.code_kind(true, "jtj").await.expect("org").as_deref(),
        Some("department")
    );
    assert_eq!(s.code_kind(false, "nobody").await.expect("user"), None);

    // No such case: the decision sees none, and an action elsewhere goes through.
    let none = act("no-such-case".into(), Register::new(&w))
        .await
        .expect("read");
    assert!(
        matches!(&none, Acted::Refused { refusal, .. } if refusal.case.is_none()),
        "{none:?}"
    );
    let recorded = act(other.clone(), Register::new(&w))
        .await
        .expect("recorded");
    assert!(matches!(recorded, Acted::Recorded { .. }), "{recorded:?}");
}

async fn passwords_locks_and_sessions_are_kept<S: Store + duban_storage::Accounts>(s: &S) {
    use duban_storage::{Session, SignInAttempt};
    let user = User {
        login: "zhang".into(),
        role: Role::Staff,
        org: None,
        name: "张".into(),
    };
    s.add_user(&user).await.expect("user");
    let at = ts("2024-03-01T09:00:00");
    assert!(!s.set_password("nobody", "h", at, None).await.expect("set"));
    assert!(
        s.set_password("zhang", "$argon2id$x", at, None)
            .await
            .expect("set")
    );
    let c = s.credentials("zhang").await.expect("read").expect("found");
    assert_eq!(c.password_hash.as_deref(), Some("$argon2id$x"));
    assert_eq!(c.password_changed_at, Some(at));

    // Four attempts count; the fifth locks, and while the lock lasts nothing is counted.
    let until = ts("2024-03-01T09:15:00");
    for n in 1..=4 {
        assert_eq!(
            s.claim_attempt("zhang", at, 5, until).await.expect("claim"),
            SignInAttempt::Counted {
                failures: n,
                locks: false
            }
        );
    }
    assert_eq!(
        s.claim_attempt("zhang", at, 5, until).await.expect("claim"),
        SignInAttempt::Counted {
            failures: 5,
            locks: true
        }
    );
    assert_eq!(
        s.claim_attempt("zhang", ts("2024-03-01T09:14:59"), 5, until)
            .await
            .expect("claim"),
        SignInAttempt::Locked(until)
    );
    // A right password claimed before the lock does not lift it; the one whose claim locked does.
    assert_eq!(
        s.attempt_succeeded("zhang", at, false).await.expect("ok"),
        Some(until)
    );
    assert_eq!(
        s.attempt_succeeded("zhang", at, true).await.expect("ok"),
        None
    );
    // After the lock expires the count starts again.
    let later = ts("2024-03-01T10:00:00");
    for login in ["zhang", "nobody-at-all"] {
        s.claim_attempt(login, later, 2, until)
            .await
            .expect("claim");
        assert_eq!(
            s.claim_attempt(login, later, 2, ts("2024-03-01T10:15:00"))
                .await
                .expect("claim"),
            SignInAttempt::Counted {
                failures: 2,
                locks: true
            },
            "{login}: an unknown login is counted and locked like a known one"
        );
        assert_eq!(
            s.claim_attempt(
                login,
                ts("2024-03-01T10:15:00"),
                2,
                ts("2024-03-01T10:30:00")
            )
            .await
            .expect("claim"),
            SignInAttempt::Counted {
                failures: 1,
                locks: false
            },
            "{login}: the lock has expired"
        );
    }
    // A count with no attempt for a day is forgotten.
    s.claim_attempt("nobody-at-all", ts("2024-03-01T10:20:00"), 5, until)
        .await
        .expect("claim");
    assert_eq!(
        s.claim_attempt("nobody-at-all", ts("2024-03-02T10:21:00"), 5, until)
            .await
            .expect("claim"),
        SignInAttempt::Counted {
            failures: 1,
            locks: false
        }
    );
    // Setting a password clears the count.
    assert!(
        s.set_password("zhang", "$argon2id$y", later, None)
            .await
            .expect("set")
    );
    assert_eq!(
        s.claim_attempt("zhang", later, 5, until)
            .await
            .expect("claim"),
        SignInAttempt::Counted {
            failures: 1,
            locks: false
        }
    );

    let session = Session {
        id_hash: "h1".into(),
        login: "zhang".into(),
        csrf: "c1".into(),
        source: "127.0.0.1".into(),
        created_at: at,
        expires_at: ts("2024-03-01T17:00:00"),
    };
    assert!(
        !s.create_session(&session, "$argon2id$old")
            .await
            .expect("session"),
        "not for a password that is no longer the user's"
    );
    assert!(
        s.create_session(&session, "$argon2id$y")
            .await
            .expect("session")
    );
    let (found, who) = s.session("h1", at).await.expect("read").expect("live");
    assert_eq!((found, who), (session.clone(), user.clone()));
    assert!(
        s.session("h1", ts("2024-03-01T17:00:00"))
            .await
            .expect("read")
            .is_none(),
        "expired"
    );
    assert!(s.session("h2", at).await.expect("read").is_none());
    assert_eq!(s.people().await.expect("people"), vec![user]);
    assert_eq!(
        s.purge_sessions(ts("2024-03-01T18:00:00"))
            .await
            .expect("purge"),
        1
    );
    assert!(s.session("h1", at).await.expect("read").is_none());
    s.create_session(
        &Session {
            id_hash: "h3".into(),
            ..session
        },
        "$argon2id$y",
    )
    .await
    .expect("session");
    s.delete_session("h3").await.expect("delete");
    assert!(s.session("h3", at).await.expect("read").is_none());
}

/// What a case left in the tables an action writes, with its id taken out: every row of its
/// events, parties and reminders, and its projection, as text to compare.
async fn rows_of<S: Store + AsPool>(s: &S, id: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (table, columns, order) in [
        (
            "cases",
            "kind, title, state, version, is_open, is_key, year, filed_at, entered_at, due_key, due_date, filer, supervisor, projection, updated_at, figures",
            "id",
        ),
        (
            "case_events",
            "seq, action, actor, actor_role, actor_org, at, from_state, to_state, payload, detail",
            "seq",
        ),
        (
            "case_parties",
            "party, member, is_open, due_key, filed_at",
            "party, member",
        ),
        (
            "reminders",
            "reminder_key, state, duty, rule, fire_at, due_date, notify, repeat_every_days, escalate, status, attempts, created_at",
            "reminder_key",
        ),
    ] {
        let key = if table == "cases" { "id" } else { "case_id" };
        let sql = format!("SELECT {columns} FROM {table} WHERE {key} = $1 ORDER BY {order}");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_all(s.as_pool())
            .await
            .expect("rows");
        for r in &rows {
            let cells: Vec<String> = (0..r.len())
                .map(|i| {
                    r.try_get::<Option<String>, _>(i)
                        .ok()
                        .flatten()
                        .or_else(|| {
                            r.try_get::<Option<i64>, _>(i)
                                .ok()
                                .flatten()
                                .map(|v| v.to_string())
                        })
                        .unwrap_or_else(|| "NULL".into())
                })
                .collect();
            out.push(format!("{table}: {}", cells.join(" | ")));
        }
    }
    out
}

async fn acting_and_importing_the_same_steps_leave_the_same_rows<S: Store + AsPool>(s: &S) {
    let w = World::new();
    let deputy = actor("liu", Role::Deputy, None);
    let dept = actor("zhang", Role::Department, Some("jtj"));
    let co = actor("li", Role::Department, Some("zrzyj"));
    // Steps that schedule a state's reminders, discharge a duty, extend a deadline (both
    // cancel while staying), and leave states whose reminders are still pending.
    let steps = [
        ("register", json!({}), staff(), "2024-06-25T09:00:00"),
        (
            "assign",
            json!({"lead_department": "jtj", "co_departments": ["zrzyj"]}),
            staff(),
            "2024-07-01T09:00:00",
        ),
        (
            "send_co_opinion",
            json!({"opinion": "同意"}),
            co,
            "2024-07-10T09:00:00",
        ),
        (
            "extend",
            json!({"until": "2024-12-31", "reason": "涉及多部门"}),
            staff(),
            "2024-09-20T09:00:00",
        ),
        (
            "reply",
            json!({"classification": "B", "answer": "已列入计划"}),
            dept.clone(),
            "2024-11-01T09:00:00",
        ),
        (
            "evaluate",
            json!({"rating": "dissatisfied", "comment": "进度太慢"}),
            deputy.clone(),
            "2024-11-10T09:00:00",
        ),
    ];
    let filed_at = ts("2024-06-20T10:00:00");
    let filing = json!({"title": "关于农村公路的建议", "body": "……"});
    let acted = w
        .file(s, "suggestion", &deputy, filing.clone(), filed_at)
        .await;
    let wf = w.workflows.get("suggestion").expect("suggestion");
    let mut transitions =
        vec![machine::file(wf, &w.calendar, &deputy, &filing, filed_at).expect("file")];
    for (action, payload, who, at) in &steps {
        let t = w
            .must(s, &acted, action, payload.clone(), who, ts(at))
            .await;
        let before = &transitions.last().expect("filed").case;
        transitions.push(
            machine::act(wf, &w.calendar, before, action, payload, who, ts(at)).expect(action),
        );
        assert_eq!(
            t,
            *transitions.last().expect("step"),
            "{action}: the same transition"
        );
    }
    let imported = uuid::Uuid::now_v7().to_string();
    s.import_cases(
        &[duban_storage::ImportedCase {
            id: imported.clone(),
            title: "关于农村公路的建议".into(),
            transitions: &transitions,
            index: Indexing {
                format: &wf.number,
                number: None,
                words: "关于农村公路的建议".into(),
            },
        }],
        filed_at,
    )
    .await
    .expect("import");
    let (acted_rows, imported_rows) = (rows_of(s, &acted).await, rows_of(s, &imported).await);
    assert!(
        acted_rows
            .iter()
            .any(|r| r.starts_with("reminders:") && r.contains("cancelled")),
        "the steps cancel some reminders: {acted_rows:#?}"
    );
    assert!(
        acted_rows
            .iter()
            .any(|r| r.starts_with("reminders:") && r.contains("pending")),
        "and leave others pending: {acted_rows:#?}"
    );
    assert_eq!(acted_rows, imported_rows);
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

async fn a_password_change_ends_every_other_session<S: Store + duban_storage::Accounts>(s: &S) {
    use duban_storage::Session;
    s.add_user(&User {
        login: "zhang".into(),
        role: Role::Staff,
        org: None,
        name: "张科长".into(),
    })
    .await
    .expect("user");
    let at = ts("2024-03-01T09:00:00");
    let session = |id: &str| Session {
        id_hash: id.into(),
        login: "zhang".into(),
        csrf: "c".into(),
        source: "127.0.0.1".into(),
        created_at: at,
        expires_at: ts("2024-03-01T17:00:00"),
    };
    assert!(s.set_password("zhang", "h0", at, None).await.expect("set"));
    for id in ["laptop", "phone", "desk"] {
        s.create_session(&session(id), "h0").await.expect("session");
    }
    // Changing one's own password keeps the session it was changed in.
    assert!(
        s.set_password("zhang", "h", at, Some("desk"))
            .await
            .expect("set")
    );
    for (id, live) in [("laptop", false), ("phone", false), ("desk", true)] {
        assert_eq!(
            s.session(id, at).await.expect("read").is_some(),
            live,
            "{id}"
        );
    }
    // A reset by someone else ends them all; so does ending them on demand.
    assert!(s.set_password("zhang", "h2", at, None).await.expect("set"));
    assert!(s.session("desk", at).await.expect("read").is_none());
    for id in ["a", "b"] {
        s.create_session(&session(id), "h2").await.expect("session");
    }
    assert_eq!(s.end_sessions("zhang", None).await.expect("end"), 2);
    assert!(s.session("a", at).await.expect("read").is_none());
}

async fn the_inbox_and_the_access_record_are_kept_per_person_and_case<S: Store>(s: &S) {
    let w = World::new();
    let id = plain_suggestion(&w, s).await;
    for i in 0..5 {
        s.add_notification(&Notification {
            id: format!("n-{i}"),
            recipient: if i == 4 {
                "someone-else".into()
            } else {
                "zhang".into()
            },
            case_id: id.clone(),
            reminder_key: Some("assigned/-/0/2024-06-05".into()),
            title: format!("提醒 {i}"),
            body: "b".into(),
            escalate: i == 3,
            created_at: ts(&format!("2024-03-0{}T09:00:00", i + 1)),
            read_at: None,
        })
        .await
        .expect("notify");
    }
    let (first, next) = s
        .notifications("zhang", &Page::first(2), false)
        .await
        .expect("inbox");
    assert_eq!(
        first.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
        ["n-3", "n-2"]
    );
    let (rest, end) = s
        .notifications(
            "zhang",
            &Page {
                after: next,
                ..Page::first(2)
            },
            false,
        )
        .await
        .expect("inbox");
    assert_eq!(
        rest.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
        ["n-1", "n-0"]
    );
    assert_eq!(end, None);
    s.record_access(&Access {
        case_id: id.clone(),
        at: ts("2024-03-02T09:00:00"),
        actor: "xu_staff".into(),
        role: Role::Staff,
        fields: vec!["id_number".into()],
        reason: "核实重复信访".into(),
        request_id: Some("req-9".into()),
    })
    .await
    .expect("record");
    let log = s.accesses(&id).await.expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].reason, "核实重复信访");
}

async fn filters_narrow_any_list<S: Store>(s: &S) {
    let w = World::new();
    let deputy = actor("liu", Role::Deputy, None);
    let a = w
        .assigned_suggestion(
            s,
            &deputy,
            "jtj",
            &[],
            "2024-03-01T09:00:00",
            "2024-03-05T09:00:00",
        )
        .await;
    let b = w
        .assigned_suggestion(
            s,
            &deputy,
            "jyj",
            &["jtj"],
            "2025-03-01T09:00:00",
            "2025-03-05T09:00:00",
        )
        .await;
    let c = w
        .file(
            s,
            "suggestion",
            &deputy,
            json!({"title": "t", "body": "b"}),
            ts("2025-04-01T09:00:00"),
        )
        .await;
    let ids = |l: duban_storage::Listing| l.items.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let page = Page::first(10);
    let all = s.list(&CaseQuery::All, &page).await.expect("all");
    assert_eq!(ids(all), [a.clone(), b.clone(), c.clone()]);
    let dept = CaseQuery::Party(PartyList::Department("jtj".into()));
    assert_eq!(
        ids(s.list(&dept, &page).await.expect("dept")),
        [a.clone(), b.clone()]
    );
    let only_2025 = ListFilter {
        year: Some(2025),
        ..ListFilter::default()
    };
    assert_eq!(
        ids(s
            .list_filtered(&dept, &only_2025, &page)
            .await
            .expect("dept 2025")),
        vec![b.clone()]
    );
    let received = ListFilter {
        state: Some("received".into()),
        kind: Some("suggestion".into()),
        ..ListFilter::default()
    };
    assert_eq!(
        ids(s
            .list_filtered(&CaseQuery::All, &received, &page)
            .await
            .expect("received")),
        vec![c.clone()]
    );
    let mine = CaseQuery::Party(PartyList::Deputy("liu".into()));
    let nothing = ListFilter {
        kind: Some("petition".into()),
        ..ListFilter::default()
    };
    assert!(ids(s.list_filtered(&mine, &nothing, &page).await.expect("none")).is_empty());
}

async fn the_audit_chain_verifies_and_survives_pruning<S: Store + AsPool + duban_storage::Audit>(
    s: &S,
) {
    use duban_storage::Verdict;
    let record = crate::audit_record;
    for i in 0..5 {
        s.audit(&record(i)).await.expect("append");
    }
    assert_eq!(
        s.verify_audit().await.expect("verify"),
        Verdict::Intact { records: 5 }
    );
    // Deleting outside pruning is refused by the database.
    assert!(
        sqlx::query("DELETE FROM audit_log WHERE seq = 1")
            .execute(s.as_pool())
            .await
            .is_err()
    );
    // Pruning what is older than 01-04 keeps the chain verifiable from its new start.
    // The pruning is itself recorded, in the same transaction.
    let by = duban_storage::AuditRecord {
        action: "audit_pruned".into(),
        detail: "older than 184 days".into(),
        ..record(8)
    };
    assert_eq!(
        s.prune_audit(ts("2024-01-04T00:00:00"), &by)
            .await
            .expect("prune"),
        3
    );
    assert_eq!(
        s.verify_audit().await.expect("verify"),
        Verdict::Intact { records: 3 }
    );
    s.audit(&record(5)).await.expect("append after pruning");
    assert_eq!(
        s.verify_audit().await.expect("verify"),
        Verdict::Intact { records: 4 }
    );
    let tail = s.audit_tail(10).await.expect("tail");
    assert_eq!(
        tail.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        [7, 6, 5, 4]
    );
    assert_eq!(tail[1].1.action, "audit_pruned");
    assert!(
        tail[1].1.detail.starts_with("3 record(s) deleted"),
        "{}",
        tail[1].1.detail
    );
    assert!(
        sqlx::query("DELETE FROM audit_log WHERE seq = 4")
            .execute(s.as_pool())
            .await
            .is_err(),
        "the trigger is back"
    );
}
