//! No personal data in logs: known ID numbers, phones and names are filed, revealed, sent back
//! in bad requests and reminded about while `duban serve` logs everything it logs at debug level
//! as JSON; none of them may appear in the logs, in `/metrics` or in any error body.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

const NAME: &str = "欧阳金丝雀";
const ID_NUMBER: &str = "11010519491231002X";
const PHONE: &str = "13987654321";
const ADDRESS: &str = "金丝雀巷42号";

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

fn request(addr: &str, method: &str, path: &str, token: &str, headers: &str, body: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

#[test]
fn known_personal_data_never_reaches_logs_metrics_or_error_bodies() {
    let dir = std::env::temp_dir().join(format!("duban-canary-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    duban(
        &dir,
        &["org", "add", "st1", "--kind", "station", "--name", "联络站"],
    );
    duban(
        &dir,
        &[
            "org",
            "add",
            "rsj",
            "--kind",
            "department",
            "--name",
            "人社局",
        ],
    );
    duban(
        &dir,
        &["user", "add", "liu", "--role", "deputy", "--org", "st1"],
    );
    duban(
        &dir,
        &[
            "user",
            "add",
            "zhou",
            "--role",
            "department",
            "--org",
            "rsj",
        ],
    );
    let deputy = duban(&dir, &["token", "create", "liu"]);
    let clerk = duban(&dir, &["token", "create", "zhou"]);
    let mut server = Command::new(env!("CARGO_BIN_EXE_duban"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .current_dir(&dir)
        .env_remove("DATABASE_URL")
        .env("DUBAN_LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
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
    let stderr = server.stderr.take().expect("stderr");
    let logs = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut s);
        s
    });

    let person = format!(
        r#"{{"name":"{NAME}","id_number":"{ID_NUMBER}","phone":"{PHONE}","address":"{ADDRESS}"}}"#
    );
    let body = format!(
        r#"{{"kind":"petition","payload":{{"title":"反映欠薪","body":"b","station":"st1","constituent":{person}}}}}"#
    );
    let filed = request(&addr, "POST", "/api/v1/cases", &deputy, "", &body);
    assert!(filed.starts_with("HTTP/1.1 201"), "{filed}");
    let id = filed
        .split("\"id\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("id")
        .to_string();
    let mut bodies = vec![filed.clone()];
    // Bad requests that carry the personal data: wrong types, unknown fields, bad JSON.
    for bad in [
        format!(
            r#"{{"kind":"petition","payload":{{"title":"t","body":"b","station":"st1","constituent":{{"name":"{NAME}","id_number":"{ID_NUMBER}9","phone":"{PHONE}"}}}}}}"#
        ),
        format!(
            r#"{{"kind":"petition","payload":{{"title":"t","body":"b","station":"nowhere","constituent":{person},"extra":"{PHONE}"}}}}"#
        ),
        format!(r#"{{"kind":"petition","payload":{{"title":"{ID_NUMBER}"#),
        format!(r#"{{"kind":"{NAME}","payload":{{}}}}"#),
    ] {
        let r = request(&addr, "POST", "/api/v1/cases", &deputy, "", &bad);
        assert!(r.starts_with("HTTP/1.1 4"), "{r}");
        bodies.push(r);
    }
    let r = request(
        &addr,
        "POST",
        &format!("/api/v1/cases/{id}/actions/transfer"),
        &deputy,
        "If-Match: \"1\"\r\n",
        r#"{"lead_department":"rsj"}"#,
    );
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    // A reveal puts the data in that response (allowed, recorded) but must not log it.
    let revealed = request(
        &addr,
        "GET",
        &format!(
            "/api/v1/cases/{id}?reveal=name,id_number,phone,address&reason=%E8%81%94%E7%B3%BB"
        ),
        &clerk,
        "",
        "",
    );
    assert!(
        revealed.contains(PHONE),
        "the reveal itself works: {revealed}"
    );
    std::thread::sleep(std::time::Duration::from_millis(500)); // let the scheduler's inbox reminder fire
    let metrics = request(&addr, "GET", "/metrics", &clerk, "", "");
    bodies.push(metrics);
    let _ = server.kill();
    let _ = server.wait();
    let logs = logs.join().expect("logs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        logs.contains("\"level\""),
        "JSON logs were captured: {}",
        &logs[..logs.len().min(500)]
    );
    for canary in [NAME, ID_NUMBER, PHONE, ADDRESS, "199003", "19491231002"] {
        assert!(!logs.contains(canary), "`{canary}` found in the logs");
        for b in &bodies {
            assert!(!b.contains(canary), "`{canary}` found in a response: {b}");
        }
    }
}
