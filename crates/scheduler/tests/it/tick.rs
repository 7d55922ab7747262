//! `tick(now)` with a fixed clock and recording channels: reminders fire on the days the
//! workflow and the holiday calendar give, move with an extension, stop with a reply, and an
//! overdue key suggestion escalates to its supervising leader.

use duban_storage::{Cases, Inbox};
use std::sync::Arc;

use crate::common::{Recording, assigned_suggestion, env, inbox};
use duban_core::Workflows;
use duban_scheduler::{Channel, Config, Scheduler};
use duban_storage::{Contacts, Outbox, Page};
use duban_testkit::ts;
use serde_json::json;

fn scheduler(
    env: &duban_testkit::Office,
    email: Arc<Recording>,
    webhook: Arc<Recording>,
) -> Scheduler<duban_storage::SqlStore> {
    let channels: Vec<Arc<dyn Channel>> = vec![email, webhook];
    let config = Config {
        owner: "test".into(),
        base_url: "https://duban.example".into(),
        ..Config::default()
    };
    Scheduler::new(
        env.store.clone(),
        Arc::new(Workflows::builtin()),
        channels,
        config,
    )
}

#[tokio::test]
async fn reminders_fire_on_their_days_move_with_an_extension_and_stop_with_a_reply() {
    let env = env("http://hook.example/jtj").await;
    let email = Recording::new("email");
    let webhook = Recording::new("webhook");
    let s = scheduler(&env, email.clone(), webhook.clone());
    // Assigned 2024-07-01: due 2024-10-08 (National Day rolls it). Reminders 15 days before
    // (09-23), 3 days before (10-05), and overdue from 10-09.
    let id = assigned_suggestion(&env, "关于农村公路的建议").await;

    // The assignment itself is told at once: the notice is due the moment it happened.
    let r = s.tick(ts("2024-07-01T09:00:00")).await.expect("tick");
    assert_eq!((r.fired, r.notified), (1, 1), "{r:?}");
    assert_eq!(
        inbox(&env, "zhang").await,
        ["【新交办】代表建议《关于农村公路的建议》（建议〔2024〕001号）"]
    );
    let (email_before, hooks_before) = (email.sent().len(), webhook.sent().len());
    assert_eq!((email_before, hooks_before), (2, 1));

    assert_eq!(
        s.tick(ts("2024-09-23T08:59:59")).await.expect("tick").fired,
        0
    );
    let r = s.tick(ts("2024-09-23T09:00:00")).await.expect("tick");
    assert_eq!((r.fired, r.notified), (1, 1), "{r:?}");
    assert_eq!(
        inbox(&env, "zhang").await[0],
        "【到期提醒】代表建议《关于农村公路的建议》（建议〔2024〕001号）"
    );
    // E-mail to the department's office and to its clerk; a signed webhook to the department.
    let mut to: Vec<String> = email.sent()[email_before..]
        .iter()
        .map(|(d, _)| d.address.clone())
        .collect();
    to.sort();
    assert_eq!(to, ["office@jtj.example", "zhang@jtj.example"]);
    let hooks = webhook.sent()[hooks_before..].to_vec();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].1.as_deref(), Some("jtj-secret"));
    let body: serde_json::Value = serde_json::from_str(&hooks[0].0.body).expect("json");
    assert_eq!(body["due_date"], "2024-10-08");
    assert_eq!(body["link"], format!("https://duban.example/cases/{id}"));
    assert!(
        email.sent()[email_before]
            .0
            .body
            .contains("办理期限为2024-10-08")
    );
    // Nothing twice: the same instant again does nothing.
    assert!(
        !s.tick(ts("2024-09-23T09:00:00"))
            .await
            .expect("tick")
            .did_work()
    );

    // Extended to 2024-12-31: the 10-05 and 10-09 reminders are gone, new ones come.
    env.act(
        &id,
        "extend",
        "xu",
        json!({"until": "2024-12-31", "reason": "涉及跨部门协调"}),
        "2024-09-24T10:00:00",
    )
    .await;
    let r = s.tick(ts("2024-09-24T10:00:00")).await.expect("tick");
    assert_eq!(
        r.fired, 1,
        "the department and the deputy are told of the new date"
    );
    assert_eq!(
        inbox(&env, "liu").await,
        ["【延期已批准】代表建议《关于农村公路的建议》（建议〔2024〕001号）"]
    );
    assert_eq!(
        inbox(&env, "zhang").await[0],
        "【延期已批准】代表建议《关于农村公路的建议》（建议〔2024〕001号）"
    );
    assert_eq!(
        s.tick(ts("2024-10-10T09:00:00")).await.expect("tick").fired,
        0
    );
    let r = s.tick(ts("2024-12-16T09:00:00")).await.expect("tick");
    assert_eq!(r.fired, 1, "15 days before 12-31");
    // The reply stops the clock: no 3-days-before, no overdue.
    env.act(
        &id,
        "reply",
        "zhang",
        json!({"classification": "A", "answer": "已完成"}),
        "2024-12-20T10:00:00",
    )
    .await;
    // What fires now is the deputy's: the notice that the reply is in, and 7 days before the
    // month to evaluate it runs out.
    assert_eq!(
        s.tick(ts("2025-02-01T09:00:00")).await.expect("tick").fired,
        2
    );
    assert_eq!(inbox(&env, "zhang").await.len(), 4);
    assert_eq!(inbox(&env, "liu").await.len(), 3);
    let reminders = env.store.reminders(&id).await.expect("reminders");
    assert!(
        reminders
            .iter()
            .filter(|r| r.state == "assigned")
            .all(|r| r.status != "pending"),
        "{reminders:#?}"
    );
}

