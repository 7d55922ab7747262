//! Conformance: personal data and what is kept per person: encryption and the blind index, the inbox, the access record.

use super::*;

conformance!(
    personal_data_is_stored_encrypted_and_found_by_blind_index,
    the_inbox_and_the_access_record_are_kept_per_person_and_case,
);

async fn personal_data_is_stored_encrypted_and_found_by_blind_index<S: Store + AsPool>(s: &S) {
    let w = World::new();
    let deputy = actor("liu", Role::Deputy, Some("station-1"));
    let person = json!({"name": "王小明", "id_number": "110101199003074477", "phone": "13812345678", "address": "城关镇解放路88号"});
    let first = w
        .file(s, "petition", &deputy, json!({"title": "拖欠工资", "body": "b", "station": "station-1", "constituent": person}), ts("2024-04-02T09:00:00"))
        .await;
    let repeat = w
        .file(s, "petition", &deputy, json!({"title": "再次反映", "body": "b", "station": "station-1", "constituent": {"name": "王小明", "id_number": "110101199003074477"}}), ts("2024-05-02T09:00:00"))
        .await;
    let records = s.personal_data(&first).await.expect("decrypt");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].person.phone.as_deref(), Some("13812345678"));
    let mut found = s
        .cases_by_id_number("110101199003074477")
        .await
        .expect("lookup");
    found.sort();
    let mut want = vec![first.clone(), repeat.clone()];
    want.sort();
    assert_eq!(found, want);
    assert!(
        s.cases_by_id_number("11010519491231002X")
            .await
            .expect("lookup")
            .is_empty()
    );

    // Dump every row of every table as text: no plaintext ID number, phone, name or address.
    let pool = s.as_pool();
    let mut dump = String::new();
    for table in [
        "cases",
        "case_events",
        "case_parties",
        "reminders",
        "personal_data",
    ] {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}")))
            .fetch_all(pool)
            .await
            .expect("dump");
        for r in rows {
            for i in 0..r.len() {
                if let Ok(Some(t)) = r.try_get::<Option<String>, _>(i) {
                    dump.push_str(&t);
                } else if let Ok(Some(b)) = r.try_get::<Option<Vec<u8>>, _>(i) {
                    dump.push_str(&String::from_utf8_lossy(&b));
                }
                dump.push('\t');
            }
        }
    }
    assert!(
        dump.contains("110***********4477"),
        "the masked form is what the history keeps"
    );
    for secret in [
        "110101199003074477",
        "199003074477",
        "13812345678",
        "12345678",
        "王小明",
        "小明",
        "解放路88号",
    ] {
        assert!(
            !dump.contains(secret),
            "plaintext `{secret}` found in the database dump"
        );
    }
}

async fn the_inbox_and_the_access_record_are_kept_per_person_and_case<S: Store>(s: &S) {
    let w = World::new();
    let id = plain_suggestion(&w, s).await;
    for i in 0..5 {
        s.add_notification(&Notification {
            id: format!("n-{i}"),
            recipient: if i == 4 {
                "someone-else".into()
            } else {
                "zhang".into()
            },
            case_id: Some(id.clone()),
            reminder_key: Some("assigned/-/0/2024-06-05".into()),
            title: format!("提醒 {i}"),
            body: "b".into(),
            escalate: i == 3,
            created_at: ts(&format!("2024-03-0{}T09:00:00", i + 1)),
            read_at: None,
        })
        .await
        .expect("notify");
    }
    let (first, next) = s
        .notifications("zhang", &Page::first(2), false)
        .await
        .expect("inbox");
    assert_eq!(
        first.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
        ["n-3", "n-2"]
    );
    let (rest, end) = s
        .notifications(
            "zhang",
            &Page {
                after: next,
                ..Page::first(2)
            },
            false,
        )
        .await
        .expect("inbox");
    assert_eq!(
        rest.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
        ["n-1", "n-0"]
    );
    assert_eq!(end, None);
    s.record_access(&Access {
        case_id: id.clone(),
        at: ts("2024-03-02T09:00:00"),
        actor: "xu_staff".into(),
        role: Role::Staff,
        fields: vec!["id_number".into()],
        reason: "核实重复信访".into(),
        request_id: Some("req-9".into()),
    })
    .await
    .expect("record");
    let log = s.accesses(&id).await.expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].reason, "核实重复信访");
}
