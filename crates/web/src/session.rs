//! Who is looking at the page: the session cookie, the signed-in user behind it, and the CSRF
//! token every form of that session must carry.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use duban_service::Principal;

use crate::WebState;
use crate::layout::error_page;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "duban_session";
/// The sign-in form's own CSRF cookie (double submit: before sign-in there is no session).
pub const LOGIN_CSRF_COOKIE: &str = "duban_login_csrf";

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Lax always, Secure when served over TLS.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}"
    ))
    .unwrap_or(HeaderValue::from_static(""))
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The client address, from the connection (never from a header a client could set).
pub fn client_address(parts_or_ext: &axum::http::Extensions) -> String {
    parts_or_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The signed-in user of this request. Without a live session the page redirects to sign-in,
/// coming back to where it was asked for.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub p: Principal,
    pub csrf: String,
    pub cookie: String,
    pub source: String,
    /// How many of their notices are unread: the header shows it on every page.
    pub unread: u64,
    /// The kinds their role may file, in the work report's order, each with what its link is
    /// called: the header offers them on every page.
    pub filing: Vec<(String, String)>,
}

impl Viewer {
    pub fn login(&self) -> &str {
        &self.p.user.login
    }

    /// Refuses a form that does not carry this session's CSRF token.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), Response> {
        if sent.is_some_and(|t| same_token(t, &self.csrf)) {
            Ok(())
        } else {
            Err(csrf_refused())
        }
    }
}

/// The answer to a session cookie that no longer opens a session (signed out, expired, ended
/// by an administrator, its person disabled): 401, as the API answers a dead token, with the
/// cookie cleared and the browser sent on to sign in (a refresh, since pages have no script).
fn ended(to_sign_in: &str, secure: bool) -> Response {
    let page = crate::layout::bare(
        "登录已失效",
        maud::html! {
            meta http-equiv="refresh" content=(format!("0; url={to_sign_in}"));
            h1 { "登录已失效" }
            p { "您的登录已结束（已退出、已超时，或账户已被管理员停用）。" }
            p { a href=(to_sign_in) { "重新登录" } }
        },
    );
    let mut response = (axum::http::StatusCode::UNAUTHORIZED, page).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, secure),
    );
    response
}

/// The answer to a form without a valid CSRF token.
pub fn csrf_refused() -> Response {
    error_page(
        axum::http::StatusCode::FORBIDDEN,
        "表单已失效",
        "这份表单没有携带有效的安全令牌（可能已过期，或来自其他网站）。请返回上一页刷新后重新提交。",
    )
}

impl FromRequestParts<WebState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &WebState) -> Result<Self, Response> {
        let source = client_address(&parts.extensions);
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map(|u| u.0.path().to_string())
            .unwrap_or_else(|| parts.uri.path().to_string());
        // Only local paths, so the sign-in page cannot be made to send anyone elsewhere.
        let next = if path.starts_with('/') && !path.starts_with("//") {
            path
        } else {
            "/".into()
        };
        let to_sign_in = format!("/login?next={}", crate::layout::url_encode(&next));
        let Some(cookie) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(Redirect::to(&to_sign_in).into_response());
        };
        match st.service.session(&cookie).await {
            Ok(Some((p, csrf))) => {
                // The access log's user (the request's span declares the field).
                tracing::Span::current().record("user", p.user.login.as_str());
                // A count that cannot be read is shown as none rather than failing the page.
                let unread = st.service.unread(&p).await.unwrap_or(0);
                let mut kinds: Vec<_> = st
                    .service
                    .workflows()
                    .iter()
                    .filter(|wf| wf.filing.roles.contains(&p.user.role))
                    .collect();
                kinds.sort_by_key(|wf| duban_core::vocabulary::kind::report_order(&wf.kind));
                let filing = kinds
                    .into_iter()
                    .map(|wf| (wf.kind.clone(), wf.filing_title(p.user.role)))
                    .collect();
                Ok(Viewer {
                    p,
                    csrf,
                    cookie,
                    source,
                    unread,
                    filing,
                })
            }
            Ok(None) => Err(ended(&to_sign_in, st.secure_cookies)),
            Err(e) => {
                tracing::error!(error = %e, "reading a session");
                Err(error_page(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "系统错误",
                    "暂时无法读取登录状态，请稍后再试。",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name_among_many() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; duban_session=abc; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn tokens_compare_whole_and_never_empty() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert!(!same_token("", ""));
    }

    #[test]
    fn cookies_are_http_only_same_site_and_secure_over_tls() {
        let plain = set_cookie("s", "v", 60, false);
        let tls = set_cookie("s", "v", 60, true);
        assert!(
            plain
                .to_str()
                .unwrap_or_default()
                .contains("HttpOnly; SameSite=Lax")
        );
        assert!(!plain.to_str().unwrap_or_default().contains("Secure"));
        assert!(tls.to_str().unwrap_or_default().ends_with("; Secure"));
    }
}
