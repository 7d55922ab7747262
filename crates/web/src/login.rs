//! Signing in and out. The sign-in form is protected by a double-submit CSRF cookie (there is no
//! session yet); wrong passwords count towards a lock, and every attempt is audited.

use crate::strict::Form;
use axum::extract::{FromRequest, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use duban_service::SignIn;
use maud::{Markup, html};
use serde::Deserialize;

use crate::layout::{bare, when};
use crate::session::{
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, Viewer, client_address, cookie, csrf_refused, same_token,
    set_cookie,
};
use crate::{WebState, refused};

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Only a path on this site, so that a link to the sign-in page cannot send anyone elsewhere
/// after: one leading `/`, not `//` or `/\\`, and no backslash or control character, as sent or
/// once more percent-decoded (browsers drop a tab or a newline inside a URL, so `/\t/evil.example`
/// is `//evil.example` to them). Anything else is `/`. What passes is written for the `Location`
/// header with every byte outside printable ASCII percent-encoded, so no path makes a bad header.
fn local(next: Option<&str>) -> String {
    let safe = |p: &str| {
        p.starts_with('/')
            && !p.starts_with("//")
            && !p.starts_with("/\\")
            && !p.chars().any(|c| c == '\\' || c.is_control())
    };
    let Some(n) = next else { return "/".into() };
    let decoded = percent_encoding::percent_decode_str(n).decode_utf8();
    match decoded {
        Ok(d) if safe(n) && safe(&d) => n
            .bytes()
            .map(|b| match b {
                b'!'..=b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect(),
        _ => "/".into(),
    }
}

fn random() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn render(csrf: &str, next: &str, login: &str, error: Option<&str>) -> Markup {
    render_with(csrf, next, login, error, None)
}

fn render_with(
    csrf: &str,
    next: &str,
    login: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Markup {
    bare(
        "登录",
        html! {
            h1.brand-title { "督办" }
            p.muted { "人大代表建议 · 信访代办 · 诉前调解 办理督办系统" }
            form.card method="post" action="/login" {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                @if let Some(e) = error { p.error.banner role="alert" { (e) } }
                @if let Some(n) = notice { p.banner.done role="status" { (n) } }
                div.field {
                    label for="login" { "登录名" }
                    input #login name="login" type="text" value=(login) required autocomplete="username" autofocus;
                }
                div.field {
                    label for="password" { "密码" }
                    input #password name="password" type="password" required autocomplete="current-password";
                }
                button.primary type="submit" { "登录" }
            }
        },
    )
}

/// The sign-in page, with a fresh CSRF cookie.
pub async fn form(State(st): State<WebState>, Query(q): Query<Next>) -> Response {
    let token = random();
    let mut response = render(&token, &local(q.next.as_deref()), "", None).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, &token, 3600, st.secure_cookies),
    );
    response
}

#[derive(Debug, Deserialize)]
pub struct Credentials {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
    next: Option<String>,
}

/// A form posted by someone not yet signed in, with where it came from, once its CSRF token
/// matches the double-submit cookie; otherwise the page that refuses it.
async fn signed_out_form<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    request: axum::extract::Request,
    incomplete: &str,
    csrf: impl Fn(&T) -> &String,
) -> Result<(T, String), Response> {
    let source = client_address(request.extensions());
    let Ok(Form(form)) = Form::<T>::from_request(request, &()).await else {
        return Err(crate::layout::error_page(
            StatusCode::BAD_REQUEST,
            "请求有误",
            incomplete,
        ));
    };
    let expected = cookie(headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !same_token(csrf(&form), &expected) {
        return Err(csrf_refused());
    }
    Ok((form, source))
}

pub async fn submit(
    State(st): State<WebState>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let (c, source) =
        match signed_out_form::<Credentials>(&headers, request, "登录表单不完整。", |c| {
            &c.csrf
        })
        .await
        {
            Ok(form) => form,
            Err(refusal) => return refusal,
        };
    // The token the form carried, which matched its cookie: pages sent back carry it again.
    let expected = c.csrf.clone();
    let next = local(c.next.as_deref());
    let again = |status: StatusCode, message: &str| {
        (status, render(&expected, &next, &c.login, Some(message))).into_response()
    };
    match st
        .service
        .sign_in(c.login.trim(), &c.password, &source)
        .await
    {
        Ok(SignIn::Welcome {
            cookie, expires_at, ..
        }) => {
            let seconds = expires_at
                .duration_since(st.service.now())
                .as_secs()
                .max(60);
            let mut response = Redirect::to(&next).into_response();
            let h = response.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &cookie, seconds, st.secure_cookies),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(LOGIN_CSRF_COOKIE, "", 0, st.secure_cookies),
            );
            response
        }
        Ok(SignIn::Wrong) => again(StatusCode::UNAUTHORIZED, "登录名或密码不正确。"),
        Ok(SignIn::Locked { until }) => again(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "连续输错密码次数过多，账户已暂时锁定，请于 {} 后再试。",
                when(until)
            ),
        ),
        Ok(SignIn::Expired) => (
            StatusCode::UNAUTHORIZED,
            renew_page(
                &expected,
                &c.login,
                "密码已超过有效期，请设置新密码后再登录。",
            ),
        )
            .into_response(),
        Ok(SignIn::MustChange) => (
            StatusCode::UNAUTHORIZED,
            renew_page(
                &expected,
                &c.login,
                "管理员已重置您的密码。请用收到的临时密码设置新密码后再登录。",
            ),
        )
            .into_response(),
        Ok(SignIn::Disabled) => again(StatusCode::FORBIDDEN, "账户已停用，请联系系统管理员。"),
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct Token {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

pub async fn logout(State(st): State<WebState>, v: Viewer, Form(t): Form<Token>) -> Response {
    if let Err(r) = v.check_csrf(Some(&t.csrf)) {
        return r;
    }
    if let Err(e) = st.service.sign_out(&v.p, &v.cookie, &v.source).await {
        return refused(e);
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, st.secure_cookies),
    );
    response
}

/// The current password, the new one with the policy, and the new one again.
fn password_fields(current: &str) -> Markup {
    html! {
        div.field {
            label for="current" { (current) }
            input #current name="current" type="password" required autocomplete="current-password";
        }
        div.field {
            label for="new" { "新密码" }
            input #new name="new" type="password" required autocomplete="new-password";
            p.hint { "至少10个字符，包含大写字母、小写字母、数字、其他字符中的至少三类，且不含登录名。" }
        }
        div.field {
            label for="confirm" { "再次输入新密码" }
            input #confirm name="confirm" type="password" required autocomplete="new-password";
        }
    }
}

/// The form for setting a new password when the old one has expired (no session yet).
fn renew_page(csrf: &str, login: &str, message: &str) -> Markup {
    bare(
        "设置新密码",
        html! {
            h1 { "设置新密码" }
            p.error.banner role="alert" { (message) }
            form.card method="post" action="/password/renew" {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="login" value=(login);
                (password_fields("原密码"))
                button.primary type="submit" { "设置新密码" }
            }
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct Renewal {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

/// Sets a new password in place of an expired one, then back to sign-in.
pub async fn renew(
    State(st): State<WebState>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let (f, source) =
        match signed_out_form::<Renewal>(&headers, request, "表单不完整。", |f| &f.csrf).await
        {
            Ok(form) => form,
            Err(refusal) => return refusal,
        };
    // The token the form carried, which matched its cookie: pages sent back carry it again.
    let expected = f.csrf.clone();
    if f.new != f.confirm {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            renew_page(&expected, &f.login, "两次输入的新密码不一致。"),
        )
            .into_response();
    }
    match st
        .service
        .renew_expired_password(f.login.trim(), &f.current, &f.new, &source)
        .await
    {
        Ok(Ok(())) => render_with(
            &expected,
            "/",
            &f.login,
            None,
            Some("新密码已设置，请用新密码登录。"),
        )
        .into_response(),
        Ok(Err(why)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            renew_page(&expected, &f.login, &why),
        )
            .into_response(),
        Err(e) => refused(e),
    }
}

fn password_page(v: &Viewer, message: Option<(&str, bool)>) -> Markup {
    crate::layout::page(
        v,
        "修改密码",
        html! {
            @if let Some((m, ok)) = message {
                @if ok { p.banner.done role="status" { (m) } }
                @else { p.error.banner role="alert" { (m) } }
            }
            form.card method="post" action="/password" {
                (crate::layout::csrf(v))
                (password_fields("当前密码"))
                button.primary type="submit" { "修改密码" }
            }
        },
    )
}

/// The form to change one's own password.
pub async fn password_form(v: Viewer) -> Markup {
    password_page(&v, None)
}

#[derive(Debug, Deserialize)]
pub struct NewPassword {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    State(st): State<WebState>,
    v: Viewer,
    Form(f): Form<NewPassword>,
) -> Response {
    if let Err(r) = v.check_csrf(Some(&f.csrf)) {
        return r;
    }
    if f.new != f.confirm {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            password_page(&v, Some(("两次输入的新密码不一致。", false))),
        )
            .into_response();
    }
    match st
        .service
        .change_password(&v.p, &v.cookie, &f.current, &f.new, &v.source)
        .await
    {
        Ok(Ok(())) => {
            password_page(&v, Some(("密码已修改。下次登录请使用新密码。", true))).into_response()
        }
        Ok(Err(why)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            password_page(&v, Some((&why, false))),
        )
            .into_response(),
        Err(e) => refused(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_sign_in_only_local_paths() {
        assert_eq!(local(Some("/cases/1")), "/cases/1");
        assert_eq!(local(Some("//evil.example/")), "/");
        assert_eq!(local(Some("https://evil.example/")), "/");
        assert_eq!(local(Some("/\\evil.example")), "/");
        assert_eq!(local(None), "/");
        // What browsers would follow elsewhere, or what would make a bad header.
        for bad in [
            "/\t/evil.example/",
            "/%09/evil.example/",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/\u{b}/evil.example",
            "/\0",
            "/%0d%0aSet-Cookie:x",
            "/%5Cevil.example",
            "/%2F/evil.example",
            "/ok/%5c..",
            "/%FF",
            "",
            "evil.example",
        ] {
            assert_eq!(local(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(
            local(Some("/cases?kind=petition&q=路灯")),
            "/cases?kind=petition&q=%E8%B7%AF%E7%81%AF"
        );
        assert_eq!(local(Some("/cases/a b")), "/cases/a%20b");
    }
}
