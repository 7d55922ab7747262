//! Fault injection, for tests of what survives failures: named points inside the store's
//! transactions fail on demand or at a given rate, exactly where a disk error or a lost
//! connection would strike, so that the caller sees an error and the transaction rolls back.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Result};

/// Where faults can be injected.
pub const POINTS: &[&str] = &[
    "file_case.event_insert",
    "record_action.event_insert",
    "record_action.effects",
    "claim_reminders",
    "complete_reminder.inserts",
    "claim_deliveries",
    "finish_delivery.record",
];

/// Which points fail, and how often.
#[derive(Debug, Default)]
pub struct Faults {
    /// Points that always fail.
    always: Mutex<BTreeSet<String>>,
    /// Every point fails this share of the time (0.0 to 1.0), decided by a seeded sequence so a
    /// run can be repeated.
    per_mille: AtomicU64,
    state: AtomicU64,
    /// How many faults each point has injected.
    injected: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Faults {
    pub fn new(seed: u64) -> Self {
        Self {
            state: AtomicU64::new(seed | 1),
            ..Self::default()
        }
    }

    /// Sets the share of calls that fail at every point.
    pub fn set_rate(&self, rate: f64) {
        self.per_mille
            .store((rate.clamp(0.0, 1.0) * 1000.0) as u64, Ordering::SeqCst);
    }

    /// Makes `point` fail every time (or not).
    pub fn set_always(&self, point: &str, on: bool) {
        let mut a = self.always.lock().unwrap_or_else(|e| e.into_inner());
        if on {
            a.insert(point.to_string());
        } else {
            a.remove(point);
        }
    }

    pub fn injected(&self, point: &str) -> u64 {
        self.injected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(point)
            .copied()
            .unwrap_or(0)
    }

    /// Fails if `point` should fail now.
    pub fn check(&self, point: &str) -> Result<()> {
        let always = self
            .always
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(point);
        // xorshift64: a seeded, repeatable sequence shared by all points.
        let mut x = self.state.load(Ordering::SeqCst);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state.store(x, Ordering::SeqCst);
        let random = x % 1000 < self.per_mille.load(Ordering::SeqCst);
        if always || random {
            *self
                .injected
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(point.to_string())
                .or_default() += 1;
            return Err(Error::Injected(point.to_string()));
        }
        Ok(())
    }
}
