//! The scheduler's suites, one test binary: ticks on a fixed clock, delivery over real sockets,
//! injected faults, and several scheduler processes.

mod common;
mod delivery;
mod faults;
mod processes;
mod tick;
