//! 民生实事项目 on real dates: proposed, shortlisted, voted at the congress session (more than half
//! of ALL deputies passes: exactly half fails), carried out with quarterly progress reports (the
//! first due over the May Day holiday), evaluated at mid-year and year's end, and carried into
//! the next year with its reason.

use duban_core::Refusal;
use duban_core::machine::{Case, MISMATCH, TOO_MANY};
use duban_core::{Role, Workflows};
use serde_json::{Value, json};

use crate::world::{World, actor, due};

/// A project proposed by a deputy on 2024-01-05 and shortlisted on 01-15.
fn shortlisted(w: &World, title: &str) -> Case {
    let deputy = actor("liu", Role::Deputy, None);
    let staff = actor("xu", Role::Staff, None);
    let c = w
        .file(
            "livelihood",
            &deputy,
            json!({"title": title, "body": "……", "source": "deputy", "budget_yuan": 38_000_000}),
            "2024-01-05T10:00:00",
        )
        .case;
    assert_eq!(due(&c), "2024-03-05");
    w.act(&c, "shortlist", json!({}), &staff, "2024-01-15T10:00:00")
        .case
}

fn votes(votes_for: i64, against: i64, abstain: i64, result: &str) -> Value {
    json!({"session": "第十八届人民代表大会第三次会议", "members": 200, "votes_for": votes_for,
           "votes_against": against, "abstentions": abstain, "result": result})
}

