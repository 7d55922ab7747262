//! The web pages in process: sign-in guarded by CSRF and a lock after five wrong passwords,
//! every sign-in event audited, cookies flagged, forms refused without the session's token,
//! departments kept to their own cases, and a refused form that keeps its input and changes
//! nothing.

use duban_storage::{Cases, Directory, Inbox};
use std::sync::Arc;

use axum::http::StatusCode;
use duban_core::{Calendar, Workflows};
use duban_service::{Principal, Service};
use duban_storage::Audit;
use duban_web::{WebState, router};
use serde_json::{Value, json};

use crate::app::*;

#[tokio::test]
async fn sign_in_is_guarded_locked_after_five_wrong_passwords_and_audited() {
    let app = app().await;

    // The form's token must come with its cookie.
    let (token, _) = login_form(&app.router).await;
    let forged = post(
        &app.router,
        "/login",
        "duban_login_csrf=somethingelse",
        &[("_csrf", &token), ("login", "lead"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let missing = post(
        &app.router,
        "/login",
        "",
        &[("login", "lead"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);

    // Five wrong passwords in a row, then the right one: refused, for a while.
    for _ in 0..5 {
        let r = try_sign_in(&app.router, "lead", "Wrong-Password-1").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("登录名或密码不正确"));
    }
    let locked = try_sign_in(&app.router, "lead", PASSWORD).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    assert!(locked.body.contains("锁定"), "{}", locked.body);
    assert!(cookie_value(&locked, "duban_session").is_none());
    // An unknown login gets the same answer as a wrong password.
    let unknown = try_sign_in(&app.router, "nobody", PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);

    // Fifteen minutes later the right password works, and the cookie is guarded.
    *app.clock.0.lock().expect("clock") = at("2024-03-01T02:16:00Z");
    let ok = try_sign_in(&app.router, "lead", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location, "/cases");
    let session = ok
        .cookies
        .iter()
        .find(|c| c.starts_with("duban_session="))
        .expect("session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
    assert!(!session.contains("Secure"), "plain HTTP: {session}");
    let tls = try_sign_in(&app.secure_router, "lead", PASSWORD).await;
    assert!(
        tls.cookies
            .iter()
            .any(|c| c.starts_with("duban_session=") && c.ends_with("; Secure"))
    );

    let audit = audit_actions(&app.store).await;
    let count = |action: &str| audit.iter().filter(|(a, _, _)| a == action).count();
    assert_eq!(
        count("login_failed"),
        6,
        "five wrong, one unknown: {audit:?}"
    );
    assert_eq!(count("lockout"), 1, "{audit:?}");
    assert_eq!(count("login_locked"), 1, "{audit:?}");
    assert_eq!(count("login"), 2, "{audit:?}");
    assert!(
        audit
            .iter()
            .any(|(a, t, o)| a == "login_locked" && t == "lead" && o == "refused")
    );
    assert!(matches!(
        app.store.verify_audit().await.expect("verify"),
        duban_storage::Verdict::Intact { .. }
    ));
}

#[tokio::test]
async fn an_expired_password_is_refused_when_the_policy_sets_an_age() {
    let app = app().await;
    let strict = Service::new(
        app.store.clone(),
        Arc::new(Workflows::builtin()),
        Arc::new(Calendar::builtin()),
        app.clock.clone(),
    )
    .with_sign_in_policy(duban_service::SignInPolicy {
        password_max_age_days: 90,
        ..Default::default()
    });
    let strict = router(WebState {
        service: Arc::new(strict),
        secure_cookies: false,
        print: Default::default(),
    });
    // Set on 2024-01-01; on 2024-03-01 it is 60 days old, on 2024-06-01 over 90.
    assert_eq!(
        try_sign_in(&strict, "lead", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    *app.clock.0.lock().expect("clock") = at("2024-06-01T00:00:00Z");
    let expired = try_sign_in(&strict, "lead", PASSWORD).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(expired.body.contains("有效期"), "{}", expired.body);
    assert!(
        cookie_value(&expired, "duban_session").is_none(),
        "no session"
    );
    // The page offers a new password in place of the old: with the form's token, the old
    // password and a new one under the policy.
    assert!(expired.body.contains("action=\"/password/renew\""));
    let (token, csrf_cookie) = login_form(&strict).await;
    let renew = |current: &'static str, new: &'static str, token: String| {
        let strict = strict.clone();
        let cookie = format!("duban_login_csrf={csrf_cookie}");
        async move {
            post(
                &strict,
                "/password/renew",
                &cookie,
                &[
                    ("_csrf", &token),
                    ("login", "lead"),
                    ("current", current),
                    ("new", new),
                    ("confirm", new),
                ],
            )
            .await
        }
    };
    assert_eq!(
        renew(PASSWORD, "Renewed-Pass-2024", "forged".into())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let wrong = renew("Wrong-Password-9", "Renewed-Pass-2024", token.clone()).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("登录名或密码不正确"));
    let ok = renew(PASSWORD, "Renewed-Pass-2024", token.clone()).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body.contains("新密码已设置"));
    assert_eq!(
        try_sign_in(&strict, "lead", "Renewed-Pass-2024")
            .await
            .status,
        StatusCode::SEE_OTHER,
        "a fresh password signs in under the same policy"
    );
    // The default policy has no age limit (the old password is gone now, the new one works).
    assert_eq!(
        try_sign_in(&app.router, "lead", "Renewed-Pass-2024")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn pages_need_a_session_and_forms_need_its_token() {
    let app = app().await;
    let away = get(&app.router, "/dashboard", "").await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    assert_eq!(away.location, "/login?next=/dashboard");

    let (cookie, token) = sign_in(&app, "deputy").await;
    let filing = [
        ("_kind", "petition"),
        ("_key", "k1"),
        ("title", "修路"),
        ("body", "村口道路损坏"),
        ("station", "st1"),
        ("constituent.name", "王某"),
    ];
    let refused = post(&app.router, "/cases/new", &cookie, &filing).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "no token");
    let mut with_wrong = filing.to_vec();
    with_wrong.push(("_csrf", "0123456789"));
    let refused = post(&app.router, "/cases/new", &cookie, &with_wrong).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "wrong token");
    let list = get(&app.router, "/cases", &cookie).await;
    assert!(list.body.contains("暂无事项"), "nothing was filed");

    // With the token it files, once, however often the same form is sent.
    let mut good = filing.to_vec();
    good.push(("_csrf", &token));
    let first = post(&app.router, "/cases/new", &cookie, &good).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let again = post(&app.router, "/cases/new", &cookie, &good).await;
    assert_eq!(again.location, first.location, "the same case");
    let list = get(&app.router, "/cases", &cookie).await;
    assert_eq!(list.body.matches("修路").count(), 1);

    // Signing out needs the token too; after it the session is gone.
    let refused = post(&app.router, "/logout", &cookie, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&app.router, "/cases", &cookie).await.status,
        StatusCode::OK
    );
    let out = post(&app.router, "/logout", &cookie, &[("_csrf", &token)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    // A cookie kept after it is 401, as a dead token is, and sends the browser to sign in.
    let after = get(&app.router, "/cases", &cookie).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert!(
        after.body.contains("url=/login?next=/cases"),
        "{}",
        after.body
    );
}

/// The lead department's reply to suggestion `id` (at version 3), at the clock's time.
pub(crate) async fn reply_as_lead(app: &App, id: &str, answer: &str) {
    let lead = Principal {
        user: app.store.user("lead").await.expect("user").expect("lead"),
    };
    app.service
        .act(
            &lead,
            id,
            "reply",
            &json!({"classification": "A", "answer": answer}),
            3,
            None,
        )
        .await
        .expect("reply");
}

/// A suggestion registered and assigned to `jtj`; returns its id.
pub(crate) async fn assigned_suggestion(app: &App) -> String {
    let staff = Principal {
        user: app.store.user("staff").await.expect("user").expect("staff"),
    };
    let deputy = app
        .store
        .user("deputy")
        .await
        .expect("user")
        .expect("deputy");
    let (filed, _) = app
        .service
        .file(
            &Principal { user: deputy },
            "suggestion",
            &json!({"title": "关于修缮东村道路的建议", "body": "道路损坏严重。"}),
            None,
            None,
        )
        .await
        .expect("file");
    let id = filed.record.id.clone();
    app.service
        .act(&staff, &id, "register", &json!({}), 1, None)
        .await
        .expect("register");
    app.service
        .act(
            &staff,
            &id,
            "assign",
            &json!({"lead_department": "jtj"}),
            2,
            None,
        )
        .await
        .expect("assign");
    id
}

#[tokio::test]
async fn departments_see_only_their_own_and_a_refused_reply_keeps_its_text() {
    let app = app().await;
    let id = assigned_suggestion(&app).await;
    let path = format!("/cases/{id}");

    let (other, _) = sign_in(&app, "other").await;
    let page = get(&app.router, &path, &other).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("东村道路"));
    assert!(
        !get(&app.router, "/inbox", &other)
            .await
            .body
            .contains("东村道路")
    );

    let (lead, token) = sign_in(&app, "lead").await;
    let inbox = get(&app.router, "/inbox", &lead).await;
    assert!(
        inbox.body.contains("关于修缮东村道路的建议"),
        "{}",
        inbox.body
    );
    let page = get(&app.router, &path, &lead).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("自2024-03-01"),
        "the deadline is explained"
    );

    // A reply without its classification: refused, the text kept, the case unchanged.
    let refused = post(
        &app.router,
        &format!("{path}/actions/reply"),
        &lead,
        &[
            ("_csrf", &token),
            ("_version", "3"),
            ("answer", "已安排维修<b>计划</b>"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("已安排维修&lt;b&gt;计划&lt;/b&gt;"),
        "kept, escaped"
    );
    assert!(refused.body.contains("必填"));
    let case = app.store.case(&id).await.expect("read").expect("case");
    assert_eq!(case.case.version, 3);
    assert_eq!(case.case.state, "assigned");

    // Sent at a stale version: refused as such, nothing written.
    let stale = post(
        &app.router,
        &format!("{path}/actions/reply"),
        &lead,
        &[
            ("_csrf", &token),
            ("_version", "2"),
            ("answer", "已维修"),
            ("classification", "A"),
        ],
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    // At the right version it goes through.
    let done = post(
        &app.router,
        &format!("{path}/actions/reply"),
        &lead,
        &[
            ("_csrf", &token),
            ("_version", "3"),
            ("answer", "已维修"),
            ("classification", "A"),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let case = app.store.case(&id).await.expect("read").expect("case");
    assert_eq!(case.case.state, "handled");
    let history: Vec<Value> = app
        .store
        .events(&id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| json!(e.event.action))
        .collect();
    assert_eq!(
        history,
        vec![
            json!("file"),
            json!("register"),
            json!("assign"),
            json!("reply")
        ]
    );
}

#[tokio::test]
async fn people_change_their_own_password_under_the_policy() {
    let app = app().await;
    let (cookie, token) = sign_in(&app, "lead").await;
    assert_eq!(
        get(&app.router, "/password", &cookie).await.status,
        StatusCode::OK
    );
    let change = |current: &'static str, new: &'static str, confirm: &'static str, csrf: String| {
        let router = app.router.clone();
        let cookie = cookie.clone();
        async move {
            post(
                &router,
                "/password",
                &cookie,
                &[
                    ("_csrf", &csrf),
                    ("current", current),
                    ("new", new),
                    ("confirm", confirm),
                ],
            )
            .await
        }
    };
    let forged = change(PASSWORD, "Brand-New-Pass-7", "Brand-New-Pass-7", "x".into()).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let wrong = change(
        "Not-My-Password-1",
        "Brand-New-Pass-7",
        "Brand-New-Pass-7",
        token.clone(),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("当前密码不正确"));
    let mismatch = change(
        PASSWORD,
        "Brand-New-Pass-7",
        "Brand-New-Pass-8",
        token.clone(),
    )
    .await;
    assert!(mismatch.body.contains("不一致"));
    let weak = change(PASSWORD, "short", "short", token.clone()).await;
    assert!(weak.body.contains("至少10个字符"), "{}", weak.body);
    let done = change(
        PASSWORD,
        "Brand-New-Pass-7",
        "Brand-New-Pass-7",
        token.clone(),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("密码已修改"));
    assert_eq!(
        try_sign_in(&app.router, "lead", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        try_sign_in(&app.router, "lead", "Brand-New-Pass-7")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let audit = audit_actions(&app.store).await;
    assert!(audit.contains(&("password_change".into(), "lead".into(), "refused".into())));
    assert!(audit.contains(&("password_change".into(), "lead".into(), "ok".into())));
}

#[tokio::test]
async fn the_committee_sees_what_went_out_about_a_case_and_not_what_it_said() {
    let app = app().await;
    let id = assigned_suggestion(&app).await;
    // What the scheduler writes when it fires the assignment's notice.
    app.store
        .add_notification(&duban_storage::Notification {
            id: "ntf_1".into(),
            recipient: "lead".into(),
            case_id: Some(id.clone()),
            reminder_key: Some("notice:assign".into()),
            title: "【新交办】代表建议《关于修缮东村道路的建议》".into(),
            body: "只在收件箱里看得到的正文".into(),
            escalate: false,
            created_at: at("2024-03-01T02:00:01Z"),
            read_at: None,
        })
        .await
        .expect("notice");
    let path = format!("/cases/{id}");
    let (staff, _) = sign_in(&app, "staff").await;
    let page = get(&app.router, &path, &staff).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("通知发送情况"), "{}", page.body);
    for shown in ["【新交办】", "站内消息", "未读"] {
        assert!(page.body.contains(shown), "{shown}");
    }
    assert!(!page.body.contains("只在收件箱里看得到的正文"));
    // The department the case is assigned to sees the case, not the list of notices.
    let (lead, _) = sign_in(&app, "lead").await;
    let page = get(&app.router, &path, &lead).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("通知发送情况"));
}
