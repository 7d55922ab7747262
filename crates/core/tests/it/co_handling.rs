//! 协办 on real dates: each co-handling department owes its own opinion, with its own
//! reminders, and the figures credit each with its opinion and whether it came in time.

use duban_core::machine::{Case, Effect, awaiting};
use duban_core::{Role, Workflows};
use serde_json::json;

use crate::world::{World, actor, scheduled};

/// A suggestion assigned on 2024-07-01 to `jtj`, with `zrzyj` and `sthjj` co-handling: their
/// opinions are due 2024-08-01.
fn assigned(w: &World) -> duban_core::machine::Transition {
    w.assigned_suggestion(json!({"lead_department": "jtj", "co_departments": ["zrzyj", "sthjj"]}))
}

fn owing(case: &Case) -> Vec<String> {
    case.duties
        .iter()
        .filter_map(|d| d.member.clone())
        .collect()
}

#[test]
fn each_co_handler_owes_its_own_opinion_with_its_own_reminders() {
    let w = World::new();
    let wf = Workflows::builtin();
    let wf = wf.get("suggestion").expect("kind");
    let zrzyj = actor("li", Role::Department, Some("zrzyj"));
    let sthjj = actor("wang", Role::Department, Some("sthjj"));
    let t = assigned(&w);
    assert_eq!(owing(&t.case), ["zrzyj", "sthjj"]);
    assert!(
        t.case
            .duties
            .iter()
            .all(|d| d.deadline.due_date.to_string() == "2024-08-01")
    );
    // Each co-handler is reminded of its own opinion, 5 days before and once late.
    let co: Vec<(String, String)> = scheduled(&t)
        .into_iter()
        .filter(|(_, to)| to.starts_with("member:"))
        .collect();
    assert_eq!(
        co,
        [
            ("2024-07-27T01:00:00Z".into(), "member:zrzyj".into()),
            (
                "2024-08-02T01:00:00Z".into(),
                "member:zrzyj+lead_department".into()
            ),
            ("2024-07-27T01:00:00Z".into(), "member:sthjj".into()),
            (
                "2024-08-02T01:00:00Z".into(),
                "member:sthjj+lead_department".into()
            ),
        ]
    );
    // Both are waited on besides the lead department.
    assert_eq!(awaiting(wf, &t.case), ["jtj", "sthjj", "zrzyj"]);

    // One opinion discharges that department's duty only, and cancels only its reminders.
    let one = w.act(
        &t.case,
        "send_co_opinion",
        json!({"opinion": "同意"}),
        &zrzyj,
        "2024-07-20T10:00:00",
    );
    assert_eq!(owing(&one.case), ["sthjj"]);
    let cancelled: Vec<&Effect> = one
        .effects
        .iter()
        .filter(|e| matches!(e, Effect::CancelReminders { .. }))
        .collect();
    assert_eq!(
        cancelled,
        [&Effect::CancelReminders {
            state: "assigned".into(),
            duty: Some("co_opinion@zrzyj".into()),
        }]
    );
    assert!(
        one.case
            .reminder_applies("assigned", Some("co_opinion@sthjj"), Some("2024-08-01"))
    );
    assert!(
        !one.case
            .reminder_applies("assigned", Some("co_opinion@zrzyj"), Some("2024-08-01"))
    );
    assert_eq!(awaiting(wf, &one.case), ["jtj", "sthjj"]);

    // The same department sending again changes no one else's duty.
    let again = w.act(
        &one.case,
        "send_co_opinion",
        json!({"opinion": "补充意见"}),
        &zrzyj,
        "2024-07-22T10:00:00",
    );
    assert_eq!(owing(&again.case), ["sthjj"]);

    // The other sends after its last day (2024-08-01 24:00): done, but late.
    let late = w.act(
        &again.case,
        "send_co_opinion",
        json!({"opinion": "同意"}),
        &sthjj,
        "2024-08-02T09:00:00",
    );
    assert!(late.case.duties.is_empty());
    assert_eq!(awaiting(wf, &late.case), ["jtj"]);
    let done = &late.case.milestones.duties["co_opinion"];
    assert_eq!(done["zrzyj"], Some(true));
    assert_eq!(done["sthjj"], Some(false));
}

#[test]
fn a_co_handler_that_never_sends_is_counted_as_owing() {
    let w = World::new();
    let jtj = actor("zhang", Role::Department, Some("jtj"));
    let zrzyj = actor("li", Role::Department, Some("zrzyj"));
    let t = assigned(&w);
    let c = w
        .act(
            &t.case,
            "send_co_opinion",
            json!({"opinion": "同意"}),
            &zrzyj,
            "2024-07-10T10:00:00",
        )
        .case;
    // The lead department replies before the second opinion came: that duty ends with the
    // state, never done.
    let replied = w.act(
        &c,
        "reply",
        json!({"classification": "B", "answer": "已列入计划", "promised_by": "2025-06-30"}),
        &jtj,
        "2024-07-15T10:00:00",
    );
    assert!(replied.case.duties.is_empty());
    let done = &replied.case.milestones.duties["co_opinion"];
    assert_eq!(done["zrzyj"], Some(true));
    assert_eq!(done["sthjj"], None);
}
