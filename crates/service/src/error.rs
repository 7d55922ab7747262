//! Why a use case did not happen, each reason mapped to one HTTP status at the edge, and the
//! state machine's refusals in those terms.

use super::*;

/// A field at fault and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

/// Why a use case did not happen. Each maps to one HTTP status at the edge.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bearer token is unknown or revoked (recorded in the audit log).
    #[error("the token is unknown or revoked")]
    Unauthenticated,
    /// Unknown, or not visible to the caller: the same answer, so existence does not leak.
    #[error("no such case")]
    NotFound,
    /// No such kind of case.
    #[error("no such kind of case (known: {})", known.join(", "))]
    UnknownKind { kind: String, known: Vec<String> },
    /// The caller may see the object but not do this.
    #[error("{detail}")]
    Forbidden { detail: String },
    /// The payload or parameters are wrong; every problem is listed.
    #[error("invalid input: {}", problems.iter().map(|p| format!("{}: {}", p.field, p.problem)).collect::<Vec<_>>().join("; "))]
    Invalid { problems: Vec<FieldProblem> },
    /// The action is not possible now; the open ones are listed.
    #[error("{reason}")]
    NotAllowed {
        action: String,
        reason: String,
        allowed: Vec<String>,
    },
    /// The caller's version is not the case's version: someone acted first.
    #[error("the case is at version {current}; reload it and try again")]
    Stale { current: u64 },
    /// The idempotency key was used for a different request.
    /// A file over the installation's limit: nothing was kept.
    #[error("the file is larger than the limit of {limit_mb} MB")]
    TooLarge { limit_mb: usize },
    /// A file that is not one of the kinds of document accepted, judged by its content.
    #[error("the file is not one of the accepted kinds of document ({})", allowed.join(", "))]
    UnsupportedType { allowed: Vec<String> },
    #[error("this idempotency key was already used for a different request")]
    IdempotencyMismatch { key: String },
    #[error(transparent)]
    Storage(#[from] duban_storage::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn refused(action: &str, e: TransitionError) -> Error {
    use machine::Refusal;
    match e.reason {
        Refusal::InvalidPayload {
            field,
            problem,
            more,
        } => Error::Invalid {
            problems: std::iter::once((field, problem))
                .chain(more)
                .map(|(field, problem)| FieldProblem { field, problem })
                .collect(),
        },
        Refusal::Forbidden { .. } | Refusal::NotAParty { .. } => Error::Forbidden {
            detail: format!(
                "{}; actions open to you now: {}",
                e.reason,
                if e.allowed.is_empty() {
                    "none".into()
                } else {
                    e.allowed.join(", ")
                }
            ),
        },
        reason => Error::NotAllowed {
            action: action.into(),
            reason: reason.to_string(),
            allowed: e.allowed,
        },
    }
}
