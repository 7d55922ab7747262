//! The application the web suites drive: an office with a department, a station and their
//! people, its router (plain and behind TLS), and requests sent through it as a browser would.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use duban_core::Role;
use duban_service::{FixedClock, Service};
use duban_storage::{Audit, OrgKind, SqlStore};
use duban_testkit::Office;
use duban_web::{WebState, router};
use jiff::Timestamp;
use tower::ServiceExt;

pub(crate) const PASSWORD: &str = "Correct-Horse-9";

pub(crate) struct App {
    pub(crate) router: Router,
    pub(crate) secure_router: Router,
    pub(crate) store: SqlStore,
    pub(crate) service: Arc<Service<SqlStore>>,
    pub(crate) clock: Arc<FixedClock>,
    pub(crate) office: Office,
}

pub(crate) fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

pub(crate) async fn app() -> App {
    let office = Office::builder()
        .org("jtj", OrgKind::Department, "jtj-name")
        .org("wsj", OrgKind::Department, "wsj-name")
        .org("st1", OrgKind::Station, "st1-name")
        .user("staff", Role::Staff, None)
        .user("lead", Role::Department, Some("jtj"))
        .user("other", Role::Department, Some("wsj"))
        .user("deputy", Role::Deputy, Some("st1"))
        .user("admin", Role::Admin, None)
        .user("auditor", Role::Auditor, None)
        .password(PASSWORD)
        .opens_at("2024-03-01T10:00:00")
        .build()
        .await;
    let service = office.service.clone();
    App {
        router: router(WebState {
            service: service.clone(),
            secure_cookies: false,
            print: Default::default(),
        }),
        secure_router: router(WebState {
            service: service.clone(),
            secure_cookies: true,
            print: Default::default(),
        }),
        store: office.store.clone(),
        service,
        clock: office.clock.clone(),
        office,
    }
}

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) location: String,
    pub(crate) cookies: Vec<String>,
    pub(crate) body: String,
}

pub(crate) async fn send(router: &Router, req: Request<Body>) -> Reply {
    let res = router.clone().oneshot(req).await.expect("response");
    let status = res.status();
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let cookies = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let bytes = axum::body::to_bytes(res.into_body(), 4 << 20)
        .await
        .expect("body");
    Reply {
        status,
        location,
        cookies,
        body: String::from_utf8_lossy(&bytes).to_string(),
    }
}

pub(crate) async fn get(router: &Router, path: &str, cookie: &str) -> Reply {
    let req = Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request");
    send(router, req).await
}

pub(crate) fn encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc = |s: &str| {
                s.bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect::<String>()
            };
            format!("{}={}", enc(k), enc(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

pub(crate) async fn post(
    router: &Router,
    path: &str,
    cookie: &str,
    pairs: &[(&str, &str)],
) -> Reply {
    let req = Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(encode(pairs)))
        .expect("request");
    send(router, req).await
}

pub(crate) fn cookie_value(reply: &Reply, name: &str) -> Option<String> {
    reply.cookies.iter().find_map(|c| {
        c.split(';')
            .next()
            .and_then(|kv| kv.split_once('='))
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
}

pub(crate) fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).expect("hidden field") + marker.len();
    body[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The sign-in page's token and cookie.
pub(crate) async fn login_form(router: &Router) -> (String, String) {
    let page = get(router, "/login", "").await;
    let cookie = cookie_value(&page, "duban_login_csrf").expect("csrf cookie");
    (hidden(&page.body, "_csrf"), cookie)
}

pub(crate) async fn try_sign_in(router: &Router, login: &str, password: &str) -> Reply {
    let (token, cookie) = login_form(router).await;
    post(
        router,
        "/login",
        &format!("duban_login_csrf={cookie}"),
        &[
            ("_csrf", &token),
            ("login", login),
            ("password", password),
            ("next", "/cases"),
        ],
    )
    .await
}

/// Signs in; returns the session's Cookie header and its CSRF token.
pub(crate) async fn sign_in(app: &App, login: &str) -> (String, String) {
    let reply = try_sign_in(&app.router, login, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let cookie = format!(
        "duban_session={}",
        cookie_value(&reply, "duban_session").expect("session")
    );
    let page = get(&app.router, "/notifications", &cookie).await;
    (cookie.clone(), hidden(&page.body, "_csrf"))
}

pub(crate) async fn audit_actions(store: &SqlStore) -> Vec<(String, String, String)> {
    let mut rows: Vec<_> = store
        .audit_tail(100)
        .await
        .expect("audit")
        .into_iter()
        .map(|(_, r)| (r.action, r.target, r.outcome))
        .collect();
    rows.reverse();
    rows
}

/// Sets a new password in place of an expired or reset one, with the sign-in form's token.
pub(crate) async fn renew(router: &Router, login: &str, current: &str, new: &str) -> Reply {
    let (token, csrf_cookie) = login_form(router).await;
    post(
        router,
        "/password/renew",
        &format!("duban_login_csrf={csrf_cookie}"),
        &[
            ("_csrf", &token),
            ("login", login),
            ("current", current),
            ("new", new),
            ("confirm", new),
        ],
    )
    .await
}