fn refusal(w: &World, c: &Case, action: &str, payload: Value) -> (String, String) {
    let staff = actor("xu", Role::Staff, None);
    match w
        .try_act(c, action, payload, &staff, "2024-01-20T15:00:00")
        .expect_err("refused")
        .reason
    {
        Refusal::InvalidPayload { field, problem, .. } => (field, problem),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_vote_passes_with_more_than_half_of_all_deputies() {
    let w = World::new();
    let staff = actor("xu", Role::Staff, None);
    let c = shortlisted(&w, "消防站建设");
    // 100 of 200 is half, not more than half: the project fails, whatever is announced.
    assert_eq!(
        refusal(&w, &c, "congress_vote", votes(100, 60, 40, "adopted")),
        ("result".into(), MISMATCH.into())
    );
    assert_eq!(
        refusal(&w, &c, "congress_vote", votes(-1, 60, 40, "rejected")),
        ("votes_for".into(), "must be at least 0".into())
    );

    // Counts near the type's limit do not wrap round into a pass: refused, with the result
    // given or left out.
    let mut huge = votes(i64::MAX, i64::MAX, i64::MAX, "adopted");
    assert_eq!(
        refusal(&w, &c, "congress_vote", huge.clone()),
        ("members".into(), TOO_MANY.into())
    );
    huge.as_object_mut().expect("object").remove("result");
    assert_eq!(
        refusal(&w, &c, "congress_vote", huge),
        ("members".into(), TOO_MANY.into())
    );
    let t = w.act(
        &c,
        "congress_vote",
        votes(100, 60, 40, "rejected"),
        &staff,
        "2024-01-20T15:00:00",
    );
    assert_eq!(t.case.state, "rejected");
    assert!(t.case.closed);
    assert!(
        t.case
            .milestones
            .steps
            .contains("congress_vote:result=rejected")
    );

    let c = shortlisted(&w, "主城区供热管网改造");
    let t = w.act(
        &c,
        "congress_vote",
        votes(101, 60, 39, "adopted"),
        &staff,
        "2024-01-20T15:00:00",
    );
    assert_eq!(t.case.state, "adopted");
}

/// A result left out is written from the counts: 101 of 200 passes, 100 does not.
#[test]
fn a_vote_without_its_result_is_decided_by_the_counts() {
    let w = World::new();
    let staff = actor("xu", Role::Staff, None);
    for (votes_for, state) in [(101, "adopted"), (100, "rejected")] {
        let c = shortlisted(&w, "体育公园建设");
        let mut payload = votes(votes_for, 60, 30, "");
        payload.as_object_mut().expect("object").remove("result");
        let t = w.act(&c, "congress_vote", payload, &staff, "2024-01-20T15:00:00");
        assert_eq!(t.case.state, state, "{votes_for} for");
        assert_eq!(t.event.payload["result"], state);
    }
}

#[test]
fn a_project_carried_out_reported_quarterly_and_carried_into_next_year() {
    let w = World::new();
    let staff = actor("xu", Role::Staff, None);
    let dept = actor("zhang", Role::Department, Some("zjj"));
    let c = shortlisted(&w, "主城区供热管网改造");
    let c = w
        .act(
            &c,
            "congress_vote",
            votes(178, 12, 10, "adopted"),
            &staff,
            "2024-01-20T15:00:00",
        )
        .case;
    // Twenty working days from Saturday 01-20 skip the Spring Festival holiday (02-10 to
    // 02-17) and count its two make-up Sundays (02-04, 02-18).
    assert_eq!(due(&c), "2024-02-21");
    let t = w.act(
        &c,
        "start",
        json!({"lead_department": "zjj", "milestones": "5月开工，10月底前完成主管网改造",
               "complete_by": "2024-10-31", "supervisor": "gao"}),
        &staff,
        "2024-02-01T10:00:00",
    );
    assert_eq!(t.case.state, "assigned");
    // The first quarter's report: three months from 02-01 end on 05-01, inside the May Day
    // holiday (05-01 to 05-05), so it is due on Monday 05-06.
    let first = &t.case.duties[0];
    assert_eq!(first.deadline.due_date.to_string(), "2024-05-06");
    let t = w.act(
        &t.case,
        "report_progress",
        json!({"progress": "已完成招标", "percent": 15}),
        &dept,
        "2024-04-25T10:00:00",
    );
    assert!(t.case.duties.is_empty(), "the first report is done");
    // The next report is due three months after this one.
    assert_eq!(due(&t.case), "2024-07-25");
    // And after the next: three months from 07-20 end on Sunday 10-20, so Monday 10-21.
    let t = w.act(
        &t.case,
        "report_progress",
        json!({"progress": "主管网完成一半", "percent": 55}),
        &dept,
        "2024-07-20T10:00:00",
    );
    assert_eq!(due(&t.case), "2024-10-21");
    let review =
        json!({"members": 45, "satisfied": 30, "basically_satisfied": 10, "dissatisfied": 5});
    let t = w.act(
        &t.case,
        "midyear_review",
        review.clone(),
        &staff,
        "2024-07-10T10:00:00",
    );
    let again = w
        .try_act(
            &t.case,
            "midyear_review",
            review.clone(),
            &staff,
            "2024-07-11T10:00:00",
        )
        .expect_err("once");
    assert!(
        matches!(again.reason, Refusal::AlreadyTaken { .. }),
        "{again}"
    );
    let t = w.act(
        &t.case,
        "year_end_review",
        review,
        &staff,
        "2024-12-20T10:00:00",
    );
    assert_eq!(t.case.state, "handled");
    let no_reason = w
        .try_act(
            &t.case,
            "carry_over",
            json!({}),
            &staff,
            "2024-12-28T10:00:00",
        )
        .expect_err("a reason");
    assert!(
        matches!(&no_reason.reason, Refusal::InvalidPayload { field, .. } if field == "reason")
    );
    let t = w.act(
        &t.case,
        "carry_over",
        json!({"reason": "冬季停工，剩余3公里管网转入2025年实施"}),
        &staff,
        "2024-12-28T10:00:00",
    );
    assert_eq!(t.case.state, "carried_over");
    assert!(t.case.closed);

    // The report section counts it as the file declares.
    let wfs = Workflows::builtin();
    let section = wfs
        .get("livelihood")
        .and_then(|wf| wf.report.clone())
        .expect("section");
    let figure = |name: &str| {
        let c = section.counts.iter().find(|c| c.name == name).expect(name);
        c.counted.of(&t.case.figures(), &t.case.state)
    };
    assert_eq!(
        [
            "received",
            "shortlisted",
            "adopted",
            "rejected",
            "midyear",
            "year_end",
            "evaluated",
            "carried"
        ]
        .map(figure),
        [1, 1, 1, 0, 1, 1, 0, 1]
    );
}
