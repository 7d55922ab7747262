//! The scheduler's suites, one test binary: ticks on a fixed clock, delivery over real sockets
//! (in the clear and over TLS), injected faults, and several scheduler processes.

mod batch;
mod co_handling;
mod common;
mod delivery;
mod faults;
mod follow_up;
mod links;
mod peers;
mod processes;
mod robots;
mod tick;
mod tls;
