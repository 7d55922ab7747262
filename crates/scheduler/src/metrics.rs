//! The scheduler's delivery counters, by channel. Every series exists from the start, at 0, so
//! that an alert on `increase(duban_deliveries_dead_total[1h]) > 0` fires for the first dead
//! delivery rather than only once the series has appeared. `/metrics` renders them through
//! the Prometheus exporter (`src/cli/metrics.rs` in the binary).

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The counters: name (in `duban_deliveries_<name>_total`) and what it counts.
pub const COUNTERS: [(&str, &str); 4] = [
    (
        "sent",
        "Reminder and notice deliveries that succeeded (inbox messages included).",
    ),
    (
        "failed",
        "Delivery attempts that failed and will be retried.",
    ),
    ("dead", "Deliveries that failed their last attempt."),
    (
        "rescued",
        "Claims taken back from workers whose lease expired (inbox: reminders).",
    ),
];

/// The channels every installation has, whose series exist from the start.
pub const CHANNELS: [&str; 6] = ["inbox", "email", "webhook", "wecom", "dingtalk", "sms"];

/// Counters by (name, channel). A mutex is plenty: a handful of updates per delivery.
#[derive(Debug)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let counters = COUNTERS
            .iter()
            .flat_map(|(name, _)| CHANNELS.iter().map(|c| ((*name, c.to_string()), 0)))
            .collect();
        Self {
            counters: Mutex::new(counters),
        }
    }
}

impl Metrics {
    pub fn add(&self, name: &'static str, channel: &str, n: u64) {
        let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        *c.entry((name, channel.to_string())).or_default() += n;
    }

    pub fn get(&self, name: &str, channel: &str) -> u64 {
        let c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        c.iter()
            .filter(|((n, ch), _)| *n == name && ch == channel)
            .map(|(_, v)| *v)
            .sum()
    }

    /// Every counter as (name, channel, value), the zeros included.
    pub fn snapshot(&self) -> Vec<(&'static str, String, u64)> {
        let c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        c.iter().map(|((n, ch), v)| (*n, ch.clone(), *v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_series_exists_from_the_start() {
        let m = Metrics::default();
        let snap = m.snapshot();
        assert!(snap.contains(&("dead", "webhook".into(), 0)), "{snap:?}");
        assert_eq!(snap.len(), COUNTERS.len() * CHANNELS.len());
        m.add("sent", "webhook", 3);
        m.add("sent", "inbox", 2);
        assert_eq!(m.get("sent", "webhook"), 3);
        assert_eq!(m.get("sent", "inbox"), 2);
    }
}
