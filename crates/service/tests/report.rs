//! The annual report over hand-built cases with known outcomes: on time, late, still open past
//! the deadline, reopened, co-handled, key; and the same report as of an earlier day.

use duban_storage::{Cases, Reporting, Schema};

use duban_core::{Role, Workflows};
use duban_storage::OrgKind;
use duban_testkit::{Office, ts};
use serde_json::json;

/// The office the figures come from: a deputy files, staff assign, the department answers.
struct World {
    office: Office,
}

impl std::ops::Deref for World {
    type Target = Office;

    fn deref(&self) -> &Office {
        &self.office
    }
}

impl World {
    async fn new() -> World {
        let office = Office::builder()
            .org("jtj", OrgKind::Department, "县交通运输局")
            .org("czj", OrgKind::Department, "县财政局")
            .user("liu", Role::Deputy, None)
            .user("wang", Role::Deputy, None)
            .user("xu", Role::Staff, None)
            .user("zhang", Role::Department, Some("jtj"))
            .user("qian", Role::Department, Some("czj"))
            .user("chen", Role::Leader, None)
            .build()
            .await;
        World { office }
    }

    /// A suggestion filed by `liu`.
    async fn file_suggestion(&self, title: &str, at: &str) -> String {
        self.file(
            "liu",
            "suggestion",
            json!({"title": title, "body": "b"}),
            at,
        )
        .await
    }

    /// The report as the service makes it: kept figures, and replay for cases changed since.
    async fn kept(&self, as_of: &str) -> duban_service::report::AnnualReport {
        let staff = self.principal("xu").await;
        let (r, _) = self
            .service
            .annual_report(&staff, 2024, Some(ts(as_of)))
            .await
            .expect("report");
        r
    }

    /// The report from every case's whole history replayed, with nothing kept.
    async fn replayed(&self, as_of: &str) -> duban_service::report::AnnualReport {
        let mut kinds = Vec::new();
        let workflows = Workflows::builtin();
        for kind in duban_core::vocabulary::kind::REPORTED {
            let wf = workflows.get(kind).expect("workflow");
            let histories = self.store.histories(kind, 2024).await.expect("histories");
            kinds.push((wf, histories));
        }
        let mut r = duban_service::report::annual(2024, ts(as_of), &kinds);
        // Counted from the directory, not from cases.
        r.petitions.stations = self.kept(as_of).await.petitions.stations;
        r.state_sections();
        r
    }

    async fn assigned(&self, title: &str) -> String {
        let id = self.file_suggestion(title, "2024-01-20T10:00:00").await;
        self.act(&id, "register", "xu", json!({}), "2024-02-20T10:00:00")
            .await;
        // Assigned 03-01: 3 months → 06-01, a Saturday → due Monday 06-03.
        self.act(
            &id,
            "assign",
            "xu",
            json!({"lead_department": "jtj", "co_departments": ["czj"]}),
            "2024-03-01T10:00:00",
        )
        .await;
        id
    }
}

