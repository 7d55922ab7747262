//! A petition's paused clock and its 复核 through the API, on real dates: a pause shows as
//! `paused` with no running deadline and nothing overdue, a resume moves the last day by the
//! paused days, only the case's handler may pause, and 复核 ends the petition as final.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::app::{App, act, app, call, report_2024};

async fn get(app: &App, id: &str, who: &str) -> Value {
    let r = call(
        app,
        Method::GET,
        &format!("/api/v1/cases/{id}"),
        Some(who),
        &[],
        None,
    )
    .await;
    r.body
}

/// A petition filed at `st1` and accepted by `jtj` on Monday 2024-09-02.
async fn accepted(app: &App) -> String {
    let o = &app.office;
    let id = o
        .file(
            "filer",
            "petition",
            json!({"title": "宅基地确权", "body": "……", "station": "st1", "constituent": {"name": "王小明"}}),
            "2024-08-30T10:00:00",
        )
        .await;
    o.act(
        &id,
        "transfer",
        "filer",
        json!({"lead_department": "jtj"}),
        "2024-08-30T11:00:00",
    )
    .await;
    o.act(&id, "accept", "lead", json!({}), "2024-09-02T10:00:00")
        .await;
    id
}

#[tokio::test]
async fn a_paused_petition_is_not_overdue_and_resumes_with_its_last_day_moved() {
    let app = app().await;
    let o = &app.office;
    let id = accepted(&app).await;
    assert_eq!(
        get(&app, &id, "lead").await["deadline"]["due_date"],
        "2024-11-01"
    );

    o.at("2024-09-20T10:00:00");
    // Only the case's handler (or staff) stops its clock; another department does not even
    // see the case.
    let body = json!({"cause": "appraisal", "note": "委托司法鉴定"});
    let (status, _) = act(&app, &id, "pause", "other_dept", body.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = act(&app, &id, "pause", "filer", body.clone()).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the deputy does not stop the department's clock"
    );
    let (status, _) = act(&app, &id, "pause", "lead", json!({"note": "x"})).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the cause is required"
    );
    let (status, body) = act(&app, &id, "pause", "lead", body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["deadline"], Value::Null);
    assert_eq!(body["paused"]["deadline"]["due_date"], "2024-11-01");

    // Past the old last day while paused: not overdue, and not in the overdue list.
    o.at("2024-11-05T10:00:00");
    let c = get(&app, &id, "lead").await;
    assert_eq!(c["overdue"], false);
    assert!(
        c["allowed_actions"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("resume")) && !a.contains(&json!("pause"))),
        "{c}"
    );
    let list = call(
        &app,
        Method::GET,
        "/api/v1/cases?overdue=true",
        Some("staff"),
        &[],
        None,
    )
    .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(!list.body.to_string().contains(&id), "{}", list.body);

    // Resumed on 11-05: 46 days paused, 11-01 + 46 → Tue 12-17.
    let (status, body) = act(
        &app,
        &id,
        "resume",
        "lead",
        json!({"note": "鉴定意见已送达"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["paused"], Value::Null);
    assert_eq!(body["deadline"]["due_date"], "2024-12-17");
    let why = body["deadline"]["explanation"].as_str().unwrap_or_default();
    assert!(why.contains("中止期间46日不计入"), "{why}");
    let (status, body) = act(&app, &id, "resume", "lead", json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Once the moved day has passed, no pause excuses it.
    o.at("2024-12-18T10:00:00");
    let (status, body) = act(
        &app,
        &id,
        "pause",
        "lead",
        json!({"cause": "hearing", "note": "组织听证"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("2024-12-17"), "{body}");
}

#[tokio::test]
async fn a_recheck_answered_by_the_superior_ends_the_petition_as_final() {
    let app = app().await;
    let o = &app.office;
    let id = accepted(&app).await;
    let steps = [
        (
            "reply",
            "lead",
            json!({"result": "不予支持", "outcome": "not_supported"}),
            "2024-09-20T10:00:00",
        ),
        (
            "record_satisfaction",
            "filer",
            json!({"rating": "dissatisfied", "comment": "不服"}),
            "2024-09-23T10:00:00",
        ),
        (
            "request_review",
            "filer",
            json!({"reason": "事实认定有误"}),
            "2024-09-25T10:00:00",
        ),
        (
            "answer_review",
            "lead",
            json!({"result": "维持"}),
            "2024-10-15T10:00:00",
        ),
    ];
    for (action, who, payload, at) in steps {
        o.act(&id, action, who, payload, at).await;
    }
    assert_eq!(get(&app, &id, "staff").await["state"], "reviewed");
    // 30 days from 10-15 → 11-14: asked for after that, refused.
    o.at("2024-11-15T10:00:00");
    let ask = json!({"reason": "不服复查意见", "recheck_body": "czj"});
    let (status, body) = act(&app, &id, "request_recheck", "filer", ask.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    o.at("2024-11-01T10:00:00");
    let (status, body) = act(&app, &id, "request_recheck", "filer", ask).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "recheck");
    assert_eq!(body["deadline"]["due_date"], "2024-12-02");
    // The reviewing department may not answer its own recheck; the superior does.
    o.at("2024-11-20T10:00:00");
    let (status, _) = act(&app, &id, "answer_recheck", "lead", json!({"result": "x"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = act(
        &app,
        &id,
        "answer_recheck",
        "co",
        json!({"result": "复核维持"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "final");
    assert_eq!(body["terminal"], true);
    assert_eq!(body["state_title"], "已复核，信访终结");
}

#[tokio::test]
async fn repeat_petitions_are_listed_for_the_committee_and_the_filing_deputy_only() {
    let app = app().await;
    let o = &app.office;
    let person = json!({"name": "王小明", "id_number": "110101199003074477"});
    let file = |title: &'static str, at: &'static str| {
        let person = person.clone();
        async move {
            o.file(
                "filer",
                "petition",
                json!({"title": title, "body": "……", "station": "st1", "constituent": person}),
                at,
            )
            .await
        }
    };
    let first = file("拖欠工资", "2024-04-02T10:00:00").await;
    let again = file("再次反映拖欠工资", "2024-06-02T10:00:00").await;
    let app = &app;
    let list = |who: &'static str| async move {
        call(
            app,
            Method::GET,
            "/api/v1/cases?repeat=true",
            Some(who),
            &[],
            None,
        )
        .await
    };
    for who in ["staff", "filer"] {
        let r = list(who).await;
        assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.body);
        let ids: Vec<&str> = r.body["items"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c["id"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(ids, [again.as_str()], "{who}");
        assert!(!r.body.to_string().contains(&first), "{who}");
    }
    // A department, a court, or a deputy listing a station: it comes from an ID number.
    for who in ["lead", "court", "mediator"] {
        assert_eq!(list(who).await.status, StatusCode::FORBIDDEN, "{who}");
    }
    let r = call(
        app,
        Method::GET,
        "/api/v1/cases?repeat=true&station=st1",
        Some("filer"),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The year's report counts it.
    let r = report_2024(app, "2024-12-31T12:00:00Z").await;
    assert_eq!(r["petitions"]["repeat"], 1, "{}", r["petitions"]);
}
