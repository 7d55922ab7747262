//! Transitions through the service layer against the raw-SQL baseline, on the same cases
//! and the same machine, worker by worker.

use anyhow::Result;
use duban_storage::SqlStore;
use duban_storage::bench::baseline_transition;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;

/// One engine transition on a case in `assigned` or `reassignment_requested`: the department
/// asks for reassignment, staff keep the assignment, and round again — each a state change that
/// cancels and schedules reminders.
pub(crate) fn next_action(asked: bool) -> (&'static str, bool) {
    if asked {
        ("keep_assignment", false)
    } else {
        ("request_reassignment", true)
    }
}

/// Runs `workers` tasks for `secs`, each taking `step` on random cases of its own share, and
/// returns the steps done per second. Worker k owns the cases whose index is k modulo the
/// worker count: no two workers race for one case, as no two clerks answer the same letter.
/// `step` says whether the step counted (a baseline step that lost a race did not).
pub(crate) async fn round<F, Fut>(
    n: i64,
    workers: usize,
    secs: f64,
    seed: u64,
    step: F,
) -> Result<f64>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<bool>> + Send,
{
    let stop = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..workers {
        let step = step.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(seed ^ (k as u64 + 1));
            let mut done = 0u64;
            let owned = (n as usize - k).div_ceil(workers) as u64;
            while Instant::now() < stop {
                let i = k + rng.below(owned) as usize * workers;
                done += u64::from(step(i).await?);
            }
            anyhow::Ok(done)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

pub(crate) async fn engine_round(
    w: &World,
    prefix: &str,
    n: i64,
    workers: usize,
    secs: f64,
    versions: &Arc<Vec<Mutex<(u64, bool)>>>,
) -> Result<f64> {
    let service = w.service.clone();
    let (staff, dept) = (Arc::new(w.staff.clone()), Arc::new(w.dept.clone()));
    let versions = versions.clone();
    let prefix = Arc::new(prefix.to_string());
    round(n, workers, secs, 0x9E37_79B9_7F4A_7C15, move |i| {
        let (service, staff, dept) = (service.clone(), staff.clone(), dept.clone());
        let (versions, prefix) = (versions.clone(), prefix.clone());
        async move {
            let (version, asked) = *versions[i].lock().unwrap_or_else(|e| e.into_inner());
            let (action, now_asked) = next_action(asked);
            let who = if asked { &staff } else { &dept };
            service
                .act(
                    &**who,
                    &format!("{prefix}{}", i + 1),
                    action,
                    &json!({"reason": "基准测试"}),
                    version,
                    None,
                )
                .await?;
            *versions[i].lock().unwrap_or_else(|e| e.into_inner()) = (version + 1, now_asked);
            Ok(true)
        }
    })
    .await
}

pub(crate) async fn baseline_round(
    store: &SqlStore,
    prefix: &str,
    n: i64,
    workers: usize,
    secs: f64,
    event: &(String, String),
) -> Result<f64> {
    let (store, prefix, event) = (
        store.clone(),
        Arc::new(prefix.to_string()),
        Arc::new(event.clone()),
    );
    let at = now().as_millisecond();
    round(n, workers, secs, 0xD1B5_4A32_D192_ED03, move |i| {
        let (store, prefix, event) = (store.clone(), prefix.clone(), event.clone());
        async move {
            Ok(baseline_transition(&store, &format!("{prefix}{}", i + 1), at, &event).await?)
        }
    })
    .await
}
