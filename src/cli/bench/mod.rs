//! `duban bench`: how fast the engine is, measured against the database's own limit in the same
//! run on the same machine — transitions through the service layer against the raw-SQL
//! baseline, the same over HTTP, the scheduler, queries at scale, footprint and import. Every
//! figure is the median of its rounds. Benchmarks are not tests: CI runs a small scale once to
//! see that the command works, and asserts nothing about time.

mod http;
mod import;
mod queries;
mod scheduler;
mod stats;
mod transitions;

// The benchmarks and their statistics, shared with each other through this module.
use http::*;
use import::*;
use queries::*;
use scheduler::*;
use stats::*;
use transitions::*;

use duban_storage::{Cases, Directory, Lists};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use duban_core::{Calendar, Role, Workflows};
use duban_service::{FixedClock, Principal, Service};
use duban_storage::bench::{Spread, analyze, copy_case};
use duban_storage::{CaseQuery, Org, OrgKind, Page, SqlStore, User};

use jiff::Timestamp;
use serde_json::json;

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
        backend.title(),
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
    // What the engine is measured against: on SQLite the disk's commit limit, which group
    // commit may pass; on PostgreSQL the raw-SQL baseline of the same transaction's shape.
    let grouped = backend.groups_commits();
    let reference = if grouped { "commit limit" } else { "baseline" };
    let mut reference16 = 0.0;
    let worker_counts: &[usize] = if args.wants("transitions") {
        &[1, 4, 16, 64]
    } else if args.wants("http") {
        &[16]
    } else {
        &[]
    };
    for &workers in worker_counts {
        let (mut e, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        let mut shared = duban_storage::CommitSharing::default();
        for _ in 0..rounds {
            if grouped {
                c.push(duban_storage::bench::commit_limit(&url, args.seconds).await?);
            }
            b.push(baseline_round(&w.store, "r-", n, workers, args.seconds, &event).await?);
            let before = w.store.commit_sharing().unwrap_or_default();
            e.push(engine_round(&w, "e-", n, workers, args.seconds, &versions).await?);
            let after = w.store.commit_sharing().unwrap_or_default();
            shared.commits += after.commits - before.commits;
            shared.writes += after.writes - before.writes;
            shared.scripts += after.scripts - before.scripts;
            shared.carried += after.carried - before.carried;
        }
        // How many writes shared each commit, and each hand-off to the writer's thread.
        for (per, writes, of) in [
            ("commit", shared.writes, shared.commits),
            ("script", shared.carried, shared.scripts),
        ] {
            if of > 0 {
                f.put(
                    &format!("engine writes per {per}, {workers} workers"),
                    writes as f64 / of as f64,
                    "ratio",
                    None,
                );
            }
        }
        let (e, b) = (median(e), median(b));
        let against = if grouped { median(c) } else { b };
        if workers == 16 {
            reference16 = against;
        }
        if grouped {
            f.put(
                &format!("commits/s commit limit, beside {workers} workers"),
                against,
                "1/s",
                None,
            );
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
        let target = match (grouped, workers) {
            (true, 1) => Some((">=", 0.7)),
            (true, 16) => Some((">=", 1.0)),
            (false, 16) => Some((">=", 0.9)),
            _ => None,
        };
        f.put(
            &format!("engine / {reference}, {workers} workers"),
            e / against.max(f64::MIN_POSITIVE),
            "ratio",
            target,
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
            (reference, reference16),
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
        import_bench(&url, settings, &mut f, rounds, n).await?;
    }
    Ok(f)
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
