//! The pure state machine: given a workflow, a case, an action with its payload, the actor and
//! `now`, decide the new state, the event to append and the effects to carry out — or refuse,
//! saying why and which actions are open instead. It performs nothing itself.

mod awaiting;
mod decide;
mod links;
mod notices;
mod payload;
mod project;
mod reminders;
mod vote;

pub use awaiting::{awaiting, pending, role_member};
pub use decide::*;
pub use links::{link_expiry, linked_actions};
pub use payload::*;
pub use reminders::MEMBER;
use reminders::*;
pub use vote::{MISMATCH, NEGATIVE, TOO_MANY};

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::deadline::Deadline;
use crate::figures::Milestones;
use crate::person::Person;
use crate::role::Role;

/// The name of the event that opens a case.
pub const FILE: &str = "file";

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user's login.
    pub user: String,
    pub role: Role,
    /// The organisation the user acts for (a department, station or court), if any.
    pub org: Option<String>,
}

/// A running deadline on the case's current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDeadline {
    #[serde(flatten)]
    pub deadline: Deadline,
    /// The last day as first computed, before any extension.
    pub original_due: Date,
    pub extensions: u32,
}

/// A state's deadline stopped by a pause (a petition waiting for an appraisal): the deadline
/// as it stood, kept to be moved later by the paused days when the clock is resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paused {
    /// When the pause was taken.
    pub since: Timestamp,
    /// The deadline that stopped running.
    pub deadline: StateDeadline,
}

/// A duty still owed in the current state (a co-handler's opinion), by one member of the party
/// that owes it: each co-handling department owes its own opinion, with its own reminders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenDuty {
    pub name: String,
    pub owed_by: String,
    /// The login or organisation code that owes it. Duties opened before duties were owed
    /// per member carry none: the whole party owed them, and anyone in it discharged them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    pub deadline: Deadline,
}

impl OpenDuty {
    /// How reminders and their cancellations name this duty: `co_opinion@D02` for one
    /// member's, the bare name for a party's. Duty names are identifiers, so the first `@`
    /// separates them from the member ([`duty_name`]).
    pub fn key(&self) -> String {
        match &self.member {
            Some(m) => format!("{}@{m}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The duty's name in a key written by [`OpenDuty::key`].
pub fn duty_name(key: &str) -> &str {
    key.split_once('@').map_or(key, |(name, _)| name)
}

/// The current state of a case: a projection of its events, nothing more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub kind: String,
    /// The workflow version and digest the case was filed under.
    pub workflow_version: u32,
    pub workflow_digest: String,
    pub state: String,
    /// How many events the case has; the version an action must name to act.
    pub version: u64,
    pub filed_at: Timestamp,
    /// When the case entered its current state.
    pub entered_at: Timestamp,
    /// The running deadline; `None` while it is paused.
    pub deadline: Option<StateDeadline>,
    /// The state's deadline while it is paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<Paused>,
    pub duties: Vec<OpenDuty>,
    /// Who fills each party: user logins or organisation codes.
    pub parties: BTreeMap<String, Vec<String>>,
    /// The latest time each action was taken, for periods counted from an earlier event.
    pub last_taken: BTreeMap<String, Timestamp>,
    /// The latest value chosen for each enum field, by any event: what actions' `when` read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub choices: BTreeMap<String, String>,
    /// True once the case is in a terminal state.
    pub closed: bool,
    /// What its history counts for in the year's figures. Projections written before this
    /// was kept read as empty until `duban migrate` refolds them.
    #[serde(default)]
    pub milestones: Milestones,
    /// Every rating a deputy gave on the case, in order: the report's per-deputy satisfaction.
    /// Kept apart from the milestones, whose figures group cases alike: naming the rater
    /// there would make every case a group of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deputy_ratings: Vec<DeputyRating>,
}

/// A rating a deputy gave: who, which value, and whether it was a co-signer's (recorded
/// beside the rating that decides the route).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeputyRating {
    pub by: String,
    pub rating: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub co: bool,
}

/// One entry in a case's append-only history. It carries everything the projection needs, the
/// computed deadlines included, so that replaying history never depends on today's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// 1-based position in the case's history; equals the case's version after it.
    pub seq: u64,
    pub action: String,
    pub actor: Actor,
    pub at: Timestamp,
    pub payload: Map<String, Value>,
    pub from_state: Option<String>,
    pub to_state: String,
    /// Parties this event filled (replacing earlier values).
    pub sets: BTreeMap<String, Vec<String>>,
    /// The state's deadline after the event.
    pub deadline: Option<StateDeadline>,
    /// The state's deadline, if the event leaves it paused. Events written before pauses
    /// existed carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<Paused>,
    /// The duties still open after the event.
    pub duties: Vec<OpenDuty>,
    /// True when `to_state` is terminal: the case is closed.
    pub closed: bool,
    /// The values its payload chose for enum fields (`outcome`, `rating`), which actions'
    /// `when` read. Events written before this was kept carry none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub choices: BTreeMap<String, String>,
}

/// A reminder to schedule. The key is unique within the case, so scheduling twice is a no-op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    pub key: String,
    pub state: String,
    pub duty: Option<String>,
    /// Index of the rule in the workflow's `reminders`.
    pub rule: usize,
    pub at: Timestamp,
    /// The deadline the reminder is about, if any.
    pub due_date: Option<Date>,
    pub notify: Vec<String>,
    /// Repeat every this many days while the state lasts (overdue escalation).
    pub repeat_every_days: Option<u32>,
    pub escalate: bool,
    /// Set for a notice of what happened (`rule` is then its index in the workflow's
    /// `notices`): its headline, such as 新交办. A notice is about an event, not a deadline,
    /// so it goes out whatever the case has done since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
}

