//! Crash loop: `duban serve` is started, driven by a client acting as fast as it can, and
//! SIGKILLed at a different moment each round, twenty times. Afterwards every action a client
//! was told succeeded (2xx) is there, every case's history has no gap, and every projection is
//! the fold of its events.

use duban_storage::{Cases, Lists};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{Serve, TempDir, duban_ok, http_as};
use duban_core::machine::Case;
use duban_storage::{CaseQuery, Keyring, Page, SqlStore};

/// One request; `None` when the server is gone mid-way.
fn call(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    if_match: Option<u64>,
    body: &str,
) -> Option<(u16, String)> {
    let tag = if_match.map(|v| format!("\"{v}\""));
    let headers: Vec<(&str, &str)> = tag
        .as_deref()
        .map(|t| vec![("If-Match", t)])
        .unwrap_or_default();
    let r = http_as(addr, token, method, path, &headers, Some(body))?;
    Some((r.status, r.body))
}

fn field(text: &str, name: &str) -> Option<String> {
    let rest = text.split(&format!("\"{name}\":")).nth(1)?;
    Some(
        rest.trim_start_matches('"')
            .split(['"', ',', '}'])
            .next()?
            .to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_kills_lose_no_acknowledged_action() {
    let tmp = TempDir::new("crashloop");
    let dir = tmp.path().to_path_buf();
    duban_ok(
        &dir,
        &[
            "org",
            "add",
            "jtj",
            "--kind",
            "department",
            "--name",
            "交通局",
        ],
    );
    duban_ok(&dir, &["user", "add", "liu", "--role", "deputy"]);
    duban_ok(&dir, &["user", "add", "xu", "--role", "staff"]);
    let deputy = duban_ok(&dir, &["token", "create", "liu"]);
    let staff = duban_ok(&dir, &["token", "create", "xu"]);
    // (case id, version) the server acknowledged.
    let acknowledged: Arc<Mutex<Vec<(String, u64)>>> = Arc::new(Mutex::new(Vec::new()));
    for round in 0..20u64 {
        let mut server = Serve::start(
            &dir,
            &["--rate-burst", "100000", "--rate-limit", "100000"],
            &[],
            Stdio::null(),
        );
        let addr = server.addr.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let client = {
            let (addr, deputy, staff, acknowledged, stop) = (
                addr.clone(),
                deputy.clone(),
                staff.clone(),
                acknowledged.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let body = format!(
                        r#"{{"kind":"suggestion","payload":{{"title":"第{round}轮","body":"b"}}}}"#
                    );
                    let Some((201, text)) =
                        call(&addr, "POST", "/api/v1/cases", &deputy, None, &body)
                    else {
                        return;
                    };
                    let Some(id) = field(&text, "id") else { return };
                    acknowledged.lock().expect("lock").push((id.clone(), 1));
                    for (version, action, payload) in [
                        (1, "register", "{}"),
                        (2, "assign", r#"{"lead_department":"jtj"}"#),
                    ] {
                        match call(
                            &addr,
                            "POST",
                            &format!("/api/v1/cases/{id}/actions/{action}"),
                            &staff,
                            Some(version),
                            payload,
                        ) {
                            Some((200, _)) => acknowledged
                                .lock()
                                .expect("lock")
                                .push((id.clone(), version + 1)),
                            _ => return,
                        }
                    }
                }
            })
        };
        // A different moment each round: 150 ms to 720 ms after start.
        std::thread::sleep(Duration::from_millis(150 + (round * 37) % 570));
        server.child.kill().expect("SIGKILL");
        server.child.wait().expect("reap");
        stop.store(true, Ordering::SeqCst);
        client.join().expect("client");
    }

    let keys = std::fs::read_to_string(dir.join("duban.keys")).expect("keys");
    let key = |k: &str| {
        keys.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(n, _)| n.trim() == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let url = format!("sqlite://{}?mode=rwc", dir.join("duban.db").display());
    let store = SqlStore::open(&url, 2)
        .await
        .expect("store")
        .with_keys(Keyring::from_hex(&key("data_key"), &key("index_key")).expect("keys"));
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() > 40,
        "the client got work done between kills: {}",
        acknowledged.len()
    );
    for (id, version) in &acknowledged {
        let stored = store
            .case(id)
            .await
            .expect("read")
            .map(|r| r.case.version)
            .unwrap_or(0);
        assert!(
            stored >= *version,
            "case {id}: acknowledged version {version}, stored {stored}"
        );
    }
    let all = store
        .list(&CaseQuery::All, &Page::first(200))
        .await
        .expect("list");
    let mut checked = 0;
    let mut page = all;
    loop {
        for c in &page.items {
            let record = store.case(&c.id).await.expect("read").expect("case");
            let events = store.events(&c.id).await.expect("events");
            let seqs: Vec<u64> = events.iter().map(|e| e.event.seq).collect();
            assert_eq!(
                seqs,
                (1..=record.case.version).collect::<Vec<_>>(),
                "case {}: a gap",
                c.id
            );
            let folded = Case::fold(
                &record.case.kind,
                record.case.workflow_version,
                &record.case.workflow_digest,
                events.iter().map(|e| &e.event),
            );
            assert_eq!(
                folded,
                Some(record.case),
                "case {}: projection and events disagree",
                c.id
            );
            checked += 1;
        }
        match page.next {
            Some(next) => {
                page = store
                    .list(
                        &CaseQuery::All,
                        &Page {
                            after: Some(next),
                            ..Page::first(200)
                        },
                    )
                    .await
                    .expect("list")
            }
            None => break,
        }
    }
    assert!(checked > 10);
}
