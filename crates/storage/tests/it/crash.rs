//! Killing the process mid-transaction leaves no partial action: a child process writes as fast
//! as it can, the test SIGKILLs it at chosen moments, and every case must then have its events
//! and its projection in agreement, with every action the child saw committed still there.

use duban_storage::Cases;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use duban_core::Role;
use duban_core::machine::Case;
use duban_storage::SqlStore;
use duban_testkit::{TestDb, World, actor, test_name, ts};
use serde_json::json;

/// Set in the child: the database it writes to.
const CHILD_URL: &str = "DUBAN_CRASH_CHILD_URL";

/// Writers at once in the child: on SQLite they queue for the one writer and share commits,
/// so a kill lands in the middle of a group as well as of a transaction.
const WRITERS: usize = 8;

/// The child: `WRITERS` loops at once, each filing suggestions and taking them through their
/// steps, printing each commit it was answered for, and how commits were shared so far.
async fn child(url: &str) -> ! {
    let store = SqlStore::connect(url, 2)
        .await
        .expect("child connects")
        .with_keys(duban_testkit::keys());
    let mut loops = Vec::new();
    for _ in 0..WRITERS {
        loops.push(tokio::spawn(writer(store.clone())));
    }
    for l in loops {
        l.await.expect("writer");
    }
    unreachable!("the writers loop until the child is killed")
}

/// One writer's loop: file a suggestion, take it through its steps, print each commit.
async fn writer(store: SqlStore) {
    let w = World::new();
    let staff = actor("staff", Role::Staff, None);
    let dept = actor("dept", Role::Department, Some("jtj"));
    let deputy = actor("deputy", Role::Deputy, None);
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    loop {
        let id = w
            .file(
                &store,
                "suggestion",
                &deputy,
                json!({"title": "t", "body": "b"}),
                ts("2024-03-01T09:00:00"),
            )
            .await;
        say(format!("ok {id} 1"));
        let steps = [
            ("register", json!({}), &staff),
            (
                "assign",
                json!({"lead_department": "jtj", "co_departments": ["czj", "zrzyj"]}),
                &staff,
            ),
            (
                "reply",
                json!({"classification": "A", "answer": "a"}),
                &dept,
            ),
            ("evaluate", json!({"rating": "satisfied"}), &deputy),
        ];
        for (i, (action, payload, who)) in steps.into_iter().enumerate() {
            w.must(&store, &id, action, payload, who, ts("2024-04-01T09:00:00"))
                .await;
            say(format!("ok {id} {}", i + 2));
        }
        if let Some(shared) = store.commit_sharing() {
            say(format!("shared {} {}", shared.commits, shared.writes));
        }
    }
}

async fn kill_rounds(db: &TestDb, test: &str) {
    let mut acknowledged: Vec<(String, u64)> = Vec::new();
    // Fixed delays, not random ones: the run is repeatable, and still lands mid-transaction
    // almost every time since the child does nothing but write.
    for delay_ms in [150u64, 320, 470, 610, 260] {
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_URL, &db.url)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("child stdout");
        let reader = std::thread::spawn(move || {
            let lines: Vec<String> = BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect();
            let acked = lines
                .iter()
                .filter_map(|l| {
                    let mut parts = l.strip_prefix("ok ")?.split(' ');
                    Some((
                        parts.next()?.to_string(),
                        parts.next()?.parse::<u64>().ok()?,
                    ))
                })
                .collect::<Vec<_>>();
            let shared = lines.iter().rev().find_map(|l| {
                let mut parts = l.strip_prefix("shared ")?.split(' ');
                Some((
                    parts.next()?.parse::<u64>().ok()?,
                    parts.next()?.parse::<u64>().ok()?,
                ))
            });
            (acked, shared)
        });
        // Wait until the child is writing, then a little longer, then kill it (SIGKILL).
        tokio::time::sleep(Duration::from_millis(400 + delay_ms)).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        let (seen, shared) = reader.join().expect("reader");
        assert!(
            !seen.is_empty(),
            "the child committed nothing before it was killed"
        );
        // Where writes share commits (SQLite), they did here: the kill fell among groups.
        if let Some((commits, writes)) = shared {
            assert!(commits < writes, "{commits} commits for {writes} writes");
        }
        acknowledged.extend(seen);
    }

    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM cases")
        .fetch_all(db.store.pool())
        .await
        .expect("ids");
    assert!(ids.len() >= 5, "{} cases", ids.len());
    for id in &ids {
        let record = db.store.case(id).await.expect("read").expect("exists");
        let events = db.store.events(id).await.expect("events");
        let seqs: Vec<u64> = events.iter().map(|e| e.event.seq).collect();
        assert_eq!(
            seqs,
            (1..=record.case.version).collect::<Vec<_>>(),
            "case {id}: events and version disagree"
        );
        let folded = Case::fold(
            &record.case.kind,
            record.case.workflow_version,
            &record.case.workflow_digest,
            events.iter().map(|e| &e.event),
        );
        assert_eq!(
            folded.as_ref(),
            Some(&record.case),
            "case {id}: projection is not the fold of its events"
        );
        let parties: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM case_parties WHERE case_id = $1")
                .bind(id.clone())
                .fetch_one(db.store.pool())
                .await
                .expect("parties");
        let want = record
            .case
            .parties
            .values()
            .map(|m| m.len() as i64)
            .sum::<i64>();
        assert_eq!(
            parties, want,
            "case {id}: party rows and projection disagree"
        );
    }
    for (id, version) in &acknowledged {
        let record = db.store.case(id).await.expect("read");
        let stored = record.map(|r| r.case.version).unwrap_or(0);
        assert!(
            stored >= *version,
            "case {id}: acknowledged version {version} lost (stored {stored})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_killing_the_writer_leaves_no_partial_action() {
    if let Ok(url) = std::env::var(CHILD_URL) {
        child(&url).await;
    }
    let db = duban_testkit::sqlite().await;
    kill_rounds(
        &db,
        &test_name(
            module_path!(),
            "sqlite_killing_the_writer_leaves_no_partial_action",
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killing_the_writer_leaves_no_partial_action() {
    if let Ok(url) = std::env::var(CHILD_URL) {
        child(&url).await;
    }
    let Some(db) = duban_testkit::postgres().await else {
        return;
    };
    kill_rounds(
        &db,
        &test_name(
            module_path!(),
            "postgres_killing_the_writer_leaves_no_partial_action",
        ),
    )
    .await;
}
