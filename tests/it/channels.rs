//! The robots and SMS as an administrator sets them up: `duban org add --wecom-url
//! --dingtalk-url`, `duban user add --phone --sms`, `duban serve` with the gateway's settings
//! in its environment; an assignment reaches the department's two robots and its clerk's
//! phone. The number is stored only encrypted. (The vendors' formats and signatures are checked
//! strictly in the scheduler's suite, `crates/scheduler/tests/it/robots.rs`.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Serve, TempDir, duban, duban_ok, http_as};

/// One request a fake received: its path with query, and its body.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A fake of all three vendors on one port: it records each request and answers as the
/// vendor does when all is well (`errcode` 0, or `Code` OK for the SMS gateway).
fn fake_vendors() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let seen: Seen = Arc::default();
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let target = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let answer = if target.starts_with("/sms") {
                json!({"Code": "OK", "Message": "OK", "BizId": "1^0", "RequestId": "r"})
            } else {
                json!({"errcode": 0, "errmsg": "ok"})
            }
            .to_string();
            record
                .lock()
                .expect("lock")
                .push((target, String::from_utf8_lossy(&body).into_owned()));
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (base, seen)
}

#[test]
fn an_assignment_reaches_the_departments_robots_and_its_clerk_by_sms() {
    let tmp = TempDir::new("channels");
    let dir = tmp.path();
    let (base, seen) = fake_vendors();
    duban_ok(
        dir,
        &[
            "org",
            "add",
            "jtj",
            "--kind",
            "department",
            "--name",
            "县交通运输局",
            "--wecom-url",
            &format!("{base}/cgi-bin/webhook/send?key=wk-1"),
            "--dingtalk-url",
            &format!("{base}/robot/send?access_token=dt-1"),
            "--dingtalk-secret",
            "SECdemo",
        ],
    );
    duban_ok(
        dir,
        &[
            "org",
            "add",
            "st-1",
            "--kind",
            "station",
            "--name",
            "城关镇联络站",
        ],
    );
    duban_ok(
        dir,
        &["user", "add", "liu", "--role", "deputy", "--org", "st-1"],
    );
    duban_ok(dir, &["user", "add", "xu", "--role", "staff"]);
    // A number that is no mobile one is refused before anyone is added.
    let bad = duban(
        dir,
        &[
            "user",
            "add",
            "zhang",
            "--role",
            "department",
            "--org",
            "jtj",
            "--phone",
            "0571-8765432",
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--phone"));
    duban_ok(
        dir,
        &[
            "user",
            "add",
            "zhang",
            "--role",
            "department",
            "--org",
            "jtj",
            "--phone",
            "138 0013 5678",
            "--sms",
        ],
    );
    // Kept encrypted, and masked where shown: the digits are nowhere in the database files.
    for file in ["duban.db", "duban.db-wal"] {
        let bytes = std::fs::read(dir.join(file)).unwrap_or_default();
        assert!(
            !bytes.windows(11).any(|w| w == b"13800135678"),
            "{file} holds the number in the clear"
        );
    }
    let tokens: Vec<String> = ["liu", "xu"]
        .iter()
        .map(|who| duban_ok(dir, &["token", "create", who]))
        .collect();
    let (liu, xu) = (&tokens[0], &tokens[1]);
    let serve = Serve::start(
        dir,
        &[],
        &[
            ("DUBAN_SMS_ACCESS_KEY_ID", "LTAI-e2e"),
            ("DUBAN_SMS_ACCESS_KEY_SECRET", "e2e-secret"),
            ("DUBAN_SMS_ENDPOINT", &format!("{base}/sms")),
            ("DUBAN_SMS_SIGN_NAME", "测试县人大常委会"),
            ("DUBAN_SMS_TEMPLATES", "notice=SMS_100,overdue=SMS_200"),
        ],
        Stdio::null(),
    );
    let post = |token: &str, path: &str, version: Option<u64>, body: Value| {
        let tag = version.map(|v| format!("\"{v}\""));
        let headers: Vec<(&str, &str)> = tag.iter().map(|t| ("If-Match", t.as_str())).collect();
        let r = http_as(
            &serve.addr,
            token,
            "POST",
            path,
            &headers,
            Some(&body.to_string()),
        )
        .expect("an answer");
        assert!(r.status < 300, "{path}: {} {}", r.status, r.body);
        serde_json::from_str::<Value>(&r.body).expect("json")
    };
    let filed = post(
        liu,
        "/api/v1/cases",
        None,
        json!({"kind": "suggestion", "payload": {"title": "关于修缮龙门镇道路的建议", "body": "……"}}),
    );
    let id = filed["id"].as_str().expect("id");
    let registered = post(
        xu,
        &format!("/api/v1/cases/{id}/actions/register"),
        filed["version"].as_u64(),
        json!({}),
    );
    post(
        xu,
        &format!("/api/v1/cases/{id}/actions/assign"),
        registered["version"].as_u64(),
        json!({"lead_department": "jtj"}),
    );
    let started = Instant::now();
    while seen.lock().expect("lock").len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not every channel was used in 30 s: {:?}",
            seen.lock().expect("lock")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(serve);
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    let find = |prefix: &str| {
        seen.iter()
            .find(|(target, _)| target.starts_with(prefix))
            .unwrap_or_else(|| panic!("nothing at {prefix}: {seen:?}"))
            .clone()
    };
    let (_, wecom) = find("/cgi-bin/webhook/send?key=wk-1");
    let text: Value = serde_json::from_str(&wecom).expect("wecom json");
    assert_eq!(text["msgtype"], "text");
    let content = text["text"]["content"].as_str().expect("content");
    assert!(content.starts_with("【新交办】"), "{content}");
    assert!(
        content.contains("关于修缮龙门镇道路的建议") && content.contains(id),
        "{content}"
    );
    let (target, dingtalk) = find("/robot/send?access_token=dt-1");
    assert!(
        target.contains("&timestamp=") && target.contains("&sign="),
        "{target}"
    );
    assert_eq!(dingtalk, wecom, "the same text to both robots");
    let (target, sms) = find("/sms");
    assert!(
        !target.contains("13800135678"),
        "the number stays out of URLs"
    );
    for part in [
        "PhoneNumbers=13800135678",
        "TemplateCode=SMS_100",
        "AccessKeyId=LTAI-e2e",
        "Signature=",
    ] {
        assert!(sms.contains(part), "{part} in {sms}");
    }
    // Consent can be withdrawn, and without a number it cannot be given.
    duban_ok(
        dir,
        &[
            "user", "edit", "zhang", "--sms", "false", "--remove", "phone",
        ],
    );
    let out = duban(dir, &["user", "edit", "zhang", "--sms", "true"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sms: 须先填写手机号码"));
}
