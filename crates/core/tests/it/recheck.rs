//! 复核 after 复查, on real dates: asked for within 30 days of the review's answer, answered by
//! the review body's superior within 30 days, and then the petition is final.

use duban_core::Refusal;
use duban_core::machine::Case;
use duban_core::{Role, machine::Actor};
use serde_json::json;

use crate::world::{World, actor, due, notices};

/// A petition whose review was answered on 2024-08-10.
fn reviewed(w: &World, deputy: &Actor, dept: &Actor) -> Case {
    let mut c = w
        .file(
            "petition",
            deputy,
            json!({"title": "征地补偿", "body": "……", "station": "station-1", "constituent": {"name": "李四"}}),
            "2024-05-06T09:00:00",
        )
        .case;
    let steps = [
        (
            "transfer",
            json!({"lead_department": "zrzyj"}),
            deputy,
            "2024-05-07T09:00:00",
        ),
        ("accept", json!({}), dept, "2024-05-10T09:00:00"),
        (
            "reply",
            json!({"result": "按标准补偿", "outcome": "not_supported"}),
            dept,
            "2024-07-01T09:00:00",
        ),
        (
            "record_satisfaction",
            json!({"rating": "dissatisfied", "comment": "补偿过低"}),
            deputy,
            "2024-07-03T09:00:00",
        ),
        (
            "request_review",
            json!({"reason": "补偿标准有误"}),
            deputy,
            "2024-07-20T09:00:00",
        ),
        (
            "answer_review",
            json!({"result": "维持原处理意见"}),
            dept,
            "2024-08-10T09:00:00",
        ),
    ];
    for (action, payload, who, at) in steps {
        c = w.act(&c, action, payload, who, at).case;
    }
    c
}

#[test]
fn recheck_is_asked_for_within_30_days_and_its_answer_is_final() {
    let w = World::new();
    let deputy = actor("d", Role::Deputy, Some("station-1"));
    let dept = actor("x", Role::Department, Some("zrzyj"));
    let superior = actor("z", Role::Department, Some("zfb"));
    let c = reviewed(&w, &deputy, &dept);
    assert_eq!(c.state, "reviewed");
    assert!(!c.closed, "the petitioner may still ask for 复核");
    // 30 days from 08-10 → Mon 09-09: the window shuts at its end.
    let e = w
        .try_act(
            &c,
            "request_recheck",
            json!({"reason": "不服复查意见", "recheck_body": "zfb"}),
            &deputy,
            "2024-09-10T09:00:00",
        )
        .expect_err("window shut");
    assert!(matches!(e.reason, Refusal::WindowClosed { .. }), "{e}");
    let asked = w.act(
        &c,
        "request_recheck",
        json!({"reason": "不服复查意见", "recheck_body": "zfb"}),
        &deputy,
        "2024-09-01T09:00:00",
    );
    let c = asked.case.clone();
    assert_eq!(c.state, "recheck");
    assert_eq!(c.parties["recheck_body"], ["zfb"]);
    // 30 days from 09-01 → 10-01, National Day → 10-08.
    assert_eq!(due(&c), "2024-10-08");
    assert!(
        notices(&asked)
            .iter()
            .any(|(_, title, to)| title == "申请复核" && to.contains("recheck_body")),
        "{:?}",
        notices(&asked)
    );
    // Only the review body's superior (or staff) answers; the first department may not.
    let e = w
        .try_act(
            &c,
            "answer_recheck",
            json!({"result": "x"}),
            &dept,
            "2024-09-20T09:00:00",
        )
        .expect_err("not the recheck body");
    assert!(matches!(e.reason, Refusal::NotAParty { .. }), "{e}");
    let c = w
        .act(
            &c,
            "answer_recheck",
            json!({"result": "复核维持"}),
            &superior,
            "2024-09-20T09:00:00",
        )
        .case;
    assert_eq!(c.state, "final");
    assert!(c.closed);
}

#[test]
fn a_review_not_taken_further_is_closed_by_staff() {
    let w = World::new();
    let deputy = actor("d", Role::Deputy, Some("station-1"));
    let dept = actor("x", Role::Department, Some("zrzyj"));
    let staff = actor("s", Role::Staff, None);
    let c = reviewed(&w, &deputy, &dept);
    let c = w
        .act(
            &c,
            "close_after_review",
            json!({"note": "期满未申请复核"}),
            &staff,
            "2024-09-12T09:00:00",
        )
        .case;
    assert_eq!(c.state, "evaluated");
    assert!(c.closed);
}
