//! The state machine on the shipped workflows: real procedures, real dates, clear refusals.

use duban_core::Role;
use duban_core::machine::{Case, Effect, Refusal, allowed_actions, file};
use serde_json::json;

use crate::world::*;

#[test]
fn a_suggestion_goes_from_filing_to_evaluation_with_statutory_deadlines() {
    let w = World::new();
    let deputy = actor("liu_deputy", Role::Deputy, None);
    let staff = actor("xu_staff", Role::Staff, None);
    let dept = actor("zhang_jtj", Role::Department, Some("jtj"));
    let co = actor("li_zrzy", Role::Department, Some("zrzyj"));

    let filed = w.file("suggestion", &deputy, json!({"title": "关于加快农村公路提档升级的建议", "body": "……", "cosigners": ["wang_deputy"]}), "2024-06-20T10:00:00");
    assert_eq!(filed.case.state, "received");
    assert_eq!(filed.case.parties["filer"], ["liu_deputy"]);
    assert_eq!(filed.case.parties["cosigners"], ["wang_deputy"]);
    assert_eq!(filed.event.seq, 1);

    let registered = w.act(
        &filed.case,
        "register",
        json!({}),
        &staff,
        "2024-06-25T09:00:00",
    );
    let assigned = w.act(
        &registered.case,
        "assign",
        json!({"lead_department": "jtj", "co_departments": ["zrzyj"]}),
        &staff,
        "2024-07-01T09:00:00",
    );
    assert_eq!(assigned.case.state, "assigned");
    // 3 months from 2024-07-01 is 10-01, National Day: rolls to 10-08.
    assert_eq!(due(&assigned.case), "2024-10-08");
    assert!(
        assigned
            .case
            .deadline
            .as_ref()
            .is_some_and(|d| d.deadline.explanation.contains("国庆节假期"))
    );
    // The co-handler's opinion is due 1 month from assignment: 2024-08-01 (Thu).
    assert_eq!(assigned.case.duties.len(), 1);
    assert_eq!(
        assigned.case.duties[0].deadline.due_date.to_string(),
        "2024-08-01"
    );
    // The departments are told at once, not 15 days before the due date.
    assert_eq!(
        notices(&assigned),
        [(
            "2024-07-01T01:00:00Z".to_string(),
            "新交办".to_string(),
            "lead_department+co_departments".to_string()
        )]
    );
    // Reminders: 15 and 3 days before, then overdue escalation; the co-handler (that one, not
    // the whole party) 5 days before and overdue.
    assert_eq!(
        scheduled(&assigned),
        [
            (
                "2024-09-23T01:00:00Z".to_string(),
                "lead_department".to_string()
            ),
            (
                "2024-10-05T01:00:00Z".to_string(),
                "lead_department+role:staff".to_string()
            ),
            (
                "2024-10-09T01:00:00Z".to_string(),
                "lead_department+supervisor+role:leader".to_string()
            ),
            (
                "2024-07-27T01:00:00Z".to_string(),
                "member:zrzyj".to_string()
            ),
            (
                "2024-08-02T01:00:00Z".to_string(),
                "member:zrzyj+lead_department".to_string()
            ),
        ]
    );

    // The co-handler sends its opinion: the duty is discharged and its reminders cancelled.
    let opinion = w.act(
        &assigned.case,
        "send_co_opinion",
        json!({"opinion": "同意主办单位意见"}),
        &co,
        "2024-07-15T15:00:00",
    );
    assert!(opinion.case.duties.is_empty());
    assert!(opinion.effects.contains(&Effect::CancelReminders {
        state: "assigned".into(),
        duty: Some("co_opinion@zrzyj".into()),
    }));
    assert_eq!(opinion.case.state, "assigned");

    // Asking for reassignment is open for 15 days from assignment (until 07-16 24:00).
    let late = w
        .try_act(
            &opinion.case,
            "request_reassignment",
            json!({"reason": "不属于本单位职责"}),
            &dept,
            "2024-07-17T09:00:00",
        )
        .expect_err("too late");
    assert!(
        matches!(late.reason, Refusal::WindowClosed { ref until, .. } if until.to_string() == "2024-07-16"),
        "{late}"
    );
    assert!(!late.allowed.contains(&"request_reassignment".to_string()));
    assert!(late.allowed.contains(&"reply".to_string()));

    // Extension: at most 6 months from assignment, 2025-01-01 being New Year's Day → 2025-01-02.
    let too_far = w
        .try_act(
            &opinion.case,
            "extend",
            json!({"until": "2025-01-03", "reason": "涉及多部门"}),
            &staff,
            "2024-09-20T09:00:00",
        )
        .expect_err("beyond 6 months");
    assert_eq!(too_far.field(), Some("until"));
    assert!(too_far.to_string().contains("2025-01-02"), "{too_far}");
    let extended = w.act(
        &opinion.case,
        "extend",
        json!({"until": "2024-12-31", "reason": "涉及多部门"}),
        &staff,
        "2024-09-20T09:00:00",
    );
    assert_eq!(due(&extended.case), "2024-12-31");
    assert_eq!(
        extended.effects[0],
        Effect::CancelReminders {
            state: "assigned".into(),
            duty: None,
        }
    );
    assert!(scheduled(&extended).contains(&(
        "2025-01-01T01:00:00Z".to_string(),
        "lead_department+supervisor+role:leader".to_string()
    )));

    let replied = w.act(
        &extended.case,
        "reply",
        json!({"classification": "B", "answer": "已列入2025年计划", "promised_by": "2025-06-30"}),
        &dept,
        "2024-11-01T10:00:00",
    );
    assert_eq!(replied.case.state, "handled");
    // Leaving the state cancels nothing: its reminders no longer apply, and lapse when due.
    assert!(
        !replied
            .effects
            .iter()
            .any(|e| matches!(e, Effect::CancelReminders { .. })),
        "{:?}",
        replied.effects
    );
    assert!(
        !replied
            .case
            .reminder_applies("assigned", None, Some("2024-12-31"))
    );

    // 不满意 sends it back with a 1-month deadline.
    let unhappy = w.act(
        &replied.case,
        "evaluate",
        json!({"rating": "dissatisfied", "comment": "进度太慢"}),
        &deputy,
        "2024-11-10T10:00:00",
    );
    assert_eq!(unhappy.case.state, "rehandling");
    assert_eq!(due(&unhappy.case), "2024-12-10");
    let again = w.act(
        &unhappy.case,
        "reply",
        json!({"classification": "A", "answer": "已开工"}),
        &dept,
        "2024-12-01T10:00:00",
    );
    assert_eq!(again.case.state, "rehandled");
    // 不满意 needs its reason.
    let bare = w
        .try_act(
            &again.case,
            "evaluate",
            json!({"rating": "dissatisfied"}),
            &deputy,
            "2024-12-05T10:00:00",
        )
        .expect_err("no reason");
    assert!(
        matches!(&bare.reason, Refusal::InvalidPayload { field, problem, .. }
            if field == "comment" && problem.contains("dissatisfied")),
        "{bare}"
    );
    // A second 不满意 escalates to the supervising leader.
    let escalated = w.act(
        &again.case,
        "evaluate",
        json!({"rating": "dissatisfied", "comment": "仍未解决"}),
        &deputy,
        "2024-12-05T10:00:00",
    );
    assert_eq!(escalated.case.state, "escalated");
    // The supervising leader and every leader hear of it at once, as does the department.
    assert_eq!(
        notices(&escalated),
        [(
            "2024-12-05T02:00:00Z".to_string(),
            "督办".to_string(),
            "supervisor+role:leader+lead_department".to_string()
        )]
    );
    let leader = actor("chen_leader", Role::Leader, None);
    let closed = w.act(
        &escalated.case,
        "conclude",
        json!({"conclusion": "督促交通局年内完成"}),
        &leader,
        "2024-12-20T10:00:00",
    );
    assert_eq!(closed.case.state, "evaluated");
    assert!(closed.case.deadline.is_none());
    assert_eq!(closed.case.version, 10);
}

