//! A co-handler's reminders are its own: each co-handling department is reminded of the
//! opinion it owes, and one that has sent its opinion hears no more of it while another that
//! has not is reminded, then told it is late.

use duban_core::Role;
use duban_storage::OrgKind;
use duban_testkit::ts;
use serde_json::json;

use crate::common::{assigned_with, inbox, inbox_scheduler, people};

#[tokio::test]
async fn each_co_handler_is_reminded_of_its_own_opinion_only() {
    let office = people()
        .org("sjj", OrgKind::Department, "县水利局")
        .user("wang", Role::Department, Some("sjj"))
        .org("zrj", OrgKind::Department, "县自然资源局")
        .user("zhao", Role::Department, Some("zrj"))
        .build()
        .await;
    let s = inbox_scheduler(&office);
    // The co-handlers' opinions are due 2024-08-01: reminded on 07-27, late from 08-02.
    let id = assigned_with(
        &office,
        "关于防汛排涝的建议",
        json!({"lead_department": "jtj", "co_departments": ["sjj", "zrj"]}),
    )
    .await;
    s.tick(ts("2024-07-01T09:00:00")).await.expect("tick");
    office
        .act(
            &id,
            "send_co_opinion",
            "wang",
            json!({"opinion": "同意主办单位意见"}),
            "2024-07-20T10:00:00",
        )
        .await;
    let before = (inbox(&office, "wang").await, inbox(&office, "zhao").await);

    let r = s.tick(ts("2024-07-27T09:00:00")).await.expect("tick");
    assert_eq!(r.fired, 1, "only zrj's reminder still applies: {r:?}");
    assert_eq!(inbox(&office, "wang").await, before.0);
    let zhao = inbox(&office, "zhao").await;
    assert_eq!(zhao.len(), before.1.len() + 1);
    assert!(zhao[0].starts_with("【到期提醒】"), "{zhao:?}");

    // Overdue: zrj and the lead department hear of it; wang still does not.
    s.tick(ts("2024-08-02T09:00:00")).await.expect("tick");
    assert_eq!(inbox(&office, "wang").await, before.0);
    assert!(inbox(&office, "zhao").await[0].starts_with("【逾期提醒】"));
    assert!(inbox(&office, "zhang").await[0].starts_with("【逾期提醒】"));
}
