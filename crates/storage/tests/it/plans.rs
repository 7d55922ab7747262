//! The hot queries stay on an index as the tables grow: with 100,000 cases loaded, the plan of
//! every list, the due-reminder lookup and a case's history uses an index, never a full scan.

use duban_storage::Lists;
use duban_storage::{Backend, CaseQuery, Order, PartyList, Plan};
use duban_testkit::{TestDb, ts};

/// Loads `n` synthetic cases with two party rows, a reminder and an event each, one statement
/// per table.
async fn load(db: &TestDb, n: i64) {
    let series = db.store.backend().series(1, n);
    let body = "县城主要路口早晚高峰拥堵，建议优化信号灯配时，增设非机动车道。".repeat(6);
    let statements = [
        format!(
            "INSERT INTO cases (id, kind, workflow_version, workflow_digest, title, state, version, is_open, is_key, year, \
             filed_at, entered_at, due_key, due_date, filer, supervisor, idempotency_key, request_hash, projection, updated_at, \
             figures) \
             SELECT 'case-' || n, CASE n % 3 WHEN 0 THEN 'suggestion' WHEN 1 THEN 'petition' ELSE 'mediation' END, 1, 'x', 't', \
             CASE n % 4 WHEN 0 THEN 'evaluated' WHEN 1 THEN 'assigned' WHEN 2 THEN 'handled' ELSE 'received' END, 1, \
             CASE WHEN n % 4 = 0 THEN 0 ELSE 1 END, CASE WHEN n % 500 = 0 THEN 1 ELSE 0 END, 2020 + n % 6, \
             1700000000000 + n * 60000, 1700000000000 + n * 60000, \
             CASE WHEN n % 4 = 0 THEN 9223372036854775807 ELSE 1700000000000 + n * 90000 END, NULL, \
             'deputy-' || (n % 5000), CASE WHEN n % 500 = 0 THEN 'leader-1' ELSE NULL END, NULL, NULL, '{{}}', 0, \
             '{{\"lead_department\":\"org-' || (n % 300) || '\"}}' \
             FROM ({series}) AS series"
        ),
        format!(
            "INSERT INTO case_parties (case_id, party, member, is_open, due_key, filed_at) \
             SELECT 'case-' || n, 'filer', 'deputy-' || (n % 5000), CASE WHEN n % 4 = 0 THEN 0 ELSE 1 END, \
             1700000000000 + n * 90000, 1700000000000 + n * 60000 FROM ({series}) AS series"
        ),
        format!(
            "INSERT INTO case_parties (case_id, party, member, is_open, due_key, filed_at) \
             SELECT 'case-' || n, CASE n % 3 WHEN 0 THEN 'lead_department' WHEN 1 THEN 'station' ELSE 'mediators' END, \
             'org-' || (n % 300), CASE WHEN n % 4 = 0 THEN 0 ELSE 1 END, \
             1700000000000 + n * 90000, 1700000000000 + n * 60000 FROM ({series}) AS series"
        ),
        format!(
            "INSERT INTO reminders (case_id, reminder_key, state, duty, rule, fire_at, due_date, notify, repeat_every_days, \
             escalate, status, attempts, created_at) \
             SELECT 'case-' || n, 'assigned/-/0/x', 'assigned', '', 0, 1700000000000 + n * 90000, NULL, '[]', NULL, 0, \
             CASE WHEN n % 10 = 0 THEN 'pending' ELSE 'sent' END, 0, 0 FROM ({series}) AS series"
        ),
        format!(
            "INSERT INTO case_events (case_id, seq, action, actor, actor_role, actor_org, on_behalf_of, at, from_state, \
             to_state, payload, detail, request_id) \
             SELECT 'case-' || n, 1, 'file', 'deputy-' || (n % 5000), 'deputy', NULL, NULL, 1700000000000 + n * 60000, \
             NULL, 'received', '{{}}', '{{}}', NULL FROM ({series}) AS series"
        ),
        // What search reads: a word in one case of a thousand (a place, a road), another in
        // the rest, and a body of a few hundred characters as a real case has. (With a doc of
        // a dozen characters the whole table is a few pages, and PostgreSQL's planner now and
        // then judged a scan of it cheaper than the trigram index: a plan no county sees.)
        format!(
            "INSERT INTO case_search (case_id, doc, pairs, filed_at) \
             SELECT 'case-' || n, 'case ' || n || CASE WHEN n % 1000 = 0 THEN ' 城关镇道路' ELSE ' 农田水利' END \
             || ' {body}', \
             CASE WHEN n % 1000 = 0 THEN '|城关|关镇|镇道|道路|' ELSE '|农田|田水|水利|' END, \
             1700000000000 + n * 60000 FROM ({series}) AS series"
        ),
        "ANALYZE".to_string(),
    ];
    for sql in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(db.store.pool())
            .await
            .expect("bulk load");
    }
}

