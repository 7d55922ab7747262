//! Conformance: lists: each user's lists page by page, and the filters that narrow any of them.

use super::*;

conformance!(
    the_lists_find_what_each_user_needs_page_by_page,
    filters_narrow_any_list,
    a_search_pages_both_ways_in_filing_order_and_counts_what_it_finds,
    a_search_pages_cases_filed_out_of_order_and_in_one_second,
);

async fn the_lists_find_what_each_user_needs_page_by_page<S: Store>(s: &S) {
    let w = World::new();
    let court = actor("clerk", Role::Court, Some("court-1"));
    let deputy = actor("liu", Role::Deputy, Some("station-1"));
    let mut suggestions = Vec::new();
    for i in 0..5 {
        // Filed in order, assigned in reverse order: deadlines three months after assignment.
        let lead = if i % 2 == 0 { "jtj" } else { "jyj" };
        let filed = format!("2024-03-0{}T09:00:00", i + 1);
        let assigned = format!("2024-03-1{}T09:00:00", 5 - i);
        let id = w
            .assigned_suggestion(s, &deputy, lead, &["czj"], &filed, &assigned)
            .await;
        suggestions.push(id);
    }
    w.must(
        s,
        &suggestions[1],
        "mark_key",
        json!({"supervisor": "chen"}),
        &staff(),
        ts("2024-03-20T09:00:00"),
    )
    .await;
    let dept = actor("x", Role::Department, Some("jtj"));
    w.must(
        s,
        &suggestions[4],
        "reply",
        json!({"classification": "B", "answer": "a", "promised_by": "2025-06-30"}),
        &dept,
        ts("2024-04-01T09:00:00"),
    )
    .await;
    let petition = w
        .file(s, "petition", &deputy, json!({"title": "拖欠工资", "body": "b", "station": "station-1", "constituent": {"name": "王小明"}}), ts("2024-04-02T09:00:00"))
        .await;
    let mediation = w
        .file(s, "mediation", &court, json!({"title": "合同纠纷", "summary": "s", "court": "court-1", "dispute_type": "contract", "applicant": {"name": "甲"}, "respondent": {"name": "乙"}}), ts("2024-04-03T09:00:00"))
        .await;
    w.must(
        s,
        &mediation,
        "assign_mediators",
        json!({"mediators": ["med-1"]}),
        &court,
        ts("2024-04-04T09:00:00"),
    )
    .await;

    let ids = |l: &duban_storage::Listing| l.items.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    let all = |q: CaseQuery| async move {
        // Walk the pages two at a time; the result must equal one big page.
        let mut out = Vec::new();
        let mut page = Page::first(2);
        loop {
            let l = s.list(&q, &page).await.expect("list");
            assert!(l.items.len() <= 2);
            out.extend(l.items.iter().map(|c| c.id.clone()));
            match l.next {
                Some(c) => {
                    page = Page {
                        after: Some(c),
                        ..Page::first(2)
                    }
                }
                None => break,
            }
        }
        let one = s.list(&q, &Page::first(100)).await.expect("list");
        assert_eq!(
            out,
            one.items.iter().map(|c| c.id.clone()).collect::<Vec<_>>()
        );
        out
    };

    // jtj leads 0, 2 and 4, soonest deadline first: 4 (answered, now in its 1-month evaluation
    // period), then 2 (due 06-13), then 0 (due 06-17). A case stays in the inbox while open.
    let jtj = all(CaseQuery::DepartmentOpen {
        department: "jtj".into(),
    })
    .await;
    assert_eq!(
        jtj,
        [
            suggestions[4].clone(),
            suggestions[2].clone(),
            suggestions[0].clone()
        ]
    );
    // czj co-handles all five.
    assert_eq!(
        all(CaseQuery::DepartmentOpen {
            department: "czj".into()
        })
        .await
        .len(),
        5
    );
    // Overdue at noon on 2024-06-14, most overdue first: the mediation (referred on 04-04 and
    // never answered: 3 working days, counting the make-up Sunday 04-07, to 04-09), the
    // petition (received, 15 days to 04-17), suggestion 4 (answered 04-01, the deputy's month to evaluate ran out on 05-06),
    // suggestions 3 and 2 (assigned 03-12 and 03-13: due 06-12 and 06-13). Suggestion 1 is due
    // at the end of today and suggestion 0 on 06-17 (06-15 is a Saturday).
    let overdue = all(CaseQuery::Overdue {
        now: ts("2024-06-14T12:00:00"),
    })
    .await;
    assert_eq!(
        overdue,
        [
            mediation.clone(),
            petition.clone(),
            suggestions[4].clone(),
            suggestions[3].clone(),
            suggestions[2].clone()
        ]
    );
    let key = s
        .list(&CaseQuery::KeySuggestions, &Page::first(10))
        .await
        .expect("key");
    assert_eq!(ids(&key), [suggestions[1].clone()]);
    assert_eq!(key.items[0].supervisor.as_deref(), Some("chen"));
    assert!(key.items[0].is_key);
    let mine = all(CaseQuery::Party(PartyList::Deputy("liu".into()))).await;
    assert_eq!(mine.len(), 6, "five suggestions and a petition");
    assert_eq!(
        all(CaseQuery::Party(PartyList::Station("station-1".into()))).await,
        vec![petition.clone()]
    );
    assert_eq!(
        all(CaseQuery::Party(PartyList::Mediator("med-1".into()))).await,
        vec![mediation.clone()]
    );
    assert_eq!(
        all(CaseQuery::Party(PartyList::Court("court-1".into()))).await,
        vec![mediation.clone()]
    );
    assert_eq!(
        all(CaseQuery::ByKind {
            kind: "suggestion".into(),
            year: 2024,
            state: None
        })
        .await,
        suggestions
    );
    assert_eq!(
        all(CaseQuery::ByKind {
            kind: "suggestion".into(),
            year: 2024,
            state: Some("handled".into())
        })
        .await,
        [suggestions[4].clone()]
    );
    assert!(
        all(CaseQuery::ByKind {
            kind: "suggestion".into(),
            year: 2025,
            state: None
        })
        .await
        .is_empty()
    );
}

