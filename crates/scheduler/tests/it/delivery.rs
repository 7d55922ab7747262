//! Delivery over real sockets: e-mail to an SMTP server the test runs, signed webhooks to a
//! receiver the test runs (on 127.0.0.1), and the signature checked the way a receiver would.

use std::sync::{Arc, Mutex};

use crate::common::{assigned_suggestion, env};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use duban_core::Workflows;
use duban_scheduler::{Channel, Config, Email, Scheduler, SmtpSettings, Webhook, signature};
use duban_testkit::ts;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A minimal SMTP server: accepts one message, refusing it if a required header is missing,
/// and hands back (recipients, raw message).
async fn smtp_server() -> (u16, tokio::task::JoinHandle<(Vec<String>, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 test ESMTP\r\n").await.expect("greet");
        let mut rcpt = Vec::new();
        let mut data = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            let upper = line.to_ascii_uppercase();
            if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                write.write_all(b"250 test\r\n").await.expect("ehlo");
            } else if upper.starts_with("MAIL FROM") {
                write.write_all(b"250 OK\r\n").await.expect("mail");
            } else if upper.starts_with("RCPT TO") {
                rcpt.push(
                    line[8..]
                        .trim()
                        .trim_matches(|c| c == '<' || c == '>' || c == ':')
                        .to_string(),
                );
                write.write_all(b"250 OK\r\n").await.expect("rcpt");
            } else if upper == "DATA" {
                write.write_all(b"354 go on\r\n").await.expect("data");
                while let Ok(Some(l)) = lines.next_line().await {
                    if l == "." {
                        break;
                    }
                    data.push_str(&l);
                    data.push('\n');
                }
                // As strict as a real relay about what a message must carry.
                let answer = match crate::peers::missing_header(&data) {
                    Some(h) => format!("554 missing {h}\r\n"),
                    None => "250 queued\r\n".into(),
                };
                write.write_all(answer.as_bytes()).await.expect("queued");
            } else if upper.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await.expect("bye");
                break;
            } else {
                write.write_all(b"250 OK\r\n").await.expect("ok");
            }
        }
        (rcpt, data)
    });
    (port, task)
}

