//! Extensions through the API, on real dates: asked for after the last day is 422 on `until`;
//! refused by staff with a reason; and an approval recorded after the last day moves the date
//! while the annual report still counts the answer late, as of any instant and from kept
//! figures or a full replay alike.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::app::{App, app, assigned_suggestion as assigned, post, report_2024};

async fn suggestions(app: &App, as_of: &str) -> Value {
    report_2024(app, as_of).await["kinds"]
        .as_array()
        .and_then(|k| k.iter().find(|k| k["kind"] == "suggestion"))
        .cloned()
        .expect("suggestions")
}

#[tokio::test]
async fn a_late_request_is_refused_and_a_late_approval_leaves_the_answer_late() {
    let app = app().await;
    let late = assigned(&app, "关于修缮东村道路的建议").await;
    let refused = assigned(&app, "关于增设公交站点的建议").await;
    let actions = |id: &str, action: &str| format!("/api/v1/cases/{id}/actions/{action}");

    // In time, and refused with a reason: the date stands.
    app.office.at("2024-09-20T09:00:00");
    let asked = post(
        &app,
        &actions(&refused, "request_extension"),
        "lead",
        Some("3"),
        json!({"until": "2024-12-31", "reason": "需财政追加预算"}),
    )
    .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let no = post(
        &app,
        &actions(&refused, "refuse_extension"),
        "staff",
        Some("4"),
        json!({"reason": "事项简单，应按期答复"}),
    )
    .await;
    assert_eq!(no.status, StatusCode::OK, "{}", no.body);
    assert_eq!(no.body["deadline"]["due_date"], "2024-10-08");

    // After the last day (10-08): the department may no longer ask.
    app.office.at("2024-10-10T09:00:00");
    let asked = post(
        &app,
        &actions(&late, "request_extension"),
        "lead",
        Some("3"),
        json!({"until": "2024-12-31", "reason": "需财政追加预算"}),
    )
    .await;
    assert_eq!(
        asked.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        asked.body
    );
    assert_eq!(asked.body["errors"][0]["field"], "until", "{}", asked.body);
    // Staff record an approval anyway; the department answers before the new date.
    let approved = post(
        &app,
        &actions(&late, "extend"),
        "staff",
        Some("3"),
        json!({"until": "2024-12-31", "reason": "补办延期手续"}),
    )
    .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(approved.body["deadline"]["due_date"], "2024-12-31");
    assert_eq!(approved.body["overdue"], false);
    app.office.at("2024-10-20T10:00:00");
    let replied = post(
        &app,
        &actions(&late, "reply"),
        "lead",
        Some("4"),
        json!({"classification": "A", "answer": "已修缮完毕"}),
    )
    .await;
    assert_eq!(replied.status, StatusCode::OK, "{}", replied.body);
    // The deputy rates it in November: as of before that, the report replays the case's
    // events; as of the year's end, it reads the figures kept with it.
    app.office.at("2024-11-01T10:00:00");
    let rated = post(
        &app,
        &actions(&late, "evaluate"),
        "filer",
        Some("5"),
        json!({"rating": "satisfied"}),
    )
    .await;
    assert_eq!(rated.status, StatusCode::OK, "{}", rated.body);

    app.office.at("2025-01-10T09:00:00");
    for as_of in ["2024-10-25T15:00:00Z", "2024-12-31T15:59:00Z"] {
        let k = suggestions(&app, as_of).await;
        assert_eq!(k["answered"], 1, "{as_of}: {k}");
        assert_eq!(k["answered_on_time"], 0, "{as_of}: {k}");
        assert_eq!(k["answered_late"], 1, "{as_of}: {k}");
    }
}
