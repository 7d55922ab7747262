//! Conformance: repeat filings (重复信访) found by the blind index: the same person's cases of
//! the same kind in the twelve months before, for the case page, the list filter and the count.

use super::*;

conformance!(a_repeat_filing_is_the_same_person_and_kind_within_twelve_months);

async fn a_repeat_filing_is_the_same_person_and_kind_within_twelve_months<S: Store>(s: &S) {
    let w = World::new();
    let deputy = actor("liu", Role::Deputy, Some("station-1"));
    let court = actor("court-clerk", Role::Court, Some("court-1"));
    let id = "110101199003074477";
    let petition = |title: &str, person: serde_json::Value| json!({"title": title, "body": "b", "station": "station-1", "constituent": person});
    let first = w
        .file(
            s,
            "petition",
            &deputy,
            petition("拖欠工资", json!({"name": "王小明", "id_number": id})),
            ts("2024-04-02T09:00:00"),
        )
        .await;
    // The same person before a court: another kind, not a repeat petition.
    let mediation = w
        .file(s, "mediation", &court, json!({"title": "合同纠纷", "summary": "s", "court": "court-1", "dispute_type": "contract", "applicant": {"name": "王小明", "id_number": id}, "respondent": {"name": "乙"}}), ts("2024-04-20T09:00:00"))
        .await;
    // The same person petitioning again a month later.
    let second = w
        .file(
            s,
            "petition",
            &deputy,
            petition("再次反映", json!({"name": "王小明", "id_number": id})),
            ts("2024-05-02T09:00:00"),
        )
        .await;
    // Someone else (twice, the second time with a lower-case check character), and someone
    // with no ID number.
    let other = w
        .file(
            s,
            "petition",
            &deputy,
            petition(
                "噪声扰民",
                json!({"name": "李四", "id_number": "11010519491231002X"}),
            ),
            ts("2024-06-02T09:00:00"),
        )
        .await;
    let other_again = w
        .file(
            s,
            "petition",
            &deputy,
            petition(
                "噪声扰民再次反映",
                json!({"name": "李四", "id_number": "11010519491231002x"}),
            ),
            ts("2024-06-20T09:00:00"),
        )
        .await;
    let no_id = w
        .file(
            s,
            "petition",
            &deputy,
            petition("道路破损", json!({"name": "王小明"})),
            ts("2024-07-02T09:00:00"),
        )
        .await;
    // 383 days after the first, 353 after the second: only the second is within the window.
    let third = w
        .file(
            s,
            "petition",
            &deputy,
            petition("第三次反映", json!({"name": "王小明", "id_number": id})),
            ts("2025-04-20T09:00:00"),
        )
        .await;

    let earlier = |case: String| async move {
        s.earlier_filings(&case)
            .await
            .expect("earlier")
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(earlier(first.clone()).await, Vec::<String>::new());
    assert_eq!(earlier(second.clone()).await, vec![first.clone()]);
    assert_eq!(earlier(third.clone()).await, vec![second.clone()]);
    for none in [&mediation, &other, &no_id] {
        assert!(earlier(none.clone()).await.is_empty(), "{none}");
    }

    let repeat = ListFilter {
        repeat: true,
        ..ListFilter::default()
    };
    let listed: BTreeSet<String> = s
        .list_filtered(&CaseQuery::All, &repeat, &Page::first(50))
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        listed,
        BTreeSet::from([second.clone(), third.clone(), other_again.clone()])
    );

    let count = |year: i16, until: &str| {
        let until = ts(until);
        async move {
            s.repeat_filings("petition", year, until)
                .await
                .expect("count")
        }
    };
    assert_eq!(count(2024, "2024-12-31T23:00:00").await, 2);
    assert_eq!(earlier(other_again.clone()).await, vec![other.clone()]);
    assert_eq!(
        count(2024, "2024-05-01T09:00:00").await,
        0,
        "as of before any repeat"
    );
    assert_eq!(
        count(2024, "2024-05-02T09:00:00").await,
        1,
        "as of the second filing"
    );
    assert_eq!(count(2025, "2025-12-31T23:00:00").await, 1);
    assert_eq!(
        s.repeat_filings("mediation", 2024, ts("2024-12-31T23:00:00"))
            .await
            .expect("count"),
        0
    );
}
