//! Conformance: reminders: written with the action that schedules them, and applying while their state and deadline last.

use super::*;

conformance!(
    reminders_are_written_and_apply_while_their_state_lasts,
    reminders_of_an_earlier_deadline_do_not_apply_after_reassignment,
);

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
    // The co-handler's own reminder, named with it.
    assert_eq!(due[1].duty.as_deref(), Some("co_opinion@zrzyj"));

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
