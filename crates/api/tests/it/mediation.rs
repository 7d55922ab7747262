//! Mediation's steps through the API, on real dates: a referral declined and referred again,
//! judicial confirmation applied for and ruled on, a failed mediation returned for filing, and
//! the year's figures counting each.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::app::{App, act, app, call, report_2024};

/// A dispute `court1` refers to `mediator` on `at`.
async fn referred(app: &App, title: &str, at: &str) -> String {
    let o = &app.office;
    let id = o
        .file(
            "court",
            "mediation",
            json!({"title": title, "summary": "货款争议", "court": "court1", "dispute_type": "contract",
                   "applicant": {"name": "甲公司"}, "respondent": {"name": "乙"}}),
            at,
        )
        .await;
    o.act(
        &id,
        "assign_mediators",
        "court",
        json!({"mediators": ["mediator"]}),
        at,
    )
    .await;
    id
}

#[tokio::test]
async fn a_mediation_is_referred_confirmed_and_returned_for_filing_step_by_step() {
    let app = app().await;
    let o = &app.office;

    // Referred on Friday 09-27: the mediator answers by Tuesday 10-08, after National Day.
    let agreed = referred(&app, "买卖合同纠纷", "2024-09-27T10:00:00").await;
    let r = call(
        &app,
        Method::GET,
        &format!("/api/v1/cases/{agreed}"),
        Some("mediator"),
        &[],
        None,
    )
    .await;
    assert_eq!(r.body["state"], "referred", "{}", r.body);
    assert_eq!(r.body["deadline"]["due_date"], "2024-10-08");
    o.at("2024-09-30T09:00:00");
    let (status, body) = act(
        &app,
        &agreed,
        "decline",
        "mediator",
        json!({"reason": "与当事人相识"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "received");
    o.at("2024-10-08T09:00:00");
    let (status, body) = act(
        &app,
        &agreed,
        "assign_mediators",
        "court",
        json!({"mediators": ["mediator"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    o.at("2024-10-09T09:00:00");
    let (status, body) = act(&app, &agreed, "accept", "mediator", json!({})).await;
    assert_eq!(
        (status, body["state"].as_str()),
        (StatusCode::OK, Some("assigned")),
        "{body}"
    );
    o.at("2024-10-20T16:00:00");
    let (status, body) = act(
        &app,
        &agreed,
        "conclude",
        "mediator",
        json!({"outcome": "agreement"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // An agreement is not filed for trial: 422, with what is open instead.
    o.at("2024-10-21T09:00:00");
    let (status, body) = act(
        &app,
        &agreed,
        "return_for_filing",
        "court",
        json!({"filed_on": "2024-10-21"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = act(
        &app,
        &agreed,
        "apply_confirmation",
        "mediator",
        json!({"applied_on": "2024-10-21"}),
    )
    .await;
    assert_eq!(
        (status, body["state"].as_str()),
        (StatusCode::OK, Some("confirming")),
        "{body}"
    );
    assert_eq!(body["deadline"]["due_date"], "2024-11-05");
    o.at("2024-10-30T15:00:00");
    let (status, body) = act(&app, &agreed, "rule_on_confirmation", "court",
        json!({"ruled_on": "2024-10-30", "decision": "confirmed", "court_reference": "（2024）民特12号"})).await;
    assert_eq!(
        (status, body["state"].as_str()),
        (StatusCode::OK, Some("handled")),
        "{body}"
    );
    let (status, body) = act(
        &app,
        &agreed,
        "rule_on_confirmation",
        "court",
        json!({"ruled_on": "2024-10-30", "decision": "confirmed"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ruled once: {body}"
    );

    // A failed mediation, returned to the court and filed for trial with its date.
    let failed = referred(&app, "民间借贷纠纷", "2024-10-09T10:00:00").await;
    o.act(
        &failed,
        "accept",
        "mediator",
        json!({}),
        "2024-10-10T09:00:00",
    )
    .await;
    o.act(
        &failed,
        "conclude",
        "mediator",
        json!({"outcome": "failed"}),
        "2024-10-25T16:00:00",
    )
    .await;
    o.at("2024-10-28T09:00:00");
    let (status, body) = act(
        &app,
        &failed,
        "apply_confirmation",
        "mediator",
        json!({"applied_on": "2024-10-28"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = act(
        &app,
        &failed,
        "return_for_filing",
        "mediator",
        json!({"filed_on": "2024-10-28"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the court files, not the mediator: {body}"
    );
    let (status, body) = act(
        &app,
        &failed,
        "return_for_filing",
        "court",
        json!({"filed_on": "2024-10-28", "court_case_number": "（2024）民初88号"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let history = call(
        &app,
        Method::GET,
        &format!("/api/v1/cases/{failed}/events"),
        Some("court"),
        &[],
        None,
    )
    .await;
    let last = history.body["events"]
        .as_array()
        .and_then(|i| i.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (
            last["action"].as_str(),
            last["payload"]["filed_on"].as_str()
        ),
        (Some("return_for_filing"), Some("2024-10-28")),
        "{}",
        history.body
    );

    let report = report_2024(&app, "2024-11-01T00:00:00Z").await;
    let m = &report["mediation"];
    assert_eq!(
        [
            &m["referred"],
            &m["agreement"],
            &m["judicial_confirmation"],
            &m["confirmed"],
            &m["failed"],
            &m["returned_for_filing"]
        ],
        [2, 1, 1, 1, 1, 1],
        "{m}"
    );
    // As of the day before the ruling: applied for, not yet confirmed.
    let before = report_2024(&app, "2024-10-29T00:00:00Z").await;
    assert_eq!(
        (
            &before["mediation"]["judicial_confirmation"],
            &before["mediation"]["confirmed"]
        ),
        (&json!(1), &json!(0))
    );
}
