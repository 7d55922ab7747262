//! 回头看 reminders: a rated B answer is followed to the date the department promised; the
//! department is reminded a week before and on the day, and once it has passed staff hear of
//! it too. Delivered, nothing more is sent.

use duban_testkit::ts;
use serde_json::json;

use crate::common::{assigned_suggestion, env, inbox, inbox_scheduler};

#[tokio::test]
async fn a_followed_promise_reminds_the_department_then_staff() {
    let office = env("http://hook.example/jtj").await;
    let s = inbox_scheduler(&office);
    let id = assigned_suggestion(&office, "关于改造城区供热管网的建议").await;
    let b = json!({"classification": "B", "answer": "已列入计划", "promised_by": "2024-12-20"});
    office
        .act(&id, "reply", "zhang", b, "2024-08-15T10:00:00")
        .await;
    office
        .act(
            &id,
            "evaluate",
            "liu",
            json!({"rating": "satisfied"}),
            "2024-08-20T10:00:00",
        )
        .await;
    s.tick(ts("2024-08-20T10:00:00")).await.expect("tick");
    let (zhang, xu) = (
        inbox(&office, "zhang").await.len(),
        inbox(&office, "xu").await.len(),
    );

    // A week before the promised Friday, and on it: the department.
    s.tick(ts("2024-12-13T09:00:00")).await.expect("tick");
    let told = inbox(&office, "zhang").await;
    assert_eq!(told.len(), zhang + 1);
    assert!(told[0].starts_with("【到期提醒】"), "{told:?}");
    s.tick(ts("2024-12-20T09:00:00")).await.expect("tick");
    assert!(inbox(&office, "zhang").await[0].starts_with("【今日到期】"));
    assert_eq!(inbox(&office, "xu").await.len(), xu, "staff not yet");

    // Passed: the department and staff.
    s.tick(ts("2024-12-21T09:00:00")).await.expect("tick");
    assert!(inbox(&office, "zhang").await[0].starts_with("【逾期提醒】"));
    let staff = inbox(&office, "xu").await;
    assert_eq!(staff.len(), xu + 1);
    assert!(staff[0].starts_with("【逾期提醒】"), "{staff:?}");

    // Delivered: the weekly overdue reminder no longer applies.
    office
        .act(
            &id,
            "report_delivery",
            "zhang",
            json!({"delivered_on": "2024-12-23", "report": "已完工"}),
            "2024-12-23T10:00:00",
        )
        .await;
    let before = inbox(&office, "zhang").await.len();
    s.tick(ts("2024-12-28T09:00:00")).await.expect("tick");
    assert_eq!(inbox(&office, "zhang").await.len(), before);
}
