//! Paused clocks on real dates: the days between a pause and its resumption are left out of
//! the deadline, nothing is overdue or reminded while paused, and a pause cannot excuse a
//! deadline already missed.

use duban_core::Refusal;
use duban_core::deadline::china_date;
use duban_core::machine::{Case, Effect};
use duban_core::{Role, machine::Actor};
use serde_json::json;

use crate::world::{World, actor, due, scheduled, ts};

/// A petition accepted by the department on `accepted_at`.
fn accepted(w: &World, dept: &Actor, accepted_at: &str) -> Case {
    let deputy = actor("d", Role::Deputy, Some("station-1"));
    let c = w
        .file(
            "petition",
            &deputy,
            json!({"title": "宅基地纠纷", "body": "……", "station": "station-1", "constituent": {"name": "王小明"}}),
            "2024-06-20T09:00:00",
        )
        .case;
    let c = w
        .act(
            &c,
            "transfer",
            json!({"lead_department": "zrzyj"}),
            &deputy,
            "2024-06-21T09:00:00",
        )
        .case;
    w.act(&c, "accept", json!({}), dept, accepted_at).case
}

#[test]
fn a_paused_deadline_moves_later_by_the_paused_days_and_says_so() {
    let w = World::new();
    let dept = actor("x", Role::Department, Some("zrzyj"));
    // 60 days from 2024-09-02 → Fri 2024-11-01.
    let c = accepted(&w, &dept, "2024-09-02T10:00:00");
    assert_eq!(due(&c), "2024-11-01");
    let paused = w.act(
        &c,
        "pause",
        json!({"cause": "appraisal", "note": "委托司法鉴定"}),
        &dept,
        "2024-09-20T10:00:00",
    );
    let c = paused.case.clone();
    assert!(c.deadline.is_none(), "no deadline runs while paused");
    let p = c.paused.as_ref().expect("paused");
    assert_eq!(p.deadline.deadline.due_date.to_string(), "2024-11-01");
    assert!(paused.effects.iter().any(|e| matches!(e,
        Effect::CancelReminders { state, duty: None } if state == "accepted")));
    assert!(scheduled(&paused).is_empty(), "{:?}", scheduled(&paused));
    // Past the old last day, still paused: not overdue, and no reminder applies.
    assert!(!c.is_overdue(ts("2024-11-05T10:00:00")));
    assert!(!c.reminder_applies("accepted", None, Some("2024-11-01")));
    // While paused: resume and reply are open, pausing again is not.
    let open = duban_core::machine::allowed_actions(
        w.wfs.get("petition").expect("petition"),
        &c,
        &dept,
        ts("2024-10-01T10:00:00"),
        &w.cal,
    );
    assert!(open.contains(&"resume".to_string()), "{open:?}");
    assert!(open.contains(&"reply".to_string()), "{open:?}");
    assert!(!open.contains(&"pause".to_string()), "{open:?}");
    let e = w
        .try_act(
            &c,
            "pause",
            json!({"cause": "hearing", "note": "x"}),
            &dept,
            "2024-10-01T10:00:00",
        )
        .expect_err("already paused");
    assert!(matches!(e.reason, Refusal::NotRunning { .. }), "{e}");

    // Resumed on 10-10: 20 days paused (09-20 to 10-10), so 11-01 + 20 → Thu 11-21.
    let resumed = w.act(
        &c,
        "resume",
        json!({"note": "鉴定意见已送达"}),
        &dept,
        "2024-10-10T15:00:00",
    );
    let c = resumed.case.clone();
    assert!(c.paused.is_none());
    assert_eq!(due(&c), "2024-11-21");
    let dl = c.deadline.as_ref().expect("running again");
    assert_eq!(
        dl.original_due.to_string(),
        "2024-11-21",
        "the extension cap moves too"
    );
    let why = &dl.deadline.explanation;
    for part in [
        "2024-09-20（周五）中止计算",
        "2024-10-10（周四）恢复计算",
        "中止期间20日不计入",
        "由2024-11-01（周五）顺延至2024-11-21（周四）",
    ] {
        assert!(why.contains(part), "{part} not in {why}");
    }
    // The reminders are scheduled anew for the new last day.
    assert!(
        resumed.effects.iter().any(|e| matches!(e,
            Effect::ScheduleReminder(r) if r.due_date.map(|d| d.to_string()) == Some("2024-11-21".into()))),
        "{:?}",
        resumed.effects
    );
    let e = w
        .try_act(&c, "resume", json!({}), &dept, "2024-10-11T10:00:00")
        .expect_err("nothing paused");
    assert!(matches!(e.reason, Refusal::NotPaused { .. }), "{e}");
    // Answered after the old last day, within the moved one: on time.
    let c = w
        .act(
            &c,
            "reply",
            json!({"result": "已确权", "outcome": "supported"}),
            &dept,
            "2024-11-15T10:00:00",
        )
        .case;
    assert_eq!(c.milestones.answered_on_time, Some(true));
}

