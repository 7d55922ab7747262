//! Databases written by earlier versions, brought up to date: the history re-masked (every
//! person field, whatever its length), the audit chain re-linked under its key, and sign-in
//! counts moved; what the keyed chain then finds that the plain one could not; and cases from
//! before numbers, numbered and made searchable at start-up. Both backends.

use crate::audit_record as record;
use duban_core::Role;
use duban_storage::{
    Accounts, Audit, AuditRecord, Backend, Head, MIGRATIONS, SignInAttempt, User, Verdict,
};
use duban_storage::{Cases, Directory, Schema};
use duban_testkit::{TestDb, World, actor, ts};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(duban_testkit::sqlite_unmigrated().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = duban_testkit::postgres_unmigrated().await else { return };
                    super::$name(db).await;
                }
            )*
        }
    };
}

both!(
    a_database_from_before_the_fixes_is_remasked_keyed_and_recorded,
    the_keyed_chain_finds_a_recomputed_edit_and_deleted_newest_records,
    cases_from_before_numbers_are_numbered_in_filing_order_and_found,
    a_database_from_a_newer_binary_is_refused_naming_both_versions,
    an_applied_migration_that_was_edited_is_refused,
    databases_from_before_checksums_get_them_and_are_checked_after,
);

/// Applies the migrations `wanted` picks, recorded as `migrate` records them.
async fn migrate_only(db: &TestDb, wanted: impl Fn(i64) -> bool) {
    let pool = db.store.pool();
    sqlx::raw_sql(
        "CREATE TABLE schema_migrations \
         (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(pool)
    .await
    .expect("migrations table");
    for m in MIGRATIONS.iter().filter(|m| wanted(m.version)) {
        let sql = db.store.backend().migration_sql(m);
        sqlx::raw_sql(sql).execute(pool).await.expect(m.name);
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, 0)")
            .bind(m.version)
            .bind(m.name)
            .execute(pool)
            .await
            .expect("record migration");
    }
}

/// Runs `sql` with the append-only triggers of the history and the audit log lifted: what an
/// older version wrote, or what someone who got past the triggers does.
async fn past_the_triggers(db: &TestDb, sql: &[String]) {
    let pool = db.store.pool();
    let (off, on): (Vec<&str>, Vec<String>) = match db.store.backend() {
        Backend::Postgres => (
            vec![
                "ALTER TABLE case_events DISABLE TRIGGER case_events_no_update",
                "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
            ],
            vec![
                "ALTER TABLE case_events ENABLE TRIGGER case_events_no_update".into(),
                "ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update".into(),
            ],
        ),
        Backend::Sqlite => (
            vec![
                "DROP TRIGGER case_events_no_update",
                "DROP TRIGGER audit_log_no_update",
                "DROP TRIGGER audit_log_no_delete",
            ],
            [
                ("case_events", "UPDATE", "events are never updated"),
                ("audit_log", "UPDATE", "records are never updated"),
                ("audit_log", "DELETE", "records are never deleted"),
            ]
            .iter()
            .map(|(t, op, why)| {
                let name = if *op == "UPDATE" { "no_update" } else { "no_delete" };
                format!(
                    "CREATE TRIGGER {t}_{name} BEFORE {op} ON {t} BEGIN SELECT RAISE(ABORT, '{t} is append-only: {why}'); END"
                )
            })
            .collect(),
        ),
    };
    for q in off {
        sqlx::raw_sql(q).execute(pool).await.expect(q);
    }
    for q in sql {
        sqlx::raw_sql(sqlx::AssertSqlSafe(q.clone()))
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"));
    }
    for q in on {
        sqlx::raw_sql(sqlx::AssertSqlSafe(q.clone()))
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"));
    }
}

/// The unkeyed SHA-256 link records had before migration 12, computed as that version did.
fn plain_link(prev: &str, seq: i64, r: &AuditRecord) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &seq.to_string(),
        &r.at.as_millisecond().to_string(),
        &r.actor,
        &r.role,
        &r.source,
        &r.action,
        &r.target,
        &r.outcome,
        &r.detail,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Writes `records` as the plain chain would have, from `prev`, numbered from `first`.
fn plain_inserts(records: &[AuditRecord], first: i64, mut prev: String) -> Vec<String> {
    let mut out = Vec::new();
    for (seq, r) in (first..).zip(records) {
        let hash = plain_link(&prev, seq, r);
        out.push(format!(
            "INSERT INTO audit_log (seq, at, actor, role, source, action, target, outcome, detail, prev_hash, hash) \
             VALUES ({seq}, {}, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{prev}', '{hash}')",
            r.at.as_millisecond(),
            r.actor,
            r.role,
            r.source,
            r.action,
            r.target,
            r.outcome,
            r.detail
        ));
        prev = hash;
    }
    out
}

