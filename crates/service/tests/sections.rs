//! The report sections the workflow files declare (审议意见, 民生实事, 社情民意), counted from
//! the records as of two instants: the same from the kept figures as from every case's history
//! replayed, and each figure what the cases did by then.

use duban_core::vocabulary::kind::REPORTED;
use duban_core::{Role, Workflows};
use duban_service::report::{AnnualReport, annual};
use duban_storage::{OrgKind, Reporting};
use duban_testkit::{Office, ts};
use serde_json::json;

async fn office() -> Office {
    Office::builder()
        .org("jtj", OrgKind::Department, "县交通运输局")
        .org("zhan01", OrgKind::Station, "鲁北镇人大代表之家")
        .user("liu", Role::Deputy, Some("zhan01"))
        .user("xu", Role::Staff, None)
        .user("zhang", Role::Department, Some("jtj"))
        .user("gao", Role::Leader, None)
        .build()
        .await
}

async fn kept(o: &Office, as_of: &str) -> AnnualReport {
    let staff = o.principal("xu").await;
    let (r, _) = o
        .service
        .annual_report(&staff, 2024, Some(ts(as_of)))
        .await
        .expect("report");
    r
}

async fn replayed(o: &Office, as_of: &str) -> AnnualReport {
    let workflows = Workflows::builtin();
    let mut kinds = Vec::new();
    for kind in REPORTED {
        let histories = o.store.histories(kind, 2024).await.expect("histories");
        kinds.push((workflows.get(kind).expect("kind"), histories));
    }
    let mut r = annual(2024, ts(as_of), &kinds);
    r.petitions.stations = kept(o, as_of).await.petitions.stations;
    r.state_sections();
    r
}

/// The figures of `kind`'s section, by name.
fn section(r: &AnnualReport, kind: &str) -> Vec<(String, i64)> {
    r.sections
        .iter()
        .find(|s| s.kind == kind)
        .map(|s| s.counts.iter().map(|c| (c.name.clone(), c.value)).collect())
        .unwrap_or_default()
}

fn figure(r: &AnnualReport, kind: &str, name: &str) -> i64 {
    section(r, kind)
        .into_iter()
        .find(|(n, _)| n == name)
        .map_or(-1, |(_, v)| v)
}

/// A year of the three kinds: two liaison records (one resolved by the deputy in March, one
/// referred in September), a project voted down and one carried into next year, and an opinion
/// voted unsatisfactory in October and followed.
async fn year(o: &Office) {
    let visit = |title: &str, category: &str, received: i64, on: &str| {
        json!({"title": title, "body": "b", "category": category, "visit": "village",
               "place": "新村", "visited_on": on, "received": received, "station": "zhan01"})
    };
    let a = o
        .file(
            "liu",
            "liaison",
            visit("路灯不亮", "help", 12, "2024-03-09"),
            "2024-03-10T10:00:00",
        )
        .await;
    o.act(
        &a,
        "resolve",
        "liu",
        json!({"done": "修复路灯"}),
        "2024-03-12T10:00:00",
    )
    .await;
    let b = o
        .file(
            "liu",
            "liaison",
            visit("建议增设便民点", "opinion", 7, "2024-09-01"),
            "2024-09-02T10:00:00",
        )
        .await;
    o.act(
        &b,
        "refer",
        "liu",
        json!({"lead_department": "jtj"}),
        "2024-09-03T10:00:00",
    )
    .await;
    o.act(
        &b,
        "reply",
        "zhang",
        json!({"result": "已列入计划"}),
        "2024-09-20T10:00:00",
    )
    .await;
    o.act(&b, "conclude", "liu", json!({}), "2024-09-22T10:00:00")
        .await;

    let project = |title: &str| json!({"title": title, "body": "b", "source": "deputy"});
    let votes = |votes_for: i64, result: &str| {
        json!({"members": 200, "votes_for": votes_for, "votes_against": 20,
               "abstentions": 10, "result": result})
    };
    let p = o
        .file(
            "liu",
            "livelihood",
            project("供热管网改造"),
            "2024-01-05T10:00:00",
        )
        .await;
    let q = o
        .file(
            "liu",
            "livelihood",
            project("社区食堂"),
            "2024-01-05T11:00:00",
        )
        .await;
    for id in [&p, &q] {
        o.act(id, "shortlist", "xu", json!({}), "2024-01-10T10:00:00")
            .await;
    }
    o.act(
        &p,
        "congress_vote",
        "xu",
        votes(150, "adopted"),
        "2024-01-16T15:00:00",
    )
    .await;
    o.act(
        &q,
        "congress_vote",
        "xu",
        votes(90, "rejected"),
        "2024-01-16T15:10:00",
    )
    .await;
    o.act(
        &p,
        "start",
        "xu",
        json!({"lead_department": "jtj", "milestones": "m", "complete_by": "2024-11-30"}),
        "2024-02-20T10:00:00",
    )
    .await;
    let review =
        json!({"members": 45, "satisfied": 30, "basically_satisfied": 10, "dissatisfied": 5});
    o.act(
        &p,
        "midyear_review",
        "xu",
        review.clone(),
        "2024-07-10T10:00:00",
    )
    .await;
    o.act(&p, "year_end_review", "xu", review, "2024-12-10T10:00:00")
        .await;
    o.act(
        &p,
        "carry_over",
        "xu",
        json!({"reason": "冬季停工"}),
        "2024-12-20T10:00:00",
    )
    .await;

    let d = o
        .file(
            "xu",
            "deliberation",
            json!({"title": "关于食品安全的审议意见", "body": "b",
            "report": "关于食品安全工作情况的报告"}),
            "2024-04-02T10:00:00",
        )
        .await;
    o.act(
        &d,
        "assign",
        "xu",
        json!({"lead_department": "jtj"}),
        "2024-04-10T10:00:00",
    )
    .await;
    o.act(
        &d,
        "report_handling",
        "zhang",
        json!({"result": "已整改"}),
        "2024-05-30T10:00:00",
    )
    .await;
    o.act(
        &d,
        "schedule",
        "xu",
        json!({"meeting_on": "2024-10-25"}),
        "2024-06-05T10:00:00",
    )
    .await;
    o.act(
        &d,
        "satisfaction_vote",
        "xu",
        json!({"members": 27, "satisfied": 5, "basically_satisfied": 6,
        "dissatisfied": 15, "verdict": "dissatisfied", "follow_up_by": "2024-12-31"}),
        "2024-10-25T15:00:00",
    )
    .await;
}

