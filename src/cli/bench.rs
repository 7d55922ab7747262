//! `duban bench`: how fast the engine is, measured against the database's own limit in the same
//! run on the same machine — transitions through the service layer against the raw-SQL
//! baseline, the same over HTTP, the scheduler, queries at scale, footprint and import. Every
//! figure is the median of its rounds. Benchmarks are not tests: CI runs a small scale once to
//! see that the command works, and asserts nothing about time.

use duban_storage::{Cases, Directory, Lists, Tokens};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use duban_core::{Calendar, Role, Workflows};
use duban_service::sheet::Row;
use duban_service::{FixedClock, ListParams, Principal, Service};
use duban_storage::bench::{Spread, add_reminders, analyze, baseline_transition, copy_case};
use duban_storage::{Backend, CaseQuery, Org, OrgKind, Outbox, Page, SqlStore, User};

use jiff::Timestamp;
use serde_json::{Value, json};

use super::setup::{self, Settings};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The database to measure on; it must hold no cases (default: a fresh SQLite file,
    /// `duban-bench.db`, replaced on each run). For PostgreSQL give a database of its own.
    #[arg(long)]
    db: Option<String>,
    /// Cases acted on (the transition, HTTP and import figures use this many); the queries
    /// and the scheduler run over ten times as many.
    #[arg(long, default_value_t = 100_000)]
    scale: i64,
    /// Write every figure as JSON here too.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Rounds per figure (the median is reported).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds per transition measurement.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Measure only these parts (comma-separated: transitions, http, scheduler, queries,
    /// import), e.g. to profile one; all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

impl BenchArgs {
    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

/// The instant the bench starts, to the millisecond. The template suggestion is assigned the
/// day before, so that for the whole run — in this process and in `duban serve`, on the
/// system clock — a department may still ask for reassignment (within 15 days).
fn now() -> Timestamp {
    static START: std::sync::OnceLock<Timestamp> = std::sync::OnceLock::new();
    *START.get_or_init(|| {
        Timestamp::from_millisecond(Timestamp::now().as_millisecond())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    })
}

fn days_ago(days: i64) -> Timestamp {
    now() - jiff::SignedDuration::from_hours(24 * days)
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    match xs.len() {
        0 => 0.0,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

fn percentile(mut xs: Vec<f64>, p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(|a, b| a.total_cmp(b));
    let i = ((xs.len() as f64 - 1.0) * p).round() as usize;
    xs[i.min(xs.len() - 1)]
}

/// A small xorshift generator: the bench picks cases at random, repeatably.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Figures as they are measured, printed as they come and kept for the JSON file.
#[derive(Default)]
struct Figures {
    map: BTreeMap<String, Value>,
}

impl Figures {
    fn put(&mut self, key: &str, value: f64, unit: &str, target: Option<(&str, f64)>) {
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

struct World {
    store: SqlStore,
    service: Arc<Service<SqlStore>>,
    staff: Principal,
    dept: Principal,
    leader: Principal,
    template: String,
}

async fn setup_world(url: &str, settings: &Settings) -> Result<World> {
    // 64 workers and a few more; with `duban serve`'s 16 this stays within PostgreSQL's
    // default of 100 connections.
    let store = SqlStore::open_with_keys(url, 68, setup::keys(&settings.keys_file)?)
        .await
        .with_context(|| format!("cannot open {}", super::migrate::redacted(url)))?;
    if !store
        .list(&CaseQuery::All, &Page::first(1))
        .await?
        .items
        .is_empty()
    {
        bail!("the bench database must hold no cases: give --db a database of its own");
    }
    for (code, kind, name) in [
        ("jtj", OrgKind::Department, "县交通运输局"),
        ("st1", OrgKind::Station, "第一代表联络站"),
    ] {
        store
            .add_org(&Org {
                code: code.into(),
                kind,
                name: name.into(),
            })
            .await?;
    }
    let user = |login: &str, role, org: Option<&str>| User {
        login: login.into(),
        role,
        org: org.map(str::to_string),
        name: login.into(),
    };
    let staff = user("bench-staff", Role::Staff, None);
    let dept = user("bench-jtj", Role::Department, Some("jtj"));
    let leader = user("bench-leader", Role::Leader, None);
    let deputy = user("bench-deputy", Role::Deputy, Some("st1"));
    for u in [&staff, &dept, &leader, &deputy] {
        store.add_user(u).await?;
    }
    let clock = Arc::new(FixedClock(Mutex::new(days_ago(2))));
    let service = Arc::new(Service::new(
        store.clone(),
        Arc::new(Workflows::builtin()),
        Arc::new(Calendar::builtin()),
        clock.clone(),
    ));
    let staff = Principal { user: staff };
    let (filed, _) = service
        .file(
            &Principal { user: deputy },
            "suggestion",
            &json!({"title": "关于改善县城道路交通秩序的建议", "body": "县城主要路口早晚高峰拥堵，建议优化信号灯配时，增设非机动车道。"}),
            None,
            None,
        )
        .await?;
    let template = filed.record.id.clone();
    service
        .act(&staff, &template, "register", &json!({}), 1, None)
        .await?;
    *clock.0.lock().unwrap_or_else(|e| e.into_inner()) = days_ago(1);
    service
        .act(
            &staff,
            &template,
            "assign",
            &json!({"lead_department": "jtj"}),
            2,
            None,
        )
        .await?;
    *clock.0.lock().unwrap_or_else(|e| e.into_inner()) = now();
    Ok(World {
        store,
        service,
        staff,
        dept: Principal { user: dept },
        leader: Principal { user: leader },
        template,
    })
}

/// One engine transition on a case in `assigned` or `reassignment_requested`: the department
/// asks for reassignment, staff keep the assignment, and round again — each a state change that
/// cancels and schedules reminders.
fn next_action(asked: bool) -> (&'static str, bool) {
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
async fn round<F, Fut>(n: i64, workers: usize, secs: f64, seed: u64, step: F) -> Result<f64>
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

async fn engine_round(
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
                    who,
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

async fn baseline_round(
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

fn rss_kib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0.0)
}

/// `duban serve` on the bench database, and how long until it first answered.
struct Served {
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

async fn serve(url: &str, settings: &Settings) -> Result<Served> {
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
async fn http_round(
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

/// A webhook receiver on 127.0.0.1 that acknowledges everything and counts.
async fn receiver() -> Result<(String, Arc<std::sync::atomic::AtomicU64>)> {
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

fn import_rows(n: i64) -> Vec<Row> {
    (1..=n)
        .map(|i| Row {
            number: i as usize + 1,
            cells: [
                ("title", format!("关于第{i}号路段改造的建议")),
                ("body", "道路破损，建议列入年度改造计划。".to_string()),
                ("filer", "bench-deputy".to_string()),
                ("filed_at", "2025-03-05 10:00".to_string()),
                ("register.at", "2025-03-06 10:00".to_string()),
                ("assign.at", "2025-03-07 10:00".to_string()),
                ("assign.lead_department", "jtj".to_string()),
                ("reply.at", "2025-05-07 10:00".to_string()),
                ("reply.classification", "B".to_string()),
                ("reply.answer", "已列入明年计划。".to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        })
        .collect()
}

async fn run_bench(args: &BenchArgs, settings: &Settings) -> Result<Figures> {
    let url = match &args.db {
        Some(u) => u.clone(),
        None => {
            for f in ["duban-bench.db", "duban-bench.db-wal", "duban-bench.db-shm"] {
                let _ = std::fs::remove_file(f);
            }
            "sqlite://duban-bench.db?mode=rwc".to_string()
        }
    };
    let n = args.scale.max(10);
    let rounds = args.rounds.max(1);
    let mut f = Figures::default();
    let w = setup_world(&url, settings).await?;
    let backend = w.store.backend();
    println!(
        "duban bench on {} ({}), scale {n}, {rounds} round(s) per figure, median reported",
        match backend {
            Backend::Sqlite => "SQLite (WAL, synchronous = FULL)",
            Backend::Postgres => "PostgreSQL",
        },
        super::migrate::redacted(&url)
    );

    // Cases: a set for the engine, one for the baseline, one for HTTP, each of n copies of a
    // real assigned suggestion; and 10n spread over 1,000 departments for queries at scale.
    let t0 = Instant::now();
    for prefix in ["e-", "r-", "h-"] {
        copy_case(&w.store, &w.template, prefix, 1, n, Spread::Same).await?;
    }
    let big = 10 * n;
    let mut from = 1;
    while from <= big {
        let to = (from + 200_000 - 1).min(big);
        copy_case(
            &w.store,
            &w.template,
            "q-",
            from,
            to,
            Spread::Departments {
                departments: 1000,
                overdue_every: 20,
            },
        )
        .await?;
        from = to + 1;
    }
    for d in 0..1000 {
        w.store
            .add_org(&Org {
                code: format!("dept-{d}"),
                kind: OrgKind::Department,
                name: format!("部门{d}"),
            })
            .await?;
        w.store
            .add_user(&User {
                login: format!("clerk-{d}"),
                role: Role::Department,
                org: Some(format!("dept-{d}")),
                name: format!("办事员{d}"),
            })
            .await?;
    }
    analyze(&w.store).await?;
    println!(
        "loaded {} cases in {:.1} s",
        3 * n + big + 1,
        t0.elapsed().as_secs_f64()
    );

    // 1. Engine against the raw-SQL baseline (the HTTP ratio needs the 16-worker baseline).
    let template_version = w
        .store
        .case(&w.template)
        .await?
        .map(|r| r.case.version)
        .unwrap_or(3);
    let versions: Arc<Vec<Mutex<(u64, bool)>>> = Arc::new(
        (0..n)
            .map(|_| Mutex::new((template_version, false)))
            .collect(),
    );
    let event = duban_storage::bench::last_event(&w.store, &w.template).await?;
    let mut baseline16 = 0.0;
    let worker_counts: &[usize] = if args.wants("transitions") {
        &[1, 4, 16, 64]
    } else if args.wants("http") {
        &[16]
    } else {
        &[]
    };
    for &workers in worker_counts {
        let (mut e, mut b) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            b.push(baseline_round(&w.store, "r-", n, workers, args.seconds, &event).await?);
            e.push(engine_round(&w, "e-", n, workers, args.seconds, &versions).await?);
        }
        let (e, b) = (median(e), median(b));
        if workers == 16 {
            baseline16 = b;
        }
        f.put(
            &format!("transitions/s baseline, {workers} workers"),
            b,
            "1/s",
            None,
        );
        f.put(
            &format!("transitions/s engine, {workers} workers"),
            e,
            "1/s",
            None,
        );
        f.put(
            &format!("engine / baseline, {workers} workers"),
            e / b.max(f64::MIN_POSITIVE),
            "ratio",
            (workers == 16).then_some((">=", 0.80)),
        );
    }

    if args.wants("http") {
        http_bench(
            &w,
            &url,
            settings,
            &mut f,
            rounds,
            n,
            baseline16,
            template_version,
        )
        .await?;
    }
    if args.wants("scheduler") {
        scheduler_bench(&w, &mut f, rounds, n).await?;
    }
    if args.wants("queries") {
        queries_bench(&w, &mut f, rounds, n).await?;
    }
    if args.wants("import") {
        import_bench(&w, &mut f, rounds, n).await?;
    }
    Ok(f)
}

/// 2 and 5: the same actions over HTTP through `duban serve`; its start-up and memory.
#[allow(clippy::too_many_arguments)]
async fn http_bench(
    w: &World,
    url: &str,
    settings: &Settings,
    f: &mut Figures,
    rounds: usize,
    n: i64,
    baseline16: f64,
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
        )
        .await?;
    w.store
        .add_token(
            &dept_id,
            "bench-jtj",
            &duban_service::hash_token(&dept_token),
            Timestamp::now(),
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
        "HTTP / baseline, 16",
        tput / baseline16.max(f64::MIN_POSITIVE),
        "ratio",
        Some((">=", 0.50)),
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

/// 3: claiming among 10n pending reminders, all due; webhook deliveries.
async fn scheduler_bench(w: &World, f: &mut Figures, rounds: usize, n: i64) -> Result<()> {
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

/// 4: queries at scale, over 10n cases spread over 1,000 departments.
async fn queries_bench(w: &World, f: &mut Figures, rounds: usize, n: i64) -> Result<()> {
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

/// 6: importing n rows of xlsx, each a suggestion filed, registered, assigned and answered.
async fn import_bench(w: &World, f: &mut Figures, rounds: usize, n: i64) -> Result<()> {
    let rows = import_rows(n);
    let file = std::env::temp_dir().join(format!("duban-bench-{}.xlsx", std::process::id()));
    super::sheets::write_rows(&file, &rows)?;
    let mut import = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let read = super::sheets::read_xlsx(&file)?;
        let imported = w
            .service
            .import("suggestion", &read, &|_| {})
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "import refused: {}",
                    e.first().map(|x| x.to_string()).unwrap_or_default()
                )
            })?;
        import.push(t.elapsed().as_secs_f64());
        if imported != rows.len() {
            bail!("imported {imported} of {} rows", rows.len());
        }
    }
    let _ = std::fs::remove_file(&file);
    f.put(
        &format!("import of {n} xlsx rows"),
        median(import),
        "s",
        Some(("<=", 20.0)),
    );
    Ok(())
}

/// Webhook deliveries per second to a receiver on 127.0.0.1, through the scheduler's own
/// sending path (claim, sign, POST, record).
async fn webhook_bench(w: &World, f: &mut Figures, rounds: usize, n: i64) -> Result<()> {
    let (url, received) = receiver().await?;
    w.store
        .set_org_contact("jtj", None, Some((url.as_str(), "bench-secret")))
        .await?;
    let count = (n / 10).clamp(100, 10_000);
    let scheduler = duban_scheduler::Scheduler::new(
        w.store.clone(),
        Arc::new(Workflows::builtin()),
        vec![Arc::new(duban_scheduler::Webhook::new())],
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

pub fn run(args: BenchArgs, settings: &Settings) -> Result<ExitCode> {
    let figures = setup::runtime()?.block_on(run_bench(&args, settings))?;
    if let Some(out) = &args.out {
        let doc = json!({
            "scale": args.scale,
            "rounds": args.rounds,
            "figures": figures.map,
        });
        std::fs::write(out, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("cannot write {}", out.display()))?;
        println!("figures written to {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}
