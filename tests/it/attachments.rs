//! Files on cases, as an operator and a second server see them: a petition's file is kept
//! encrypted, survives `duban keys rotate`, and `duban backup` → wipe → `duban restore` with the
//! same bytes; on PostgreSQL a second `serve` process serves a file uploaded through the first.

use std::process::Stdio;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::api_e2e::{Server, file};
use crate::common::{Serve, duban_env_ok, http};

const BOUNDARY: &str = "duban-e2e-boundary";

/// A small PDF in ASCII, so that it travels through the tests' text HTTP client unchanged.
fn pdf(marker: &str) -> String {
    format!("%PDF-1.4\n% {marker}\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
}

/// Uploads `content` as `name` to `case` through the server at `addr`; the new file's id.
fn upload(addr: &str, token: &str, case: &str, name: &str, content: &str) -> String {
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n{content}\r\n--{BOUNDARY}--\r\n"
    );
    let auth = format!("Bearer {token}");
    let kind = format!("multipart/form-data; boundary={BOUNDARY}");
    let r = http(
        addr,
        "POST",
        &format!("/api/v1/cases/{case}/attachments"),
        &[("Authorization", &auth), ("Content-Type", &kind)],
        Some(&body),
    )
    .expect("an answer");
    assert_eq!(r.status, 201, "{}", r.body);
    let kept: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(
        kept["sha256"],
        hex::encode(Sha256::digest(content.as_bytes()))
    );
    kept["id"].as_str().expect("id").to_string()
}

/// The bytes of file `id` through the server at `addr`.
fn download(addr: &str, token: &str, id: &str) -> String {
    let auth = format!("Bearer {token}");
    let r = http(
        addr,
        "GET",
        &format!("/api/v1/attachments/{id}"),
        &[("Authorization", &auth)],
        None,
    )
    .expect("an answer");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/pdf");
    r.body
}

#[test]
fn a_petition_file_is_encrypted_survives_rotation_and_a_restore_from_backup() {
    let mut s = Server::start("files-sqlite");
    let case = file(
        &s,
        "liu",
        "petition",
        json!({"title": "反映拖欠农民工工资", "body": "……", "station": "st-chengguan",
               "constituent": {"name": "王小明", "phone": "13812345678"}}),
    );
    let content = pdf("王小明的工资条");
    let id = upload(
        &s.serve.addr,
        &s.tokens["liu"],
        &case,
        "王小明工资条.pdf",
        &content,
    );
    assert_eq!(download(&s.serve.addr, &s.tokens["xu"], &id), content);
    // Kept encrypted: neither the bytes nor the name are in the database file.
    let db = std::fs::read(s.dir.join("duban.db")).expect("db");
    let wal = std::fs::read(s.dir.join("duban.db-wal")).unwrap_or_default();
    for haystack in [&db, &wal] {
        for needle in ["工资条".as_bytes(), b"/Type /Catalog"] {
            assert!(
                !haystack.windows(needle.len()).any(|w| w == needle),
                "found in the database in clear"
            );
        }
    }
    // The download is in the audit log.
    let audit = duban_env_ok(&s.dir, &["audit", "tail", "--json"], &[]);
    assert!(
        audit
            .lines()
            .any(|l| l.contains("\"download\"") && l.contains(&id)),
        "{audit}"
    );

    // Key rotation re-encrypts the file; it reads the same under the new key.
    stop(&mut s.serve);
    let said = duban_env_ok(&s.dir, &["keys", "rotate"], &[]);
    assert!(said.contains("personal-data record(s)"), "{said}");
    let keys = std::fs::read_to_string(s.dir.join("duban.keys")).expect("keys");
    assert!(!keys.contains("old_data_key"), "nothing needs the old key");
    s.serve = Serve::start(&s.dir, &["--no-scheduler"], &[], Stdio::null());
    assert_eq!(download(&s.serve.addr, &s.tokens["liu"], &id), content);

    // Backup while serving; then stop, wipe, restore: the same bytes come back.
    let backup = s.dir.join("files.backup");
    duban_env_ok(&s.dir, &["backup", backup.to_str().expect("path")], &[]);
    stop(&mut s.serve);
    for f in ["duban.db", "duban.db-wal", "duban.db-shm"] {
        let _ = std::fs::remove_file(s.dir.join(f));
    }
    duban_env_ok(&s.dir, &["restore", backup.to_str().expect("path")], &[]);
    s.serve = Serve::start(&s.dir, &["--no-scheduler"], &[], Stdio::null());
    assert_eq!(download(&s.serve.addr, &s.tokens["xu"], &id), content);
}

/// Stops a server and waits for it to be gone.
fn stop(serve: &mut Serve) {
    let _ = serve.child.kill();
    let _ = serve.child.wait();
}

#[test]
fn a_second_postgresql_serve_process_serves_a_file_uploaded_through_the_first() {
    let Some(db) = duban_testkit::PgDatabase::create_blocking() else {
        return;
    };
    let s = Server::start_with("files-postgres", &[("DATABASE_URL", db.url())]);
    let second = Serve::start(
        &s.dir,
        &["--no-scheduler"],
        &[("DATABASE_URL", db.url())],
        Stdio::null(),
    );
    let case = file(
        &s,
        "liu",
        "suggestion",
        json!({"title": "关于加快农村公路提档升级的建议", "body": "……"}),
    );
    s.act(&case, "register", "xu", json!({}));
    s.act(&case, "assign", "xu", json!({"lead_department": "jtj"}));
    let content = pdf("答复函");
    let id = upload(
        &s.serve.addr,
        &s.tokens["zhang"],
        &case,
        "答复函.pdf",
        &content,
    );
    assert_eq!(download(&second.addr, &s.tokens["liu"], &id), content);
    // Outside the case's reach, the second process answers 404 as the first would.
    let auth = format!("Bearer {}", s.tokens["sun"]);
    let r = http(
        &second.addr,
        "GET",
        &format!("/api/v1/attachments/{id}"),
        &[("Authorization", &auth)],
        None,
    )
    .expect("an answer");
    assert_eq!(r.status, 404);
    // The reply names the letter, through the second process.
    let shown = s.get(&format!("/api/v1/cases/{case}"), "zhang");
    let version = shown.json["version"].as_u64().expect("version");
    let r = http(
        &second.addr,
        "POST",
        &format!("/api/v1/cases/{case}/actions/reply"),
        &[
            ("Authorization", &format!("Bearer {}", s.tokens["zhang"])),
            ("If-Match", &format!("\"{version}\"")),
        ],
        Some(&json!({"classification": "A", "answer": "已办理。", "letter": id}).to_string()),
    )
    .expect("an answer");
    assert_eq!(r.status, 200, "{}", r.body);
}
