//! `duban`: the one binary — command line entry point.

mod cli;
mod demo;
mod telemetry;

use std::process::ExitCode;

fn main() -> ExitCode {
    duban_scheduler::tls::use_ring_by_default();
    // Logging starts inside: the configuration file may choose its format.
    cli::run()
}