#[test]
fn a_satisfied_deputy_closes_the_suggestion() {
    let w = World::new();
    let deputy = actor("d", Role::Deputy, None);
    let staff = actor("s", Role::Staff, None);
    let dept = actor("x", Role::Department, Some("jyj"));
    // Staff register the deputy's paper suggestion in the deputy's name.
    let c = w
        .file(
            "suggestion",
            &staff,
            json!({"title": "t", "body": "b", "deputy": "d"}),
            "2024-03-01T09:00:00",
        )
        .case;
    assert_eq!(c.parties["filer"], ["d"]);
    let c = w
        .act(&c, "register", json!({}), &staff, "2024-03-02T09:00:00")
        .case;
    let c = w
        .act(
            &c,
            "assign",
            json!({"lead_department": "jyj"}),
            &staff,
            "2024-03-05T09:00:00",
        )
        .case;
    assert!(
        c.duties.is_empty(),
        "no co-handlers, but the duty is scheduled only for them: {:?}",
        c.duties
    );
    let c = w
        .act(
            &c,
            "reply",
            json!({"classification": "A", "answer": "a"}),
            &dept,
            "2024-04-01T09:00:00",
        )
        .case;
    let c = w
        .act(
            &c,
            "evaluate",
            json!({"rating": "basically_satisfied"}),
            &deputy,
            "2024-04-10T09:00:00",
        )
        .case;
    assert_eq!(c.state, "evaluated");
}

