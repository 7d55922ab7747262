//! Queries at scale, over ten times the cases acted on, spread over a thousand departments.

use anyhow::Result;
use duban_core::Role;
use duban_service::{ListParams, Principal};
use duban_storage::User;
use std::time::Instant;

use super::*;

/// 4: queries at scale, over 10n cases spread over 1,000 departments.
pub(crate) async fn queries_bench(w: &World, f: &mut Figures, rounds: usize, n: i64) -> Result<()> {
    let big = 10 * n;
    let mut inbox = Vec::new();
    let mut overdue = Vec::new();
    let mut rng = Rng(42);
    for _ in 0..rounds {
        for _ in 0..100 {
            let d = rng.below(1000);
            let clerk = Principal {
                user: User {
                    login: format!("clerk-{d}"),
                    role: Role::Department,
                    org: Some(format!("dept-{d}")),
                    name: String::new(),
                },
            };
            let t = Instant::now();
            w.service
                .list(
                    &clerk,
                    &ListParams {
                        by_due: true,
                        limit: 50,
                        ..ListParams::default()
                    },
                )
                .await?;
            inbox.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            w.service
                .list(
                    &w.leader,
                    &ListParams {
                        overdue: true,
                        limit: 50,
                        ..ListParams::default()
                    },
                )
                .await?;
            overdue.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    f.put(
        &format!("department inbox p99 at {big} cases"),
        percentile(inbox, 0.99),
        "ms",
        Some(("<=", 10.0)),
    );
    f.put(
        &format!("overdue list p99 at {big} cases"),
        percentile(overdue, 0.99),
        "ms",
        Some(("<=", 10.0)),
    );
    let mut report = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        w.service
            .report(duban_core::deadline::china_date(now()).year(), None)
            .await?;
        report.push(t.elapsed().as_secs_f64());
    }
    f.put(
        &format!("annual report at {} cases", 3 * n + big + 1),
        median(report),
        "s",
        Some(("<=", 2.0)),
    );
    Ok(())
}
