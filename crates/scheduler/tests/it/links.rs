//! Signed links in notices: each signer of a joint suggestion finds, in their own inbox and
//! e-mail about the reply, a link of their own to rate it; no office's message carries one.

use duban_core::Role;
use duban_storage::{Contacts, Inbox, Outbox, Page, SignedLink};
use duban_testkit::ts;
use serde_json::json;

use crate::common::{Recording, people};

/// The link tokens in `text`, in order.
fn tokens(text: &str) -> Vec<String> {
    text.split("/r/")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn each_signer_is_sent_a_link_of_their_own_to_rate_the_reply() {
    let office = people().user("zhao", Role::Deputy, None).build().await;
    for (login, email) in [
        ("liu", "liu@rd.example"),
        ("zhao", "zhao@rd.example"),
        ("zhang", "zhang@jtj.example"),
    ] {
        office
            .store
            .set_user_email(login, Some(email))
            .await
            .expect("email");
    }
    let key = office.store.link_key().expect("keys");
    let s = duban_scheduler::Scheduler::new(
        office.store.clone(),
        std::sync::Arc::new(duban_core::Workflows::builtin()),
        vec![Recording::new("email")],
        duban_scheduler::Config {
            owner: "test".into(),
            base_url: "https://duban.example/".into(),
            links: Some(key.clone()),
            ..duban_scheduler::Config::default()
        },
    );
    let id = office
        .file(
            "liu",
            "suggestion",
            json!({"title": "关于加快农村公路提档升级的建议", "body": "……", "cosigners": ["zhao"]}),
            "2024-06-20T10:00:00",
        )
        .await;
    office
        .act(&id, "register", "xu", json!({}), "2024-06-25T09:00:00")
        .await;
    office
        .act(
            &id,
            "assign",
            "xu",
            json!({"lead_department": "jtj"}),
            "2024-07-01T09:00:00",
        )
        .await;
    s.tick(ts("2024-07-01T09:00:00")).await.expect("tick");
    office
        .act(
            &id,
            "reply",
            "zhang",
            json!({"classification": "A", "answer": "已完成"}),
            "2024-08-15T10:00:00",
        )
        .await;
    s.tick(ts("2024-08-15T10:00:00")).await.expect("tick");
    let round = ts("2024-08-15T10:00:00");

    let inbox = |login: &'static str| {
        let store = office.store.clone();
        async move {
            store
                .notifications(login, &Page::first(100), false)
                .await
                .expect("inbox")
                .0
        }
    };
    for login in ["liu", "zhao"] {
        let notes = inbox(login).await;
        let replied = notes
            .iter()
            .find(|n| n.title.starts_with("【已答复】"))
            .unwrap_or_else(|| panic!("{login}: {notes:?}"));
        assert!(
            replied.body.contains(
                "代表评价（无需登录，有效至2024-09-18，仅可使用一次）：https://duban.example/r/"
            ),
            "{}",
            replied.body
        );
        let found = tokens(&replied.body);
        assert_eq!(found.len(), 1, "{}", replied.body);
        assert_eq!(
            key.open(&found[0]),
            Some(SignedLink {
                case_id: id.clone(),
                login: login.into(),
                action: "evaluate".into(),
                round,
                expires: ts("2024-09-19T00:00:00"),
            })
        );
        assert!(!replied.body.contains(login), "the link names no one");
    }
    // Each e-mail carries its own person's link; the department's messages none.
    let mails = office
        .store
        .deliveries(None, 100)
        .await
        .expect("deliveries");
    for m in &mails {
        let found = tokens(&m.body);
        match m.address.as_str() {
            "liu@rd.example" | "zhao@rd.example" if m.subject.starts_with("【已答复】") => {
                assert_eq!(found.len(), 1, "{}", m.body);
                let link = key.open(&found[0]).expect("opens");
                assert_eq!(link.login, m.address.split('@').next().expect("ok"));
            }
            _ => assert!(found.is_empty(), "{}: {}", m.address, m.body),
        }
    }
    assert!(mails.iter().any(|m| m.address == "zhang@jtj.example"));
    // A message about a state the case has left offers nothing: the assignment's notice to
    // the department, read again, had none, and neither does anything the filer got before.
    for n in inbox("zhang").await {
        assert!(tokens(&n.body).is_empty(), "{}", n.body);
    }
}
