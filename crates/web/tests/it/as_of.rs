//! 查看某日状态: the case page as the case stood at the end of a day, read only, with its
//! history up to then; a day before the case was filed gets the present page and says why.

use axum::http::StatusCode;

use crate::app::{app, at, get, sign_in};
use crate::pages::{assigned_suggestion, reply_as_lead};

#[tokio::test]
async fn a_case_page_as_of_a_day_shows_how_it_stood_and_offers_nothing_to_do() {
    let app = app().await;
    // Filed, registered and assigned on 2024-03-01; answered on 03-05.
    let id = assigned_suggestion(&app).await;
    *app.clock.0.lock().expect("clock") = at("2024-03-05T02:00:00Z");
    reply_as_lead(&app, &id, "已修缮完毕").await;

    let (staff, _) = sign_in(&app, "staff").await;
    let now = get(&app.router, &format!("/cases/{id}"), &staff).await;
    assert_eq!(now.status, StatusCode::OK);
    assert!(now.body.contains("查看某日状态"), "{}", now.body);
    assert!(now.body.contains("已答复待评价"));

    let then = get(
        &app.router,
        &format!("/cases/{id}?as_of=2024-03-02"),
        &staff,
    )
    .await;
    assert_eq!(then.status, StatusCode::OK, "{}", then.body);
    assert!(then.body.contains("日终时的状态（只读）"), "{}", then.body);
    assert!(then.body.contains("当日状态："));
    assert!(then.body.contains("交办办理中"));
    assert!(!then.body.contains("已答复待评价"), "not yet answered then");
    assert!(
        !then.body.contains("已修缮完毕"),
        "the later reply is not in its history"
    );
    assert!(
        !then.body.contains("我可以办理"),
        "nothing to do in the past"
    );
    assert!(!then.body.contains("name=\"_version\""));

    // A department that never held the case sees nothing of it, then or now.
    let (other, _) = sign_in(&app, "other").await;
    let outsider = get(
        &app.router,
        &format!("/cases/{id}?as_of=2024-03-02"),
        &other,
    )
    .await;
    assert_eq!(outsider.status, StatusCode::NOT_FOUND);
    assert!(!outsider.body.contains("东村道路"));

    // Before the case was filed, or not a day: the present page, saying why.
    for (day, why) in [
        ("2024-02-28", "此前尚无记录"),
        ("2024-2-30", "日期格式应为"),
    ] {
        let early = get(&app.router, &format!("/cases/{id}?as_of={day}"), &staff).await;
        assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY, "{day}");
        assert!(early.body.contains(why), "{day}: {}", early.body);
        assert!(early.body.contains("当前状态："));
    }
}