#[tokio::test]
async fn the_declared_sections_count_the_records_as_of_any_instant() {
    let o = office().await;
    year(&o).await;
    for as_of in ["2024-06-30T23:00:00", "2024-12-31T23:00:00"] {
        assert_eq!(
            kept(&o, as_of).await,
            replayed(&o, as_of).await,
            "as of {as_of}"
        );
    }
    let june = kept(&o, "2024-06-30T23:00:00").await;
    let december = kept(&o, "2024-12-31T23:00:00").await;
    // People received: the March visit only, then both.
    assert_eq!(figure(&june, "liaison", "received"), 12);
    assert_eq!(figure(&december, "liaison", "received"), 19);
    assert_eq!(figure(&june, "liaison", "opinions"), 0);
    assert_eq!(figure(&december, "liaison", "opinions"), 1);
    assert_eq!(figure(&december, "liaison", "deeds"), 1);
    assert_eq!(figure(&december, "liaison", "evaluated"), 1);
    // The projects: one through and one down at the session; carried over only in December.
    assert_eq!(figure(&june, "livelihood", "adopted"), 1);
    assert_eq!(figure(&june, "livelihood", "rejected"), 1);
    assert_eq!(figure(&june, "livelihood", "midyear"), 0);
    assert_eq!(figure(&december, "livelihood", "midyear"), 1);
    assert_eq!(figure(&june, "livelihood", "carried"), 0);
    assert_eq!(figure(&december, "livelihood", "carried"), 1);
    // The opinion: reported in May, voted unsatisfactory in October.
    assert_eq!(figure(&june, "deliberation", "handled"), 1);
    assert_eq!(figure(&june, "deliberation", "tracked"), 0);
    assert_eq!(figure(&december, "deliberation", "tracked"), 1);
    let said = &december
        .sections
        .iter()
        .find(|s| s.kind == "liaison")
        .expect("liaison")
        .sentence;
    assert!(
        said.contains("走访接待选民19人次，收集社情民意1条"),
        "{said}"
    );
    let md = duban_service::report::markdown(&december, &Default::default());
    assert!(md.contains("**代表联系群众**：人大代表进村"), "{md}");
    assert!(md.contains("代表大会票决通过1个、未通过1个"), "{md}");
}