async fn filters_narrow_any_list<S: Store>(s: &S) {
    let w = World::new();
    let deputy = actor("liu", Role::Deputy, None);
    let a = w
        .assigned_suggestion(
            s,
            &deputy,
            "jtj",
            &[],
            "2024-03-01T09:00:00",
            "2024-03-05T09:00:00",
        )
        .await;
    let b = w
        .assigned_suggestion(
            s,
            &deputy,
            "jyj",
            &["jtj"],
            "2025-03-01T09:00:00",
            "2025-03-05T09:00:00",
        )
        .await;
    let c = w
        .file(
            s,
            "suggestion",
            &deputy,
            json!({"title": "t", "body": "b"}),
            ts("2025-04-01T09:00:00"),
        )
        .await;
    let ids = |l: duban_storage::Listing| l.items.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let page = Page::first(10);
    let all = s.list(&CaseQuery::All, &page).await.expect("all");
    assert_eq!(ids(all), [a.clone(), b.clone(), c.clone()]);
    let dept = CaseQuery::Party(PartyList::Department("jtj".into()));
    assert_eq!(
        ids(s.list(&dept, &page).await.expect("dept")),
        [a.clone(), b.clone()]
    );
    let only_2025 = ListFilter {
        year: Some(2025),
        ..ListFilter::default()
    };
    assert_eq!(
        ids(s
            .list_filtered(&dept, &only_2025, &page)
            .await
            .expect("dept 2025")),
        vec![b.clone()]
    );
    let received = ListFilter {
        state: Some("received".into()),
        kind: Some("suggestion".into()),
        ..ListFilter::default()
    };
    assert_eq!(
        ids(s
            .list_filtered(&CaseQuery::All, &received, &page)
            .await
            .expect("received")),
        vec![c.clone()]
    );
    let mine = CaseQuery::Party(PartyList::Deputy("liu".into()));
    let nothing = ListFilter {
        kind: Some("petition".into()),
        ..ListFilter::default()
    };
    assert!(ids(s.list_filtered(&mine, &nothing, &page).await.expect("none")).is_empty());
}

