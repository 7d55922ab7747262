//! 社情民意 on real dates: a deputy's record of a village visit resolved directly (办实事), and one
//! referred to a department and answered; the report section counts the people received at
//! each visit, the opinions and the things done from the records.

use duban_core::Role;
use duban_core::Workflows;
use duban_core::machine::Case;
use serde_json::json;

use crate::world::{World, actor, due};

fn recorded(w: &World, category: &str, received: i64) -> Case {
    let deputy = actor("liu", Role::Deputy, Some("zhan01"));
    let c = w
        .file(
            "liaison",
            &deputy,
            json!({"title": "村道路灯损坏", "body": "……", "category": category, "visit": "village",
                   "place": "鲁北镇新村", "visited_on": "2024-03-09", "received": received,
                   "station": "zhan01"}),
            "2024-03-10T10:00:00",
        )
        .case;
    assert_eq!(due(&c), "2024-03-25");
    c
}

#[test]
fn a_record_is_resolved_directly_or_referred_then_closed() {
    let w = World::new();
    let deputy = actor("liu", Role::Deputy, Some("zhan01"));
    let dept = actor("zhang", Role::Department, Some("zjj"));
    let c = recorded(&w, "opinion", 12);
    let c = w
        .act(
            &c,
            "resolve",
            json!({"done": "协调镇政府修复路灯8盏"}),
            &deputy,
            "2024-03-15T10:00:00",
        )
        .case;
    assert_eq!(c.state, "handled");
    let done = w
        .act(&c, "conclude", json!({}), &deputy, "2024-03-16T10:00:00")
        .case;
    assert!(done.closed);

    let c = recorded(&w, "help", 5);
    let c = w
        .act(
            &c,
            "refer",
            json!({"lead_department": "zjj"}),
            &deputy,
            "2024-03-12T10:00:00",
        )
        .case;
    assert_eq!(
        (c.state.as_str(), due(&c).as_str()),
        ("assigned", "2024-04-11")
    );
    let referred = w
        .act(
            &c,
            "reply",
            json!({"result": "已列入年度维修计划"}),
            &dept,
            "2024-04-01T10:00:00",
        )
        .case;
    assert_eq!(referred.state, "handled");

    let wfs = Workflows::builtin();
    let section = wfs
        .get("liaison")
        .and_then(|wf| wf.report.clone())
        .expect("section");
    let totals: Vec<i64> = section
        .counts
        .iter()
        .map(|k| {
            k.counted.of(&done.figures(), &done.state)
                + k.counted.of(&referred.figures(), &referred.state)
        })
        .collect();
    // People received, opinions, things done, referred, closed.
    assert_eq!(totals, [17, 1, 1, 1, 1]);
    let said = section.state(&totals, &[]);
    assert!(
        said.contains("走访接待选民17人次，收集社情民意1条，为群众办好事办实事1件"),
        "{said}"
    );
}
