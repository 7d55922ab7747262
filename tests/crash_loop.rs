//! Crash loop: `duban serve` is started, driven by a client acting as fast as it can, and
//! SIGKILLed at a different moment each round, twenty times. Afterwards every action a client
//! was told succeeded (2xx) is there, every case's history has no gap, and every projection is
//! the fold of its events.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use duban_core::machine::Case;
use duban_storage::{CaseQuery, Keyring, Page, SqlStore, Store};

fn duban(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_duban"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// One request; `None` when the server is gone mid-way.
fn call(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    if_match: Option<u64>,
    body: &str,
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let im = if_match
        .map(|v| format!("If-Match: \"{v}\"\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n{im}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split(' ').nth(1)?.parse().ok()?;
    Some((status, out))
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
    let dir = std::env::temp_dir().join(format!("duban-crashloop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    duban(
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
    duban(&dir, &["user", "add", "liu", "--role", "deputy"]);
    duban(&dir, &["user", "add", "xu", "--role", "staff"]);
    let deputy = duban(&dir, &["token", "create", "liu"]);
    let staff = duban(&dir, &["token", "create", "xu"]);
    // (case id, version) the server acknowledged.
    let acknowledged: Arc<Mutex<Vec<(String, u64)>>> = Arc::new(Mutex::new(Vec::new()));
    for round in 0..20u64 {
        let mut server = Command::new(env!("CARGO_BIN_EXE_duban"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--rate-burst",
                "100000",
                "--rate-limit",
                "100000",
            ])
            .current_dir(&dir)
            .env_remove("DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        let mut line = String::new();
        BufReader::new(server.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("line");
        let addr = line
            .trim()
            .trim_start_matches("listening on http://")
            .to_string();
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
        server.kill().expect("SIGKILL");
        server.wait().expect("reap");
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
                            limit: 200,
                        },
                    )
                    .await
                    .expect("list")
            }
            None => break,
        }
    }
    assert!(checked > 10);
    let _ = std::fs::remove_dir_all(&dir);
}
