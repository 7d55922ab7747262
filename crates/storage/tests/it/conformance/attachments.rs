//! Conformance: files on cases: kept and read back byte for byte, listed per case, append-only,
//! encrypted with the data key (name included) and re-encrypted by key rotation.

use super::*;
use duban_storage::{Attachments, Keyring, NewAttachment, SqlStore};

conformance!(files_are_kept_encrypted_append_only_and_survive_rotation);

fn new_file(case_id: &str, id: &str, bytes: &[u8]) -> NewAttachment {
    NewAttachment {
        id: id.into(),
        case_id: case_id.into(),
        name: "王小明的答复函.pdf".into(),
        content_type: "application/pdf".into(),
        sha256: "00".repeat(32),
        note: Some("盖章件".into()),
        uploaded_by: "jtj_li".into(),
        uploaded_role: Role::Department,
        uploaded_at: ts("2024-03-05T10:00:00"),
        personal: true,
        bytes: bytes.to_vec(),
    }
}

async fn files_are_kept_encrypted_append_only_and_survive_rotation(s: &SqlStore) {
    let w = World::new();
    let case = plain_suggestion(&w, s).await;
    let other = plain_suggestion(&w, s).await;
    let first = "att_0000000000000000000000000000000a";
    let second = "att_0000000000000000000000000000000b";
    let bytes = b"%PDF-1.7 the letter itself".to_vec();
    assert!(
        s.add_attachment(&new_file(&case, first, &bytes))
            .await
            .expect("kept")
    );
    s.add_attachment(&new_file(&case, second, b"%PDF-1.7 corrected"))
        .await
        .expect("a corrected letter is a new file");
    s.add_attachment(&new_file(
        &other,
        "att_0000000000000000000000000000000c",
        b"%PDF other",
    ))
    .await
    .expect("kept");
    let listed = s.attachments(&case).await.expect("list");
    assert_eq!(
        listed.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        [first, second]
    );
    assert_eq!(listed[0].name, "王小明的答复函.pdf");
    assert_eq!(listed[0].note.as_deref(), Some("盖章件"));
    assert_eq!(listed[0].size, bytes.len() as u64);
    assert!(listed[0].encrypted);
    let (info, back) = s.attachment(first).await.expect("read").expect("there");
    assert_eq!(back, bytes);
    assert_eq!(info.case_id, case);
    assert_eq!(
        s.attachment_case(first).await.expect("case"),
        Some(case.clone())
    );
    assert_eq!(
        s.attachment("att_ffffffffffffffffffffffffffffffff")
            .await
            .expect("read"),
        None
    );

    // Neither the name nor the bytes are in the table in clear.
    let pool = s.as_pool();
    let rows = sqlx::query("SELECT name, note, content FROM attachments")
        .fetch_all(pool)
        .await
        .expect("rows");
    for r in &rows {
        let name: String = r.try_get("name").expect("name");
        let content: Vec<u8> = r.try_get("content").expect("content");
        assert!(!name.contains("王小明"));
        assert!(!content.windows(6).any(|w| w == b"letter"));
    }

    // Append-only: no file is replaced or deleted.
    for sql in [
        "UPDATE attachments SET name = 'x'",
        "UPDATE attachments SET content = content",
        "DELETE FROM attachments",
    ] {
        assert!(sqlx::query(sql).execute(pool).await.is_err(), "{sql}");
    }
    assert_eq!(s.attachments(&case).await.expect("list").len(), 2);

    // Rotation: every file under the new key, readable with it alone, and the table append-only
    // again afterwards.
    let rotated = s
        .clone()
        .with_keys(Keyring::new([0x33; 32], [0x22; 32]).with_old_key([0x11; 32]));
    let (records, _) = rotated.reencrypt().await.expect("rotate");
    assert!(records >= 3, "{records}");
    let only_new = s.clone().with_keys(Keyring::new([0x33; 32], [0x22; 32]));
    let (info, back) = only_new
        .attachment(first)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(back, bytes);
    assert_eq!(info.name, "王小明的答复函.pdf");
    assert!(
        s.attachment(first).await.is_err(),
        "the old key alone no longer opens it"
    );
    assert!(
        sqlx::query("DELETE FROM attachments")
            .execute(pool)
            .await
            .is_err()
    );
}
