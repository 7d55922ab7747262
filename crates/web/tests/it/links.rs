//! One-click rating from a signed link, as a deputy who is not signed in: the link opens a
//! form and changes nothing; the form's POST rates once, as the link's person; a spent,
//! expired, altered or foreign link does nothing.

use axum::http::StatusCode;
use duban_core::Role;
use duban_storage::{Administration, Cases, Keyring, OrgKind, SignedLink};
use duban_testkit::Office;
use duban_web::{WebState, router};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::app::{get, post};

struct Linked {
    office: Office,
    router: axum::Router,
    id: String,
    round: Timestamp,
}

/// A joint suggestion by `liu` with `wang`, answered by 交通局 on 2024-08-15.
async fn replied() -> Linked {
    let office = Office::builder()
        .org("jtj", OrgKind::Department, "交通局")
        .user("staff", Role::Staff, None)
        .user("clerk", Role::Department, Some("jtj"))
        .user("liu", Role::Deputy, None)
        .user("wang", Role::Deputy, None)
        .user("qian", Role::Deputy, None)
        .build()
        .await;
    let id = office
        .file(
            "liu",
            "suggestion",
            json!({"title": "关于加快农村公路提档升级的建议", "body": "……", "cosigners": ["wang"]}),
            "2024-06-20T10:00:00",
        )
        .await;
    office
        .act(&id, "register", "staff", json!({}), "2024-06-25T09:00:00")
        .await;
    office
        .act(
            &id,
            "assign",
            "staff",
            json!({"lead_department": "jtj"}),
            "2024-07-01T09:00:00",
        )
        .await;
    office
        .act(
            &id,
            "reply",
            "clerk",
            json!({"classification": "A", "answer": "道路已于八月完成提档升级。"}),
            "2024-08-15T10:00:00",
        )
        .await;
    office.at("2024-08-16T09:00:00");
    let round = office
        .store
        .case(&id)
        .await
        .expect("ok")
        .expect("ok")
        .case
        .entered_at;
    let router = router(WebState {
        service: office.service.clone(),
        secure_cookies: false,
        print: Default::default(),
    });
    Linked {
        office,
        router,
        id,
        round,
    }
}

impl Linked {
    fn link(&self, login: &str, days: i64) -> SignedLink {
        SignedLink {
            case_id: self.id.clone(),
            login: login.into(),
            action: "evaluate".into(),
            round: self.round,
            expires: self.round + SignedDuration::from_hours(24 * days),
        }
    }

    fn token(&self, link: &SignedLink) -> String {
        self.office.store.link_key().expect("keys").seal(link)
    }

    async fn version(&self) -> u64 {
        let record = self
            .office
            .store
            .case(&self.id)
            .await
            .expect("ok")
            .expect("ok");
        record.case.version
    }
}

#[tokio::test]
async fn a_co_signer_rates_once_from_the_link_without_signing_in() {
    let l = replied().await;
    let token = l.token(&l.link("wang", 30));
    let path = format!("/r/{token}");
    let before = l.version().await;
    // Opening it shows the reply and the form, and changes nothing, however often.
    for _ in 0..2 {
        let page = get(&l.router, &path, "").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for shown in [
            "代表评价",
            "关于加快农村公路提档升级的建议",
            "道路已于八月完成提档升级。",
            "办理情况（答复代表）",
            "name=\"rating\"",
            "仅可使用一次",
        ] {
            assert!(page.body.contains(shown), "{shown}: {}", page.body);
        }
        // The form posts back to where it is; the page itself never repeats the link.
        assert!(!page.body.contains(&token), "the page carries the link");
    }
    assert_eq!(l.version().await, before, "a GET changed the case");
    // 不满意 without the reason it requires is refused, naming the field; nothing is written.
    let refused = post(&l.router, &path, "", &[("rating", "dissatisfied")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("必填"), "{}", refused.body);
    assert_eq!(l.version().await, before);
    // The rating, recorded as wang's own event; the case waits for the lead deputy.
    let done = post(&l.router, &path, "", &[("rating", "basically_satisfied")]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("已记录"));
    let events = l.office.store.events(&l.id).await.expect("ok");
    let last = &events.last().expect("ok").event;
    assert_eq!(
        (last.action.as_str(), last.actor.user.as_str()),
        ("evaluate", "wang")
    );
    assert_eq!(last.payload["rating"], "basically_satisfied");
    let record = l.office.store.case(&l.id).await.expect("ok").expect("ok");
    assert_eq!(record.case.state, "handled");
    // Used once: a second POST, and the GET, say it is spent; nothing more is written.
    let version = l.version().await;
    for reply in [
        post(&l.router, &path, "", &[("rating", "satisfied")]).await,
        get(&l.router, &path, "").await,
    ] {
        assert_eq!(reply.status, StatusCode::GONE, "{}", reply.body);
        assert!(reply.body.contains("链接已失效"));
    }
    assert_eq!(l.version().await, version);
}

#[tokio::test]
async fn the_lead_deputys_link_decides_and_then_every_link_of_the_round_is_spent() {
    let l = replied().await;
    let lead = format!("/r/{}", l.token(&l.link("liu", 30)));
    let co = format!("/r/{}", l.token(&l.link("wang", 30)));
    let done = post(&l.router, &lead, "", &[("rating", "satisfied")]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let record = l.office.store.case(&l.id).await.expect("ok").expect("ok");
    assert_eq!(record.case.state, "evaluated");
    for path in [&lead, &co] {
        let page = get(&l.router, path, "").await;
        assert_eq!(page.status, StatusCode::GONE, "{path}");
    }
}

#[tokio::test]
async fn an_expired_altered_foreign_or_strangers_link_does_nothing() {
    let l = replied().await;
    let before = l.version().await;
    // Expired: the window has ended (the deputy signs in to rate late).
    let token = l.token(&l.link("wang", 30));
    l.office.at("2024-09-20T09:00:00");
    let page = post(
        &l.router,
        &format!("/r/{token}"),
        "",
        &[("rating", "satisfied")],
    )
    .await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains("链接已过期"));
    l.office.at("2024-08-16T09:00:00");
    // Altered: one character changed.
    let mut altered: Vec<char> = token.chars().collect();
    let i = altered.len() / 2;
    altered[i] = if altered[i] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    // Sealed under another installation's key.
    let foreign = Keyring::new([3; 32], [4; 32])
        .link_key()
        .seal(&l.link("wang", 30));
    // A deputy who did not sign, and a round that is not the current one.
    let stranger = l.token(&l.link("qian", 30));
    let mut old = l.link("wang", 30);
    old.round -= SignedDuration::from_hours(24);
    let old = l.token(&old);
    for (what, token, status) in [
        ("altered", altered.as_str(), StatusCode::NOT_FOUND),
        ("foreign", foreign.as_str(), StatusCode::NOT_FOUND),
        ("junk", "not-a-link", StatusCode::NOT_FOUND),
        ("stranger", stranger.as_str(), StatusCode::NOT_FOUND),
        ("old round", old.as_str(), StatusCode::GONE),
    ] {
        let path = format!("/r/{token}");
        assert_eq!(get(&l.router, &path, "").await.status, status, "{what}");
        let reply = post(&l.router, &path, "", &[("rating", "satisfied")]).await;
        assert_eq!(reply.status, status, "{what}");
    }
    assert_eq!(l.version().await, before);
    // The link is no credential once its person is disabled.
    l.office
        .store
        .set_user_disabled("wang", Some(l.round))
        .await
        .expect("ok");
    let page = get(&l.router, &format!("/r/{token}"), "").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}
