//! Several scheduler processes, and crashes: two processes against one PostgreSQL deliver each
//! of 10,000 due reminders exactly once to a webhook receiver that acknowledges; a scheduler
//! killed mid-batch leaves its work to another once the lease expires, and the only repeats are
//! deliveries whose acknowledgement never reached the killed worker, under the same key.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use duban_core::Workflows;
use duban_scheduler::{Channel, Config, Scheduler, Webhook};
use duban_storage::{Outbox, SqlStore};
use duban_testkit::test_name;
use jiff::Timestamp;

use crate::common::{assigned_suggestion, env_on};

const CHILD_URL: &str = "DUBAN_SCHED_CHILD_URL";
const CHILD_LEASE: &str = "DUBAN_SCHED_CHILD_LEASE_MS";

/// A child's whole life: tick until there has been nothing to do for a while.
async fn child(url: &str) {
    let lease = std::env::var(CHILD_LEASE)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30_000u64);
    let store = SqlStore::connect(url, 4)
        .await
        .expect("connect")
        .with_keys(duban_testkit::keys());
    let config = Config {
        owner: format!("child-{}", std::process::id()),
        lease: Duration::from_millis(lease),
        batch: 200,
        per_channel_per_tick: 200,
        ..Config::default()
    };
    let s = Scheduler::new(
        store,
        Arc::new(Workflows::builtin()),
        vec![Arc::new(Webhook::new().expect("webhook client")) as Arc<dyn Channel>],
        config,
    );
    let mut idle_since = Instant::now();
    while idle_since.elapsed() < Duration::from_millis(lease + 2_000) {
        match s.tick(Timestamp::now()).await {
            Ok(r) if r.did_work() => idle_since = Instant::now(),
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("tick: {e}"),
        }
    }
    std::process::exit(0);
}

/// What the receiver saw: each idempotency key with the instants it arrived.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<HashMap<String, Vec<Instant>>>>);