#[test]
fn only_the_parties_named_by_an_action_may_take_it() {
    let w = World::new();
    let deputy = actor("liu", Role::Deputy, None);
    let other_deputy = actor("wang", Role::Deputy, None);
    let staff = actor("s", Role::Staff, None);
    let lead = actor("x", Role::Department, Some("jtj"));
    let co = actor("y", Role::Department, Some("czj"));
    let c = w
        .file(
            "suggestion",
            &deputy,
            json!({"title": "t", "body": "b"}),
            "2024-03-01T09:00:00",
        )
        .case;
    // A deputy cannot file in another's name.
    let wf = w.wfs.get("suggestion").expect("wf");
    let e = file(
        wf,
        &w.cal,
        &deputy,
        &json!({"title": "t", "body": "b", "deputy": "wang"}),
        ts("2024-03-01T09:00:00"),
    )
    .expect_err("not in another's name");
    assert_eq!(e.field(), Some("deputy"));
    let c = w
        .act(&c, "register", json!({}), &staff, "2024-03-02T09:00:00")
        .case;
    let c = w
        .act(
            &c,
            "assign",
            json!({"lead_department": "jtj", "co_departments": ["czj"]}),
            &staff,
            "2024-03-05T09:00:00",
        )
        .case;
    let e = w
        .try_act(
            &c,
            "reply",
            json!({"classification": "A", "answer": "a"}),
            &co,
            "2024-03-06T09:00:00",
        )
        .expect_err("co-handler");
    assert!(matches!(e.reason, Refusal::NotAParty { .. }), "{e}");
    assert_eq!(e.allowed, ["send_co_opinion"]);
    let e = w
        .try_act(
            &c,
            "send_co_opinion",
            json!({"opinion": "o"}),
            &lead,
            "2024-03-06T09:00:00",
        )
        .expect_err("lead");
    assert!(matches!(e.reason, Refusal::NotAParty { .. }), "{e}");
    let c = w
        .act(
            &c,
            "reply",
            json!({"classification": "A", "answer": "a"}),
            &lead,
            "2024-03-06T09:00:00",
        )
        .case;
    let e = w
        .try_act(
            &c,
            "evaluate",
            json!({"rating": "satisfied"}),
            &other_deputy,
            "2024-03-07T09:00:00",
        )
        .expect_err("not the filer");
    assert!(matches!(e.reason, Refusal::NotAParty { .. }), "{e}");
    let c = w
        .act(
            &c,
            "evaluate",
            json!({"rating": "satisfied"}),
            &deputy,
            "2024-03-07T09:00:00",
        )
        .case;
    assert_eq!(c.state, "evaluated");
}

