//! Key rotation: `duban keys rotate` puts every personal-data record and sealed contact (a
//! robot's signing secret, a person's mobile number) under a new key, keeps it readable
//! throughout, and drops the old key only when nothing needs it; repeat-petition look-ups (the
//! blind index) keep working.

use duban_storage::{Lists, PersonalData};
use std::path::Path;

use crate::common::{TempDir, duban_ok as duban};
use duban_storage::{CaseQuery, Contacts, Delivery, Keyring, Page, PartyList, SqlStore};

/// The sealed contacts set up below, opened with `data`: (the DingTalk secret, the number).
async fn sealed(url: &str, data: &str, index: &str) -> Result<(String, String), String> {
    let store = SqlStore::connect(url, 1)
        .await
        .map_err(|e| e.to_string())?
        .with_keys(Keyring::from_hex(data, index)?);
    let delivery = |channel: &str, address: &str, org: Option<&str>| Delivery {
        id: "dlv_rotation".into(),
        case_id: "c".into(),
        reminder_key: "k".into(),
        channel: channel.into(),
        address: address.into(),
        org_code: org.map(str::to_string),
        subject: String::new(),
        body: String::new(),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: jiff::Timestamp::UNIX_EPOCH,
        last_error: None,
        created_at: jiff::Timestamp::UNIX_EPOCH,
        sent_at: None,
    };
    let open = |d: Delivery| {
        let store = store.clone();
        async move {
            store
                .sealed_for(&d)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "nothing sealed".to_string())
        }
    };
    let secret = open(delivery(
        "dingtalk",
        "https://oapi.dingtalk.com/robot/send",
        Some("dd"),
    ))
    .await?;
    let phone = open(delivery("sms", "phoner", None)).await?;
    store.close().await;
    Ok((secret, phone))
}

fn keys_in(dir: &Path) -> (String, String, String) {
    let text = std::fs::read_to_string(dir.join("duban.keys")).expect("keys file");
    let get = |k: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(n, _)| n.trim() == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    (get("data_key"), get("index_key"), text)
}

async fn readable(url: &str, data: &str, index: &str) -> Result<usize, String> {
    let store = SqlStore::connect(url, 1)
        .await
        .map_err(|e| e.to_string())?
        .with_keys(Keyring::from_hex(data, index)?);
    let mut n = 0;
    let stations: Vec<String> = (0..4)
        .map(|i| {
            if i % 2 == 0 {
                format!("home-{i:02}")
            } else {
                format!("station-{i:02}")
            }
        })
        .collect();
    for s in stations {
        let list = store
            .list(&CaseQuery::Party(PartyList::Station(s)), &Page::first(100))
            .await
            .map_err(|e| e.to_string())?;
        for c in list.items {
            let records = store
                .personal_data(&c.id)
                .await
                .map_err(|e| e.to_string())?;
            for r in records {
                let id = r.person.id_number.clone().unwrap_or_default();
                let found = store
                    .cases_by_id_number(&id)
                    .await
                    .map_err(|e| e.to_string())?;
                assert!(
                    found.contains(&c.id),
                    "the blind index finds the case again"
                );
                n += 1;
            }
        }
    }
    store.close().await;
    Ok(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_data_key_re_encrypts_everything_and_keeps_it_readable() {
    let tmp = TempDir::new("keys");
    let dir = tmp.path().to_path_buf();
    let url = format!("sqlite://{}?mode=rwc", dir.join("duban.db").display());
    duban(&dir, &["demo", "--scale", "0.1"]);
    duban(
        &dir,
        &[
            "org",
            "add",
            "dd",
            "--kind",
            "department",
            "--name",
            "县钉钉测试局",
            "--dingtalk-url",
            "https://oapi.dingtalk.com/robot/send?access_token=x",
            "--dingtalk-secret",
            "SECrotate",
        ],
    );
    duban(
        &dir,
        &[
            "user",
            "add",
            "phoner",
            "--role",
            "department",
            "--org",
            "dd",
            "--phone",
            "13800135678",
            "--sms",
        ],
    );
    let (old, index, _) = keys_in(&dir);
    let contacts = ("SECrotate".to_string(), "13800135678".to_string());
    assert_eq!(sealed(&url, &old, &index).await, Ok(contacts.clone()));
    let before = readable(&url, &old, &index).await.expect("readable before");
    assert!(
        before > 0,
        "the demo stations have petitions with personal data"
    );

    let said = duban(&dir, &["keys", "rotate"]);
    assert!(said.contains("personal-data record(s)"), "{said}");
    let (new, index_after, text) = keys_in(&dir);
    assert_ne!(new, old);
    assert_eq!(index_after, index, "the blind-index key does not rotate");
    assert!(
        !text.contains("old_data_key"),
        "the old key is gone once nothing needs it"
    );
    assert_eq!(
        readable(&url, &new, &index).await,
        Ok(before),
        "everything reads under the new key alone"
    );
    assert!(
        readable(&url, &old, &index).await.is_err(),
        "and nothing under the old one"
    );
    assert_eq!(sealed(&url, &new, &index).await, Ok(contacts));
    assert!(sealed(&url, &old, &index).await.is_err());
}

#[test]
fn under_systemd_the_keys_come_from_the_credential_directory() {
    let dir = TempDir::new("keys-credential");
    let creds = dir.path().join("creds");
    std::fs::create_dir(&creds).expect("mkdir");
    let key = "ab".repeat(32);
    std::fs::write(
        creds.join("duban.keys"),
        format!("data_key = {key}\nindex_key = {}\n", "cd".repeat(32)),
    )
    .expect("write keys");
    let creds_dir = creds.to_str().expect("utf-8");
    let out = crate::common::duban_env_ok(
        dir.path(),
        &["migrate"],
        &[("CREDENTIALS_DIRECTORY", creds_dir)],
    );
    assert!(out.contains("applied migration"), "{out}");
    assert!(
        !dir.path().join("duban.keys").exists(),
        "no keys file is made beside the database when the credential has them"
    );
    // A keys file named explicitly still wins over the credential.
    crate::common::duban_env_ok(
        dir.path(),
        &["migrate", "--keys-file", "own.keys"],
        &[("CREDENTIALS_DIRECTORY", creds_dir)],
    );
    assert!(dir.path().join("own.keys").exists());
}
