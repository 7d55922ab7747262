//! 导入导出 in the pages: staff check a sheet, import it, are refused a second import naming the
//! numbers in Chinese, and record answers by number; the committee exports; no one else may.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::app::*;

const BOUNDARY: &str = "exchange-boundary";

fn form(fields: &[(&str, &str)], file: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .into_bytes(),
        );
    }
    body.extend(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"sheet.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{BOUNDARY}--\r\n"
        )
        .into_bytes(),
    );
    body
}

async fn upload(app: &App, cookie: &str, fields: &[(&str, &str)], file: &str) -> Reply {
    let req = Request::post("/exchange/import")
        .header(header::COOKIE, cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(form(fields, file)))
        .expect("request");
    send(&app.router, req).await
}

const SHEET: &str = "2024年代表建议,,,,,\n\
序号,编号,标题,内容,提出人,提出时间\n\
1,建议〔2024〕007号,关于修缮东村道路的建议,道路损坏严重。,deputy,2024年2月5日\n\
2,建议〔2024〕008号,关于增设公交站点的建议,出行不便。,deputy,2024-02-06\n";

#[tokio::test]
async fn staff_check_import_and_record_answers_and_no_one_else_may() {
    let app = app().await;
    let (staff, token) = sign_in(&app, "staff").await;
    let page = get(&app.router, "/exchange", &staff).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("导入导出") && page.body.contains("只检查"));

    let check = [
        ("_csrf", token.as_str()),
        ("kind", "suggestion"),
        ("mode", "cases"),
        ("step", "check"),
    ];
    let r = upload(&app, &staff, &check, SHEET).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("检查通过：全部 2 行都可以导入"),
        "{}",
        r.body
    );
    let (lead, _) = sign_in(&app, "lead").await;
    assert!(
        !get(&app.router, "/cases", &staff)
            .await
            .body
            .contains("东村道路"),
        "a check writes nothing"
    );

    let import = [
        ("_csrf", token.as_str()),
        ("kind", "suggestion"),
        ("mode", "cases"),
        ("step", "import"),
    ];
    let r = upload(&app, &staff, &import, SHEET).await;
    assert!(r.body.contains("导入完成：新增事项 2 件"), "{}", r.body);
    assert!(
        get(&app.router, "/cases", &staff)
            .await
            .body
            .contains("东村道路")
    );

    // Again: refused whole, each number named in Chinese, by the row the office sees.
    let r = upload(&app, &staff, &import, SHEET).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("未导入任何内容：共 2 处问题"), "{}", r.body);
    assert!(
        r.body
            .contains("第 3 行「编号」：编号 建议〔2024〕007号 已是一件事项的编号"),
        "{}",
        r.body
    );
    assert!(r.body.contains("第 4 行「编号」"), "{}", r.body);

    // A bad cell is named by its row and Chinese header.
    let bad = "编号,标题,内容,提出人,提出时间\n,关于路灯的建议,路灯不亮,deputy,去年春天\n";
    let r = upload(&app, &staff, &import, bad).await;
    assert!(
        r.body.contains("第 2 行「提出时间」：不是日期"),
        "{}",
        r.body
    );

    // An answers sheet by number: staff register and assign both, in one sheet.
    let answers = "编号,登记·时间,交办·时间,交办·主办单位\n\
        建议〔2024〕007号,2024-02-10,2024-02-11,jtj-name\n\
        建议〔2024〕008号,2024-02-10,2024-02-12,jtj\n";
    let record = [
        ("_csrf", token.as_str()),
        ("kind", "suggestion"),
        ("mode", "answers"),
        ("step", "import"),
    ];
    let r = upload(&app, &staff, &record, answers).await;
    assert!(
        r.body.contains("导入完成：2 行答复与评价已记入相应事项"),
        "{}",
        r.body
    );
    assert!(
        get(&app.router, "/inbox", &lead)
            .await
            .body
            .contains("东村道路"),
        "assigned to jtj by name"
    );

    // The committee exports the year; others may neither export nor import.
    let (auditor, auditor_token) = sign_in(&app, "auditor").await;
    let book = get(
        &app.router,
        "/exchange/export.xlsx?kind=suggestion&year=2024",
        &auditor,
    )
    .await;
    assert_eq!(book.status, StatusCode::OK);
    let (deputy, deputy_token) = sign_in(&app, "deputy").await;
    assert_eq!(
        get(&app.router, "/exchange", &deputy).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(
            &app.router,
            "/exchange/export.xlsx?kind=suggestion&year=2024",
            &deputy
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let theirs = [
        ("_csrf", deputy_token.as_str()),
        ("kind", "suggestion"),
        ("mode", "cases"),
        ("step", "import"),
    ];
    assert_eq!(
        upload(&app, &deputy, &theirs, SHEET).await.status,
        StatusCode::FORBIDDEN
    );
    let theirs = [
        ("_csrf", auditor_token.as_str()),
        ("kind", "suggestion"),
        ("mode", "cases"),
        ("step", "import"),
    ];
    let r = upload(&app, &auditor, &theirs, SHEET).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body.contains("无权操作"),
        "refused for the role, not the token: {}",
        r.body
    );
}
