//! WeCom and DingTalk group robots and Alibaba Cloud SMS, against local fakes as strict as the
//! vendors document them: the message format, DingTalk's `timestamp` and `sign`, the gateway's
//! form and HMAC-SHA1 signature (recomputed here on a path of their own), the number only in
//! the body. The fakes first refuse as the vendors do when flooded; a scheduler is killed, a
//! second one delivers, a third finds nothing left: each fake accepts its message once.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::post;
use base64::Engine as _;
use duban_core::Workflows;
use duban_scheduler::{Channel, Config, Robot, Scheduler, Sms, SmsPolicy, SmsSettings, Vendor};
use duban_storage::{Contacts, Outbox, SqlStore};
use duban_testkit::test_name;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::processes::load;

const CHILD_DB: &str = "DUBAN_ROBOTS_CHILD_DB";
const CHILD_FAKES: &str = "DUBAN_ROBOTS_CHILD_FAKES";
const DINGTALK_SECRET: &str = "SEC0123456789abcdef";
const SMS_KEY_ID: &str = "LTAI-test";
const SMS_SECRET: &str = "sms-test-secret";
const PHONE: &str = "13800135678";

/// What the fakes saw: per channel, each request's verdict (`accepted`, `refused`, or what was
/// wrong with it).
#[derive(Clone, Default)]
struct Fakes {
    failing: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<(&'static str, String)>>>,
}

impl Fakes {
    fn note(&self, channel: &'static str, verdict: Result<(), String>) -> Value {
        let (text, answer) = match (verdict, self.failing.load(Ordering::SeqCst)) {
            (Err(wrong), _) => (wrong, None),
            (Ok(()), true) => ("refused".to_string(), None),
            (Ok(()), false) => ("accepted".to_string(), Some(())),
        };
        self.seen
            .lock()
            .expect("lock")
            .push((channel, text.clone()));
        match (channel, answer) {
            ("sms", Some(())) => {
                json!({"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"})
            }
            ("sms", None) if text == "refused" => {
                json!({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1"})
            }
            ("sms", None) => json!({"Code": "SignatureDoesNotMatch", "Message": text}),
            (_, Some(())) => json!({"errcode": 0, "errmsg": "ok"}),
            ("wecom", None) if text == "refused" => {
                json!({"errcode": 45009, "errmsg": "api freq out of limit"})
            }
            ("dingtalk", None) if text == "refused" => {
                json!({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
            }
            (_, None) => json!({"errcode": 310000, "errmsg": text}),
        }
    }

    fn count(&self, channel: &str, verdict: &str) -> usize {
        let seen = self.seen.lock().expect("lock");
        seen.iter()
            .filter(|(c, v)| *c == channel && v == verdict)
            .count()
    }

    fn wrong(&self) -> Vec<(&'static str, String)> {
        let seen = self.seen.lock().expect("lock");
        seen.iter()
            .filter(|(_, v)| v != "accepted" && v != "refused")
            .cloned()
            .collect()
    }
}

/// A robot's text message: `{"msgtype":"text","text":{"content":…}}`, at most 2,048 bytes,
/// naming the case and linking to it.
fn check_text(headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    let json_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_type {
        return Err("Content-Type is not application/json".into());
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    if v["msgtype"] != "text" {
        return Err("msgtype is not text".into());
    }
    let content = v["text"]["content"].as_str().ok_or("no text.content")?;
    if content.len() > 2048 {
        return Err("content over 2048 bytes".into());
    }
    for part in ["批量测试", "办理期限", "查看：http://"] {
        if !content.contains(part) {
            return Err(format!("content lacks {part}: {content}"));
        }
    }
    Ok(())
}

async fn wecom(
    State(f): State<Fakes>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::Json<Value> {
    let verdict = match q.get("key").map(String::as_str) {
        Some("wecom-key-1") => check_text(&headers, &body),
        _ => Err("invalid webhook url key".into()),
    };
    axum::Json(f.note("wecom", verdict))
}

/// DingTalk's check, as its documentation describes: the timestamp within an hour of now, and
/// `sign` = Base64(HMAC-SHA256(secret, timestamp + "\n" + secret)).
async fn dingtalk(
    State(f): State<Fakes>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::Json<Value> {
    let verdict = (|| {
        if q.get("access_token").map(String::as_str) != Some("dt-token-1") {
            return Err("token is not exist".to_string());
        }
        let ts: i64 = q
            .get("timestamp")
            .and_then(|t| t.parse().ok())
            .ok_or("no timestamp")?;
        if (Timestamp::now().as_millisecond() - ts).abs() > 3_600_000 {
            return Err("timestamp is more than an hour away".into());
        }
        let mut mac =
            <Hmac<sha2::Sha256> as Mac>::new_from_slice(DINGTALK_SECRET.as_bytes()).expect("hmac");
        mac.update(format!("{ts}\n{DINGTALK_SECRET}").as_bytes());
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        if q.get("sign") != Some(&expected) {
            return Err("sign not match".into());
        }
        check_text(&headers, &body)
    })();
    axum::Json(f.note("dingtalk", verdict))
}

/// RFC 3986 as Alibaba Cloud's own SDKs do it: form-encode, then turn `+` into `%20`, `*` into
/// `%2A` and `%7E` back into `~`.
fn pop_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
        .replace('*', "%2A")
        .replace("%7E", "~")
}

async fn sms(
    State(f): State<Fakes>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::Json<Value> {
    let verdict = (|| {
        if uri.query().is_some_and(|q| q.contains(PHONE)) {
            return Err("the number is in the URL".to_string());
        }
        let form_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form_type {
            return Err("not a form".into());
        }
        let mut form: BTreeMap<String, String> = url::form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let signature = form.remove("Signature").ok_or("no Signature")?;
        for (k, v) in [
            ("Action", "SendSms"),
            ("Version", "2017-05-25"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("AccessKeyId", SMS_KEY_ID),
            ("Format", "JSON"),
            ("SignName", "测试县人大常委会"),
            ("PhoneNumbers", PHONE),
        ] {
            if form.get(k).map(String::as_str) != Some(v) {
                return Err(format!("{k} is not {v}"));
            }
        }
        let at: Timestamp = form
            .get("Timestamp")
            .filter(|t| t.ends_with('Z') && t.len() == 20)
            .and_then(|t| t.parse().ok())
            .ok_or("Timestamp is not YYYY-MM-DDThh:mm:ssZ")?;
        if (Timestamp::now().as_second() - at.as_second()).abs() > 900 {
            return Err("Timestamp is more than 15 minutes away".into());
        }
        if form.get("SignatureNonce").is_none_or(|n| n.is_empty()) {
            return Err("no SignatureNonce".into());
        }
        if !form
            .get("TemplateCode")
            .is_some_and(|c| c.starts_with("SMS_"))
        {
            return Err("TemplateCode is not an approved template".into());
        }
        let params: Value =
            serde_json::from_str(form.get("TemplateParam").ok_or("no TemplateParam")?)
                .map_err(|_| "TemplateParam is not JSON")?;
        for key in ["kind", "number", "title", "state", "due"] {
            let value = params[key]
                .as_str()
                .ok_or(format!("TemplateParam lacks {key}"))?;
            if value.is_empty() || value.chars().count() > 35 {
                return Err(format!(
                    "TemplateParam {key} is empty or over 35 characters"
                ));
            }
        }
        let query = form
            .iter()
            .map(|(k, v)| format!("{}={}", pop_encode(k), pop_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let to_sign = format!("POST&{}&{}", pop_encode("/"), pop_encode(&query));
        let mut mac =
            <Hmac<sha1::Sha1> as Mac>::new_from_slice(format!("{SMS_SECRET}&").as_bytes())
                .expect("hmac");
        mac.update(to_sign.as_bytes());
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        if signature != expected {
            return Err("Specified signature is not matched with our calculation.".into());
        }
        Ok(())
    })();
    axum::Json(f.note("sms", verdict))
}

async fn start_fakes() -> (String, Fakes) {
    let fakes = Fakes::default();
    let app = axum::Router::new()
        .route("/cgi-bin/webhook/send", post(wecom))
        .route("/robot/send", post(dingtalk))
        .route("/", post(sms))
        .with_state(fakes.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, fakes)
}

/// A scheduler process with the three channels: it ticks until nothing has been due for a
/// while, retrying soon (the fakes refuse only at first).
async fn child(db: &str, fakes: &str) {
    let store = SqlStore::connect(db, 4)
        .await
        .expect("connect")
        .with_keys(duban_testkit::keys());
    let templates: BTreeMap<String, String> = duban_scheduler::NOTICE_KINDS
        .iter()
        .enumerate()
        .map(|(i, k)| (k.to_string(), format!("SMS_20000000{i}")))
        .collect();
    let sms = Sms::new(
        SmsSettings {
            endpoint: format!("{fakes}/"),
            access_key_id: SMS_KEY_ID.into(),
            access_key_secret: SMS_SECRET.into(),
            sign_name: "测试县人大常委会".into(),
            templates: templates.clone(),
        },
        None,
    )
    .expect("sms");
    let channels: Vec<Arc<dyn Channel>> = vec![
        Arc::new(Robot::new(Vendor::WeCom, None).expect("wecom")),
        Arc::new(Robot::new(Vendor::DingTalk, None).expect("dingtalk")),
        Arc::new(sms),
    ];
    let config = Config {
        owner: format!("child-{}", std::process::id()),
        lease: Duration::from_millis(1_000),
        max_attempts: 50,
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_millis(400),
        sms: Some(SmsPolicy {
            kinds: templates.into_keys().collect(),
            daily_cap: 5,
        }),
        ..Config::default()
    };
    let s = Scheduler::new(store, Arc::new(Workflows::builtin()), channels, config);
    let mut idle_since = Instant::now();
    while idle_since.elapsed() < Duration::from_millis(3_000) {
        match s.tick(Timestamp::now()).await {
            Ok(r) if r.did_work() => idle_since = Instant::now(),
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("tick: {e}"),
        }
    }
    std::process::exit(0);
}

fn spawn(test: &str, db: &str, fakes: &str) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, db)
        .env(CHILD_FAKES, fakes)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child")
}

async fn wait(mut child: Child) {
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "a scheduler process failed: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn robots_and_sms_each_deliver_once_across_a_scheduler_kill_and_restart() {
    if let (Ok(db), Ok(fakes)) = (std::env::var(CHILD_DB), std::env::var(CHILD_FAKES)) {
        child(&db, &fakes).await;
    }
    let db = duban_testkit::sqlite().await;
    let (base, fakes) = start_fakes().await;
    // One reminder due now for the department: its robots, and its clerk by SMS.
    load(&db.store, &db.url, &format!("{base}/nowhere"), 1).await;
    let s = &db.store;
    s.set_org_channel("jtj", "webhook", None, None)
        .await
        .expect("no webhook");
    s.set_org_channel("jtj", "email", None, None)
        .await
        .expect("no e-mail");
    s.set_org_channel(
        "jtj",
        "wecom",
        Some(&format!("{base}/cgi-bin/webhook/send?key=wecom-key-1")),
        None,
    )
    .await
    .expect("wecom");
    s.set_org_channel(
        "jtj",
        "dingtalk",
        Some(&format!("{base}/robot/send?access_token=dt-token-1")),
        Some(DINGTALK_SECRET),
    )
    .await
    .expect("dingtalk");
    s.set_user_phone("zhang", Some(PHONE)).await.expect("phone");
    assert!(s.set_user_sms("zhang", true).await.expect("sms"));

    let name = &test_name(
        module_path!(),
        "robots_and_sms_each_deliver_once_across_a_scheduler_kill_and_restart",
    );
    // The vendors refuse at first (flow control); the first scheduler is killed once every
    // fake has refused it at least once.
    fakes.failing.store(true, Ordering::SeqCst);
    let mut first = spawn(name, &db.url, &base);
    let started = Instant::now();
    while ["wecom", "dingtalk", "sms"]
        .iter()
        .any(|c| fakes.count(c, "refused") == 0)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first scheduler reached not every fake in 60 s: {:?}",
            fakes.seen.lock().expect("lock")
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().expect("SIGKILL");
    first.wait().expect("reap");
    fakes.failing.store(false, Ordering::SeqCst);
    wait(spawn(name, &db.url, &base)).await;
    wait(spawn(name, &db.url, &base)).await;

    assert_eq!(
        fakes.wrong(),
        Vec::new(),
        "every request as the vendor documents it"
    );
    for channel in ["wecom", "dingtalk", "sms"] {
        assert_eq!(
            fakes.count(channel, "accepted"),
            1,
            "{channel}: accepted once"
        );
    }
    let deliveries = s.deliveries(None, 100).await.expect("deliveries");
    let by_channel: BTreeMap<&str, (&str, i64)> = deliveries
        .iter()
        .filter(|d| d.channel != "email")
        .map(|d| (d.channel.as_str(), (d.status.as_str(), d.attempts)))
        .collect();
    assert_eq!(by_channel.len(), 3, "{by_channel:?}");
    for (channel, (status, attempts)) in &by_channel {
        assert_eq!(*status, "sent", "{channel}");
        assert!(*attempts >= 2, "{channel}: refused, then sent");
    }
    let sms = deliveries.iter().find(|d| d.channel == "sms").expect("sms");
    assert_eq!(
        sms.address, "zhang",
        "the queue holds the login, not the number"
    );
    assert!(!sms.body.contains(PHONE));
}
