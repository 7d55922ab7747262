//! 联名 through the API: a co-signer takes `evaluate` too (no longer 403), once per reply; the
//! rating is an event of its own in the history and leaves the case where it is; the lead
//! deputy's rating decides; the year's figures count co-signers' ratings apart.

use axum::http::StatusCode;
use serde_json::json;

use crate::app::{act, app, assigned_as, events, kind_figures, report_2024};

#[tokio::test]
async fn a_co_signer_rates_each_reply_once_and_the_lead_decides() {
    let app = app().await;
    let filing =
        json!({"title": "关于改造城区供热管网的建议", "body": "……", "cosigners": ["cosigner"]});
    let id = assigned_as(&app, filing, json!({"lead_department": "jtj"})).await;
    let o = &app.office;
    o.act(
        &id,
        "reply",
        "lead",
        json!({"classification": "A", "answer": "已完成"}),
        "2024-08-15T10:00:00",
    )
    .await;

    app.office.at("2024-08-18T10:00:00");
    let unhappy = json!({"rating": "dissatisfied", "comment": "管网仍漏水"});
    let (status, body) = act(&app, &id, "evaluate", "cosigner", unhappy.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "handled", "the lead's rating decides");
    // Once per reply.
    let (status, body) = act(&app, &id, "evaluate", "cosigner", unhappy).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // A deputy who did not sign the suggestion cannot.
    let (status, _) = act(
        &app,
        &id,
        "evaluate",
        "stranger",
        json!({"rating": "satisfied"}),
    )
    .await;
    assert!(
        matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{status}"
    );
    // Staff see it: in the history, and told at once.
    let rated = events(&app, &id)
        .await
        .into_iter()
        .find(|e| e["action"] == "evaluate")
        .expect("the co-signer's rating is an event");
    assert_eq!(rated["actor"], "cosigner");
    assert_eq!(rated["payload"]["rating"], "dissatisfied");

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
    assert_eq!(body["state"], "evaluated");

    let r = report_2024(&app, "2024-12-31T12:00:00Z").await;
    let s = kind_figures(&r, "suggestion");
    assert_eq!(
        (s["satisfied"].clone(), s["dissatisfied"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(s["co_ratings"], json!({"dissatisfied": 1}));
    // 代表满意度: each signer's own ratings, the co-signer's 不满意 theirs alone.
    let deputies = r["deputies"].as_array().expect("deputies");
    let row = |who: &str| {
        deputies
            .iter()
            .find(|d| d["deputy"] == who)
            .cloned()
            .unwrap_or_else(|| panic!("no {who}: {deputies:?}"))
    };
    assert_eq!(
        row("filer"),
        json!({"kind": "suggestion", "deputy": "filer", "ratings": 1, "co_ratings": 0,
               "satisfied": 1, "basically_satisfied": 0, "dissatisfied": 0})
    );
    assert_eq!(
        row("cosigner"),
        json!({"kind": "suggestion", "deputy": "cosigner", "ratings": 0, "co_ratings": 1,
               "satisfied": 0, "basically_satisfied": 0, "dissatisfied": 1})
    );
}
