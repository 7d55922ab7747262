//! Mail to a relay that demands STARTTLS and a login, and webhooks over HTTPS, each trusting a
//! CA of the test's own given as an operator gives theirs (`--smtp-ca-file`,
//! `--webhook-ca-file`); and what a failed delivery records as its reason.

use std::sync::Arc;

use crate::common::{assigned_suggestion, env};
use crate::peers::{https_receiver, missing_header, strict_relay, test_ca};
use duban_core::Workflows;
use duban_scheduler::{Channel, Config, Email, Scheduler, SmtpSettings, Webhook, user_agent};
use duban_storage::Delivery;
use duban_testkit::ts;

fn delivery(channel: &str, address: &str) -> Delivery {
    Delivery {
        id: "dlv_test".into(),
        case_id: "case".into(),
        reminder_key: "key".into(),
        channel: channel.into(),
        address: address.into(),
        org_code: None,
        subject: "【新交办】代表建议".into(),
        body: "{\"event\":\"notice\"}".into(),
        status: "claimed".into(),
        attempts: 1,
        next_attempt_at: ts("2024-07-01T09:00:00"),
        last_error: None,
        created_at: ts("2024-07-01T09:00:00"),
        sent_at: None,
    }
}

/// Why a webhook to `port` on 127.0.0.1 failed; it must fail.
async fn failure(hook: &Webhook, port: u16) -> String {
    let url = format!("https://127.0.0.1:{port}/hook");
    hook.send(&delivery("webhook", &url), None, 0)
        .await
        .expect_err("the delivery fails")
}

fn one_at_a_time(
    channel: Arc<dyn Channel>,
    office: &duban_testkit::Office,
) -> Scheduler<duban_storage::SqlStore> {
    Scheduler::new(
        office.store.clone(),
        Arc::new(Workflows::builtin()),
        vec![channel],
        Config {
            owner: "tls".into(),
            per_channel_per_tick: 1,
            ..Config::default()
        },
    )
}

#[tokio::test]
async fn mail_reaches_a_relay_that_demands_starttls_and_a_login() {
    let ca = test_ca(&["127.0.0.1"]);
    let (port, relay) = strict_relay(&ca, ("duban", "s3cret")).await;
    let office = env("http://127.0.0.1:9/unused").await;
    let email = Email::new(&SmtpSettings {
        url: format!("smtp://duban@127.0.0.1:{port}?tls=required"),
        password: Some("s3cret".into()),
        ca_pem: Some(ca.ca_pem.clone().into_bytes()),
        from: "duban@rd.example".into(),
    })
    .expect("settings");
    let s = one_at_a_time(Arc::new(email), &office);
    assigned_suggestion(&office, "关于农村公路的建议").await;
    let report = s.tick(ts("2024-07-01T09:00:01")).await.expect("tick");
    assert_eq!(report.sent, 1, "{report:?}");
    let seen = relay.await.expect("relay");
    assert_eq!(seen.login.as_deref(), Some("duban"));
    assert!(seen.refusals.is_empty(), "{seen:?}");
    assert_eq!(missing_header(&seen.message), None, "{}", seen.message);
    assert!(
        seen.message.contains("X-Duban-Delivery: dlv_"),
        "{}",
        seen.message
    );
}

#[tokio::test]
async fn mail_sent_in_the_clear_to_such_a_relay_fails_saying_why() {
    let ca = test_ca(&["127.0.0.1"]);
    let (port, relay) = strict_relay(&ca, ("duban", "s3cret")).await;
    let email = Email::new(&SmtpSettings {
        url: format!("smtp://127.0.0.1:{port}"),
        from: "duban@rd.example".into(),
        ..SmtpSettings::default()
    })
    .expect("settings");
    let err = email
        .send(&delivery("email", "office@jtj.example"), None, 0)
        .await
        .expect_err("refused");
    assert!(err.contains("530") && err.contains("STARTTLS"), "{err}");
    let seen = relay.await.expect("relay");
    assert_eq!(seen.refusals, ["530 starttls"]);
}

#[tokio::test]
async fn a_webhook_over_https_with_the_operators_ca_arrives_signed_and_named() {
    let ca = test_ca(&["127.0.0.1"]);
    let (port, mut received) = https_receiver(&ca, "204 No Content").await;
    let office = env(&format!("https://127.0.0.1:{port}/hook")).await;
    let hook = Webhook::with_ca(Some(ca.ca_pem.as_bytes())).expect("client");
    let s = one_at_a_time(Arc::new(hook), &office);
    assigned_suggestion(&office, "t").await;
    assert_eq!(
        s.tick(ts("2024-07-01T09:00:01")).await.expect("tick").sent,
        1
    );
    let (head, body) = received
        .recv()
        .await
        .expect("a request")
        .expect("handshake");
    let head = head.to_ascii_lowercase();
    assert!(head.starts_with("post /hook "), "{head}");
    assert!(
        head.contains(&format!("user-agent: {}", user_agent())),
        "{head}"
    );
    assert!(head.contains("x-duban-signature: t="), "{head}");
    let payload: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(payload["event"], "notice");
}

#[tokio::test]
async fn an_https_webhook_that_fails_says_why() {
    let ca = test_ca(&["127.0.0.1"]);
    let (port, _r1) = https_receiver(&ca, "204 No Content").await;
    // The certificate: the system's roots do not know the test's CA.
    let err = failure(&Webhook::new().expect("client"), port).await;
    assert!(
        err.contains("certificate") && err.to_lowercase().contains("issuer"),
        "{err}"
    );
    assert!(!err.contains("127.0.0.1"), "the address is left out: {err}");
    // The name: a trusted certificate made out to another name.
    let other = test_ca(&["elsewhere.example"]);
    let (port, _r2) = https_receiver(&other, "204 No Content").await;
    let trusting = Webhook::with_ca(Some(other.ca_pem.as_bytes())).expect("client");
    let err = failure(&trusting, port).await;
    assert!(
        err.contains("certificate") && err.to_lowercase().contains("name"),
        "{err}"
    );
    // The refusal: nothing listens.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let err = failure(&trusting, port).await;
    assert!(err.to_lowercase().contains("refused"), "{err}");
    // A redirect is not followed: the signed body goes nowhere else.
    let (port, mut r3) = https_receiver(&ca, "302 Found").await;
    let trusting = Webhook::with_ca(Some(ca.ca_pem.as_bytes())).expect("client");
    let err = failure(&trusting, port).await;
    assert!(
        err.contains("302") && err.contains("redirects are not followed"),
        "{err}"
    );
    assert!(r3.recv().await.is_some());
    assert!(r3.try_recv().is_err(), "one request only");
}
