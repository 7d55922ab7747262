//! 导出Excel: each list page's rows with its filters, Chinese headers, dates as date cells,
//! only what the viewer may see, and the export in the audit log; the annual workbook lists
//! each kind's cases by Chinese name.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use calamine::{Data, Reader, Xlsx};
use duban_service::Principal;
use duban_storage::Directory;

use crate::app::*;
use crate::pages::{assigned_suggestion, reply_as_lead};

/// The workbook at `path` for `cookie`: each sheet's name and its rows as text.
async fn workbook(
    app: &App,
    path: &str,
    cookie: &str,
) -> (StatusCode, Vec<(String, Vec<Vec<Data>>)>) {
    let req = Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request");
    let res = tower::ServiceExt::oneshot(app.router.clone(), req)
        .await
        .expect("response");
    let status = res.status();
    if status != StatusCode::OK {
        return (status, Vec::new());
    }
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.contains("spreadsheetml"))
    );
    assert!(
        res.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .is_ok_and(|d| d.contains("filename*=UTF-8''"))
    );
    let bytes = axum::body::to_bytes(res.into_body(), 16 << 20)
        .await
        .expect("body");
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("xlsx");
    let mut sheets = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).expect("sheet");
        sheets.push((name, range.rows().map(|r| r.to_vec()).collect()));
    }
    (status, sheets)
}

fn text(d: &Data) -> String {
    d.to_string()
}

#[tokio::test]
async fn each_list_exports_what_it_shows_with_its_filters() {
    let app = app().await;
    let id = assigned_suggestion(&app).await;
    let number = app
        .service
        .show(
            &Principal {
                user: app.store.user("staff").await.expect("user").expect("staff"),
            },
            &id,
            None,
            None,
        )
        .await
        .expect("show")
        .record
        .number
        .expect("a number");
    let (staff, _) = sign_in(&app, "staff").await;
    let list = get(&app.router, "/cases?kind=suggestion", &staff).await;
    assert!(
        list.body.contains("/cases.xlsx?kind=suggestion"),
        "{}",
        list.body
    );
    let (status, sheets) = workbook(&app, "/cases.xlsx?kind=suggestion", &staff).await;
    assert_eq!(status, StatusCode::OK);
    let rows = &sheets[0].1;
    let headers: Vec<String> = rows[0].iter().map(text).collect();
    assert_eq!(&headers[..4], ["编号", "标题", "类别", "状态"]);
    assert_eq!(rows.len(), 2, "the one suggestion");
    assert_eq!(text(&rows[1][0]), number);
    assert_eq!(text(&rows[1][2]), "代表建议");
    assert_eq!(text(&rows[1][3]), "交办办理中");
    assert!(
        matches!(rows[1][5], Data::DateTime(_)),
        "filed as a date: {:?}",
        rows[1][5]
    );
    assert!(
        matches!(rows[1][6], Data::DateTime(_)),
        "due as a date: {:?}",
        rows[1][6]
    );
    // The same filters: none of another kind.
    let (_, sheets) = workbook(&app, "/cases.xlsx?kind=petition", &staff).await;
    assert_eq!(sheets[0].1.len(), 1, "the headers alone");

    // A department's inbox has its own items; another department's has none of them.
    let (lead, _) = sign_in(&app, "lead").await;
    let (_, sheets) = workbook(&app, "/inbox.xlsx", &lead).await;
    assert_eq!(sheets[0].1.len(), 2);
    let (other, _) = sign_in(&app, "other").await;
    let (_, sheets) = workbook(&app, "/cases.xlsx", &other).await;
    assert_eq!(sheets[0].1.len(), 1, "nothing out of its reach");

    // People and organisations for administrators only; phones masked as the page shows them.
    let (admin, _) = sign_in(&app, "admin").await;
    let (status, sheets) = workbook(&app, "/admin/users.xlsx?role=department", &admin).await;
    assert_eq!(status, StatusCode::OK);
    let logins: Vec<String> = sheets[0].1.iter().skip(1).map(|r| text(&r[0])).collect();
    assert_eq!(logins, ["lead", "other"]);
    let (status, sheets) = workbook(&app, "/admin/orgs.xlsx", &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text(&sheets[0].1[0][1]), "名称");
    assert_eq!(
        workbook(&app, "/admin/users.xlsx", &staff).await.0,
        StatusCode::FORBIDDEN
    );

    // The audit log's own export, and the exports above recorded in it.
    let (auditor, _) = sign_in(&app, "auditor").await;
    let (status, sheets) = workbook(&app, "/audit.xlsx", &auditor).await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<String> = sheets[0].1.iter().skip(1).map(|r| text(&r[5])).collect();
    assert!(
        actions.iter().filter(|a| *a == "export").count() >= 5,
        "{actions:?}"
    );
}

#[tokio::test]
async fn the_annual_workbook_lists_each_kinds_cases_by_chinese_name() {
    let app = app().await;
    let id = assigned_suggestion(&app).await;
    reply_as_lead(&app, &id, "已办。").await;
    let (staff, _) = sign_in(&app, "staff").await;
    let (status, sheets) = workbook(&app, "/reports/annual.xlsx?year=2024", &staff).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    for kind in ["代表建议", "信访代办", "诉前调解"] {
        assert!(names.contains(&kind), "{names:?}");
    }
    let suggestions = &sheets
        .iter()
        .find(|(n, _)| n == "代表建议")
        .expect("sheet")
        .1;
    assert_eq!(text(&suggestions[0][0]), "编号");
    assert_eq!(text(&suggestions[1][1]), "关于修缮东村道路的建议");
    assert_eq!(text(&suggestions[1][3]), "jtj-name");
    assert_eq!(text(&suggestions[1][7]), "A类（已解决或采纳）");
    assert!(
        matches!(suggestions[1][5], Data::DateTime(_)),
        "assigned on a date"
    );
    let departments = &sheets
        .iter()
        .find(|(n, _)| n == "承办单位")
        .expect("sheet")
        .1;
    assert_eq!(
        text(&departments[1][0]),
        "代表建议",
        "kinds named in Chinese"
    );
}