#[test]
fn refusals_say_why_and_what_is_open_instead() {
    let w = World::new();
    let staff = actor("s", Role::Staff, None);
    let deputy = actor("d", Role::Deputy, None);
    let auditor = actor("a", Role::Auditor, None);
    let c = w
        .file(
            "suggestion",
            &deputy,
            json!({"title": "t", "body": "b"}),
            "2024-03-01T09:00:00",
        )
        .case;

    let e = w
        .try_act(&c, "register", json!({}), &deputy, "2024-03-01T10:00:00")
        .expect_err("deputies do not register");
    assert!(matches!(e.reason, Refusal::Forbidden { .. }));
    assert!(
        e.allowed.is_empty(),
        "a deputy can do nothing on a received suggestion: {:?}",
        e.allowed
    );

    let e = w
        .try_act(&c, "reply", json!({}), &staff, "2024-03-01T10:00:00")
        .expect_err("not assigned yet");
    assert!(matches!(e.reason, Refusal::WrongState { .. }));
    assert_eq!(e.allowed, ["register", "reject"]);
    assert!(
        e.to_string()
            .ends_with("actions open to you now: register, reject"),
        "{e}"
    );

    let e = w
        .try_act(&c, "fly", json!({}), &staff, "2024-03-01T10:00:00")
        .expect_err("no such action");
    assert!(matches!(e.reason, Refusal::UnknownAction { .. }));

    let e = w
        .try_act(
            &c,
            "reject",
            json!({"reason": "   "}),
            &staff,
            "2024-03-01T10:00:00",
        )
        .expect_err("empty reason");
    assert_eq!(e.field(), Some("reason"));
    let e = w
        .try_act(
            &c,
            "reject",
            json!({"reason": "x", "colour": "red"}),
            &staff,
            "2024-03-01T10:00:00",
        )
        .expect_err("unknown field");
    assert_eq!(e.field(), Some("colour"));
    let e = w
        .try_act(&c, "reject", json!(["x"]), &staff, "2024-03-01T10:00:00")
        .expect_err("not an object");
    assert_eq!(e.field(), Some("payload"));

    let e = w
        .try_act(&c, "register", json!({}), &auditor, "2024-03-01T10:00:00")
        .expect_err("auditors change nothing");
    assert!(matches!(e.reason, Refusal::Forbidden { .. }));

    let rejected = w
        .act(
            &c,
            "reject",
            json!({"reason": "属于个人诉求，转为来信处理"}),
            &staff,
            "2024-03-01T10:00:00",
        )
        .case;
    let e = w
        .try_act(
            &rejected,
            "register",
            json!({}),
            &staff,
            "2024-03-02T10:00:00",
        )
        .expect_err("closed");
    assert!(matches!(e.reason, Refusal::Terminal { .. }));
    assert!(e.allowed.is_empty());

    let wf = w.wfs.get("suggestion").expect("suggestion");
    let e = file(
        wf,
        &w.cal,
        &actor("m", Role::Mediator, None),
        &json!({"title": "t", "body": "b"}),
        ts("2024-03-01T09:00:00"),
    )
    .expect_err("mediators do not file suggestions");
    assert!(matches!(e.reason, Refusal::Forbidden { .. }));
    let e = file(
        wf,
        &w.cal,
        &deputy,
        &json!({"title": "t"}),
        ts("2024-03-01T09:00:00"),
    )
    .expect_err("body missing");
    assert_eq!(e.field(), Some("body"));
}