fn plans() -> Vec<Plan> {
    vec![
        Plan::List(CaseQuery::DepartmentOpen {
            department: "org-42".into(),
        }),
        Plan::List(CaseQuery::Overdue {
            now: ts("2023-11-20T00:00:00"),
        }),
        Plan::List(CaseQuery::DueBetween {
            from: ts("2023-11-20T00:00:00"),
            until: ts("2023-11-27T00:00:00"),
        }),
        Plan::List(CaseQuery::KeySuggestions),
        Plan::List(CaseQuery::Party(PartyList::Deputy("deputy-42".into()))),
        Plan::List(CaseQuery::Party(PartyList::Station("org-7".into()))),
        Plan::List(CaseQuery::Party(PartyList::Mediator("org-8".into()))),
        Plan::List(CaseQuery::Party(PartyList::Court("org-9".into()))),
        Plan::List(CaseQuery::Party(PartyList::Department("org-10".into()))),
        Plan::List(CaseQuery::All),
        Plan::List(CaseQuery::ByKind {
            kind: "suggestion".into(),
            year: 2023,
            state: None,
        }),
        Plan::List(CaseQuery::ByKind {
            kind: "petition".into(),
            year: 2024,
            state: Some("handled".into()),
        }),
        // The words find their few cases through the search index, whatever the order.
        Plan::Search {
            terms: vec!["道路".into()],
            order: Order::Newest,
        },
        Plan::Search {
            terms: vec!["道路".into()],
            order: Order::Deadline,
        },
        Plan::Search {
            terms: vec!["城关镇".into(), "道路".into()],
            order: Order::Newest,
        },
        Plan::Search {
            terms: vec!["case 4242".into()],
            order: Order::Deadline,
        },
        Plan::Search {
            terms: vec!["case 4242".into()],
            order: Order::Natural,
        },
        Plan::DueReminders {
            now: ts("2023-11-20T00:00:00"),
        },
        Plan::History {
            case_id: "case-42".into(),
        },
        Plan::FigureGroups {
            kind: "suggestion".into(),
            year: 2023,
            as_of: ts("2024-01-01T00:00:00"),
        },
    ]
}

/// A full scan of a table shows as `Seq Scan on T` (PostgreSQL) or a bare `SCAN T` without an
/// index (SQLite); a full-text match (`VIRTUAL TABLE INDEX 0:M…`) is the search index at work.
fn full_scans(backend: Backend, plan: &str) -> Vec<String> {
    plan.lines()
        .map(str::trim)
        .filter(|l| match backend {
            Backend::Postgres => l.contains("Seq Scan"),
            Backend::Sqlite => {
                l.starts_with("SCAN")
                    && !l.contains("USING")
                    && !(l.contains("VIRTUAL TABLE INDEX") && l.contains(":M"))
            }
        })
        .map(str::to_string)
        .collect()
}

async fn every_hot_query_uses_an_index(db: &TestDb) {
    load(db, 100_000).await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(db.store.pool())
        .await
        .expect("count");
    assert_eq!(count, 100_000);
    for plan in plans() {
        let text = db.store.explain(&plan).await.expect("explain");
        let scans = full_scans(db.store.backend(), &text);
        assert!(scans.is_empty(), "{plan:?} scans a whole table:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_every_hot_query_uses_an_index_with_100k_cases() {
    let Some(db) = duban_testkit::postgres().await else {
        return;
    };
    every_hot_query_uses_an_index(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_every_hot_query_uses_an_index_with_100k_cases() {
    let db = duban_testkit::sqlite().await;
    every_hot_query_uses_an_index(&db).await;
}