async fn a_database_from_before_the_fixes_is_remasked_keyed_and_recorded(db: TestDb) {
    // Schema version 11, the last before the fixes. Today's code files the cases below, so it
    // also gets the tables it writes that came later (numbers and search, from 15 on), which
    // nothing the fixes rewrite touches; `migrate` then applies 12 to 14 as an upgrade would.
    migrate_only(&db, |v| v <= 11 || v >= 15).await;
    let s = &db.store;
    let w = World::new();
    let deputy = actor("liu", Role::Deputy, Some("station-1"));
    let id = w
        .file(
            s,
            "petition",
            &deputy,
            json!({
                "title": "路灯不亮",
                "station": "station-1",
                "constituent": {"name": "张", "phone": "13812345678", "address": "龙门镇7号"},
                "body": "……",
            }),
            ts("2024-03-01T09:00:00"),
        )
        .await;
    let other = w
        .file(
            s,
            "petition",
            &deputy,
            json!({
                "title": "漏水",
                "station": "station-1",
                "constituent": {"name": "王小明", "address": "浙江省杭州市西湖区文三路100号"},
                "body": "……",
            }),
            ts("2024-03-02T09:00:00"),
        )
        .await;
    // What version 11 kept in the history: the short name and address whole, the long address
    // cut to its first six characters.
    let old = [
        (
            id.clone(),
            json!({"title": "路灯不亮", "station": "station-1", "body": "……",
                   "constituent": {"name": "张", "phone": "138****5678", "address": "龙门镇7号"}}),
        ),
        (
            other.clone(),
            json!({"title": "漏水", "station": "station-1", "body": "……",
                   "constituent": {"name": "王**", "address": "浙江省杭州市****"}}),
        ),
    ];
    let mut sql: Vec<String> = old
        .iter()
        .map(|(case, payload)| {
            format!(
                "UPDATE case_events SET payload = '{payload}' WHERE case_id = '{case}' AND seq = 1"
            )
        })
        .collect();
    // The audit log under the plain chain, and a user with three wrong passwords counted.
    let records: Vec<AuditRecord> = (0..3).map(record).collect();
    sql.extend(plain_inserts(&records, 1, duban_storage::GENESIS.into()));
    past_the_triggers(&db, &sql).await;
    s.add_user(&User {
        login: "zhang".into(),
        role: Role::Staff,
        org: None,
        name: "张".into(),
    })
    .await
    .expect("user");
    sqlx::query("UPDATE users SET failed_logins = 3 WHERE login = 'zhang'")
        .execute(s.pool())
        .await
        .expect("count");

    assert_eq!(s.migrate().await.expect("migrate"), vec![12, 13, 14]);

    let filing = s.filing(&id).await.expect("read").expect("filing");
    assert_eq!(
        filing["constituent"],
        json!({"name": "*", "phone": "138****5678", "address": "龙****"})
    );
    let filing = s.filing(&other).await.expect("read").expect("filing");
    assert_eq!(
        filing["constituent"],
        json!({"name": "王**", "address": "浙江省****"}),
        "masking the masked reveals nothing more"
    );
    // Nowhere in the database: every text column of every event.
    let dump: Vec<String> = sqlx::query("SELECT payload FROM case_events")
        .fetch_all(s.pool())
        .await
        .expect("dump")
        .iter()
        .map(|r| r.try_get::<String, _>("payload").expect("payload"))
        .collect();
    assert!(
        dump.iter()
            .all(|p| !p.contains("龙门镇7号") && !p.contains("\"张\"")),
        "{dump:?}"
    );
    // Nor in the files: what the rewrite freed was zeroed, and the log checkpointed away.
    if let Some(path) = duban_storage::sqlite_file(&db.url) {
        for suffix in ["", "-wal"] {
            let file = format!("{}{suffix}", path.display());
            let bytes = std::fs::read(&file).unwrap_or_default();
            let needle = "龙门镇7号".as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{file} still holds the unmasked address"
            );
        }
    }
    // The trigger is back.
    assert!(
        sqlx::query("UPDATE case_events SET payload = '{}' WHERE seq = 1")
            .execute(s.pool())
            .await
            .is_err()
    );
    // The old chain, re-linked under the key, verifies; the migrations are recorded after it.
    assert_eq!(
        s.verify_audit().await.expect("verify"),
        Verdict::Intact { records: 5 }
    );
    let tail = s.audit_tail(2).await.expect("tail");
    assert_eq!(tail[1].1.action, "audit_chain_keyed");
    assert!(tail[1].1.detail.contains("3 record(s)") && tail[1].1.detail.contains("intact"));
    assert_eq!(tail[0].1.action, "personal_data_remasked");
    assert!(
        tail[0].1.detail.starts_with("2 of 2 event(s)"),
        "{}",
        tail[0].1.detail
    );
    // The count moved with the user: the next wrong password is the fourth.
    assert_eq!(
        s.claim_attempt(
            "zhang",
            ts("2024-03-01T09:00:00"),
            5,
            ts("2024-03-01T09:15:00")
        )
        .await
        .expect("claim"),
        SignInAttempt::Counted {
            failures: 4,
            locks: false
        }
    );
}

