//! The scheduler: claiming among many due reminders, and webhook deliveries to a receiver on
//! 127.0.0.1.

use anyhow::{Result, bail};
use duban_core::Workflows;
use duban_storage::bench::{Spread, add_reminders, analyze, copy_case, make_due, set_aside_due};
use duban_storage::{Cases, Contacts, Outbox};
use jiff::Timestamp;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;

/// A webhook receiver on 127.0.0.1 that acknowledges everything and counts.
pub(crate) async fn receiver() -> Result<(String, Arc<std::sync::atomic::AtomicU64>)> {
    let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c = count.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let c = c.clone();
            async move {
                c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((format!("http://{addr}/hook"), count))
}

/// 3: firing due reminders in bulk; claiming among 10n pending reminders, all due; webhook
/// deliveries.
pub(crate) async fn scheduler_bench(
    w: &World,
    f: &mut Figures,
    rounds: usize,
    n: i64,
) -> Result<()> {
    fire_bench(w, f, rounds, n).await?;
    let big = 10 * n;
    let due_at = days_ago(30).as_millisecond();
    let mut from = 1;
    while from <= big {
        let to = (from + 200_000 - 1).min(big);
        add_reminders(&w.store, "q-", from, to, 1, due_at).await?;
        from = to + 1;
    }
    analyze(&w.store).await?;
    let mut claims = Vec::new();
    for r in 0..rounds {
        let t = Instant::now();
        let got = w
            .store
            .claim_reminders(
                now(),
                &format!("bench-{r}"),
                ts("2099-01-01T00:00:00Z"),
                1000,
            )
            .await?;
        claims.push(t.elapsed().as_secs_f64() * 1000.0);
        if got.len() < 1000.min(big as usize) {
            bail!("claimed {} reminders, expected 1000", got.len());
        }
    }
    f.put(
        &format!("claim 1,000 due among {big} reminders"),
        median(claims),
        "ms",
        Some(("<=", 50.0)),
    );
    webhook_bench(w, f, rounds, n).await
}

/// Firing due reminders: real reminders of real cases (copies of the assigned suggestion,
/// each with its deadline's reminders to the department, staff and leaders), fired by the
/// scheduler's own ticks into the inboxes and the e-mail queue. 10,000 a round (fewer at a
/// small scale), reported as the time for 10,000.
pub(crate) async fn fire_bench(w: &World, f: &mut Figures, rounds: usize, n: i64) -> Result<()> {
    let want = (10 * n).min(10_000);
    // The template's reminders still to come; its notices are due already and set aside.
    let per_case = w
        .store
        .reminders(&w.template)
        .await?
        .iter()
        .filter(|r| r.status == "pending" && r.fire_at > now())
        .count()
        .max(1) as i64;
    let copies = (want + per_case - 1) / per_case;
    // The department is e-mailed too: each reminder queues a delivery beside its inbox entries.
    w.store
        .set_org_contact("jtj", Some("jtj@example.org"), None)
        .await?;
    let scheduler = duban_scheduler::Scheduler::new(
        w.store.clone(),
        Arc::new(Workflows::builtin()),
        Vec::new(),
        duban_scheduler::Config {
            owner: "bench-fire".into(),
            ..duban_scheduler::Config::default()
        },
    );
    let mut times = Vec::new();
    for r in 0..rounds {
        let prefix = format!("f{r}-");
        copy_case(&w.store, &w.template, &prefix, 1, copies, Spread::Same).await?;
        let at = now().as_millisecond();
        set_aside_due(&w.store, at).await?;
        let due = make_due(&w.store, &prefix, 1, copies, at - 60_000).await?;
        let t = Instant::now();
        let mut done = 0;
        while done < due {
            let report = scheduler.tick(now()).await?;
            if !report.did_work() {
                bail!(
                    "the scheduler stopped with {} of {due} reminders left",
                    due - done
                );
            }
            if report.fired == 0 {
                bail!("due reminders were cancelled, not fired: {report:?}");
            }
            done += report.fired + report.cancelled;
        }
        times.push(t.elapsed().as_secs_f64() * 10_000.0 / due.max(1) as f64);
    }
    f.put(
        "seconds to fire 10,000 due reminders",
        median(times),
        "s",
        Some(("<=", 2.0)),
    );
    Ok(())
}

/// Webhook deliveries per second to a receiver on 127.0.0.1, through the scheduler's own
/// sending path (claim, sign, POST, record).
pub(crate) async fn webhook_bench(w: &World, f: &mut Figures, rounds: usize, n: i64) -> Result<()> {
    let (url, received) = receiver().await?;
    w.store
        .set_org_contact("jtj", None, Some((url.as_str(), "bench-secret")))
        .await?;
    let count = (n / 10).clamp(100, 10_000);
    let scheduler = duban_scheduler::Scheduler::new(
        w.store.clone(),
        Arc::new(Workflows::builtin()),
        vec![Arc::new(
            duban_scheduler::Webhook::new().map_err(anyhow::Error::msg)?,
        )],
        duban_scheduler::Config {
            owner: "bench".into(),
            per_channel_per_tick: 1000,
            ..duban_scheduler::Config::default()
        },
    );
    let mut rates = Vec::new();
    for r in 0..rounds {
        duban_storage::bench::add_deliveries(&w.store, &format!("bench-{r}-"), "e-", count, &url)
            .await?;
        let before = received.load(std::sync::atomic::Ordering::Relaxed);
        let t = Instant::now();
        // Ticks at the epoch: no reminder is due then, so only deliveries move.
        while received.load(std::sync::atomic::Ordering::Relaxed) - before < count as u64 {
            let report = scheduler
                .tick(Timestamp::UNIX_EPOCH + jiff::SignedDuration::from_secs(1))
                .await?;
            if report.sent == 0 && report.failed == 0 {
                bail!("the scheduler stopped sending with deliveries left");
            }
            if t.elapsed() > Duration::from_secs(300) {
                bail!("deliveries took longer than 5 minutes");
            }
        }
        rates.push(count as f64 / t.elapsed().as_secs_f64());
    }
    f.put(
        "webhook deliveries/s to 127.0.0.1",
        median(rates),
        "1/s",
        Some((">=", 2000.0)),
    );
    Ok(())
}
