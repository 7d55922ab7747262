//! An action's unit of work, owned by storage: it reads the case (and over the API the token's
//! user), hands them to the caller's decision, then records what was decided or writes nothing
//! and hands back the refusal. These are the types the two sides speak through.
//!
//! Storage owns the whole step so that the rules that keep it safe are kept by the shape of
//! the code, not by comments: the decision reads only through the [`Lookup`] it is given (on
//! SQLite that is the write transaction the case was read in, which must never wait for a
//! reading connection), and a refusal comes back only after the unit has let go of
//! everything, so whatever the caller then writes (an audit record) cannot wait on itself.

use std::future::Future;

use duban_core::machine::Transition;

use crate::{CaseAndFiling, Meta, Result, User};

/// Who takes an action: a user the caller already knows (a signed-in page), or the holder of
/// a bearer token, whose user is read in the same statement as the case: over the API, acting
/// is the busiest request, and each read is a round trip to the database.
#[derive(Debug, Clone, Copy)]
pub enum Acting<'a> {
    User(&'a User),
    /// The SHA-256 hash of a bearer token, as tokens are kept, and the instant it is used at
    /// (a token may expire).
    Token(&'a str, jiff::Timestamp),
}

/// What a decision may read while its unit of work holds the case.
pub trait Lookup: Send {
    /// What a code names: an organisation's kind (`org`) or a user's role; `None` if no such
    /// organisation or user exists.
    fn code_kind(
        &mut self,
        org: bool,
        code: &str,
    ) -> impl Future<Output = Result<Option<String>>> + Send;
    /// The case an attachment belongs to; `None` if there is no such attachment.
    fn attachment_case(&mut self, id: &str) -> impl Future<Output = Result<Option<String>>> + Send;
}

/// A transition to record: what the decision gives back to storage.
#[derive(Debug)]
pub struct Record {
    pub case_id: String,
    /// The version the case was decided at: the write happens only if it still is.
    pub expected_version: u64,
    pub transition: Transition,
    pub meta: Meta,
    /// Files uploaded with the action (a web form's), kept in the same transaction: all or
    /// nothing with it.
    pub files: Vec<crate::NewAttachment>,
}

/// The caller's side of an action's unit of work: given the actor and the case as read, what
/// to record, or why not.
pub trait Decide: Send {
    /// What the caller keeps of a decision that was recorded, to build its answer from.
    type Kept: Send;
    /// Why an action was refused, handed back after the unit has ended.
    type Refusal: Send;
    /// The action being decided, for the unit's tracing span.
    fn action(&self) -> &str;
    /// Decides on `found` (`None`: no such case) for `actor`, reading only through `lookup`.
    fn decide<L: Lookup>(
        self,
        actor: &User,
        found: Option<CaseAndFiling>,
        lookup: &mut L,
    ) -> impl Future<Output = std::result::Result<(Record, Self::Kept), Self::Refusal>> + Send;
}

/// How an action's unit of work ended. A version that moved between the read and the write
/// is an [`crate::Error::Conflict`], and nothing was written.
#[derive(Debug)]
pub enum Acted<K, R> {
    /// The bearer token is unknown or revoked: nothing was read.
    UnknownToken,
    /// The decision was recorded, in the same transaction the case was read in where the
    /// database allows.
    Recorded {
        actor: User,
        /// Boxed: a transition is large beside the other outcomes.
        record: Box<Record>,
        kept: K,
    },
    /// The decision refused; nothing was written and nothing is held any more.
    Refused { actor: User, refusal: R },
}
