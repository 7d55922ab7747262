//! The scheduler's counters, rendered in Prometheus' text format for `/metrics`.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Counters by (name, channel). A mutex is plenty: a handful of updates per delivery.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
}

impl Metrics {
    pub fn add(&self, name: &'static str, channel: &str, n: u64) {
        if n == 0 {
            return;
        }
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

    /// Prometheus text exposition, with the queue lag (seconds the oldest due work has waited).
    pub fn render(&self, queue_lag_seconds: f64) -> String {
        let c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        for (name, help) in [
            (
                "sent",
                "Reminder deliveries that succeeded (inbox messages included).",
            ),
            (
                "failed",
                "Delivery attempts that failed and will be retried.",
            ),
            ("dead", "Deliveries that failed their last attempt."),
            (
                "rescued",
                "Claims taken back from workers whose lease expired.",
            ),
        ] {
            out.push_str(&format!("# HELP duban_deliveries_{name}_total {help}\n# TYPE duban_deliveries_{name}_total counter\n"));
            let mut any = false;
            for ((n, channel), v) in c.iter() {
                if *n == name {
                    out.push_str(&format!(
                        "duban_deliveries_{name}_total{{channel=\"{channel}\"}} {v}\n"
                    ));
                    any = true;
                }
            }
            if !any {
                out.push_str(&format!("duban_deliveries_{name}_total 0\n"));
            }
        }
        out.push_str("# HELP duban_queue_lag_seconds How long the oldest due reminder or delivery has waited.\n");
        out.push_str("# TYPE duban_queue_lag_seconds gauge\n");
        out.push_str(&format!("duban_queue_lag_seconds {queue_lag_seconds}\n"));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_as_prometheus_text() {
        let m = Metrics::default();
        m.add("sent", "webhook", 3);
        m.add("sent", "inbox", 2);
        let text = m.render(1.5);
        assert!(
            text.contains("duban_deliveries_sent_total{channel=\"webhook\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("duban_deliveries_dead_total 0\n"), "{text}");
        assert!(
            text.contains("# TYPE duban_queue_lag_seconds gauge\nduban_queue_lag_seconds 1.5\n"),
            "{text}"
        );
        assert_eq!(m.get("sent", "inbox"), 2);
    }
}
