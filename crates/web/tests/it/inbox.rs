//! A department's 待办事项 lists what it leads or co-handles and also what waits on it in
//! another part of a case: the body asked for a petition's 复核 finds it there, once.

use axum::http::StatusCode;
use serde_json::json;

use crate::app::{app, get, sign_in};

#[tokio::test]
async fn the_body_asked_for_a_recheck_finds_the_petition_in_its_inbox() {
    let app = app().await;
    let o = &app.office;
    let id = o
        .file(
            "deputy",
            "petition",
            json!({"title": "征地补偿标准", "body": "……", "station": "st1", "constituent": {"name": "李四"}}),
            "2024-03-04T10:00:00",
        )
        .await;
    let steps = [
        (
            "transfer",
            "deputy",
            json!({"lead_department": "jtj"}),
            "2024-03-04T11:00:00",
        ),
        ("accept", "lead", json!({}), "2024-03-05T10:00:00"),
        (
            "reply",
            "lead",
            json!({"result": "按标准补偿", "outcome": "not_supported"}),
            "2024-03-20T10:00:00",
        ),
        (
            "record_satisfaction",
            "deputy",
            json!({"rating": "dissatisfied", "comment": "过低"}),
            "2024-03-22T10:00:00",
        ),
        (
            "request_review",
            "deputy",
            json!({"reason": "标准有误"}),
            "2024-03-25T10:00:00",
        ),
        (
            "answer_review",
            "lead",
            json!({"result": "维持"}),
            "2024-04-10T10:00:00",
        ),
    ];
    for (action, who, payload, at) in steps {
        o.act(&id, action, who, payload, at).await;
    }
    let (other, _) = sign_in(&app, "other").await;
    let before = get(&app.router, "/inbox", &other).await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(!before.body.contains(&id), "not yet its business");

    o.act(
        &id,
        "request_recheck",
        "deputy",
        json!({"reason": "不服复查意见", "recheck_body": "wsj"}),
        "2024-04-15T10:00:00",
    )
    .await;
    // Signed in again: the office clock moved on past the first session's idle limit.
    let (other, _) = sign_in(&app, "other").await;
    let after = get(&app.router, "/inbox", &other).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(
        after.body.matches(&format!("/cases/{id}\"")).count(),
        1,
        "listed once: {}",
        after.body
    );
    // The lead department still has it, once, though the case no longer waits on it.
    let (lead, _) = sign_in(&app, "lead").await;
    let inbox = get(&app.router, "/inbox", &lead).await;
    assert_eq!(inbox.body.matches(&format!("/cases/{id}\"")).count(), 1);
}
