//! The administration pages: an administrator adds, changes, disables and enables people and
//! organisations, resets a password and hands out a token, every form behind CSRF and every
//! change audited; auditors search, verify and export the audit log; nobody else gets in.

use axum::http::StatusCode;

use crate::app::*;

#[tokio::test]
async fn only_administrators_reach_the_administration_pages() {
    let app = app().await;
    for who in ["staff", "lead", "deputy", "auditor"] {
        let (cookie, _) = sign_in(&app, who).await;
        for path in [
            "/admin/users",
            "/admin/users/new",
            "/admin/users/lead",
            "/admin/orgs",
            "/admin/orgs/jtj",
            "/admin/deliveries",
        ] {
            let r = get(&app.router, path, &cookie).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{who} {path}");
        }
        let r = get(&app.router, "/audit", &cookie).await;
        let want = if who == "auditor" {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(r.status, want, "{who} /audit");
    }
    let (cookie, _) = sign_in(&app, "admin").await;
    let home = get(&app.router, "/", &cookie).await;
    assert_eq!(home.location, "/admin/users");
    for path in ["/admin/users", "/admin/orgs", "/audit", "/admin/deliveries"] {
        let r = get(&app.router, path, &cookie).await;
        assert_eq!(r.status, StatusCode::OK, "admin {path}");
    }
    // Administrators still see no cases.
    let r = get(&app.router, "/cases", &cookie).await;
    assert_ne!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn an_administrator_adds_a_clerk_who_then_signs_in() {
    let app = app().await;
    let (cookie, csrf) = sign_in(&app, "admin").await;
    let person = [
        ("login", "jtj_wang"),
        ("name", "王小明"),
        ("role", "department"),
        ("org", "jtj"),
        ("email", "wang@jtj.example.gov.cn"),
        ("phone", "138 0013 5678"),
    ];
    // Without the session's token nothing is added.
    let forged = post(&app.router, "/admin/users", &cookie, &person).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // A bad e-mail comes back with the problem named, and what was typed kept.
    let mut bad = person.to_vec();
    bad[4] = ("email", "not-an-address");
    bad.push(("_csrf", &csrf));
    let r = post(&app.router, "/admin/users", &cookie, &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("电子邮箱") && r.body.contains("王小明"),
        "{}",
        r.body
    );
    let listed = get(&app.router, "/admin/users?q=jtj_wang", &cookie).await;
    assert!(
        !listed.body.contains("/admin/users/jtj_wang"),
        "nothing half-written"
    );

    let mut good = person.to_vec();
    good.push(("_csrf", &csrf));
    let r = post(&app.router, "/admin/users", &cookie, &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/admin/users/jtj_wang?done=added");
    let shown = get(&app.router, "/admin/users/jtj_wang", &cookie).await;
    assert!(shown.body.contains("138****5678"), "the phone masked");
    assert!(!shown.body.contains("13800135678"));

    // A temporary password, shown once; the clerk must replace it before a session is made.
    let r = post(
        &app.router,
        "/admin/users/jtj_wang/password-reset",
        &cookie,
        &[("_csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let temporary = r
        .body
        .split("<code class=\"number\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("temporary password")
        .to_string();
    let first = try_sign_in(&app.router, "jtj_wang", &temporary).await;
    assert_eq!(first.status, StatusCode::UNAUTHORIZED);
    assert!(
        first.body.contains("管理员已重置您的密码"),
        "{}",
        first.body
    );
    let renewed = renew(&app.router, "jtj_wang", &temporary, "Wang-Own-Pass-2024").await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    assert!(renewed.body.contains("新密码已设置"), "{}", renewed.body);
    let clerk = try_sign_in(&app.router, "jtj_wang", "Wang-Own-Pass-2024").await;
    assert_eq!(clerk.status, StatusCode::SEE_OTHER, "{}", clerk.body);

    // Disabled, the clerk's password opens nothing; each step is in the audit log.
    let r = post(
        &app.router,
        "/admin/users/jtj_wang/disable",
        &cookie,
        &[("_csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let refused = try_sign_in(&app.router, "jtj_wang", "Wang-Own-Pass-2024").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let actions: Vec<String> = audit_actions(&app.store)
        .await
        .into_iter()
        .filter(|(_, target, _)| target == "jtj_wang")
        .map(|(a, _, _)| a)
        .collect();
    for want in ["user_added", "password_reset", "user_disabled"] {
        assert!(actions.iter().any(|a| a == want), "{want} in {actions:?}");
    }
}

#[tokio::test]
async fn organisations_are_added_changed_and_disabled() {
    let app = app().await;
    let (cookie, csrf) = sign_in(&app, "admin").await;
    let r = post(
        &app.router,
        "/admin/orgs",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("code", "st9"),
            ("kind", "station"),
            ("name", "新安镇代表之家"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = post(
        &app.router,
        "/admin/orgs/st9",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("name", "新安镇人大代表之家"),
            ("email", ""),
            ("webhook_url", "https://hooks.example.cn/x"),
            ("webhook_secret", "short"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("签名密钥"), "{}", r.body);
    let page = get(&app.router, "/admin/orgs/st9", &cookie).await;
    assert!(page.body.contains("新安镇代表之家"), "nothing half-written");

    // The station's deputies are listed on its page; disabling the station keeps them out.
    let page = get(&app.router, "/admin/orgs/st1", &cookie).await;
    assert!(page.body.contains("本站代表") && page.body.contains("/admin/users/deputy"));
    let (deputy, _) = sign_in(&app, "deputy").await;
    let r = post(
        &app.router,
        "/admin/orgs/st1/disable",
        &cookie,
        &[("_csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        get(&app.router, "/cases", &deputy).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        try_sign_in(&app.router, "deputy", PASSWORD).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn auditors_search_verify_and_export_the_audit_log() {
    let app = app().await;
    try_sign_in(&app.router, "lead", "wrong-password-1").await;
    let (cookie, csrf) = sign_in(&app, "auditor").await;
    let r = get(&app.router, "/audit?action=login_failed", &cookie).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("login_failed") && r.body.contains("lead"));
    assert!(!r.body.contains(">login<"), "only the action asked for");
    let verified = post(&app.router, "/audit/verify", &cookie, &[("_csrf", &csrf)]).await;
    assert!(verified.body.contains("审计日志完整"), "{}", verified.body);
    let forged = post(&app.router, "/audit/verify", &cookie, &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let csv = get(&app.router, "/audit.csv?action=login_failed", &cookie).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with('\u{feff}'));
    assert!(csv.body.contains("login_failed,lead"), "{}", csv.body);
    let actions: Vec<String> = audit_actions(&app.store)
        .await
        .into_iter()
        .map(|(a, _, _)| a)
        .collect();
    assert!(actions.iter().any(|a| a == "audit_exported"));
    assert!(actions.iter().any(|a| a == "audit_verified"));
}

/// A multipart body of the session's token and a file, as a browser sends the upload form.
fn upload(csrf: &str, name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----dubanboundary7MA4YWxk";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn send_upload(app: &App, cookie: &str, csrf: &str, file: &[u8]) -> Reply {
    let (content_type, body) = upload(csrf, "花名册.csv", file);
    let req = axum::http::Request::post("/admin/import")
        .header(axum::http::header::COOKIE, cookie)
        .header(axum::http::header::CONTENT_TYPE, content_type)
        .body(axum::body::Body::from(body))
        .expect("request");
    send(&app.router, req).await
}

#[tokio::test]
async fn a_roster_uploaded_in_the_browser_imports_all_or_nothing() {
    let app = app().await;
    let (cookie, csrf) = sign_in(&app, "admin").await;
    let page = get(&app.router, "/admin/import", &cookie).await;
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    let bad = "登录名,姓名,角色,所属单位代码\nd1,王建国,代表,st1\nd2,,代表,st1\n".as_bytes();
    let r = send_upload(&app, &cookie, &csrf, bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("第 3 行「姓名」列：必填"), "{}", r.body);
    let listed = get(&app.router, "/admin/users?q=d1", &cookie).await;
    assert!(
        !listed.body.contains("/admin/users/d1"),
        "nothing half-written"
    );
    let forged = send_upload(&app, &cookie, "forged", bad).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let good = "登录名,姓名,角色,所属单位代码\nd1,王建国,代表,st1\nd2,李梅,代表,st1\n".as_bytes();
    let r = send_upload(&app, &cookie, &csrf, good).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("新增人员 2 人"), "{}", r.body);
    let r = send_upload(&app, &cookie, &csrf, good).await;
    assert!(
        r.body.contains("新增人员 0 人，更新人员 2 人"),
        "{}",
        r.body
    );
    let (deputy, _) = sign_in(&app, "deputy").await;
    let r = send_upload(&app, &deputy, &csrf, good).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