/// Something the caller must do in the same transaction as appending the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "effect")]
pub enum Effect {
    ScheduleReminder(Reminder),
    /// Cancel the pending reminders of this state's own deadline (`duty` is `None`: it was
    /// extended) or of one of its duties (it was done), while the case stays in the state.
    /// Leaving a state cancels nothing: its reminders no longer apply
    /// ([`Case::reminder_applies`]), and the scheduler drops each when it falls due, so a
    /// history acted live and the same history imported keep the same rows.
    CancelReminders {
        state: String,
        duty: Option<String>,
    },
}

/// Personal data given in an action's payload, to be stored encrypted. The event's payload holds
/// only the masked form of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalField {
    pub field: String,
    pub person: Person,
}

/// What an accepted action produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub case: Case,
    pub event: Event,
    pub effects: Vec<Effect>,
    pub personal: Vec<PersonalField>,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("unknown action `{action}`")]
    UnknownAction { action: String },
    #[error("the case is closed (state `{state}` is final)")]
    Terminal { state: String },
    #[error("`{action}` cannot be taken in state `{state}`")]
    WrongState { action: String, state: String },
    #[error("role `{role}` may not take `{action}` (it is for: {})", join(roles))]
    Forbidden {
        action: String,
        role: Role,
        roles: Vec<Role>,
    },
    #[error("`{action}` is for the case's {}, which you are not", join(parties))]
    NotAParty {
        action: String,
        parties: Vec<String>,
    },
    #[error("`{action}` was open until {until} and that time has passed")]
    WindowClosed { action: String, until: Date },
    #[error("`{action}` is taken once per case and already was")]
    AlreadyTaken { action: String },
    #[error("`{action}` answers a request, and none is pending")]
    NothingToAnswer { action: String },
    #[error("`{action}` is open only when `{field}` is `{value}`")]
    NotChosen {
        action: String,
        field: String,
        value: String,
    },
    #[error("`{action}` is open only once the case has a {party}")]
    NoParty { action: String, party: String },
    #[error("`{action}` is open only to whoever still owes it here, and you do not (done already)")]
    NotOwed { action: String },
    #[error("`{action}` resumes a paused deadline, and none is paused")]
    NotPaused { action: String },
    #[error("`{action}` pauses a running deadline, and none is running")]
    NotRunning { action: String },
    #[error("`{action}` is not open once the last day {due} has passed")]
    PastDue { action: String, due: Date },
    #[error("field `{field}`: {problem}{}", more.iter().map(|(f, p)| format!("; field `{f}`: {p}")).collect::<String>())]
    InvalidPayload {
        field: String,
        problem: String,
        /// Further problems in the same payload, each (field, problem): every one is reported.
        more: Vec<(String, String)>,
    },
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A refusal with the actions the actor could take instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}; actions open to you now: {}", join(allowed))]
pub struct TransitionError {
    pub reason: Refusal,
    pub allowed: Vec<String>,
}

impl TransitionError {
    /// The payload field at fault, if the refusal is about one.
    pub fn field(&self) -> Option<&str> {
        match &self.reason {
            Refusal::InvalidPayload { field, .. } => Some(field),
            _ => None,
        }
    }
}