async fn the_keyed_chain_finds_a_recomputed_edit_and_deleted_newest_records(db: TestDb) {
    db.store.migrate().await.expect("migrate");
    let s = &db.store;
    for i in 0..5 {
        s.audit(&record(i)).await.expect("append");
    }
    let head: Head = s.audit_head().await.expect("head").expect("a head");
    assert_eq!(head.seq, 5);
    assert_eq!(
        s.verify_audit_against(Some(&head)).await.expect("verify"),
        Verdict::Intact { records: 5 }
    );
    let rows = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq")
        .fetch_all(s.pool())
        .await
        .expect("rows");
    let hash_of = |seq: i64| -> String {
        rows.iter()
            .find(|r| r.try_get::<i64, _>("seq").expect("seq") == seq)
            .map(|r| r.try_get("hash").expect("hash"))
            .expect("record")
    };

    // An edit to record 3, with the chain recomputed from there as the plain hash allowed.
    let mut edited: Vec<AuditRecord> = (2..5).map(record).collect();
    edited[0].detail = "nothing happened".into();
    let mut sql = vec!["DELETE FROM audit_log WHERE seq >= 3".to_string()];
    sql.extend(plain_inserts(&edited, 3, hash_of(2)));
    past_the_triggers(&db, &sql).await;
    assert!(
        matches!(
            s.verify_audit().await.expect("verify"),
            Verdict::Broken { seq: 3, .. }
        ),
        "a recomputed edit is found without the key"
    );

    // The newest two records deleted, and the rest put back as they were: the chain alone
    // cannot tell, the head kept outside the database can.
    past_the_triggers(&db, &["DELETE FROM audit_log WHERE seq >= 3".to_string()]).await;
    assert_eq!(
        s.verify_audit().await.expect("verify"),
        Verdict::Intact { records: 2 },
        "deleting from the end leaves a chain that links"
    );
    match s.verify_audit_against(Some(&head)).await.expect("verify") {
        Verdict::Broken { seq, reason } => {
            assert_eq!(seq, 5);
            assert!(reason.contains("deleted"), "{reason}");
        }
        other => panic!("deletions past the head must be found: {other:?}"),
    }
    // An older head that is still there passes.
    let older = Head {
        seq: 2,
        hash: hash_of(2),
    };
    assert_eq!(
        s.verify_audit_against(Some(&older)).await.expect("verify"),
        Verdict::Intact { records: 2 }
    );
    // A head naming another hash at that place: the chain was rebuilt up to it.
    let forged = Head {
        seq: 2,
        hash: hash_of(1),
    };
    assert!(matches!(
        s.verify_audit_against(Some(&forged)).await.expect("verify"),
        Verdict::Broken { seq: 2, .. }
    ));
    // The oldest records deleted and the chain's start moved past them: the anchor's seal
    // does not fit.
    past_the_triggers(
        &db,
        &[
            "DELETE FROM audit_log WHERE seq = 1".to_string(),
            format!(
                "INSERT INTO audit_anchor (id, seq, hash, pruned_at) VALUES (1, 1, '{}', 0)",
                hash_of(1)
            ),
        ],
    )
    .await;
    match s.verify_audit().await.expect("verify") {
        Verdict::Broken { seq, reason } => {
            assert_eq!(seq, 2);
            assert!(reason.contains("start"), "{reason}");
        }
        other => panic!("a moved start must be found: {other:?}"),
    }
}