/// A search over every case chooses its page among the search's own rows (`filed_search`), and
/// a party's list with or without words is counted from the party's rows alone: neither may
/// lose, repeat or misorder a case, whichever way the pages are walked, and each total is what
/// the pages hold.
async fn a_search_pages_both_ways_in_filing_order_and_counts_what_it_finds<S: Store>(s: &S) {
    let w = World::new();
    let deputy = actor("liu", Role::Deputy, None);
    // Five filed in March (their titles say when: `建议 2024-03-0…`), led by two departments
    // in turn; two filed in February about something else.
    let mut roads = Vec::new();
    for (i, lead) in ["jtj", "jyj", "jtj", "jyj", "jtj"].iter().enumerate() {
        let id = w
            .assigned_suggestion(
                s,
                &deputy,
                lead,
                &[],
                &format!("2024-03-0{}T09:00:00", i + 1),
                "2024-03-10T09:00:00",
            )
            .await;
        roads.push(id);
    }
    for (i, title) in ["农田水利", "校园安全"].iter().enumerate() {
        w.file(
            s,
            "suggestion",
            &deputy,
            json!({"title": title, "body": "b"}),
            ts(&format!("2024-02-0{}T09:00:00", i + 1)),
        )
        .await;
    }
    let words = ListFilter {
        search: vec!["2024-03".into()],
        ..ListFilter::default()
    };
    let walk = |q: CaseQuery, order: Order| walk_both_ways(s, q, &words, order, 2);
    let newest: Vec<String> = roads.iter().rev().cloned().collect();
    assert_eq!(walk(CaseQuery::All, Order::Natural).await, roads);
    assert_eq!(walk(CaseQuery::All, Order::Oldest).await, roads);
    assert_eq!(walk(CaseQuery::All, Order::Newest).await, newest);
    let jtj = vec![roads[0].clone(), roads[2].clone(), roads[4].clone()];
    let dept = CaseQuery::Party(PartyList::Department("jtj".into()));
    assert_eq!(walk(dept.clone(), Order::Natural).await, jtj);
    // Without words, the party's lists count what their pages hold.
    for q in [
        dept,
        CaseQuery::DepartmentOpen {
            department: "jyj".into(),
        },
        CaseQuery::Party(PartyList::Deputy("liu".into())),
    ] {
        let l = s.list(&q, &Page::first(100)).await.expect("list");
        assert_eq!(l.total as usize, l.items.len(), "{q:?}");
        assert!(!l.items.is_empty(), "{q:?}");
    }
}

