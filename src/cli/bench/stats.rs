//! The statistics every benchmark reports with: medians, percentiles, a repeatable random
//! choice of cases, and the figures as they are measured.

use serde_json::{Value, json};
use std::collections::BTreeMap;

pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    match xs.len() {
        0 => 0.0,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

pub(crate) fn percentile(mut xs: Vec<f64>, p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(|a, b| a.total_cmp(b));
    let i = ((xs.len() as f64 - 1.0) * p).round() as usize;
    xs[i.min(xs.len() - 1)]
}

/// A small xorshift generator: the bench picks cases at random, repeatably.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Figures as they are measured, printed as they come and kept for the JSON file.
#[derive(Default)]
pub(crate) struct Figures {
    pub(crate) map: BTreeMap<String, Value>,
}

impl Figures {
    pub(crate) fn put(&mut self, key: &str, value: f64, unit: &str, target: Option<(&str, f64)>) {
        let verdict = target.map(|(op, t)| {
            let ok = if op == ">=" { value >= t } else { value <= t };
            format!("{op} {t} {}", if ok { "met" } else { "MISSED" })
        });
        println!(
            "{key:<44} {value:>12.3} {unit:<10} {}",
            verdict.clone().unwrap_or_default()
        );
        self.map.insert(
            key.into(),
            json!({"median": value, "unit": unit, "target": verdict}),
        );
    }
}