#[test]
fn a_moved_last_day_rolls_over_a_holiday() {
    let w = World::new();
    let dept = actor("x", Role::Department, Some("zrzyj"));
    // 60 days from 2024-07-01 → Fri 2024-08-30.
    let c = accepted(&w, &dept, "2024-07-01T10:00:00");
    assert_eq!(due(&c), "2024-08-30");
    let c = w
        .act(
            &c,
            "pause",
            json!({"cause": "materials", "note": "等待补充材料"}),
            &dept,
            "2024-07-10T10:00:00",
        )
        .case;
    // 32 days paused: 08-30 + 32 → 10-01, National Day → Tue 10-08.
    let c = w
        .act(&c, "resume", json!({}), &dept, "2024-08-11T10:00:00")
        .case;
    assert_eq!(due(&c), "2024-10-08");
    let why = &c.deadline.as_ref().expect("deadline").deadline.explanation;
    assert!(why.contains("中止期间32日不计入"), "{why}");
}

#[test]
fn no_pause_once_the_last_day_has_passed() {
    let w = World::new();
    let dept = actor("x", Role::Department, Some("zrzyj"));
    let c = accepted(&w, &dept, "2024-09-02T10:00:00");
    let e = w
        .try_act(
            &c,
            "pause",
            json!({"cause": "appraisal", "note": "x"}),
            &dept,
            "2024-11-02T10:00:00",
        )
        .expect_err("too late");
    match &e.reason {
        Refusal::PastDue { due, .. } => assert_eq!(due.to_string(), "2024-11-01"),
        other => panic!("{other}"),
    }
    assert!(!e.allowed.contains(&"pause".to_string()), "{:?}", e.allowed);
    // A pause needs a cause and a note: nothing is paused without saying why.
    let e = w
        .try_act(
            &c,
            "pause",
            json!({"note": "x"}),
            &dept,
            "2024-09-03T10:00:00",
        )
        .expect_err("cause missing");
    assert_eq!(e.field(), Some("cause"));
}

#[test]
fn leaving_the_state_while_paused_ends_the_pause() {
    let w = World::new();
    let dept = actor("x", Role::Department, Some("zrzyj"));
    let c = accepted(&w, &dept, "2024-09-02T10:00:00");
    let c = w
        .act(
            &c,
            "pause",
            json!({"cause": "hearing", "note": "组织听证"}),
            &dept,
            "2024-09-10T10:00:00",
        )
        .case;
    let c = w
        .act(
            &c,
            "reply",
            json!({"result": "听证后作出处理", "outcome": "partly_supported"}),
            &dept,
            "2024-12-20T10:00:00",
        )
        .case;
    assert_eq!(c.state, "handled");
    assert!(c.paused.is_none());
    // Answered while the clock stood still: on time, though past the first last day.
    assert_eq!(c.milestones.answered_on_time, Some(true));
    assert_eq!(china_date(c.entered_at).to_string(), "2024-12-20");
}
