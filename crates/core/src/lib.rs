//! duban-core: workflow definitions, the deadline calendar and the pure state machine. No I/O.

pub mod calendar;
pub mod deadline;
pub mod diagnostic;
mod tomlread;

pub use calendar::Calendar;
pub use deadline::{Deadline, Period, Unit};
pub use diagnostic::{Diagnostic, Diagnostics, Source};