#[test]
fn a_petition_is_transferred_accepted_and_extended_once_by_at_most_30_days() {
    let w = World::new();
    let deputy = actor("d", Role::Deputy, Some("station-1"));
    let dept = actor("x", Role::Department, Some("rsj"));
    let staff = actor("s", Role::Staff, None);
    let c = w
        .file(
            "petition",
            &deputy,
            json!({"title": "拖欠工资", "body": "……", "station": "station-1", "constituent": {"name": "王小明", "id_number": "110101199003074477", "phone": "13812345678"}}),
            "2024-04-01T09:00:00",
        )
        .case;
    assert_eq!(c.parties["station"], ["station-1"]);
    assert_eq!(due(&c), "2024-04-16");
    let c = w
        .act(
            &c,
            "transfer",
            json!({"lead_department": "rsj"}),
            &deputy,
            "2024-04-02T09:00:00",
        )
        .case;
    // 15 days from 04-02 → 04-17.
    assert_eq!(due(&c), "2024-04-17");
    let accepted = w.act(&c, "accept", json!({}), &dept, "2024-04-10T09:00:00");
    let c = accepted.case.clone();
    // 60 days from 04-10 → 06-09 (Sun) → Mon 06-10 is 端午节 → 06-11.
    assert_eq!(due(&c), "2024-06-11");
    // Reminders: 10 days before, on the last day itself (09:00 China time), and when overdue.
    assert_eq!(
        scheduled(&accepted),
        [
            (
                "2024-06-01T01:00:00Z".to_string(),
                "lead_department".to_string()
            ),
            (
                "2024-06-11T01:00:00Z".to_string(),
                "lead_department".to_string()
            ),
            (
                "2024-06-12T01:00:00Z".to_string(),
                "lead_department+role:leader".to_string()
            ),
        ]
    );
    // At most 30 days past the original last day: 30 days from 06-11 → 07-11.
    let e = w
        .try_act(
            &c,
            "extend",
            json!({"until": "2024-07-12", "reason": "需现场核查"}),
            &dept,
            "2024-06-01T09:00:00",
        )
        .expect_err("more than 30 days");
    assert_eq!(e.field(), Some("until"));
    let c = w
        .act(
            &c,
            "extend",
            json!({"until": "2024-07-11", "reason": "需现场核查"}),
            &dept,
            "2024-06-01T09:00:00",
        )
        .case;
    assert_eq!(due(&c), "2024-07-11");
    let e = w
        .try_act(
            &c,
            "extend",
            json!({"until": "2024-07-10", "reason": "x"}),
            &staff,
            "2024-06-02T09:00:00",
        )
        .expect_err("only once");
    assert!(e.to_string().contains("at most 1 time"), "{e}");
    let c = w
        .act(
            &c,
            "reply",
            json!({"result": "已督促补发", "outcome": "supported"}),
            &dept,
            "2024-07-01T09:00:00",
        )
        .case;
    let c = w
        .act(
            &c,
            "record_satisfaction",
            json!({"rating": "dissatisfied", "comment": "没有解决"}),
            &deputy,
            "2024-07-03T09:00:00",
        )
        .case;
    assert_eq!(c.state, "dissatisfied");
    // Review must be asked for within 30 days of recording the result.
    let e = w
        .try_act(
            &c,
            "request_review",
            json!({"reason": "金额不对"}),
            &deputy,
            "2024-08-05T09:00:00",
        )
        .expect_err("window shut");
    assert!(matches!(e.reason, Refusal::WindowClosed { .. }));
    let c = w
        .act(
            &c,
            "request_review",
            json!({"reason": "金额不对"}),
            &deputy,
            "2024-07-20T09:00:00",
        )
        .case;
    assert_eq!(c.state, "review");
    assert_eq!(due(&c), "2024-08-19");
    let c = w
        .act(
            &c,
            "answer_review",
            json!({"result": "维持原处理意见"}),
            &staff,
            "2024-08-10T09:00:00",
        )
        .case;
    // Not closed yet: the petitioner may still ask for 复核 (recheck.rs walks that).
    assert_eq!(c.state, "reviewed");
}

