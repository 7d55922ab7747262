//! Queries at scale, over ten times the cases acted on, spread over a thousand departments.

use anyhow::Result;
use duban_core::Role;
use duban_service::{ListParams, Principal};
use duban_storage::User;
use duban_storage::bench::{copy_words, index_copies};
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
    search(w, f, rounds, big).await?;
    // The report beside the raw grouped count over the same rows, round by round.
    let year = duban_core::deadline::china_date(now()).year();
    let (mut report, mut raw) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        w.service.report(year, None).await?;
        report.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        duban_storage::bench::raw_year_count(&w.store, year).await?;
        raw.push(t.elapsed().as_secs_f64());
    }
    let cases = 3 * n + big + 1;
    let (report, raw) = (median(report), median(raw));
    f.put(
        &format!("annual report at {cases} cases"),
        report,
        "s",
        Some(("<=", 2.0)),
    );
    f.put(
        &format!("raw GROUP BY count at {cases} cases"),
        raw,
        "s",
        None,
    );
    f.put(
        "annual report / raw count",
        report / raw.max(f64::MIN_POSITIVE),
        "ratio",
        Some(("<=", 1.5)),
    );
    Ok(())
}

/// Search over the 10n cases: each made searchable by its number and words
/// ([`copy_words`]), then searched by staff (every case) and by a department's clerk (its own),
/// for a two-character word shared by one case in a thousand, a phrase of one case, and a
/// number.
async fn search(w: &World, f: &mut Figures, rounds: usize, big: i64) -> Result<()> {
    let t = Instant::now();
    index_copies(&w.store, "q-", 1, big).await?;
    duban_storage::bench::analyze(&w.store).await?;
    println!(
        "indexed {big} cases for search in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut rng = Rng(7);
    let (mut words, mut all) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for i in 0..300 {
            let n = 1 + rng.below(big as u64) as i64;
            let text = copy_words(n);
            let q = match i % 3 {
                // `{place}路`: the first two characters after 关于.
                0 => text.chars().skip(2).take(2).collect::<String>(),
                1 => text.chars().skip(2).take(6).collect::<String>(),
                _ => format!("q-{n}"),
            };
            let d = rng.below(1000);
            let clerk = Principal {
                user: User {
                    login: format!("clerk-{d}"),
                    role: Role::Department,
                    org: Some(format!("dept-{d}")),
                    name: String::new(),
                },
            };
            let who = if i % 2 == 0 { &w.staff } else { &clerk };
            let t = Instant::now();
            let found = w
                .service
                .list(
                    who,
                    &ListParams {
                        q: Some(q.clone()),
                        limit: 50,
                        ..ListParams::default()
                    },
                )
                .await?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            // Staff see every case: a search of theirs that finds nothing measured nothing.
            if who.user.role == Role::Staff && found.items.is_empty() {
                anyhow::bail!("search for {q} found nothing");
            }
            if i % 3 == 0 {
                words.push(ms);
            }
            all.push(ms);
        }
    }
    // Issue 25 (growth) asks 10 ms of every p99 here, search's too; "Daily work" had asked 20.
    f.put(
        &format!("search p99 at {big} cases"),
        percentile(all, 0.99),
        "ms",
        Some(("<=", 10.0)),
    );
    f.put(
        &format!("search p99 at {big} cases, two-character words"),
        percentile(words, 0.99),
        "ms",
        Some(("<=", 10.0)),
    );
    Ok(())
}
