//! Extensions decided: a department asks before the last day, for a date the rule could grant,
//! and staff approve (the date filled in) or refuse with a reason, each told to the department
//! and an approval to the deputy too. An approval staff record after the last day has passed
//! moves the date, but the answer that follows still counts as late.
//!
//! Real dates: a suggestion assigned on 2024-07-01 is due on 2024-10-08 (three months, rolled
//! past National Day); it may be extended to at most six months from assignment, 2025-01-01
//! being New Year's Day: 2025-01-02.

use duban_core::Role;
use duban_core::machine::{Actor, Case};
use serde_json::json;

use crate::world::*;

struct Office {
    w: World,
    deputy: Actor,
    staff: Actor,
    dept: Actor,
}

impl Office {
    fn new() -> Self {
        Self {
            w: World::new(),
            deputy: actor("liu_deputy", Role::Deputy, None),
            staff: actor("xu_staff", Role::Staff, None),
            dept: actor("zhang_jtj", Role::Department, Some("jtj")),
        }
    }

    /// Filed 06-20, registered 06-25, assigned to `jtj` on 07-01: due 2024-10-08.
    fn assigned(&self) -> Case {
        let w = &self.w;
        let filed = w.file(
            "suggestion",
            &self.deputy,
            json!({"title": "关于加快农村公路提档升级的建议", "body": "……"}),
            "2024-06-20T10:00:00",
        );
        let registered = w.act(
            &filed.case,
            "register",
            json!({}),
            &self.staff,
            "2024-06-25T09:00:00",
        );
        let assigned = w.act(
            &registered.case,
            "assign",
            json!({"lead_department": "jtj"}),
            &self.staff,
            "2024-07-01T09:00:00",
        );
        assert_eq!(due(&assigned.case), "2024-10-08");
        assigned.case
    }

    fn ask(&self, case: &Case, until: &str, at: &str) -> Result<Case, String> {
        self.w
            .try_act(
                case,
                "request_extension",
                json!({"until": until, "reason": "涉及跨部门资金协调"}),
                &self.dept,
                at,
            )
            .map(|t| t.case)
            .map_err(|e| e.to_string())
    }

    /// Staff approve an extension to `until`, at `at`; the department replies at `reply_at`.
    /// Whether the answer counted as on time.
    fn approve_then_reply(&self, until: &str, at: &str, reply_at: &str) -> Option<bool> {
        let extended = self.w.act(
            &self.assigned(),
            "extend",
            json!({"until": until, "reason": "同意"}),
            &self.staff,
            at,
        );
        assert_eq!(due(&extended.case), until);
        let replied = self.w.act(
            &extended.case,
            "reply",
            json!({"classification": "B", "answer": "已列入2025年计划", "promised_by": "2025-06-30"}),
            &self.dept,
            reply_at,
        );
        replied.case.figures().milestones.answered_on_time
    }
}

#[test]
fn a_request_is_checked_against_the_cap_when_it_is_made() {
    let o = Office::new();
    let case = o.assigned();
    let beyond = o
        .ask(&case, "2025-01-03", "2024-09-20T09:00:00")
        .expect_err("beyond six months");
    assert!(beyond.contains("2025-01-02"), "{beyond}");
    let earlier = o
        .ask(&case, "2024-10-01", "2024-09-20T09:00:00")
        .expect_err("not later");
    assert!(earlier.contains("2024-10-08"), "{earlier}");
    let asked = o
        .ask(&case, "2024-12-31", "2024-09-20T09:00:00")
        .expect("within the cap");
    // Asked, not granted: the date stands until staff decide.
    assert_eq!(asked.state, "assigned");
    assert_eq!(due(&asked), "2024-10-08");
    assert_eq!(asked.deadline.as_ref().map(|d| d.extensions), Some(0));
}

