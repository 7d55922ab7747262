//! The one error type at the HTTP edge: every failure becomes `application/problem+json`
//! (RFC 9457) with a stable `type`. 4xx answers explain; 5xx answers say nothing of the cause,
//! which goes to the log instead.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use duban_service::{Error as ServiceError, FieldProblem};
use serde::Serialize;
use utoipa::ToSchema;

/// A problem report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A stable identifier of the kind of problem, e.g. `urn:duban:problem:not-found`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The action at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Every invalid field, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The actions open to the caller now, when an action was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<String>>,
    /// The case's current version, when the caller's was stale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<u64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError(pub Box<Problem>);

impl ApiError {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self(Box::new(Problem {
            kind: format!("urn:duban:problem:{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            action: None,
            errors: Vec::new(),
            allowed_actions: None,
            current_version: None,
        }))
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.0.field = Some(field.into());
        self
    }

    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-request",
            "Malformed request",
            detail,
        )
    }

    /// A well-formed request whose field makes no sense here (422, like the service's own).
    pub fn validation(field: &str, problem: &str) -> Self {
        ServiceError::Invalid {
            problems: vec![FieldProblem {
                field: field.into(),
                problem: problem.into(),
            }],
        }
        .into()
    }

    pub fn unauthenticated(detail: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
            detail,
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            "no such case, or not one you may see",
        )
    }

    pub fn precondition_required() -> Self {
        Self::new(
            StatusCode::PRECONDITION_REQUIRED,
            "if-match-required",
            "If-Match required",
            "send the case's version (its ETag) in If-Match, so that a change made meanwhile is not overwritten",
        )
        .field("If-Match")
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "something went wrong on our side; it has been logged",
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => ApiError::not_found(),
            ServiceError::Unauthenticated => {
                ApiError::unauthenticated("the token is unknown or revoked")
            }
            ServiceError::UnknownKind { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-kind",
                "Unknown kind of case",
                e.to_string(),
            )
            .field("kind"),
            ServiceError::Forbidden { detail } => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", "Not permitted", detail)
            }
            ServiceError::Invalid { problems } => {
                let detail = problems
                    .iter()
                    .map(|p| format!("{}: {}", p.field, p.problem))
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    "Invalid input",
                    detail,
                );
                err.0.field = problems.first().map(|p| p.field.clone());
                err.0.errors = problems
                    .into_iter()
                    .map(|FieldProblem { field, problem }| FieldError { field, problem })
                    .collect();
                err
            }
            ServiceError::NotAllowed {
                action,
                reason,
                allowed,
            } => {
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "action-not-allowed",
                    "Action not allowed now",
                    format!(
                        "{reason}; actions open to you now: {}",
                        if allowed.is_empty() {
                            "none".into()
                        } else {
                            allowed.join(", ")
                        }
                    ),
                );
                err.0.action = Some(action);
                err.0.allowed_actions = Some(allowed);
                err
            }
            ServiceError::Stale { current } => {
                let mut err = ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "stale-version",
                    "The case has changed",
                    format!("the case is at version {current}; reload it and decide again"),
                )
                .field("If-Match");
                err.0.current_version = Some(current);
                err
            }
            ServiceError::TooLarge { .. } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "File too large",
                e.to_string(),
            )
            .field("file"),
            ServiceError::UnsupportedType { .. } => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Not an accepted kind of document",
                format!("{e}; the kind is judged by the file's content, not its name"),
            )
            .field("file"),
            ServiceError::IdempotencyMismatch { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "idempotency-key-reused",
                "Idempotency key reused",
                "this Idempotency-Key was already used for a different request",
            )
            .field("Idempotency-Key"),
            ServiceError::Storage(cause) => {
                // The cause chain goes to the log, never to the client.
                tracing::error!(error = %cause, "storage failure");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&*self.0).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
