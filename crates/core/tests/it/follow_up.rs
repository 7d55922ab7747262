//! 回头看 on real dates: a B answer names the date it promises and a C answer its condition;
//! once the deputy has rated it, the case is followed until the department reports delivery,
//! with reminders before, on and after the promised date. Routes read the class an earlier
//! reply chose; the deadline is the date that reply gave.

use duban_core::machine::{Case, Refusal};
use duban_core::{Role, TransitionError};
use serde_json::{Value, json};

use crate::world::{World, actor, due, scheduled};

fn replied(w: &World, reply: Value) -> Result<Case, TransitionError> {
    let dept = actor("zhang", Role::Department, Some("jtj"));
    let c = w
        .assigned_suggestion(json!({"lead_department": "jtj"}))
        .case;
    w.try_act(&c, "reply", reply, &dept, "2024-08-15T10:00:00")
        .map(|t| t.case)
}

fn rate(w: &World, c: &Case, rating: &str) -> duban_core::machine::Transition {
    let deputy = actor("liu", Role::Deputy, None);
    w.act(
        c,
        "evaluate",
        json!({"rating": rating, "comment": "仍未落实"}),
        &deputy,
        "2024-08-20T10:00:00",
    )
}

#[test]
fn a_b_answer_is_followed_to_its_promised_date_once_rated() {
    let w = World::new();
    let dept = actor("zhang", Role::Department, Some("jtj"));
    // A B answer must name the date it promises.
    let e =
        replied(&w, json!({"classification": "B", "answer": "已列入计划"})).expect_err("no date");
    assert!(
        matches!(&e.reason, Refusal::InvalidPayload { field, .. } if field == "promised_by"),
        "{e}"
    );
    let c = replied(
        &w,
        json!({"classification": "B", "answer": "已列入计划", "promised_by": "2024-12-20"}),
    )
    .expect("reply");
    assert_eq!(c.state, "handled");
    // Rated: followed, due on the promised day (a Friday), not closed.
    let t = rate(&w, &c, "satisfied");
    assert_eq!(t.case.state, "following");
    assert!(!t.case.closed);
    assert_eq!(due(&t.case), "2024-12-20");
    let explained = &t
        .case
        .deadline
        .as_ref()
        .expect("deadline")
        .deadline
        .explanation;
    assert!(
        explained.contains("承诺落实日期2024-12-20（周五）"),
        "{explained}"
    );
    assert_eq!(
        scheduled(&t),
        [
            ("2024-12-13T01:00:00Z".into(), "lead_department".into()),
            ("2024-12-20T01:00:00Z".into(), "lead_department".into()),
            (
                "2024-12-21T01:00:00Z".into(),
                "lead_department+role:staff".into()
            ),
        ]
    );
    assert!(t.case.milestones.followed && !t.case.milestones.delivered);
    assert_eq!(t.case.milestones.answer_class.as_deref(), Some("B"));
    // The department reports it delivered: closed, counted as delivered.
    let done = w.act(
        &t.case,
        "report_delivery",
        json!({"delivered_on": "2024-12-18", "report": "已完工并通车"}),
        &dept,
        "2024-12-18T16:00:00",
    );
    assert_eq!(done.case.state, "implemented");
    assert!(done.case.closed && done.case.milestones.delivered);
    assert!(done.case.figures().implemented());
}

#[test]
fn not_satisfied_sends_it_back_before_any_follow_up() {
    let w = World::new();
    let c = replied(
        &w,
        json!({"classification": "B", "answer": "已列入计划", "promised_by": "2024-12-20"}),
    )
    .expect("reply");
    assert_eq!(rate(&w, &c, "dissatisfied").case.state, "rehandling");
}

#[test]
fn an_a_answer_closes_and_a_c_answer_without_a_date_is_followed_without_one() {
    let w = World::new();
    let staff = actor("xu", Role::Staff, None);
    let dept = actor("zhang", Role::Department, Some("jtj"));
    let a = replied(&w, json!({"classification": "A", "answer": "已办结"})).expect("reply");
    let t = rate(&w, &a, "satisfied");
    assert_eq!(t.case.state, "evaluated");
    assert!(t.case.closed && !t.case.milestones.followed);

    // C names its condition; without a date there is no deadline to remind of.
    let e = replied(&w, json!({"classification": "C", "answer": "暂难解决"})).expect_err("C");
    assert!(
        matches!(&e.reason, Refusal::InvalidPayload { field, .. } if field == "condition"),
        "{e}"
    );
    // A promise made in a first reply does not outlive a second reply that made none.
    let c = w
        .assigned_suggestion(json!({"lead_department": "jtj"}))
        .case;
    let c = w
        .act(
            &c,
            "reply",
            json!({"classification": "B", "answer": "计划中", "promised_by": "2024-10-31"}),
            &dept,
            "2024-08-15T10:00:00",
        )
        .case;
    let c = rate(&w, &c, "dissatisfied").case;
    let c = w
        .act(
            &c,
            "reply",
            json!({"classification": "C", "answer": "暂难解决", "condition": "待省级资金下达"}),
            &dept,
            "2024-09-10T10:00:00",
        )
        .case;
    let deputy = actor("liu", Role::Deputy, None);
    let t = w.act(
        &c,
        "evaluate",
        json!({"rating": "basically_satisfied"}),
        &deputy,
        "2024-09-15T10:00:00",
    );
    assert_eq!(t.case.state, "following");
    assert!(t.case.deadline.is_none(), "{:?}", t.case.deadline);
    assert!(scheduled(&t).is_empty());
    // Staff end a follow-up that cannot deliver: closed, but not 落实.
    let closed = w.act(
        &t.case,
        "close_follow_up",
        json!({"reason": "资金未能落实，转下届跟踪"}),
        &staff,
        "2024-12-30T10:00:00",
    );
    assert_eq!(closed.case.state, "evaluated");
    assert!(closed.case.closed && !closed.case.milestones.delivered);
    assert!(!closed.case.figures().implemented());
}
