//! No personal data in logs: known ID numbers, phones and names are filed, revealed, sent back
//! in bad requests and reminded about while `duban serve` logs everything it logs at debug level
//! as JSON; none of them may appear in the logs, in `/metrics` or in any error body.

use std::io::{BufReader, Read};
use std::process::Stdio;

use crate::common::{Serve, TempDir, duban_ok, http_as};

const NAME: &str = "欧阳金丝雀";
const ID_NUMBER: &str = "11010519491231002X";
const PHONE: &str = "13987654321";
const ADDRESS: &str = "金丝雀巷42号";

/// The whole raw answer, headers and body, as a client would see it.
fn request(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> String {
    let r = http_as(addr, token, method, path, headers, Some(body)).expect("answer");
    let head: String = r
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\n"))
        .collect();
    format!("HTTP/1.1 {}\n{head}\n{}", r.status, r.body)
}

#[test]
fn known_personal_data_never_reaches_logs_metrics_or_error_bodies() {
    let tmp = TempDir::new("canary");
    let dir = tmp.path();
    for args in [
        &["org", "add", "st1", "--kind", "station", "--name", "联络站"][..],
        &[
            "org",
            "add",
            "rsj",
            "--kind",
            "department",
            "--name",
            "人社局",
        ],
        &["user", "add", "liu", "--role", "deputy", "--org", "st1"],
        &[
            "user",
            "add",
            "zhou",
            "--role",
            "department",
            "--org",
            "rsj",
        ],
    ] {
        duban_ok(dir, args);
    }
    let deputy = duban_ok(dir, &["token", "create", "liu"]);
    let clerk = duban_ok(dir, &["token", "create", "zhou"]);
    let mut server = Serve::start(
        dir,
        &[],
        &[("DUBAN_LOG_FORMAT", "json"), ("RUST_LOG", "debug")],
        Stdio::piped(),
    );
    let addr = server.addr.clone();
    let stderr = server.child.stderr.take().expect("stderr");
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
    let filed = request(&addr, "POST", "/api/v1/cases", &deputy, &[], &body);
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
        let r = request(&addr, "POST", "/api/v1/cases", &deputy, &[], &bad);
        assert!(r.starts_with("HTTP/1.1 4"), "{r}");
        bodies.push(r);
    }
    let r = request(
        &addr,
        "POST",
        &format!("/api/v1/cases/{id}/actions/transfer"),
        &deputy,
        &[("If-Match", "\"1\"")],
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
        &[],
        "",
    );
    assert!(
        revealed.contains(PHONE),
        "the reveal itself works: {revealed}"
    );
    std::thread::sleep(std::time::Duration::from_millis(500)); // let the scheduler's inbox reminder fire
    let metrics = request(&addr, "GET", "/metrics", &clerk, &[], "");
    bodies.push(metrics);
    drop(server);
    let logs = logs.join().expect("logs");
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