#[tokio::test]
async fn the_report_gives_exactly_the_figures_of_the_records_as_of_any_day() {
    let w = World::new().await;
    // A B answer names the date it promises, a C answer its condition.
    let reply = |c: &str| json!({"classification": c, "answer": "答复", "promised_by": "2025-06-30", "condition": "待资金下达"});
    // A: answered on time, satisfied.
    let a = w.assigned("A").await;
    // The co-handler's opinions are due 04-01: A's in time, B's late, C's and D's never.
    let opinion = json!({"opinion": "同意"});
    w.act(
        &a,
        "send_co_opinion",
        "qian",
        opinion.clone(),
        "2024-03-20T10:00:00",
    )
    .await;
    w.act(&a, "reply", "zhang", reply("A"), "2024-04-01T10:00:00")
        .await;
    w.act(
        &a,
        "evaluate",
        "liu",
        json!({"rating": "satisfied"}),
        "2024-04-05T10:00:00",
    )
    .await;
    // B: answered late, basically satisfied.
    let b = w.assigned("B").await;
    w.act(
        &b,
        "send_co_opinion",
        "qian",
        opinion,
        "2024-04-05T10:00:00",
    )
    .await;
    w.act(&b, "reply", "zhang", reply("B"), "2024-07-01T10:00:00")
        .await;
    w.act(
        &b,
        "evaluate",
        "liu",
        json!({"rating": "basically_satisfied"}),
        "2024-07-05T10:00:00",
    )
    .await;
    // A B answer rated is followed (回头看) until the department reports it delivered.
    w.act(
        &b,
        "report_delivery",
        "zhang",
        json!({"delivered_on": "2024-10-08", "report": "已完工"}),
        "2024-10-10T10:00:00",
    )
    .await;
    // C: never answered: open and overdue.
    w.assigned("C").await;
    // D: key, answered on time, 不满意, answered again, satisfied.
    let d = w.assigned("D").await;
    w.act(
        &d,
        "mark_key",
        "xu",
        json!({"supervisor": "chen"}),
        "2024-03-02T10:00:00",
    )
    .await;
    w.act(&d, "reply", "zhang", reply("C"), "2024-04-01T10:00:00")
        .await;
    w.act(
        &d,
        "evaluate",
        "liu",
        json!({"rating": "dissatisfied", "comment": "没有解决"}),
        "2024-04-05T10:00:00",
    )
    .await;
    w.act(&d, "reply", "zhang", reply("A"), "2024-04-20T10:00:00")
        .await;
    w.act(
        &d,
        "evaluate",
        "liu",
        json!({"rating": "satisfied"}),
        "2024-04-25T10:00:00",
    )
    .await;
    // E: filed, never registered: open, no deadline.
    w.file_suggestion("E", "2024-01-20T11:00:00").await;
    // And one from another year, which must not count.
    w.file_suggestion("F", "2025-01-20T10:00:00").await;

    let staff = w.principal("xu").await;
    let (r, names) = w
        .service
        .annual_report(&staff, 2024, Some(ts("2024-12-31T23:00:00")))
        .await
        .expect("report");
    let s = r
        .kinds
        .iter()
        .find(|k| k.kind == "suggestion")
        .expect("suggestions");
    assert_eq!(
        (
            s.filed,
            s.assigned,
            s.answered,
            s.answered_on_time,
            s.answered_late,
            s.open_overdue,
            s.evaluated,
            s.open
        ),
        (5, 4, 3, 2, 1, 1, 3, 2)
    );
    assert_eq!(
        s.on_time_rate,
        Some(50.0),
        "2 on time of 3 answered + 1 open overdue"
    );
    // By the latest answer's class: A and D (answered C, then A); B delivered by the year's end.
    assert_eq!(
        s.by_class,
        [("A".to_string(), 2), ("B".to_string(), 1)].into()
    );
    assert_eq!((s.b_delivered, s.following), (1, 0));
    assert_eq!(
        (
            s.satisfied,
            s.basically_satisfied,
            s.dissatisfied,
            s.reopened
        ),
        (2, 1, 1, 1)
    );
    assert_eq!(
        (r.key_suggestions.total, r.key_suggestions.implemented),
        (1, 1)
    );
    assert_eq!(r.key_suggestions.by_supervisor.get("chen"), Some(&1));
    let jtj = r
        .departments
        .iter()
        .find(|d| d.department == "jtj")
        .expect("jtj row");
    assert_eq!(
        (
            jtj.assigned,
            jtj.answered,
            jtj.answered_on_time,
            jtj.open_overdue
        ),
        (4, 3, 2, 1)
    );
    // Every rating counts against the department that answered, the 不满意 before a
    // second answer too: so the departments' figures add up to the kind's.
    assert_eq!(
        (jtj.satisfied, jtj.basically_satisfied, jtj.dissatisfied),
        (2, 1, 1)
    );
    let summed = r.departments.iter().fold((0, 0, 0), |(a, b, c), d| {
        (
            a + d.satisfied,
            b + d.basically_satisfied,
            c + d.dissatisfied,
        )
    });
    assert_eq!(summed, (s.satisfied, s.basically_satisfied, s.dissatisfied));
    // The co-handler has a row of its own that credits its part only: it was never the lead.
    let czj = r
        .departments
        .iter()
        .find(|d| d.department == "czj")
        .expect("czj row");
    assert_eq!(
        (czj.assigned, czj.answered, czj.satisfied),
        (0, 0, 0),
        "co-handlers are not counted as leads"
    );
    assert_eq!(
        (czj.co_handled, czj.co_opinions, czj.co_opinions_on_time),
        (4, 2, 1)
    );

    let md = duban_service::report::markdown(&r, &names);
    assert!(
        md.contains("共收到代表提出的建议5件，已交办4件，3件办理答复"),
        "{md}"
    );
    assert!(md.contains("1件重点建议全部落实"), "{md}");
    assert!(md.contains("按期答复率50%"), "{md}");
    assert!(
        md.contains("| 代表建议 | 县交通运输局 | 4 | 3 | 2/4 | 1 | 31/122 |"),
        "{md}"
    );
    // Days from the (latest) assignment, 03-01, to the first answer: A and D on 04-01 (31
    // days; D's marking as key and its second answer do not count), B on 07-01 (122).
    assert_eq!(
        (s.days_to_answer_median, s.days_to_answer_p90),
        (Some(31), Some(122))
    );
    assert_eq!(
        (jtj.days_to_answer_median, jtj.days_to_answer_p90),
        (Some(31), Some(122))
    );

    // As the figures stood on 2024-04-10.
    let (then, _) = w
        .service
        .annual_report(&staff, 2024, Some(ts("2024-04-10T00:00:00")))
        .await
        .expect("report");
    let s = then
        .kinds
        .iter()
        .find(|k| k.kind == "suggestion")
        .expect("suggestions");
    assert_eq!(
        (s.answered, s.answered_on_time, s.open_overdue, s.evaluated),
        (2, 2, 0, 1)
    );
    assert_eq!((s.satisfied, s.dissatisfied, s.reopened), (1, 1, 1));
    assert_eq!(s.on_time_rate, Some(100.0));
    // D's latest answer was then its C.
    assert_eq!(
        s.by_class,
        [("A".to_string(), 1), ("C".to_string(), 1)].into()
    );
    assert_eq!(
        (s.days_to_answer_median, s.days_to_answer_p90),
        (Some(31), Some(31)),
        "B was not answered yet"
    );
    assert_eq!(
        (then.key_suggestions.total, then.key_suggestions.implemented),
        (1, 0)
    );
    // On 08-01 B was rated and followed, its promise not yet delivered.
    let (august, _) = w
        .service
        .annual_report(&staff, 2024, Some(ts("2024-08-01T00:00:00")))
        .await
        .expect("report");
    let s = august
        .kinds
        .iter()
        .find(|k| k.kind == "suggestion")
        .expect("suggestions");
    assert_eq!((s.b_delivered, s.following), (0, 1));
    // On 03-25 only A's opinion had come.
    let (march, _) = w
        .service
        .annual_report(&staff, 2024, Some(ts("2024-03-25T00:00:00")))
        .await
        .expect("report");
    let czj = march
        .departments
        .iter()
        .find(|d| d.department == "czj")
        .expect("czj row");
    assert_eq!(
        (czj.co_handled, czj.co_opinions, czj.co_opinions_on_time),
        (4, 1, 1)
    );
    // Before anything was filed, nothing counts.
    let (none, _) = w
        .service
        .annual_report(&staff, 2024, Some(ts("2024-01-01T00:00:00")))
        .await
        .expect("report");
    assert!(none.kinds.iter().all(|k| k.filed == 0));

    // The figures kept with each case give exactly the report that replaying every event
    // gives, as of the year's end (every case from its kept figures), as of days within it
    // (cases changed since are replayed) and before anything happened.
    for as_of in [
        "2024-12-31T23:00:00",
        "2024-08-01T00:00:00",
        "2024-04-10T00:00:00",
        "2024-03-25T00:00:00",
        "2024-03-01T10:00:00",
        "2024-01-01T00:00:00",
    ] {
        assert_eq!(
            w.kept(as_of).await,
            w.replayed(as_of).await,
            "as of {as_of}"
        );
    }

    let kept: u64 = w
        .store
        .figure_groups("suggestion", 2024, ts("2024-12-31T23:00:00"))
        .await
        .expect("groups")
        .groups
        .iter()
        .map(|g| g.cases)
        .sum();
    assert_eq!(
        kept, 5,
        "at the year's end every case counts from its kept figures"
    );

    // A database written before the figures were kept: no figures column, projections without
    // milestones. Migrating refolds every case, and the report is the same again.
    let before = w.kept("2024-12-31T23:00:00").await;
    for sql in [
        "DROP INDEX cases_figures",
        "ALTER TABLE cases DROP COLUMN figures",
        "UPDATE cases SET projection = json_remove(projection, '$.milestones')",
        "DELETE FROM schema_migrations WHERE version = 7",
    ] {
        sqlx::query(sql)
            .execute(w.store.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    assert_eq!(w.store.migrate().await.expect("migrate"), vec![7]);
    assert_eq!(w.kept("2024-12-31T23:00:00").await, before);
    let d_case = w.store.case(&d).await.expect("read").expect("case").case;
    assert_eq!(
        d_case.milestones.ratings.get("dissatisfied"),
        Some(&1),
        "the refolded projection holds D's history: {:?}",
        d_case.milestones
    );

    // Departments and deputies may not read the year's figures.
    assert!(
        w.service
            .annual_report(&w.principal("zhang").await, 2024, None)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn an_overdue_case_counts_against_the_party_whose_step_it_is() {
    let w = World::new().await;
    let reply = json!({"classification": "A", "answer": "答复"});
    // P: never answered: the department's delay (due 06-03).
    w.assigned("P").await;
    // Q: answered on time, never rated: the deputy's month ran out (05-01 is a holiday, so
    // 05-06), and it is not the department's delay.
    let q = w.assigned("Q").await;
    w.act(&q, "reply", "zhang", reply.clone(), "2024-04-01T10:00:00")
        .await;
    // R: the department asked to be relieved of it and staff never decided: the office's
    // delay (5 working days).
    let r = w.assigned("R").await;
    w.act(
        &r,
        "request_reassignment",
        "zhang",
        json!({"reason": "不属于本单位职责"}),
        "2024-03-05T10:00:00",
    )
    .await;
    // S: answered, rated 不满意, never answered again: the department's delay once more.
    let s = w.assigned("S").await;
    w.act(&s, "reply", "zhang", reply, "2024-04-01T10:00:00")
        .await;
    w.act(
        &s,
        "evaluate",
        "liu",
        json!({"rating": "dissatisfied", "comment": "没有解决"}),
        "2024-04-05T10:00:00",
    )
    .await;

    for (as_of, handler, rating, office) in [
        ("2024-04-20T00:00:00", 0, 0, 1),
        ("2024-05-20T00:00:00", 1, 1, 1),
        ("2024-12-31T23:00:00", 2, 1, 1),
    ] {
        let report = w.kept(as_of).await;
        let f = report
            .kinds
            .iter()
            .find(|k| k.kind == "suggestion")
            .expect("suggestions");
        assert_eq!(
            (f.open_overdue, f.rating_overdue, f.office_overdue),
            (handler, rating, office),
            "as of {as_of}"
        );
        let jtj = report
            .departments
            .iter()
            .find(|d| d.department == "jtj")
            .expect("jtj row");
        assert_eq!(jtj.open_overdue, handler, "as of {as_of}");
        assert_eq!(report, w.replayed(as_of).await, "as of {as_of}");
    }
    let year = w.kept("2024-12-31T23:00:00").await;
    let f = year
        .kinds
        .iter()
        .find(|k| k.kind == "suggestion")
        .expect("suggestions");
    // Q and S answered on time, P and S owed an answer: the rating Q waits for does not count
    // against the department.
    assert_eq!(f.on_time_rate, Some(50.0));
    let md = duban_service::report::markdown(&year, &Default::default());
    assert!(
        md.contains("| 代表建议 | 4 | 4 | 2 | 2 | 0 | 2 | 1 | 1 | 50% |"),
        "{md}"
    );
}

#[test]
fn days_to_answer_are_read_by_nearest_rank() {
    use duban_service::report::percentile;
    let days = |pairs: &[(u32, u64)]| pairs.iter().copied().collect();
    // 1, 2, 3, 10: the median is the 2nd (2), the 90th percentile the 4th (10).
    let four = days(&[(1, 1), (2, 1), (3, 1), (10, 1)]);
    assert_eq!(percentile(&four, 0.5), Some(2));
    assert_eq!(percentile(&four, 0.9), Some(10));
    // Counts weigh: nine cases in 5 days and one in 60: nine in ten within 5 days.
    let grouped = days(&[(5, 9), (60, 1)]);
    assert_eq!(percentile(&grouped, 0.5), Some(5));
    assert_eq!(percentile(&grouped, 0.9), Some(5));
    assert_eq!(percentile(&grouped, 1.0), Some(60));
    assert_eq!(percentile(&days(&[(7, 1)]), 0.9), Some(7));
    assert_eq!(percentile(&days(&[]), 0.5), None);
}

/// 代表满意度: each deputy's ratings of the replies, the lead deputy's that decide and a
/// co-signer's given beside them, the same from the figures kept with each case as from every
/// event replayed, as of any day; and kept again for a database written before they were.
#[tokio::test]
async fn per_deputy_satisfaction_counts_every_signers_rating_as_of_any_day() {
    let w = World::new().await;
    let id = w
        .file(
            "liu",
            "suggestion",
            json!({"title": "关于改造城区供热管网的建议", "body": "b", "cosigners": ["wang"]}),
            "2024-01-20T10:00:00",
        )
        .await;
    w.act(&id, "register", "xu", json!({}), "2024-02-20T10:00:00")
        .await;
    w.act(
        &id,
        "assign",
        "xu",
        json!({"lead_department": "jtj"}),
        "2024-03-01T10:00:00",
    )
    .await;
    let answer = json!({"classification": "A", "answer": "已完成"});
    w.act(&id, "reply", "zhang", answer.clone(), "2024-04-01T10:00:00")
        .await;
    // wang is not satisfied; liu's 不满意 sends it back; the second reply pleases both.
    let unhappy = json!({"rating": "dissatisfied", "comment": "管网仍漏水"});
    w.act(
        &id,
        "evaluate",
        "wang",
        unhappy.clone(),
        "2024-04-03T10:00:00",
    )
    .await;
    w.act(&id, "evaluate", "liu", unhappy, "2024-04-05T10:00:00")
        .await;
    w.act(&id, "reply", "zhang", answer, "2024-04-20T10:00:00")
        .await;
    let happy = json!({"rating": "satisfied"});
    w.act(
        &id,
        "evaluate",
        "wang",
        happy.clone(),
        "2024-04-21T10:00:00",
    )
    .await;
    w.act(&id, "evaluate", "liu", happy, "2024-04-25T10:00:00")
        .await;

    let row = |r: &duban_service::report::AnnualReport, who: &str| {
        r.deputies.iter().find(|d| d.deputy == who).map(|d| {
            (
                d.ratings,
                d.co_ratings,
                d.satisfied,
                d.basically_satisfied,
                d.dissatisfied,
            )
        })
    };
    let end = w.kept("2024-12-31T23:00:00").await;
    assert_eq!(row(&end, "liu"), Some((2, 0, 1, 0, 1)));
    assert_eq!(row(&end, "wang"), Some((0, 2, 1, 0, 1)));
    assert!(end.deputies.iter().all(|d| d.kind == "suggestion"));
    // Before the second round, and before anyone rated.
    let early = w.kept("2024-04-04T00:00:00").await;
    assert_eq!(row(&early, "liu"), None);
    assert_eq!(row(&early, "wang"), Some((0, 1, 0, 0, 1)));
    assert!(w.kept("2024-04-02T00:00:00").await.deputies.is_empty());
    for as_of in [
        "2024-12-31T23:00:00",
        "2024-04-22T00:00:00",
        "2024-04-04T00:00:00",
    ] {
        assert_eq!(
            w.kept(as_of).await,
            w.replayed(as_of).await,
            "as of {as_of}"
        );
    }
    // The markdown names them in a table of their own.
    let (r, names) = w
        .service
        .annual_report(
            &w.principal("xu").await,
            2024,
            Some(ts("2024-12-31T23:00:00")),
        )
        .await
        .expect("report");
    let text = duban_service::report::markdown(&r, &names);
    assert!(text.contains("## 代表满意度"), "{text}");
    assert!(
        text.contains("| 代表建议 | liu | 2 | 0 | 1 | 0 | 1 |"),
        "{text}"
    );

    // A database written before the ratings were kept beside the figures: migrating refolds
    // every case, and the report is the same again.
    for sql in [
        "DROP INDEX cases_raters",
        "ALTER TABLE cases DROP COLUMN raters",
        "DELETE FROM schema_migrations WHERE version = 22",
    ] {
        sqlx::query(sql)
            .execute(w.store.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    assert_eq!(w.store.migrate().await.expect("migrate"), vec![22]);
    assert_eq!(w.kept("2024-12-31T23:00:00").await, end);
}