#[test]
fn personal_data_leaves_the_event_masked_and_travels_apart() {
    let w = World::new();
    let deputy = actor("d", Role::Deputy, Some("station-1"));
    let wf = w.wfs.get("petition").expect("petition");
    let payload = json!({"title": "t", "body": "b", "station": "station-1", "constituent": {"name": "王小明", "id_number": "110101199003074477", "phone": "13812345678", "address": "浙江省杭州市西湖区文三路100号"}});
    let t = file(wf, &w.cal, &deputy, &payload, ts("2024-04-01T09:00:00")).expect("filed");
    let recorded = serde_json::to_string(&t.event).expect("json");
    for secret in ["小明", "199003074477", "12345678", "文三路"] {
        assert!(!recorded.contains(secret), "{secret} in {recorded}");
    }
    assert_eq!(
        t.event.payload["constituent"]["id_number"],
        "110***********4477"
    );
    assert_eq!(t.personal.len(), 1);
    assert_eq!(
        t.personal[0].person.id_number.as_deref(),
        Some("110101199003074477")
    );
    let bad = json!({"title": "t", "body": "b", "station": "station-1", "constituent": {"name": "王小明", "id_number": "110101199003074478"}});
    let e =
        file(wf, &w.cal, &deputy, &bad, ts("2024-04-01T09:00:00")).expect_err("bad check digit");
    assert_eq!(e.field(), Some("constituent.id_number"));
}

#[test]
fn the_history_folds_back_into_the_projection_at_every_step() {
    let w = World::new();
    let staff = actor("s", Role::Staff, None);
    let dept = actor("x", Role::Department, Some("jtj"));
    let mut events = Vec::new();
    let t = w.file(
        "suggestion",
        &staff,
        json!({"title": "t", "body": "b"}),
        "2024-03-01T09:00:00",
    );
    events.push(t.event);
    let mut c = t.case;
    for (action, payload, who, at) in [
        ("register", json!({}), &staff, "2024-03-02T09:00:00"),
        (
            "assign",
            json!({"lead_department": "jtj", "co_departments": ["a", "b"]}),
            &staff,
            "2024-03-05T09:00:00",
        ),
        (
            "mark_key",
            json!({"supervisor": "chen"}),
            &staff,
            "2024-03-06T09:00:00",
        ),
        (
            "request_reassignment",
            json!({"reason": "r"}),
            &dept,
            "2024-03-07T09:00:00",
        ),
        (
            "keep_assignment",
            json!({"reason": "r"}),
            &staff,
            "2024-03-08T09:00:00",
        ),
    ] {
        let t = w.act(&c, action, payload, who, at);
        events.push(t.event);
        c = t.case;
        let wf = w.wfs.get("suggestion").expect("wf");
        assert_eq!(
            Case::fold(&wf.kind, wf.version, &wf.digest, &events),
            Some(c.clone())
        );
    }
    // Keeping the assignment does not restart the clock: still 3 months from 03-05.
    assert_eq!(due(&c), "2024-06-05");
    assert_eq!(c.parties["supervisor"], ["chen"]);
    // As of an earlier instant: fold the events up to it.
    let wf = w.wfs.get("suggestion").expect("wf");
    let then = Case::fold(
        &wf.kind,
        wf.version,
        &wf.digest,
        events.iter().filter(|e| e.at <= ts("2024-03-05T12:00:00")),
    )
    .expect("filed by then");
    assert_eq!(then.state, "assigned");
    assert!(!then.parties.contains_key("supervisor"));
    assert_eq!(
        allowed_actions(wf, &c, &dept, ts("2024-03-09T09:00:00"), &w.cal),
        ["request_reassignment", "request_extension", "reply"]
    );
    // Asking for an extension is recorded; the deadline stands until staff decide.
    let asked = w.act(
        &c,
        "request_extension",
        json!({"until": "2024-08-05", "reason": "需跨部门协调资金"}),
        &dept,
        "2024-03-10T09:00:00",
    );
    assert_eq!(asked.case.state, "assigned");
    assert_eq!(due(&asked.case), "2024-06-05");
}