#[tokio::test]
async fn an_overdue_key_suggestion_escalates_to_its_supervising_leader_every_week() {
    let env = env("http://hook.example/jtj").await;
    let s = scheduler(&env, Recording::new("email"), Recording::new("webhook"));
    let id = assigned_suggestion(&env, "关于学校周边交通的建议").await;
    env.act(
        &id,
        "mark_key",
        "xu",
        json!({"supervisor": "chen"}),
        "2024-07-02T09:00:00",
    )
    .await;
    s.tick(ts("2024-10-08T23:00:00")).await.expect("tick");
    // Told once that the case is theirs to supervise, and not yet that it is overdue.
    assert_eq!(
        inbox(&env, "chen").await,
        ["【领衔督办】代表建议《关于学校周边交通的建议》（建议〔2024〕001号）"]
    );
    let r = s.tick(ts("2024-10-09T09:00:00")).await.expect("tick");
    assert_eq!(r.fired, 1);
    // The department, the supervising leader and every leader, each once.
    assert_eq!(r.notified, 3, "{r:?}");
    assert_eq!(
        inbox(&env, "chen").await[0],
        "【督办升级】代表建议《关于学校周边交通的建议》（建议〔2024〕001号）"
    );
    assert_eq!(inbox(&env, "li").await.len(), 1);
    // Again a week later, while it stays overdue.
    assert_eq!(
        s.tick(ts("2024-10-15T09:00:00")).await.expect("tick").fired,
        0
    );
    assert_eq!(
        s.tick(ts("2024-10-16T09:00:00")).await.expect("tick").fired,
        1
    );
    assert_eq!(inbox(&env, "chen").await.len(), 3);
    let n = env
        .store
        .notifications("chen", &Page::first(10), false)
        .await
        .expect("inbox")
        .0;
    assert!(n[..2].iter().all(|n| n.escalate));
}

#[tokio::test]
async fn a_receiver_that_fails_three_times_gets_four_attempts_and_one_that_always_fails_ends_dead()
{
    let env = env("http://hook.example/jtj").await;
    let flaky = Recording::new("webhook");
    flaky
        .fail_first
        .store(3, std::sync::atomic::Ordering::SeqCst);
    let config = Config {
        owner: "w".into(),
        max_attempts: 5,
        ..Config::default()
    };
    let s = Scheduler::new(
        env.store.clone(),
        Arc::new(Workflows::builtin()),
        vec![flaky.clone() as Arc<dyn Channel>],
        config.clone(),
    );
    assigned_suggestion(&env, "t").await;
    // Tick every hour from the assignment notice: retries wait 30 s, 1 min, 2 min … (± jitter).
    let mut now = ts("2024-07-01T09:00:00");
    for _ in 0..10 {
        s.tick(now).await.expect("tick");
        now = now
            .checked_add(jiff::SignedDuration::from_hours(1))
            .expect("time");
    }
    let d = env
        .store
        .deliveries(Some("sent"), 10)
        .await
        .expect("deliveries");
    assert_eq!(d.len(), 1);
    let attempts = env.store.attempts(&d[0].id).await.expect("attempts");
    let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["failed", "failed", "failed", "sent"]);
    assert_eq!(attempts[0].error.as_deref(), Some("HTTP 503"));

    // A receiver that never answers well: dead after five attempts, with its last error.
    let down = Arc::new(Recording {
        always_fail: true,
        ..Arc::try_unwrap(Recording::new("webhook"))
            .ok()
            .expect("fresh")
    });
    let s = Scheduler::new(
        env.store.clone(),
        Arc::new(Workflows::builtin()),
        vec![down.clone() as Arc<dyn Channel>],
        config,
    );
    // From the 3-days-before reminder on.
    let mut now = ts("2024-10-05T09:00:00");
    for _ in 0..30 {
        s.tick(now).await.expect("tick");
        now = now
            .checked_add(jiff::SignedDuration::from_hours(1))
            .expect("time");
    }
    let dead = env.store.deliveries(Some("dead"), 10).await.expect("dead");
    assert!(!dead.is_empty(), "the 3-days-before webhook should be dead");
    for d in &dead {
        assert_eq!(d.attempts, 5);
        assert_eq!(d.last_error.as_deref(), Some("receiver down"));
        assert_eq!(env.store.attempts(&d.id).await.expect("attempts").len(), 5);
    }
    assert!(s.metrics().get("dead", "webhook") >= 1);
    // An administrator retries it: back in the queue.
    assert!(
        env.store
            .retry_delivery(&dead[0].id, now)
            .await
            .expect("retry")
    );
    let pending = env
        .store
        .deliveries(Some("pending"), 100)
        .await
        .expect("pending");
    assert!(
        pending
            .iter()
            .any(|d| d.id == dead[0].id && d.attempts == 0)
    );
}

