//! 领衔督办 on real dates: the supervising leader's activities are events of their own, open
//! only on a key suggestion, each with its date and participants, counted in the figures.

use duban_core::Refusal;
use duban_core::machine::allowed_actions;
use duban_core::{Role, machine::Case};
use serde_json::json;

use crate::world::{World, actor, notices};

/// A suggestion assigned to `jtj` on 2024-07-01.
fn assigned(w: &World) -> Case {
    w.assigned_suggestion(json!({"lead_department": "jtj"}))
        .case
}

#[test]
fn supervision_activities_are_recorded_only_on_a_key_suggestion() {
    let w = World::new();
    let leader = actor("zhuren", Role::Leader, None);
    let staff = actor("xu", Role::Staff, None);
    let dept = actor("zhang", Role::Department, Some("jtj"));
    let wf = w.wfs.get("suggestion").expect("suggestion");
    let inspection = json!({"activity": "inspection", "activity_on": "2024-07-10",
        "participants": "主任、交通运输局负责同志、提出建议的代表", "notes": "实地查看路段"});
    let c = assigned(&w);

    // Not a key suggestion yet: not offered, and refused naming what is missing.
    let open = allowed_actions(wf, &c, &leader, c.entered_at, &w.cal);
    assert!(
        !open.contains(&"record_supervision".to_string()),
        "{open:?}"
    );
    let e = w
        .try_act(
            &c,
            "record_supervision",
            inspection.clone(),
            &leader,
            "2024-07-10T15:00:00",
        )
        .expect_err("no supervisor yet");
    assert!(
        matches!(&e.reason, Refusal::NoParty { party, .. } if party == "supervisor"),
        "{e}"
    );

    let c = w
        .act(
            &c,
            "mark_key",
            json!({"supervisor": "zhuren"}),
            &staff,
            "2024-07-02T09:00:00",
        )
        .case;
    let done = w.act(
        &c,
        "record_supervision",
        inspection,
        &leader,
        "2024-07-10T15:00:00",
    );
    let c = done.case.clone();
    assert_eq!(
        c.state, "assigned",
        "recording changes nothing of the procedure"
    );
    assert_eq!(
        c.deadline.as_ref().map(|d| d.deadline.due_date.to_string()),
        Some("2024-10-08".into()),
        "nor the deadline"
    );
    assert!(
        notices(&done)
            .iter()
            .any(|(_, title, to)| title == "督办活动" && to == "lead_department"),
        "{:?}",
        notices(&done)
    );
    // Staff record one for the leader; the date and the participants are required.
    let e = w
        .try_act(
            &c,
            "record_supervision",
            json!({"activity": "forum", "participants": "x"}),
            &staff,
            "2024-07-20T15:00:00",
        )
        .expect_err("no date");
    assert_eq!(e.field(), Some("activity_on"));
    let c = w
        .act(
            &c,
            "record_supervision",
            json!({"activity": "forum", "activity_on": "2024-07-20", "participants": "座谈会参会人员"}),
            &staff,
            "2024-07-20T15:00:00",
        )
        .case;
    // A department does not record the leader's supervision.
    let e = w
        .try_act(
            &c,
            "record_supervision",
            json!({"activity": "forum", "activity_on": "2024-07-21", "participants": "x"}),
            &dept,
            "2024-07-21T15:00:00",
        )
        .expect_err("not a department's");
    assert!(matches!(e.reason, Refusal::Forbidden { .. }), "{e}");
    let counted: Vec<(&str, u32)> = c
        .milestones
        .activities
        .iter()
        .map(|(a, n)| (a.as_str(), *n))
        .collect();
    assert_eq!(counted, [("forum", 1), ("inspection", 1)]);
}