fn base64_decode(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let Some(v) = A.iter().position(|a| *a == c) else {
            continue;
        };
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// Undoes what a mail library may have done to non-ASCII text: RFC 2047 words in headers,
/// base64 or quoted-printable bodies.
fn readable(raw: &str) -> String {
    let mut text = String::new();
    let (head, body) = raw.split_once("\n\n").unwrap_or((raw, ""));
    // Unfold headers; whitespace between two encoded words is not part of the text.
    let head = head.replace("\n ", "");
    for line in head.lines() {
        let mut l = line.to_string();
        while let Some(start) = l.find("=?utf-8?b?").or_else(|| l.find("=?UTF-8?B?")) {
            let rest = &l[start + 10..];
            let end = rest.find("?=").unwrap_or(rest.len());
            let decoded = String::from_utf8_lossy(&base64_decode(&rest[..end])).to_string();
            l = format!(
                "{}{decoded}{}",
                &l[..start],
                &rest[(end + 2).min(rest.len())..]
            );
        }
        text.push_str(&l);
        text.push('\n');
    }
    if head
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: base64")
    {
        text.push_str(&String::from_utf8_lossy(&base64_decode(body)));
    } else {
        // Quoted-printable: soft line breaks and =XX escapes.
        let joined = body.replace("=\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        text.push_str(&String::from_utf8_lossy(&out));
    }
    text
}

#[tokio::test]
async fn a_reminder_arrives_by_email_with_its_recipient_subject_and_case_link() {
    let (port, server) = smtp_server().await;
    let env = env("http://127.0.0.1:9/unused").await;
    let email: Arc<dyn Channel> = Arc::new(
        Email::new(&SmtpSettings {
            url: format!("smtp://127.0.0.1:{port}"),
            from: "duban@rd.example".into(),
            ..SmtpSettings::default()
        })
        .expect("settings"),
    );
    let config = Config {
        owner: "mail".into(),
        base_url: "https://duban.example".into(),
        per_channel_per_tick: 1,
        ..Config::default()
    };
    let s = Scheduler::new(
        env.store.clone(),
        Arc::new(Workflows::builtin()),
        vec![email],
        config,
    );
    // The department hears of the assignment on the next tick, not 15 days before it is due.
    let id = assigned_suggestion(&env, "关于农村公路的建议").await;
    let report = s.tick(ts("2024-07-01T09:00:01")).await.expect("tick");
    assert_eq!(report.sent, 1, "{report:?}");
    let (rcpt, raw) = server.await.expect("server");
    let text = readable(&raw);
    assert_eq!(rcpt.len(), 1);
    assert!(
        rcpt[0] == "office@jtj.example" || rcpt[0] == "zhang@jtj.example",
        "{rcpt:?}"
    );
    assert!(
        text.contains("Subject: 【新交办】代表建议《关于农村公路的建议》（建议〔2024〕001号）"),
        "{text}"
    );
    assert!(
        text.contains(&format!("https://duban.example/cases/{id}")),
        "{text}"
    );
    assert!(text.contains("办理期限为2024-10-08"), "{text}");
    // A notice says what happened and the state it led to, not where the case is now.
    assert!(text.contains("新交办，转入“"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("x-duban-delivery: dlv_"),
        "{text}"
    );
    assert!(text.contains("From: 督办系统 <duban@rd.example>"), "{text}");
}

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, String, String)>>>);

#[tokio::test]
async fn a_webhook_is_signed_so_the_receiver_can_check_it() {
    let received = Received::default();
    let r2 = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let r = r2.clone();
            async move {
                let get = |k: &str| {
                    headers
                        .get(k)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string()
                };
                r.0.lock().expect("lock").push((
                    get("x-duban-signature"),
                    get("idempotency-key"),
                    body,
                ));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let env = env(&url).await;
    let s = Scheduler::new(
        env.store.clone(),
        Arc::new(Workflows::builtin()),
        vec![Arc::new(Webhook::new().expect("webhook client")) as Arc<dyn Channel>],
        Config::default(),
    );
    let id = assigned_suggestion(&env, "t").await;
    let now = ts("2024-07-01T09:00:01");
    assert_eq!(s.tick(now).await.expect("tick").sent, 1);
    let got = received.0.lock().expect("lock").clone();
    assert_eq!(got.len(), 1);
    let (sig, key, body) = &got[0];
    // The receiver's check: recompute with the shared secret over "<t>.<body>".
    let t: i64 = sig
        .split(',')
        .next()
        .and_then(|p| p.strip_prefix("t="))
        .and_then(|v| v.parse().ok())
        .expect("timestamp");
    assert_eq!(t, now.as_second());
    assert_eq!(sig, &signature("jtj-secret", t, body));
    assert_ne!(sig, &signature("wrong-secret", t, body));
    assert!(key.starts_with("dlv_"));
    let payload: serde_json::Value = serde_json::from_str(body).expect("json");
    assert_eq!(payload["delivery_id"], key.as_str());
    assert_eq!(payload["case_id"], id.as_str());
    assert_eq!(payload["event"], "notice");
    assert_eq!(payload["headline"], "新交办");
    assert_eq!(payload["number"], "建议〔2024〕001号");
    assert_eq!(payload["due_date"], "2024-10-08");
}

#[tokio::test]
async fn the_committee_can_see_which_notices_went_to_whom_and_how_they_fared() {
    let env = env("http://127.0.0.1:9/nobody-listens").await;
    let s = Scheduler::new(
        env.store.clone(),
        Arc::new(Workflows::builtin()),
        vec![Arc::new(Webhook::new().expect("webhook client")) as Arc<dyn Channel>],
        Config::default(),
    );
    let id = assigned_suggestion(&env, "关于农村公路的建议").await;
    s.tick(ts("2024-07-01T09:00:01")).await.expect("tick");
    let staff = env.principal("xu").await;
    let sent = env.service.sent_notices(&staff, &id).await.expect("sent");
    // The department's clerk in the inbox; the department's webhook, not reached.
    let inbox = sent
        .iter()
        .find(|n| n.channel == "inbox" && n.to == "zhang")
        .expect("zhang's inbox");
    assert_eq!(inbox.headline, "新交办");
    assert_eq!(inbox.outcome, duban_service::SentOutcome::Unread);
    let hook = sent
        .iter()
        .find(|n| n.channel == "webhook")
        .expect("the webhook");
    assert_eq!(
        (hook.to.as_str(), hook.outcome),
        ("jtj", duban_service::SentOutcome::Pending)
    );
    // Only the committee sees it.
    let clerk = env.principal("zhang").await;
    assert!(env.service.sent_notices(&clerk, &id).await.is_err());
}
