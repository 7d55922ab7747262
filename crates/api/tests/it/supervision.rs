//! 领衔督办 through the API: a leader's activities recorded on a key suggestion, with their
//! date and participants, shown in the case's history and counted in the year's figures; on a
//! suggestion with no supervisor the step is refused.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::app::{act, app, assigned_suggestion, call, report_2024};

#[tokio::test]
async fn a_leaders_activities_are_events_of_the_key_suggestion_and_counted() {
    let app = app().await;
    let key = assigned_suggestion(&app, "关于改造城区供热管网的建议").await;
    let plain = assigned_suggestion(&app, "关于增设公交站点的建议").await;
    app.office.at("2024-07-02T09:00:00");
    let (status, body) = act(
        &app,
        &key,
        "mark_key",
        "staff",
        json!({"supervisor": "leader"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    app.office.at("2024-07-10T15:00:00");
    let inspection = json!({"activity": "inspection", "activity_on": "2024-07-10",
        "participants": "主任、交通运输局负责同志、提出建议的代表", "notes": "实地查看管网改造进度"});
    let (status, body) = act(
        &app,
        &plain,
        "record_supervision",
        "leader",
        inspection.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("supervisor"), "{body}");
    let (status, body) = act(&app, &key, "record_supervision", "leader", inspection).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "assigned");
    // The department is not the one to record it.
    let (status, _) = act(
        &app,
        &key,
        "record_supervision",
        "lead",
        json!({"activity": "forum", "activity_on": "2024-07-11", "participants": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let history = call(
        &app,
        Method::GET,
        &format!("/api/v1/cases/{key}/events"),
        Some("lead"),
        &[],
        None,
    )
    .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    let recorded = history.body["events"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["action"] == "record_supervision"))
        .cloned()
        .expect("the activity is in the history");
    assert_eq!(recorded["payload"]["activity_on"], "2024-07-10");
    assert_eq!(recorded["actor"], "leader");

    let r = report_2024(&app, "2024-12-31T12:00:00Z").await;
    assert_eq!(r["key_suggestions"]["activities"], json!({"inspection": 1}));
    // As of before the inspection, nothing was recorded yet.
    let r = report_2024(&app, "2024-07-05T00:00:00Z").await;
    assert_eq!(r["key_suggestions"]["activities"], json!({}));
}
