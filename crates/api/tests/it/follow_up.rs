//! 回头看 through the API: a B answer without its promised date is refused; rated, it is
//! followed with the promised date as its deadline until the department reports delivery; the
//! year's figures count answers by class and the B answers delivered, as of any instant.

use axum::http::StatusCode;
use serde_json::json;

use crate::app::{act, app, assigned_suggestion, case, kind_figures, report_2024};

#[tokio::test]
async fn a_b_answer_is_followed_until_delivered_and_counted_by_class() {
    let app = app().await;
    let id = assigned_suggestion(&app, "关于改造城区供热管网的建议").await;
    app.office.at("2024-08-15T10:00:00");
    let (status, body) = act(
        &app,
        &id,
        "reply",
        "lead",
        json!({"classification": "B", "answer": "已列入明年计划"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("promised_by"), "{body}");
    let (status, body) = act(
        &app,
        &id,
        "reply",
        "lead",
        json!({"classification": "B", "answer": "已列入计划", "promised_by": "2024-11-29"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    app.office.at("2024-08-20T10:00:00");
    let (status, body) = act(
        &app,
        &id,
        "evaluate",
        "filer",
        json!({"rating": "satisfied"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "following");
    assert_eq!(body["deadline"]["due_date"], "2024-11-29");
    assert_eq!(body["terminal"], false);
    // The lead department reports it; another cannot even see the case.
    assert!(
        body["allowed_actions"]
            .as_array()
            .is_some_and(|a| a.is_empty()),
        "the deputy has nothing to do: {body}"
    );
    // Delivered late, after the promised 11-29.
    app.office.at("2024-12-03T15:00:00");
    let delivered = json!({"delivered_on": "2024-12-03", "report": "管网改造已完工"});
    let (status, _) = act(
        &app,
        &id,
        "report_delivery",
        "other_dept",
        delivered.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = act(&app, &id, "report_delivery", "lead", delivered).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(case(&app, &id).await["state"], "implemented");

    let year_end = report_2024(&app, "2024-12-31T12:00:00Z").await;
    let s = kind_figures(&year_end, "suggestion");
    assert_eq!(s["by_class"], json!({"B": 1}));
    assert_eq!(
        (s["b_delivered"].clone(), s["following"].clone()),
        (json!(1), json!(0))
    );
    let jtj = year_end["departments"]
        .as_array()
        .and_then(|d| d.iter().find(|r| r["department"] == "jtj"))
        .cloned()
        .expect("jtj row");
    assert_eq!(
        (jtj["by_class"].clone(), jtj["b_delivered"].clone()),
        (json!({"B": 1}), json!(1))
    );
    // As of October it was still followed; on 12-01 past its promised date: the delivery is
    // late, not the answer, which came on time.
    let october = kind_figures(
        &report_2024(&app, "2024-10-01T00:00:00Z").await,
        "suggestion",
    );
    assert_eq!(
        (october["b_delivered"].clone(), october["following"].clone()),
        (json!(0), json!(1))
    );
    let december = kind_figures(
        &report_2024(&app, "2024-12-01T00:00:00Z").await,
        "suggestion",
    );
    assert_eq!(
        (
            december["follow_up_overdue"].clone(),
            december["open_overdue"].clone(),
            december["on_time_rate"].clone()
        ),
        (json!(1), json!(0), json!(100.0))
    );
}
