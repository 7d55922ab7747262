//! `GET /cases/{id}?as_of=…`: a case as it stood at an instant, or at the end of a day in
//! China time, folded from its events, for whoever may see the case now. Such a view carries
//! no `ETag`, offers no actions and reveals no personal data; an `as_of` that names no moment,
//! or one before the case was filed, is refused naming the field.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::app::{App, app, assigned_suggestion, call};

/// A suggestion filed 2024-06-20, assigned to `jtj` on 07-01 (due 10-08, National Day rolls
/// it) and answered late, on 10-12.
async fn answered_late(app: &App) -> String {
    let id = assigned_suggestion(app, "关于修缮龙门镇道路的建议").await;
    let o = &app.office;
    o.act(
        &id,
        "reply",
        "lead",
        json!({"classification": "A", "answer": "已完成"}),
        "2024-10-12T10:00:00",
    )
    .await;
    id
}

#[tokio::test]
async fn a_case_as_of_a_day_is_how_it_stood_at_its_end() {
    let app = app().await;
    let id = answered_late(&app).await;
    let get = |query: String, who: &'static str| {
        let app = &app;
        let path = format!("/api/v1/cases/{id}{query}");
        async move { call(app, Method::GET, &path, Some(who), &[], None).await }
    };
    let now = get(String::new(), "staff").await;
    assert_eq!(now.status, StatusCode::OK);
    assert_eq!(now.body["state"], "handled");
    assert!(now.body.get("as_of").is_none(), "{}", now.body);

    // The day after the deadline: still with the department, and overdue then.
    let then = get("?as_of=2024-10-09".into(), "staff").await;
    assert_eq!(then.status, StatusCode::OK, "{}", then.body);
    assert_eq!(then.body["state"], "assigned");
    assert_eq!(then.body["state_title"], "交办办理中");
    assert_eq!(then.body["version"], 3);
    assert_eq!(then.body["deadline"]["due_date"], "2024-10-08");
    assert_eq!(then.body["overdue"], true);
    assert_eq!(then.body["parties"]["lead_department"], json!(["jtj"]));
    assert_eq!(then.body["allowed_actions"], json!([]));
    assert_eq!(then.body["as_of"], "2024-10-09T15:59:59.999Z");
    assert_eq!(then.etag, None, "a past version is nothing to act on");
    // An instant: the morning of the assignment, before it.
    let before = get("?as_of=2024-07-01T00:30:00Z".into(), "staff").await;
    assert_eq!(before.body["state"], "registered", "{}", before.body);
    assert_eq!(before.body["overdue"], false);
    // The department that holds it may look back too; one that never held it may not.
    assert_eq!(
        get("?as_of=2024-10-09".into(), "lead").await.body["state"],
        "assigned"
    );
    let outsider = get("?as_of=2024-10-09".into(), "other_dept").await;
    assert_eq!(outsider.status, StatusCode::NOT_FOUND);
    assert!(!outsider.body.to_string().contains("龙门镇"));
}

#[tokio::test]
async fn an_as_of_that_names_no_moment_or_one_before_filing_is_refused() {
    let app = app().await;
    let id = answered_late(&app).await;
    let get = |query: &'static str| {
        let app = &app;
        let path = format!("/api/v1/cases/{id}{query}");
        async move { call(app, Method::GET, &path, Some("staff"), &[], None).await }
    };
    for query in [
        "?as_of=yesterday",
        "?as_of=2024-13-01",
        "?as_of=2024-02-30",
        "?as_of=",
    ] {
        let r = get(query).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["field"], "as_of", "{query}: {}", r.body);
    }
    let early = get("?as_of=2024-06-19").await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(early.body["errors"][0]["field"], "as_of", "{}", early.body);
    assert!(
        early.body.to_string().contains("2024-06-20 10:00"),
        "{}",
        early.body
    );
    let with_reveal = get("?as_of=2024-10-09&reveal=phone&reason=verify").await;
    assert_eq!(with_reveal.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(with_reveal.body["errors"][0]["field"], "as_of");
}
