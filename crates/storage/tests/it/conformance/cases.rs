//! Conformance: cases: filing, acting, versions, idempotency, the append-only history, racing writers, and import leaving the rows acting leaves.

use super::*;

conformance!(
    a_batch_of_actions_is_written_whole_or_not_at_all,
    migrating_twice_changes_nothing,
    every_action_appends_an_event_and_the_projection_is_their_fold,
    a_stale_version_is_a_conflict_that_writes_nothing,
    an_idempotency_key_files_once,
    the_history_refuses_updates_and_deletes,
    racing_writers_on_one_case_win_exactly_as_often_as_the_workflow_allows,
    acting_and_importing_the_same_steps_leave_the_same_rows,
    an_import_in_slices_is_written_whole_or_not_at_all,
);

async fn migrating_twice_changes_nothing<S: Store>(s: &S) {
    assert_eq!(
        s.migrate().await.expect("migrate"),
        Vec::<i64>::new(),
        "already migrated at open"
    );
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
        duban_storage::FigureGroups {
            groups: vec![duban_storage::FigureGroup {
                figures: figures.key(),
                state: "handled".into(),
                cases: 1,
                // Still open, and the deputy's time to evaluate the reply ran out in the autumn.
                overdue: 1
            }],
            left_out: 0,
        }
    );
    // Before its last action the case is left out, and said to be: the report replays it.
    let early = ts("2024-08-01T00:00:00");
    assert_eq!(
        s.figure_groups("suggestion", 2024, early)
            .await
            .expect("groups"),
        duban_storage::FigureGroups {
            groups: Vec::new(),
            left_out: 1,
        }
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
            json!({"classification": "C", "answer": "a", "condition": "待上级资金下达"}),
            dept.clone(),
        ),
        (
            "evaluate",
            json!({"rating": "dissatisfied", "comment": "没有解决"}),
            deputy.clone(),
        ),
        (
            "reply",
            json!({"classification": "A", "answer": "b"}),
            dept.clone(),
        ),
        (
            "evaluate",
            json!({"rating": "dissatisfied", "comment": "没有解决"}),
            deputy.clone(),
        ),
        ("conclude", json!({"conclusion": "c"}), leader.clone()),
    ]);
    const ATTEMPTS: usize = 400;
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
            // Enough attempts for every step even if each one is won by one racer of sixteen
            // and lost by the rest: writers that share a commit (SQLite's group) are all
            // answered when it ends, winner and losers alike, and then race again.
            while attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < ATTEMPTS {
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
    assert_eq!(totals.0 + totals.1 + totals.2, ATTEMPTS, "{totals:?}");
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
    // Steps that schedule a state's reminders, discharge a duty, set parties again, extend a
    // deadline (both cancel while staying), and leave states whose reminders are still
    // pending.
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
        // Assigned again: one co-department leaves the case and another joins it, and whose
        // move it is changes with each state.
        (
            "request_reassignment",
            json!({"reason": "职能调整"}),
            dept.clone(),
            "2024-07-12T09:00:00",
        ),
        (
            "assign",
            json!({"lead_department": "jtj", "co_departments": ["czj"]}),
            staff(),
            "2024-07-13T09:00:00",
        ),
        (
            "extend",
            json!({"until": "2024-12-31", "reason": "涉及多部门"}),
            staff(),
            "2024-09-20T09:00:00",
        ),
        (
            "reply",
            json!({"classification": "B", "answer": "已列入计划", "promised_by": "2025-06-30"}),
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

/// `register` decided on a case as it is now, at `skew` past its version.
async fn register(
    w: &World,
    s: &duban_storage::SqlStore,
    id: &str,
    skew: u64,
) -> duban_storage::Record {
    use duban_storage::Cases;
    let record = s.case(id).await.expect("read").expect("there");
    registered(w, record, skew)
}

async fn a_batch_of_actions_is_written_whole_or_not_at_all(s: &duban_storage::SqlStore) {
    use duban_storage::Cases;
    let w = World::new();
    let first = plain_suggestion(&w, s).await;
    let second = plain_suggestion(&w, s).await;
    // The second at a version it is not at: nothing of the batch is written.
    let batch = [
        register(&w, s, &first, 0).await,
        register(&w, s, &second, 1).await,
    ];
    assert!(matches!(
        s.record_batch(&batch).await,
        Err(Error::Conflict { .. })
    ));
    for id in [&first, &second] {
        let case = s.case(id).await.expect("read").expect("there").case;
        assert_eq!((case.version, case.state.as_str()), (1, "received"), "{id}");
    }
    let batch = [
        register(&w, s, &first, 0).await,
        register(&w, s, &second, 0).await,
    ];
    s.record_batch(&batch).await.expect("both");
    for id in [&first, &second] {
        let case = s.case(id).await.expect("read").expect("there").case;
        assert_eq!(
            (case.version, case.state.as_str()),
            (2, "registered"),
            "{id}"
        );
        assert_eq!(s.events(id).await.expect("events").len(), 2);
    }
}

/// An import written slice by slice in one transaction: rolled back, or dropped unfinished,
/// none of its slices is left and the next writer gets in; committed, every slice is, and a
/// case numbered from the sequence in an early slice never takes a number a later one brings.
async fn an_import_in_slices_is_written_whole_or_not_at_all<S: Store>(s: &S) {
    use duban_storage::{ImportedCase, Importing};
    let w = World::new();
    let wf = w.workflows.get("suggestion").expect("suggestion");
    let deputy = actor("liu", Role::Deputy, None);
    let filed_at = ts("2024-06-20T10:00:00");
    let filing = json!({"title": "关于路灯的建议", "body": "路灯不亮"});
    let history = [machine::file(wf, &w.calendar, &deputy, &filing, filed_at).expect("file")];
    let case = |number: Option<&str>| ImportedCase {
        id: uuid::Uuid::now_v7().to_string(),
        title: "关于路灯的建议".into(),
        transitions: &history,
        index: Indexing {
            format: &wf.number,
            number: number.map(str::to_string),
            words: "关于路灯的建议".into(),
        },
    };
    let stored = |id: String| async move { s.case(&id).await.expect("read") };

    let (first, second) = (case(None), case(None));
    let ids = [first.id.clone(), second.id.clone()];
    let mut import = s.begin_import(filed_at).await.expect("begin");
    import.write(&[first]).await.expect("first slice");
    import.write(&[second]).await.expect("second slice");
    import.rollback().await.expect("rollback");
    for id in ids {
        assert!(stored(id).await.is_none(), "rolled back");
    }
    let dropped = case(None);
    let id = dropped.id.clone();
    let mut import = s.begin_import(filed_at).await.expect("begin");
    import.write(&[dropped]).await.expect("slice");
    drop(import);
    assert!(stored(id).await.is_none(), "dropped unfinished");

    let brought = "建议〔2024〕050号";
    let (early, late) = (case(None), case(Some(brought)));
    let ids = [early.id.clone(), late.id.clone()];
    let mut import = s.begin_import(filed_at).await.expect("begin");
    import
        .reserve("suggestion", &wf.number, &[brought.to_string()])
        .await
        .expect("reserve");
    import.write(&[early]).await.expect("early slice");
    import.write(&[late]).await.expect("late slice");
    import.commit().await.expect("commit");
    let [early, late] = ids;
    let numbers = (
        stored(early).await.expect("there").number,
        stored(late).await.expect("there").number,
    );
    assert_eq!(
        numbers,
        (Some("建议〔2024〕051号".into()), Some(brought.into()))
    );
}
