//! The same actions over HTTP through a `duban serve` of the bench database: throughput,
//! latency, start-up and memory.

use crate::cli::setup::Settings;
use anyhow::{Context, Result, bail};
use duban_storage::Tokens;
use jiff::Timestamp;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;

pub(crate) fn rss_kib(pid: u32) -> f64 {
    status_kib(&pid.to_string(), "VmRSS:")
}

/// A figure of `/proc/PROCESS/status` in KiB (`VmRSS:`, `VmHWM:`); PROCESS is a pid or `self`.
pub(crate) fn status_kib(process: &str, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0.0)
}

/// `duban serve` on the bench database, and how long until it first answered.
pub(crate) struct Served {
    child: std::process::Child,
    addr: String,
    startup_ms: f64,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn serve(url: &str, settings: &Settings) -> Result<Served> {
    use std::io::BufRead;
    let started = Instant::now();
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args(["--database-url", url, "--keys-file"])
        .arg(&settings.keys_file)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--no-scheduler",
            "--rate-limit",
            "1000000",
            "--rate-burst",
            "1000000",
            "--db-connections",
            "16",
        ])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("starting duban serve")?;
    let stdout = child.stdout.take().context("serve's output")?;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .context("serve did not say where it listens")?
        .to_string();
    let client = reqwest::Client::new();
    loop {
        if client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("duban serve did not answer within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(Served {
        child,
        addr,
        startup_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// Fixed work per round (`count` actions over `clients` connections), with a time limit.
pub(crate) async fn http_round(
    addr: &str,
    tokens: &(String, String),
    prefix: &str,
    n: i64,
    clients: usize,
    count: usize,
    versions: &Arc<Vec<Mutex<(u64, bool)>>>,
) -> Result<(f64, Vec<f64>)> {
    let started = Instant::now();
    let limit = Instant::now() + Duration::from_secs(120);
    let mut tasks = Vec::new();
    for k in 0..clients {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let (staff, dept) = tokens.clone();
        let versions = versions.clone();
        let (addr, prefix) = (addr.to_string(), prefix.to_string());
        let share = count / clients + usize::from(k < count % clients);
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0xA076_1D64_78BD_642F ^ (k as u64 + 1));
            let owned = (n as usize - k).div_ceil(clients) as u64;
            let mut lat = Vec::with_capacity(share);
            for _ in 0..share {
                if Instant::now() > limit {
                    break;
                }
                let i = k + rng.below(owned) as usize * clients;
                let (version, asked) = *versions[i].lock().unwrap_or_else(|e| e.into_inner());
                let (action, now_asked) = next_action(asked);
                let token = if asked { &staff } else { &dept };
                let t0 = Instant::now();
                let r = client
                    .post(format!(
                        "http://{addr}/api/v1/cases/{prefix}{}/actions/{action}",
                        i + 1
                    ))
                    .header("Authorization", format!("Bearer {token}"))
                    .header("If-Match", format!("\"{version}\""))
                    .header("Content-Type", "application/json")
                    .body(r#"{"reason":"基准测试"}"#)
                    .send()
                    .await?;
                let status = r.status();
                r.bytes().await?;
                if !status.is_success() {
                    bail!("{action} answered {status}");
                }
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                *versions[i].lock().unwrap_or_else(|e| e.into_inner()) = (version + 1, now_asked);
            }
            anyhow::Ok(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((all.len() as f64 / started.elapsed().as_secs_f64(), all))
}

/// 2 and 5: the same actions over HTTP through `duban serve`; its start-up and memory.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn http_bench(
    w: &World,
    url: &str,
    settings: &Settings,
    f: &mut Figures,
    rounds: usize,
    n: i64,
    (reference, against): (&str, f64),
    template_version: u64,
) -> Result<()> {
    let (staff_token, staff_id) = duban_service::new_token();
    let (dept_token, dept_id) = duban_service::new_token();
    w.store
        .add_token(
            &staff_id,
            "bench-staff",
            &duban_service::hash_token(&staff_token),
            Timestamp::now(),
            None,
        )
        .await?;
    w.store
        .add_token(
            &dept_id,
            "bench-jtj",
            &duban_service::hash_token(&dept_token),
            Timestamp::now(),
            None,
        )
        .await?;
    let tokens = (staff_token, dept_token);
    let http_versions: Arc<Vec<Mutex<(u64, bool)>>> = Arc::new(
        (0..n)
            .map(|_| Mutex::new((template_version, false)))
            .collect(),
    );
    let (mut startup, mut idle) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let s = serve(url, settings).await?;
        startup.push(s.startup_ms);
        tokio::time::sleep(Duration::from_millis(500)).await;
        idle.push(rss_kib(s.child.id()) / 1024.0);
    }
    let s = serve(url, settings).await?;
    let pid = s.child.id();
    let peak = Arc::new(Mutex::new(0.0f64));
    let sampling = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                let r = rss_kib(pid) / 1024.0;
                {
                    let mut p = peak.lock().unwrap_or_else(|e| e.into_inner());
                    *p = p.max(r);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let count = (n as usize).clamp(200, 4000);
    let (mut tput, mut p50, mut p99) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (t, lat) = http_round(&s.addr, &tokens, "h-", n, 16, count, &http_versions).await?;
        tput.push(t);
        p50.push(percentile(lat.clone(), 0.50));
        p99.push(percentile(lat, 0.99));
    }
    sampling.abort();
    let loaded = *peak.lock().unwrap_or_else(|e| e.into_inner());
    drop(s);
    let tput = median(tput);
    f.put("HTTP actions/s, 16 clients", tput, "1/s", None);
    f.put(
        &format!("HTTP / {reference}, 16"),
        tput / against.max(f64::MIN_POSITIVE),
        "ratio",
        Some((">=", 0.80)),
    );
    f.put("HTTP p50 latency, 16 clients", median(p50), "ms", None);
    f.put(
        "HTTP p99 latency, 16 clients",
        median(p99),
        "ms",
        Some(("<=", 20.0)),
    );
    f.put(
        "start-up to first answer",
        median(startup),
        "ms",
        Some(("<=", 200.0)),
    );
    f.put(
        "resident memory idle",
        median(idle),
        "MiB",
        Some(("<=", 40.0)),
    );
    f.put(
        "resident memory under HTTP load (peak)",
        loaded,
        "MiB",
        Some(("<=", 150.0)),
    );
    Ok(())
}
