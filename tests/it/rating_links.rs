//! One-click rating end to end: the real `duban serve`, a joint suggestion answered over the
//! API, the co-signer's notice read from their inbox, and its signed link followed over plain
//! HTTP without any credential: the GET changes nothing, the POST rates once.

use serde_json::{Value, json};

use crate::api_e2e::{Server, file};
use crate::common::http;

/// The path of the first signed link in `text` (`/r/…`).
fn link_path(text: &str) -> Option<String> {
    let (_, rest) = text.split_once("/r/")?;
    let token: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    Some(format!("/r/{token}"))
}

#[test]
fn a_co_signer_rates_from_the_link_in_their_notice() {
    let s = Server::start("rating-links");
    let id = file(
        &s,
        "liu",
        "suggestion",
        json!({"title": "关于加快农村公路提档升级的建议", "body": "……", "cosigners": ["wang"]}),
    );
    s.act(&id, "register", "xu", json!({}));
    s.act(&id, "assign", "xu", json!({"lead_department": "jtj"}));
    s.act(
        &id,
        "reply",
        "zhang",
        json!({"classification": "A", "answer": "道路已完成提档升级。"}),
    );
    // The scheduler inside `serve` is woken by the reply and tells both signers.
    let mut link = None;
    for _ in 0..50 {
        let inbox = s.get("/api/v1/notifications", "wang").json;
        link = inbox["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|n| {
                n["title"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("【已答复】"))
            })
            .find_map(|n| n["body"].as_str().and_then(link_path));
        if link.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let link = link.expect("the co-signer's notice carries a link");
    let version = || s.get(&format!("/api/v1/cases/{id}"), "xu").json["version"].clone();
    let before = version();

    // Opened without any credential: the reply and the form; nothing recorded.
    let page = http(&s.serve.addr, "GET", &link, &[], None).expect("answer");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("道路已完成提档升级。"), "{}", page.body);
    assert!(page.body.contains("name=\"rating\""));
    assert_eq!(version(), before);

    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let done = http(
        &s.serve.addr,
        "POST",
        &link,
        &form,
        Some("rating=satisfied"),
    )
    .expect("answer");
    assert_eq!(done.status, 200, "{}", done.body);
    let events = s.get(&format!("/api/v1/cases/{id}/events"), "xu").json;
    let rated: Vec<&Value> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"] == "evaluate")
        .collect();
    assert_eq!(rated.len(), 1, "{events}");
    assert_eq!(rated[0]["actor"], "wang");
    let case = s.get(&format!("/api/v1/cases/{id}"), "xu").json;
    assert_eq!(case["state"], "handled", "the lead deputy's rating decides");

    // Once only.
    let again = http(
        &s.serve.addr,
        "POST",
        &link,
        &form,
        Some("rating=dissatisfied&comment=x"),
    )
    .expect("answer");
    assert_eq!(again.status, 410, "{}", again.body);
    assert_eq!(
        s.get(&format!("/api/v1/cases/{id}"), "xu").json["version"],
        case["version"]
    );
}