#[test]
fn backoff_doubles_up_to_its_cap_with_bounded_jitter() {
    let c = Config {
        backoff_base: std::time::Duration::from_secs(30),
        backoff_max: std::time::Duration::from_secs(3600),
        ..Config::default()
    };
    for attempt in 1..12 {
        let want = (30u64 << (attempt - 1)).min(3600) as f64;
        let got = duban_scheduler::backoff(&c, "dlv_x", attempt).as_secs_f64();
        assert!(
            got >= want * 0.75 - 0.001 && got <= want * 1.25 + 0.001,
            "attempt {attempt}: {got} vs {want}"
        );
    }
    assert_ne!(
        duban_scheduler::backoff(&c, "dlv_a", 3),
        duban_scheduler::backoff(&c, "dlv_b", 3),
        "jitter spreads retries"
    );
}

#[tokio::test]
async fn sms_goes_to_those_who_agreed_for_kinds_with_a_template_within_a_daily_cap() {
    let env = env("http://hook.example/jtj").await;
    let store = &env.store;
    store
        .set_user_phone("zhang", Some("13800135678"))
        .await
        .expect("phone");
    assert!(store.set_user_sms("zhang", true).await.expect("consent"));
    // A number without consent gets nothing.
    store
        .set_user_phone("xu", Some("13900135678"))
        .await
        .expect("phone");
    let sms = Recording::new("sms");
    let config = Config {
        owner: "test".into(),
        sms: Some(duban_scheduler::SmsPolicy {
            kinds: ["notice", "due"].map(String::from).into(),
            daily_cap: 2,
        }),
        ..Config::default()
    };
    let channels: Vec<Arc<dyn Channel>> = vec![sms.clone()];
    let s = Scheduler::new(
        store.clone(),
        Arc::new(Workflows::builtin()),
        channels,
        config,
    );
    for title in ["甲", "乙", "丙"] {
        assigned_suggestion(&env, title).await;
    }
    // Three assignments told the same day: all three in the inbox, two by SMS.
    s.tick(ts("2024-07-01T09:00:00")).await.expect("tick");
    assert_eq!(inbox(&env, "zhang").await.len(), 3);
    assert_eq!(sms.sent().len(), 2);
    // A new day, a new allowance: three reminders 15 days before, two by SMS.
    s.tick(ts("2024-09-23T09:00:00")).await.expect("tick");
    assert_eq!(inbox(&env, "zhang").await.len(), 6);
    assert_eq!(sms.sent().len(), 4);
    s.tick(ts("2024-10-05T09:00:00")).await.expect("tick");
    assert_eq!(inbox(&env, "zhang").await.len(), 9);
    assert_eq!(sms.sent().len(), 6);
    // 【逾期提醒】 has no template here: the inbox only.
    s.tick(ts("2024-10-09T09:00:00")).await.expect("tick");
    assert_eq!(inbox(&env, "zhang").await.len(), 12);
    assert_eq!(sms.sent().len(), 6);
    for (d, number) in sms.sent() {
        assert_eq!(d.address, "zhang", "the queue names the person");
        assert_eq!(number.as_deref(), Some("13800135678"), "opened to send");
        let body: serde_json::Value = serde_json::from_str(&d.body).expect("json");
        assert!(["notice", "due"].contains(&body["kind"].as_str().expect("kind")));
        assert_eq!(
            body["params"]["number"]
                .as_str()
                .map(|n| n.starts_with("建议〔2024〕")),
            Some(true)
        );
        assert!(!d.body.contains("13800135678"));
    }
    // Consent withdrawn after queueing: the number is no longer opened for it.
    let queued = store
        .deliveries(Some("sent"), 100)
        .await
        .expect("deliveries");
    let one = queued.iter().find(|d| d.channel == "sms").expect("an SMS");
    assert_eq!(
        store.sealed_for(one).await.expect("open").as_deref(),
        Some("13800135678")
    );
    assert!(store.set_user_sms("zhang", false).await.expect("withdrawn"));
    assert_eq!(store.sealed_for(one).await.expect("open"), None);
}
