//! Request extractors whose failures are problem documents: the caller behind the bearer token,
//! JSON bodies, query strings, and the request id.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use duban_service::{Credential, Principal};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller. Missing, malformed, unknown or revoked tokens all answer 401.
#[derive(Debug)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Bearer(credential) = Bearer::from_request_parts(parts, state).await?;
        let principal = state.service.authenticate(&credential).await?;
        // The access log's user (the request's span declares the field).
        tracing::Span::current().record("user", principal.user.login.as_str());
        Ok(Caller(principal))
    }
}

/// A bearer token as sent, not yet checked: for a handler whose use case checks it in the
/// same read as what it acts on (`Service::act`). A missing or malformed header answers 401
/// here.
#[derive(Debug)]
pub struct Bearer(pub Credential);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::unauthenticated(
                "send `Authorization: Bearer <token>`; `duban token create LOGIN` makes one",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthenticated("the Authorization header must be `Bearer <token>`")
            })?;
        let source = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or_else(|| "api".into(), |c| c.0.ip().to_string());
        // The path as sent, /api/v1 included (the API's router is nested).
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| parts.uri.path().to_string(), |u| u.0.path().to_string());
        Ok(Bearer(Credential {
            token: token.to_string(),
            source,
            path,
        }))
    }
}

/// A JSON body, or a problem saying what is wrong with it.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(rejection) => Err(json_problem(rejection)),
        }
    }
}

/// serde's messages quote the offending value (`invalid type: string "…"`); a value may be
/// someone's ID number, so problem details keep the message and drop what was quoted.
pub(crate) fn without_quoted_values(text: &str) -> String {
    // serde quotes a submitted string in "…" and a submitted number or variant in `…`; only a
    // field's name, after the word `field`, is kept, since it is the caller's own key.
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut keep = false;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => {
                out.push(c);
                quote = None;
            }
            Some(_) => {
                if keep {
                    out.push(c);
                }
            }
            None if c == '"' || c == '`' => {
                keep = c == '`' && out.trim_end().ends_with("field");
                out.push(c);
                if !keep {
                    out.push('…');
                }
                quote = Some(c);
            }
            None => out.push(c),
        }
    }
    out
}

fn json_problem(rejection: JsonRejection) -> ApiError {
    let detail = without_quoted_values(&rejection.body_text());
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "JSON expected",
            "send the body as JSON with `Content-Type: application/json`",
        )
        .field("Content-Type"),
        JsonRejection::JsonDataError(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Invalid input",
            detail,
        ),
        JsonRejection::JsonSyntaxError(_) => ApiError::malformed(detail),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Body too large",
            format!(
                "the body is larger than the limit of {} bytes",
                crate::BODY_LIMIT
            ),
        ),
        other => ApiError::malformed(without_quoted_values(&other.body_text())),
    }
}

/// A query string, or a 400 naming the parameter at fault (unknown parameters included).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        // Decoded strictly first: a reason or a filter that is not UTF-8 would otherwise be
        // read, and recorded, with replacement characters.
        if let Some(bad) = duban_core::text::undecodable_pair(query.as_bytes()) {
            let name = bad.unwrap_or_else(|| "query".into());
            return Err(ApiError::malformed(format!(
                "query parameter `{name}` is not UTF-8 text once percent-decoded"
            ))
            .field(&name));
        }
        serde_urlencoded_from_str(query).map(Query).map_err(|e| {
            ApiError::malformed(format!("query string: {}", without_quoted_values(&e)))
                .field("query")
        })
    }
}

fn serde_urlencoded_from_str<T: DeserializeOwned>(q: &str) -> Result<T, String> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{q}")
            .parse()
            .map_err(|_| "not a valid URI".to_string())?,
    )
    .map(|axum::extract::Query(v)| v)
    .map_err(|e| e.body_text())
}

/// The request id set by the request-id layer, recorded with events.
#[derive(Debug)]
pub struct RequestId(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId(
            parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submitted_values_are_cut_out_and_field_names_kept() {
        let cut = without_quoted_values(
            "payload: invalid type: integer `110101199003074477`, expected a map; string \"13812345678\"; unknown variant `x`; missing field `title`",
        );
        assert!(
            !cut.contains("110101199003074477") && !cut.contains("13812345678"),
            "{cut}"
        );
        assert!(!cut.contains("`x`"), "{cut}");
        assert!(cut.contains("missing field `title`"), "{cut}");
    }
}
