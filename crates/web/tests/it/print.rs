//! The printed forms: offered on the case page when the case records what they need, each an
//! A4 page with the print stylesheet and no script, out of reach for those who cannot see the
//! case, and a form with a name in full recorded as a view of personal data.

use axum::http::StatusCode;
use duban_service::Principal;
use duban_storage::Directory;
use serde_json::json;

use crate::app::*;
use crate::pages::assigned_suggestion;

async fn principal(app: &App, login: &str) -> Principal {
    Principal {
        user: app.store.user(login).await.expect("user").expect("exists"),
    }
}

#[tokio::test]
async fn an_assigned_suggestion_prints_its_notice_then_its_evaluation_form() {
    let app = app().await;
    let id = assigned_suggestion(&app).await;
    let (lead, _) = sign_in(&app, "lead").await;
    let page = get(&app.router, &format!("/cases/{id}"), &lead).await;
    assert!(page.body.contains("打印文书"), "{}", page.body);
    assert!(page.body.contains(&format!("/cases/{id}/print/assignment")));
    assert!(!page.body.contains("/print/evaluation"), "no reply yet");

    let notice = get(&app.router, &format!("/cases/{id}/print/assignment"), &lead).await;
    assert_eq!(notice.status, StatusCode::OK);
    for want in [
        "交办通知单",
        "/static/print.css",
        "建议〔2024〕001号",
        "关于修缮东村道路的建议",
        "jtj-name",
        "2024年6月3日",
        "《代表建议、批评和意见办理办法》",
        "人大常委会（盖章）",
        "经办人",
    ] {
        assert!(notice.body.contains(want), "{want}: {}", notice.body);
    }
    assert!(!notice.body.contains("<script"));
    let css = get(&app.router, "/static/print.css", &lead).await;
    assert!(css.body.contains("size: A4"));

    // Out of reach: 404, as for the case; a form the case does not offer: 404 too.
    let (other, _) = sign_in(&app, "other").await;
    assert_eq!(
        get(
            &app.router,
            &format!("/cases/{id}/print/assignment"),
            &other
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app.router, &format!("/cases/{id}/print/evaluation"), &lead)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app.router, &format!("/cases/{id}/print/nonsense"), &lead)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Overdue: the supervision notice says since when.
    *app.clock.0.lock().expect("clock") = at("2024-06-11T02:00:00Z");
    let (lead, _) = sign_in(&app, "lead").await;
    let late = get(
        &app.router,
        &format!("/cases/{id}/print/supervision"),
        &lead,
    )
    .await;
    assert_eq!(late.status, StatusCode::OK);
    assert!(
        late.body.contains("自2024年6月3日起已逾期 8 天"),
        "{}",
        late.body
    );

    // Replied: the deputy's evaluation form, with the reply's class and three boxes.
    app.service
        .act(
            &principal(&app, "lead").await,
            &id,
            "reply",
            &json!({"classification": "B", "answer": "已列入明年计划。", "promised_by": "2025-06-30"}),
            3,
            None,
        )
        .await
        .expect("reply");
    let (deputy, _) = sign_in(&app, "deputy").await;
    let form = get(
        &app.router,
        &format!("/cases/{id}/print/evaluation"),
        &deputy,
    )
    .await;
    assert_eq!(form.status, StatusCode::OK);
    for want in [
        "代表建议办理情况征询意见表",
        "B类（正在解决或列入计划）",
        "□ 满意",
        "□ 基本满意",
        "□ 不满意",
        "代表签名",
    ] {
        assert!(form.body.contains(want), "{want}");
    }
}

#[tokio::test]
async fn a_petition_receipt_names_the_constituent_alone_and_the_view_is_recorded() {
    let app = app().await;
    let deputy = principal(&app, "deputy").await;
    let (filed, _) = app
        .service
        .file(
            &deputy,
            "petition",
            &json!({"title": "反映拖欠农民工工资", "body": "……", "station": "st1",
                    "constituent": {"name": "王小明", "id_number": "110101199003074477", "phone": "13812345678"}}),
            None,
            None,
        )
        .await
        .expect("file");
    let id = filed.record.id;
    let (cookie, _) = sign_in(&app, "deputy").await;
    let receipt = get(&app.router, &format!("/cases/{id}/print/receipt"), &cookie).await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.body);
    assert!(receipt.body.contains("信访代办回执"));
    assert!(
        receipt.body.contains("王小明"),
        "the constituent's own name in full"
    );
    assert!(receipt.body.contains("st1-name"));
    for secret in ["13812345678", "110101199003074477", "138****5678"] {
        assert!(
            !receipt.body.contains(secret),
            "{secret} is not on the receipt"
        );
    }
    let history = app.service.history(&deputy, &id).await.expect("history");
    assert_eq!(
        history.accesses.len(),
        1,
        "printing the receipt is a recorded view"
    );
    assert_eq!(history.accesses[0].reason, "打印信访代办回执");
    // Staff may print it; an auditor, who may not see names in full, is not offered it.
    let (auditor, _) = sign_in(&app, "auditor").await;
    assert_eq!(
        get(&app.router, &format!("/cases/{id}/print/receipt"), &auditor)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
