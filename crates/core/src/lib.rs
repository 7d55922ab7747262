//! duban-core: workflow definitions, the deadline calendar and the pure state machine. No I/O.
//!
//! Nothing here reads a file, a socket or the clock: callers pass file contents as [`Source`]s
//! and the current instant as `now`, so every rule can be tested without waiting.

pub mod attachment;
pub mod calendar;
pub mod config;
pub mod deadline;
pub mod diagnostic;
pub mod directory;
pub mod figures;
pub mod labels;
pub mod machine;
pub mod number;
pub mod person;
pub mod role;
pub mod text;
mod tomlread;
pub mod vocabulary;
pub mod workflow;

pub use calendar::Calendar;
pub use deadline::{Deadline, Period, Unit};
pub use diagnostic::{Diagnostic, Diagnostics, Source};
pub use directory::{Org, User};
pub use figures::{Figures, Milestones};
pub use machine::{Actor, Case, Effect, Event, Refusal, Reminder, Transition, TransitionError};
pub use person::Person;
pub use role::Role;
pub use vocabulary::OrgKind;
pub use workflow::{Workflow, Workflows};
