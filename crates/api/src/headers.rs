//! What every answer says to the browser about itself, and the cap on what a request's headers
//! may weigh. The pages have no script and take nothing from elsewhere, so the content policy
//! can be strict; answers carry case records and personal data, so nothing is cached.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The most all of a request's header names and values may weigh together. Browsers send a few
/// KiB; 16 KiB is what common proxies allow. More is refused with 431 before any work is done.
pub const HEADER_LIMIT: usize = 16 * 1024;

/// How the site is served.
#[derive(Debug, Clone, Copy, Default)]
pub struct Headers {
    /// The base URL is `https://…`: browsers are told to keep to HTTPS (HSTS).
    pub https: bool,
}

const CSP: &str = "default-src 'self'; frame-ancestors 'none'; form-action 'self'";

/// The middleware: refuses oversized headers, then adds the security headers to the answer.
pub async fn secure(State(h): State<Headers>, req: Request, next: Next) -> Response {
    let weight: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let mut response = if weight > HEADER_LIMIT {
        ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
            "Request headers too large",
            format!("the request's headers may weigh {HEADER_LIMIT} bytes in all"),
        )
        .into_response()
    } else {
        next.run(req).await
    };
    let set = |r: &mut Response, name: HeaderName, value: &'static str| {
        r.headers_mut()
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(&mut response, header::CONTENT_SECURITY_POLICY, CSP);
    set(&mut response, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(&mut response, header::REFERRER_POLICY, "same-origin");
    set(&mut response, header::X_FRAME_OPTIONS, "DENY");
    // Pages and answers hold case records, and revealed personal data: none may be kept by a
    // browser or a proxy. Only what says otherwise itself (the stylesheet) is cached.
    set(&mut response, header::CACHE_CONTROL, "no-store");
    if h.https {
        set(
            &mut response,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}
