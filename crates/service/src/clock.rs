//! Where "now" comes from: the system clock in service, a fixed one in tests. Each use case
//! reads it once.

use super::*;

/// Where "now" comes from: the system clock in service, a fixed one in tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that says what it is told, for tests.
#[derive(Debug)]
pub struct FixedClock(pub std::sync::Mutex<Timestamp>);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
