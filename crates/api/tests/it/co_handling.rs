//! 协办 through the API: two co-handling departments each owe their own opinion. Each finds
//! the case in its queue until it has sent its own, and the year's figures credit each with
//! its opinion and whether it came by the last day.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::app::{App, act, app, assigned_as, call, case, report_2024};

/// The co-handling figures of `department`'s suggestion row: (co-handled, opinions, on time).
fn credited(report: &Value, department: &str) -> (u64, u64, u64) {
    let row = report["departments"]
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["kind"] == "suggestion" && r["department"] == department)
        })
        .cloned()
        .unwrap_or_else(|| panic!("no row for {department}: {report}"));
    let n = |k: &str| row[k].as_u64().unwrap_or_else(|| panic!("{k}: {row}"));
    (n("co_handled"), n("co_opinions"), n("co_opinions_on_time"))
}

/// Who still owes a duty on the case.
fn owing(case: &Value) -> Vec<&str> {
    case["duties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["member"].as_str())
        .collect()
}

/// Whether the case is in `who`'s queue (待我处理).
async fn queued(app: &App, who: &str, id: &str) -> bool {
    let r = call(app, Method::GET, "/api/v1/queue", Some(who), &[], None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["items"]
        .as_array()
        .is_some_and(|items| items.iter().any(|c| c["id"] == id))
}

#[tokio::test]
async fn each_co_handler_sends_its_own_opinion_and_is_credited_for_it() {
    let app = app().await;
    let filing = json!({"title": "关于改造城区供热管网的建议", "body": "……"});
    let assign = json!({"lead_department": "jtj", "co_departments": ["czj", "wsj"]});
    let id = assigned_as(&app, filing, assign).await;
    let case = case(&app, &id).await;
    assert_eq!(owing(&case), ["czj", "wsj"], "{case}");
    assert!(queued(&app, "co", &id).await);
    assert!(queued(&app, "other_dept", &id).await);

    // czj sends its opinion in time: only its own duty is done.
    app.office.at("2024-07-20T10:00:00");
    let (status, body) = act(
        &app,
        &id,
        "send_co_opinion",
        "co",
        json!({"opinion": "同意"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(owing(&body), ["wsj"], "{body}");
    assert!(!queued(&app, "co", &id).await);
    assert!(queued(&app, "other_dept", &id).await);

    // wsj sends after its last day, 2024-08-01.
    app.office.at("2024-08-05T10:00:00");
    let (status, body) = act(
        &app,
        &id,
        "send_co_opinion",
        "other_dept",
        json!({"opinion": "同意"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(owing(&body).is_empty(), "{body}");
    assert!(!queued(&app, "other_dept", &id).await);

    let r = report_2024(&app, "2024-12-31T12:00:00Z").await;
    assert_eq!(credited(&r, "czj"), (1, 1, 1));
    assert_eq!(credited(&r, "wsj"), (1, 1, 0));
    // The lead department is not a co-handler.
    assert_eq!(credited(&r, "jtj"), (0, 0, 0));
    // As of before wsj's opinion, it still owed it.
    let r = report_2024(&app, "2024-07-25T00:00:00Z").await;
    assert_eq!(credited(&r, "czj"), (1, 1, 1));
    assert_eq!(credited(&r, "wsj"), (1, 0, 0));
}