async fn cases_from_before_numbers_are_numbered_in_filing_order_and_found(db: TestDb) {
    db.store.migrate().await.expect("migrate");
    let office = duban_testkit::Office::builder()
        .org("st1", duban_storage::OrgKind::Station, "城关镇联络站")
        .user("liu", Role::Deputy, Some("st1"))
        .build_on(db.store.clone())
        .await;
    let mut ids = Vec::new();
    for (title, when) in [
        ("关于城关镇道路改造的建议", "2024-03-01T09:00:00"),
        ("关于农田水利建设的建议", "2024-03-02T09:00:00"),
        ("关于学校周边交通的建议", "2024-03-03T09:00:00"),
    ] {
        ids.push(
            office
                .file(
                    "liu",
                    "suggestion",
                    json!({"title": title, "body": "……"}),
                    when,
                )
                .await,
        );
    }
    // As a database from before numbers and search holds them: no number, no search row.
    sqlx::raw_sql(
        "UPDATE cases SET number = NULL; DELETE FROM case_search; DELETE FROM case_numbers",
    )
    .execute(db.store.pool())
    .await
    .expect("as before numbers");
    assert_eq!(office.service.index_unindexed().await.expect("index"), 3);
    for (i, id) in ids.iter().enumerate() {
        let record = db.store.case(id).await.expect("read").expect("case");
        assert_eq!(
            record.number.as_deref(),
            Some(format!("建议〔2024〕{:03}号", i + 1).as_str()),
            "numbered in filing order"
        );
    }
    // Found by words and by number, and done once.
    let found = |q: &str| {
        let filter = duban_storage::ListFilter {
            search: q.split_whitespace().map(str::to_string).collect(),
            ..duban_storage::ListFilter::default()
        };
        let store = db.store.clone();
        async move {
            duban_storage::Lists::list_filtered(
                &store,
                &duban_storage::CaseQuery::All,
                &filter,
                &duban_storage::Page::first(10),
            )
            .await
            .expect("search")
            .items
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("水利").await, [ids[1].clone()]);
    assert_eq!(found("建议〔2024〕003号").await, [ids[2].clone()]);
    assert_eq!(office.service.index_unindexed().await.expect("again"), 0);
    // A filing after it continues the sequence.
    let next = office
        .file(
            "liu",
            "suggestion",
            json!({"title": "关于路灯的建议", "body": "……"}),
            "2024-03-04T09:00:00",
        )
        .await;
    let record = db.store.case(&next).await.expect("read").expect("case");
    assert_eq!(record.number.as_deref(), Some("建议〔2024〕004号"));
}

/// The newest migration this binary knows.
fn newest() -> i64 {
    MIGRATIONS.last().expect("migrations").version
}

async fn a_database_from_a_newer_binary_is_refused_naming_both_versions(db: TestDb) {
    db.store.migrate().await.expect("migrate");
    sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from_the_future', 0)")
        .execute(db.store.pool())
        .await
        .expect("a newer version");
    let refused = db.store.migrate().await.expect_err("newer schema");
    assert!(
        matches!(refused, duban_storage::Error::SchemaNewer { database: 999, binary } if binary == newest()),
        "{refused}"
    );
    let message = refused.to_string();
    assert!(
        message.contains("999") && message.contains(&newest().to_string()),
        "{message}"
    );
    assert!(
        db.store.pending_migrations().await.is_err(),
        "the dry run refuses too"
    );
}

async fn an_applied_migration_that_was_edited_is_refused(db: TestDb) {
    db.store.migrate().await.expect("migrate");
    sqlx::query("UPDATE schema_checksums SET checksum = 'abc' WHERE version = 3")
        .execute(db.store.pool())
        .await
        .expect("a different text applied");
    let refused = db.store.migrate().await.expect_err("edited migration");
    assert!(
        matches!(&refused, duban_storage::Error::MigrationChanged { version: 3, recorded, .. } if recorded == "abc"),
        "{refused}"
    );
    assert!(refused.to_string().contains("deliveries"), "{refused}");
}

async fn databases_from_before_checksums_get_them_and_are_checked_after(db: TestDb) {
    migrate_only(&db, |v| v < newest()).await;
    assert_eq!(
        db.store.pending_migrations().await.expect("dry run"),
        vec![(newest(), MIGRATIONS.last().expect("last").name)]
    );
    assert_eq!(db.store.migrate().await.expect("migrate"), vec![newest()]);
    let kept: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, checksum FROM schema_checksums ORDER BY version")
            .fetch_all(db.store.pool())
            .await
            .expect("checksums");
    let expected: Vec<(i64, String)> = MIGRATIONS
        .iter()
        .map(|m| {
            let sql = db.store.backend().migration_sql(m);
            (m.version, hex::encode(Sha256::digest(sql.as_bytes())))
        })
        .collect();
    assert_eq!(kept, expected);
    assert!(
        db.store
            .pending_migrations()
            .await
            .expect("dry run")
            .is_empty()
    );
}