#[test]
fn a_refusal_answers_a_request_and_is_offered_only_while_one_is_pending() {
    let o = Office::new();
    let wf = o.w.wfs.get("suggestion").expect("wf");
    let at = "2024-09-20T09:00:00";
    let offered = |case: &Case| {
        duban_core::machine::allowed_actions(wf, case, &o.staff, ts(at), &o.w.cal)
            .contains(&"refuse_extension".to_string())
    };
    let case = o.assigned();
    assert!(!offered(&case), "nothing asked, nothing to refuse");
    let nothing =
        o.w.try_act(
            &case,
            "refuse_extension",
            json!({"reason": "无"}),
            &o.staff,
            at,
        )
        .expect_err("no request");
    assert!(
        matches!(
            nothing.reason,
            duban_core::machine::Refusal::NothingToAnswer { .. }
        ),
        "{nothing}"
    );
    let asked = o.ask(&case, "2024-12-31", at).expect("asked");
    assert!(offered(&asked));
    let refused = o.w.act(
        &asked,
        "refuse_extension",
        json!({"reason": "应按期答复"}),
        &o.staff,
        "2024-09-21T10:00:00",
    );
    assert!(
        !offered(&refused.case),
        "answered: nothing pending any more"
    );
}

#[test]
fn no_extension_is_asked_for_once_the_last_day_has_passed() {
    let o = Office::new();
    let case = o.assigned();
    // The last day, 10-08, is still in time; the 9th is not.
    o.ask(&case, "2024-12-31", "2024-10-08T17:00:00")
        .expect("on the last day");
    let late = o
        .ask(&case, "2024-12-31", "2024-10-09T09:00:00")
        .expect_err("after the last day");
    assert!(late.contains("2024-10-08 has passed"), "{late}");
}

#[test]
fn staff_approve_or_refuse_and_the_department_and_deputy_are_told() {
    let o = Office::new();
    let asked = o
        .ask(&o.assigned(), "2024-12-31", "2024-09-20T09:00:00")
        .expect("asked");
    let refused = o.w.act(
        &asked,
        "refuse_extension",
        json!({"reason": "事项简单，应按期答复"}),
        &o.staff,
        "2024-09-21T10:00:00",
    );
    assert_eq!(due(&refused.case), "2024-10-08", "a refusal moves nothing");
    assert_eq!(
        notices(&refused),
        [(
            "2024-09-21T02:00:00Z".to_string(),
            "延期未获批准".to_string(),
            "lead_department".to_string()
        )]
    );
    assert_eq!(refused.event.payload["reason"], "事项简单，应按期答复");
    let approved = o.w.act(
        &asked,
        "extend",
        json!({"until": "2024-12-31", "reason": "同意"}),
        &o.staff,
        "2024-09-21T10:00:00",
    );
    assert_eq!(due(&approved.case), "2024-12-31");
    assert_eq!(
        notices(&approved),
        [(
            "2024-09-21T02:00:00Z".to_string(),
            "延期已批准".to_string(),
            "lead_department+filer".to_string()
        )]
    );
}

#[test]
fn an_approval_recorded_after_the_last_day_leaves_the_answer_late() {
    let o = Office::new();
    // Approved in time: an answer before the new date is on time.
    assert_eq!(
        o.approve_then_reply("2024-12-31", "2024-09-20T09:00:00", "2024-10-20T10:00:00"),
        Some(true)
    );
    // Approved on the 10th, after the last day (10-08): the date moves, the answer is late.
    assert_eq!(
        o.approve_then_reply("2024-12-31", "2024-10-10T09:00:00", "2024-10-20T10:00:00"),
        Some(false)
    );
    // Without any extension, an answer on the 20th is late too.
    let replied = o.w.act(
        &o.assigned(),
        "reply",
        json!({"classification": "A", "answer": "已完成"}),
        &o.dept,
        "2024-10-20T10:00:00",
    );
    assert_eq!(
        replied.case.figures().milestones.answered_on_time,
        Some(false)
    );
}
