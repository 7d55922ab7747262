//! The audit log: security events from the command line and the API are chained by hash;
//! `duban audit verify` says intact, and finds the record an attacker with database access
//! edited (after dropping the append-only trigger).

use std::process::Stdio;

use crate::common::{Serve, TempDir, duban, http_as};

fn get(addr: &str, path: &str, token: &str) -> String {
    let r = http_as(addr, token, "GET", path, &[], None).expect("answer");
    format!("HTTP/1.1 {}\n\n{}", r.status, r.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_events_are_chained_and_tampering_is_found() {
    let tmp = TempDir::new("audit");
    let dir = tmp.path().to_path_buf();
    assert!(duban(&dir, &["demo", "--scale", "0.1"]).status.success());
    let out = duban(&dir, &["token", "create", "staff1"]);
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let token_id = String::from_utf8_lossy(&out.stderr)
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(
        duban(
            &dir,
            &["export", "--kind", "petition", "--year", "2024", "p.csv"]
        )
        .status
        .success()
    );

    // Over the API: a bad token, a reveal, a look at a case out of reach.
    let server = Serve::start(&dir, &[], &[], Stdio::null());
    let addr = server.addr.clone();
    assert!(get(&addr, "/api/v1/cases", "dbn_forged").starts_with("HTTP/1.1 401"));
    let list = get(&addr, "/api/v1/cases?kind=petition&limit=1", &token);
    let id = list
        .split("\"id\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a petition")
        .to_string();
    let revealed = get(
        &addr,
        &format!("/api/v1/cases/{id}?reveal=phone&reason=%E6%A0%B8%E5%AE%9E"),
        &token,
    );
    assert!(revealed.starts_with("HTTP/1.1 200"), "{revealed}");
    drop(server);
    assert!(
        duban(&dir, &["token", "revoke", &token_id])
            .status
            .success()
    );

    let tail = String::from_utf8_lossy(&duban(&dir, &["audit", "tail", "--limit", "50"]).stdout)
        .to_string();
    for action in [
        "token_created",
        "export",
        "auth_failed",
        "reveal",
        "token_revoked",
    ] {
        assert!(
            tail.contains(&format!("\t{action}\t")),
            "no {action} in:\n{tail}"
        );
    }
    assert!(
        tail.contains("\t127.0.0.1\tauth_failed\t"),
        "the failed login's address is kept:\n{tail}"
    );
    let verify = duban(&dir, &["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    // The head, kept outside the database, vouches for everything up to it.
    let head = String::from_utf8_lossy(&duban(&dir, &["audit", "head"]).stdout)
        .trim()
        .to_string();
    assert!(head.contains(':'), "{head}");
    assert!(
        duban(&dir, &["audit", "verify", "--expect-head", &head])
            .status
            .success()
    );

    // The log refuses edits; an attacker who drops the trigger and edits a record is caught.
    let url = format!("sqlite://{}?mode=rwc", dir.join("duban.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
    assert!(
        sqlx::query("UPDATE audit_log SET detail = 'x' WHERE seq = 2")
            .execute(&pool)
            .await
            .is_err()
    );
    sqlx::raw_sql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2")
        .execute(&pool)
        .await
        .expect("tamper");
    pool.close().await;
    let verify = duban(&dir, &["audit", "verify"]);
    assert!(!verify.status.success());
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(said.contains("BROKEN at record 2"), "{said}");

    // Deleting the newest records leaves a chain that links, but not up to the head kept.
    let tmp2 = TempDir::new("audit-head");
    let dir = tmp2.path().to_path_buf();
    assert!(duban(&dir, &["demo", "--scale", "0.1"]).status.success());
    for login in ["staff1", "staff1", "staff1"] {
        assert!(duban(&dir, &["token", "create", login]).status.success());
    }
    let head = String::from_utf8_lossy(&duban(&dir, &["audit", "head"]).stdout)
        .trim()
        .to_string();
    let url = format!("sqlite://{}?mode=rwc", dir.join("duban.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
    sqlx::raw_sql(
        "DROP TRIGGER audit_log_no_delete; \
         DELETE FROM audit_log WHERE seq > (SELECT max(seq) - 2 FROM audit_log)",
    )
    .execute(&pool)
    .await
    .expect("delete the newest");
    pool.close().await;
    assert!(
        duban(&dir, &["audit", "verify"]).status.success(),
        "the chain alone cannot tell"
    );
    let verify = duban(&dir, &["audit", "verify", "--expect-head", &head]);
    assert!(!verify.status.success(), "the head kept outside can");
    assert!(
        String::from_utf8_lossy(&verify.stderr).contains("BROKEN"),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}
