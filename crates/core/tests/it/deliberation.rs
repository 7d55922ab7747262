//! 审议意见 on real dates: assigned, its handling reported within the local-rule two months,
//! put on the agenda of the meeting (the Art. 15 reminders 20 and 7 days before it), voted
//! unsatisfactory by the counts, followed (跟踪督办) to the date the committee set, and closed.

use duban_core::Refusal;
use duban_core::machine::{MISMATCH, TOO_MANY, Transition};
use duban_core::{Role, Workflows};
use serde_json::{Value, json};

use crate::world::{World, actor, due, notices, scheduled};

fn refused_on(w: &World, t: &Transition, action: &str, payload: Value, field: &str) -> String {
    let staff = actor("xu", Role::Staff, None);
    let e = w
        .try_act(&t.case, action, payload, &staff, "2024-10-25T15:00:00")
        .expect_err("refused");
    match e.reason {
        Refusal::InvalidPayload {
            field: f, problem, ..
        } if f == field => problem,
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_opinion_voted_unsatisfactory_is_followed_then_closed() {
    let w = World::new();
    let staff = actor("xu", Role::Staff, None);
    let dept = actor("li", Role::Department, Some("scjgj"));
    let t = w.file(
        "deliberation",
        &staff,
        json!({"title": "关于进一步加强校园食品安全监管的审议意见", "body": "……",
               "report": "县人民政府关于食品安全工作情况的报告", "deliberated_on": "2024-06-26",
               "supervisor": "gao"}),
        "2024-06-27T10:00:00",
    );
    assert_eq!(t.case.state, "received");
    let t = w.act(
        &t.case,
        "assign",
        json!({"lead_department": "scjgj"}),
        &staff,
        "2024-07-01T09:00:00",
    );
    // Two months from 07-01 end on Sunday 09-01: the last day rolls to Monday.
    assert_eq!(due(&t.case), "2024-09-02");
    let t = w.act(
        &t.case,
        "report_handling",
        json!({"result": "已开展专项整治"}),
        &dept,
        "2024-08-20T10:00:00",
    );
    assert_eq!(t.case.state, "handled");
    assert!(t.case.deadline.is_none(), "no meeting set yet");
    // Put on the agenda of the meeting of 10-25: the report is due to the committee 20 days
    // before (10-05, inside the National Day holiday, as the law counts it) and to its members
    // 7 days before.
    let t = w.act(
        &t.case,
        "schedule",
        json!({"meeting_on": "2024-10-25"}),
        &staff,
        "2024-09-10T10:00:00",
    );
    assert_eq!(t.case.state, "handled");
    assert_eq!(due(&t.case), "2024-10-25");
    let at: Vec<String> = scheduled(&t).into_iter().map(|(at, _)| at).collect();
    assert!(at.contains(&"2024-10-05T01:00:00Z".to_string()), "{at:?}");
    assert!(at.contains(&"2024-10-18T01:00:00Z".to_string()), "{at:?}");

    // 14 of 30 satisfied or basically satisfied is not more than half: not satisfactory.
    let counts = |verdict: &str| {
        json!({"members": 30, "satisfied": 8, "basically_satisfied": 6, "dissatisfied": 14,
               "verdict": verdict, "follow_up_by": "2024-12-31"})
    };
    assert_eq!(
        refused_on(&w, &t, "satisfaction_vote", counts("satisfied"), "verdict"),
        MISMATCH
    );
    let mut too_many = counts("dissatisfied");
    too_many["members"] = json!(20);
    assert_eq!(
        refused_on(&w, &t, "satisfaction_vote", too_many, "members"),
        TOO_MANY
    );
    let mut no_date = counts("dissatisfied");
    no_date
        .as_object_mut()
        .expect("object")
        .remove("follow_up_by");
    refused_on(&w, &t, "satisfaction_vote", no_date, "follow_up_by");

    let t = w.act(
        &t.case,
        "satisfaction_vote",
        counts("dissatisfied"),
        &staff,
        "2024-10-25T15:00:00",
    );
    assert_eq!(t.case.state, "tracking");
    assert_eq!(due(&t.case), "2024-12-31");
    let told = notices(&t);
    assert!(
        told.iter()
            .any(|(_, h, to)| h == "跟踪督办" && to.contains("role:leader")),
        "{told:?}"
    );
    let t = w.act(
        &t.case,
        "report_follow_up",
        json!({"result": "已建立校园食堂每日巡查制度"}),
        &dept,
        "2024-12-20T10:00:00",
    );
    let t = w.act(
        &t.case,
        "conclude",
        json!({}),
        &staff,
        "2024-12-24T10:00:00",
    );
    assert!(t.case.closed);
    let m = &t.case.milestones;
    for s in ["assigned", "handled", "tracking", "evaluated"] {
        assert!(m.reached.contains(s), "{s}: {:?}", m.reached);
    }
    assert!(
        m.steps.contains("satisfaction_vote:verdict=dissatisfied"),
        "{:?}",
        m.steps
    );
    assert_eq!(m.sums.get("satisfaction_vote.members"), Some(&30));
    // The answer (the handling report) came before its last day.
    assert_eq!(m.answered_on_time, Some(true));
}

#[test]
fn the_sentence_states_the_counts_the_file_declares() {
    let wfs = Workflows::builtin();
    let section = wfs
        .get("deliberation")
        .and_then(|wf| wf.report.clone())
        .expect("a report section");
    let names: Vec<&str> = section.counts.iter().map(|c| c.name.as_str()).collect();
    // In the order the file gives them.
    assert_eq!(
        names,
        [
            "opinions",
            "assigned",
            "handled",
            "voted",
            "tracked",
            "evaluated"
        ]
    );
    let figures = [6, 5, 4, 3, 2, 1];
    let said = section.state(&figures, &[]);
    assert!(said.contains("形成审议意见6条"), "{said}");
    assert!(said.contains("转入跟踪督办2条"), "{said}");
    assert!(!said.contains('{'), "{said}");
}
