//! 重复信访 on the web: the case page tells the filing deputy and staff that the person has
//! petitioned in the last twelve months, with the earlier cases; a department handling the
//! case is not told; and the list narrows to repeat petitions.

use axum::http::StatusCode;
use serde_json::json;

use crate::app::{app, get, sign_in};

#[tokio::test]
async fn the_case_page_names_earlier_petitions_to_the_filer_and_staff_only() {
    let app = app().await;
    let o = &app.office;
    let petition = |title: &str| {
        json!({"title": title, "body": "……", "station": "st1",
               "constituent": {"name": "王小明", "id_number": "110101199003074477"}})
    };
    let first = o
        .file(
            "deputy",
            "petition",
            petition("拖欠工资"),
            "2024-03-04T10:00:00",
        )
        .await;
    let again = o
        .file(
            "deputy",
            "petition",
            petition("再次反映拖欠工资"),
            "2024-05-06T10:00:00",
        )
        .await;
    o.act(
        &again,
        "transfer",
        "deputy",
        json!({"lead_department": "jtj"}),
        "2024-05-06T11:00:00",
    )
    .await;

    for who in ["staff", "deputy"] {
        let (cookie, _) = sign_in(&app, who).await;
        let page = get(&app.router, &format!("/cases/{again}"), &cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("此人近12个月已有"),
            "{who}: {}",
            page.body
        );
        assert!(
            page.body.contains(&format!("href=\"/cases/{first}\"")),
            "{who}: a link to the earlier petition"
        );
        // The first petition has nothing before it.
        let page = get(&app.router, &format!("/cases/{first}"), &cookie).await;
        assert!(!page.body.contains("此人近12个月已有"), "{who}");
    }
    // The department handling the case sees the case, not the person's record.
    let (lead, _) = sign_in(&app, "lead").await;
    let page = get(&app.router, &format!("/cases/{again}"), &lead).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("此人近12个月已有"), "{}", page.body);
    assert!(!page.body.contains(&first));

    // The list narrowed to repeat petitions.
    let (staff, _) = sign_in(&app, "staff").await;
    let list = get(&app.router, "/cases?repeat=1", &staff).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("再次反映拖欠工资"), "{}", list.body);
    assert!(list.body.contains(&again));
    assert!(!list.body.contains(&first), "{}", list.body);
}