/// A search over every case finds where its page lies in the order its rows were given
/// (`filing_window`: on SQLite, rowids by the second of filing): cases filed out of order,
/// several in one second, one in the same millisecond as another, and more imported in one
/// statement among them, come back in the order of filing time and id, in pages of one, two
/// and three, whichever way the pages are walked.
async fn a_search_pages_cases_filed_out_of_order_and_in_one_second<S: Store>(s: &S) {
    use duban_storage::{ImportedCase, Importing};
    let w = World::new();
    let deputy = actor("liu", Role::Deputy, None);
    // In the order filed: later before earlier, a second filled out of order, the same
    // millisecond twice, and a second's last case filed last.
    let times = [
        "2024-03-05T09:00:00",
        "2024-03-01T09:00:00",
        "2024-03-03T09:00:00.300",
        "2024-03-03T09:00:00.100",
        "2024-03-04T09:00:01",
        "2024-03-03T09:00:00.100",
        "2024-02-01T09:00:00",
        "2024-03-03T09:00:00.900",
        "2024-03-03T09:00:01",
    ];
    let mut found = Vec::new();
    for (i, t) in times.iter().enumerate() {
        let id = w
            .file(
                s,
                "suggestion",
                &deputy,
                json!({"title": format!("道路 {i}"), "body": "b"}),
                ts(t),
            )
            .await;
        found.push((ts(t), id));
        // Beside each, a case the words do not find.
        w.file(
            s,
            "suggestion",
            &deputy,
            json!({"title": "农田水利", "body": "b"}),
            ts(t),
        )
        .await;
    }
    // Imported in one statement: into seconds already there, before them, and after.
    let wf = w.workflows.get("suggestion").expect("suggestion");
    let imported_at = [
        "2024-03-03T09:00:00.200",
        "2024-03-03T09:00:00.050",
        "2024-01-15T09:00:00",
        "2024-03-06T09:00:00",
        "2024-03-03T09:00:00.200",
    ];
    let histories: Vec<_> = imported_at
        .iter()
        .map(|t| {
            let filing = json!({"title": "道路", "body": "b"});
            [machine::file(wf, &w.calendar, &deputy, &filing, ts(t)).expect("file")]
        })
        .collect();
    let cases: Vec<ImportedCase> = histories
        .iter()
        .map(|history| ImportedCase {
            id: uuid::Uuid::now_v7().to_string(),
            title: "道路".into(),
            transitions: history,
            index: Indexing {
                format: &wf.number,
                number: None,
                words: "道路".into(),
            },
        })
        .collect();
    found.extend(
        imported_at
            .iter()
            .zip(&cases)
            .map(|(t, c)| (ts(t), c.id.clone())),
    );
    let mut import = s
        .begin_import(ts("2024-03-07T09:00:00"))
        .await
        .expect("begin");
    import.write(&cases).await.expect("import");
    import.commit().await.expect("commit");

    found.sort();
    let oldest: Vec<String> = found.into_iter().map(|(_, id)| id).collect();
    let newest: Vec<String> = oldest.iter().rev().cloned().collect();
    let words = ListFilter {
        search: vec!["道路".into()],
        ..ListFilter::default()
    };
    for size in [1, 2, 3] {
        for (order, expected) in [
            (Order::Natural, &oldest),
            (Order::Oldest, &oldest),
            (Order::Newest, &newest),
        ] {
            let walked = walk_both_ways(s, CaseQuery::All, &words, order, size).await;
            assert_eq!(&walked, expected, "{order:?}, pages of {size}");
        }
    }
}

/// The cases of list `q` narrowed by `words`, in `order`, walked forward by `next` from the
/// first page and back by `prev` from the last in pages of `size`: the same both ways, and
/// every page's total the number walked.
async fn walk_both_ways<S: Store>(
    s: &S,
    q: CaseQuery,
    words: &ListFilter,
    order: Order,
    size: u32,
) -> Vec<String> {
    let (mut forward, mut back, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    let mut page = Page {
        order,
        ..Page::first(size)
    };
    let last = loop {
        let l = s.list_filtered(&q, words, &page).await.expect("page");
        totals.push(l.total);
        forward.extend(l.items.iter().map(|c| c.id.clone()));
        match l.next {
            Some(c) => {
                page = Page {
                    after: Some(c),
                    order,
                    ..Page::first(size)
                }
            }
            None => break l,
        }
    };
    back.extend(last.items.iter().rev().map(|c| c.id.clone()));
    let mut prev = last.prev;
    while let Some(c) = prev {
        let l = s
            .list_filtered(
                &q,
                words,
                &Page {
                    before: Some(c),
                    order,
                    ..Page::first(size)
                },
            )
            .await
            .expect("page before");
        back.extend(l.items.iter().rev().map(|c| c.id.clone()));
        prev = l.prev;
    }
    back.reverse();
    assert_eq!(forward, back, "{q:?} {order:?}: the same cases both ways");
    assert!(
        totals.iter().all(|t| *t as usize == forward.len()),
        "{totals:?}"
    );
    forward
}