async fn receiver(delay: Duration) -> (String, Receiver) {
    let seen = Receiver::default();
    let s2 = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap| {
            let s = s2.clone();
            async move {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                s.0.lock()
                    .expect("lock")
                    .entry(key)
                    .or_default()
                    .push(Instant::now());
                tokio::time::sleep(delay).await;
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// One real assigned suggestion, copied `n` times in SQL, each with a reminder due now: `n`
/// reminders for the department, each one webhook delivery.
pub(crate) async fn load(store: &SqlStore, url: &str, webhook: &str, n: i64) {
    let env = env_on(store.clone(), webhook).await;
    let id = assigned_suggestion(&env, "批量测试").await;
    let series = if url.starts_with("postgres") {
        format!("SELECT g AS n FROM generate_series(1::bigint, {n}::bigint) AS g")
    } else {
        format!(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) SELECT n FROM s"
        )
    };
    let now = Timestamp::now().as_millisecond();
    for sql in [
        format!(
            "INSERT INTO cases (id, kind, workflow_version, workflow_digest, title, state, version, is_open, is_key, year, \
             filed_at, entered_at, due_key, due_date, filer, supervisor, idempotency_key, request_hash, projection, updated_at) \
             SELECT c.id || '-' || series.n, c.kind, c.workflow_version, c.workflow_digest, c.title, c.state, c.version, c.is_open, \
             c.is_key, c.year, c.filed_at, c.entered_at, c.due_key, c.due_date, c.filer, c.supervisor, NULL, NULL, c.projection, \
             c.updated_at FROM cases c, ({series}) AS series WHERE c.id = '{id}'"
        ),
        format!(
            "INSERT INTO case_parties (case_id, party, member, is_open, due_key, filed_at) \
             SELECT p.case_id || '-' || series.n, p.party, p.member, p.is_open, p.due_key, p.filed_at \
             FROM case_parties p, ({series}) AS series WHERE p.case_id = '{id}'"
        ),
        format!(
            "INSERT INTO reminders (case_id, reminder_key, state, duty, rule, fire_at, due_date, notify, repeat_every_days, \
             escalate, status, attempts, created_at) \
             SELECT '{id}' || '-' || series.n, 'assigned/-/0/2024-10-08', 'assigned', '', 0, {now} - series.n, '2024-10-08', \
             '[\"lead_department\"]', NULL, 0, 'pending', 0, 0 FROM ({series}) AS series"
        ),
        // The original's own reminders are not part of the count.
        format!("UPDATE reminders SET status = 'cancelled' WHERE case_id = '{id}'"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(store.pool())
            .await
            .expect("bulk load");
    }
}

fn spawn(test: &str, url: &str, lease_ms: u64) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_URL, url)
        .env(CHILD_LEASE, lease_ms.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_schedulers_deliver_ten_thousand_reminders_exactly_once() {
    if let Ok(url) = std::env::var(CHILD_URL) {
        child(&url).await;
    }
    let Some(db) = duban_testkit::postgres().await else {
        return;
    };
    let (hook, seen) = receiver(Duration::ZERO).await;
    load(&db.store, &db.url, &hook, 10_000).await;
    let name = &test_name(
        module_path!(),
        "postgres_two_schedulers_deliver_ten_thousand_reminders_exactly_once",
    );
    let started = Instant::now();
    let mut a = spawn(name, &db.url, 5_000);
    let mut b = spawn(name, &db.url, 5_000);
    for c in [&mut a, &mut b] {
        let status = tokio::task::spawn_blocking({
            let mut c = std::mem::replace(c, Command::new("true").spawn().expect("placeholder"));
            move || c.wait()
        })
        .await
        .expect("join")
        .expect("wait");
        assert!(status.success(), "a scheduler process failed: {status}");
    }
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!(
            "two schedulers, 10,000 reminders: {:.1} s including 7 s idle wait\n",
            started.elapsed().as_secs_f64()
        )
        .as_bytes(),
    );
    let seen = seen.0.lock().expect("lock").clone();
    assert_eq!(seen.len(), 10_000, "every reminder delivered");
    let twice: Vec<_> = seen.iter().filter(|(_, at)| at.len() != 1).collect();
    assert!(twice.is_empty(), "{} delivered more than once", twice.len());
    let sent = db
        .store
        .deliveries(Some("sent"), 20_000)
        .await
        .expect("sent");
    assert_eq!(sent.len(), 10_000);
    let owners: std::collections::BTreeSet<String> = {
        let mut o = std::collections::BTreeSet::new();
        for d in sent.iter().take(2_000) {
            for a in db.store.attempts(&d.id).await.expect("attempts") {
                o.insert(a.owner);
            }
        }
        o
    };
    assert_eq!(owners.len(), 2, "both processes took part: {owners:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_a_scheduler_killed_mid_batch_leaves_its_work_to_another() {
    if let Ok(url) = std::env::var(CHILD_URL) {
        child(&url).await;
    }
    let db = duban_testkit::sqlite().await;
    // A slow receiver, so that the first scheduler is surely mid-batch when it is killed: it
    // sends 32 at a time, so 300 take about 10 × 250 ms. It is killed as soon as its first
    // delivery arrives (the receiver notes arrivals before answering), not after a fixed time:
    // on a busy machine its start-up alone can take longer than any fixed wait.
    let (hook, seen) = receiver(Duration::from_millis(250)).await;
    load(&db.store, &db.url, &hook, 300).await;
    let name = &test_name(
        module_path!(),
        "sqlite_a_scheduler_killed_mid_batch_leaves_its_work_to_another",
    );
    let mut first = spawn(name, &db.url, 1_500);
    let started = Instant::now();
    while seen.0.lock().expect("lock").is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first scheduler delivered nothing in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().expect("SIGKILL");
    first.wait().expect("reap");
    // What the first wrote to its sockets before it died still reaches the receiver after the
    // kill returns (on a busy machine, a few hundred milliseconds later). A second passes
    // before the second scheduler starts, so that every arrival before it is the first's.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = seen.0.lock().expect("lock").len();
    assert!(
        before > 0 && before < 300,
        "killed mid-batch: {before} of 300 delivered"
    );
    let second_started = Instant::now();
    let mut second = spawn(name, &db.url, 1_500);
    let status = tokio::task::spawn_blocking(move || second.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success());
    let seen = seen.0.lock().expect("lock").clone();
    assert_eq!(seen.len(), 300, "no reminder lost");
    for (key, arrivals) in seen.iter() {
        if arrivals.len() > 1 {
            // A repeat is only what the first worker had sent when it died, and it came
            // under the same idempotency key (the map is keyed by it).
            assert!(
                arrivals[0] < second_started,
                "{key} was repeated though first sent by the second scheduler"
            );
            assert_eq!(arrivals.len(), 2, "{key}");
        }
    }
    let sent = db
        .store
        .deliveries(Some("sent"), 1_000)
        .await
        .expect("sent");
    assert_eq!(sent.len(), 300);
}
