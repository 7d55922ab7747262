//! The living demo year: `duban demo` acts a county's year out through the service layer, and
//! `duban report` then computes the work report's figures from those records — at the 2024
//! scale, and at another scale and seed, where they change accordingly.

use crate::common::{TempDir, duban};
use serde_json::Value;

fn demo_report(name: &str, args: &[&str]) -> Value {
    let dir = TempDir::new(&format!("demo-{name}"));
    let run = |a: &[&str]| {
        let out = duban(&dir.0, a);
        assert!(
            out.status.success(),
            "duban {a:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let mut demo = vec!["demo"];
    demo.extend_from_slice(args);
    let out = run(&demo);
    let told = String::from_utf8_lossy(&out.stderr);
    for role in [
        "leader",
        "staff",
        "deputy",
        "department",
        "mediator",
        "court",
        "auditor",
        "admin",
    ] {
        assert!(
            told.contains(&format!("  {role}")),
            "no {role} login in:\n{told}"
        );
    }
    // A second demo into the same database is refused: it fills empty ones only.
    let again = duban(&dir.0, &["demo"]);
    assert!(!again.status.success());
    let md = run(&["report", "--year", "2024", "--as-of", "2024-12-31"]);
    let md = String::from_utf8_lossy(&md.stdout).to_string();
    assert!(
        md.contains("**代表建议**") && md.contains("**信访代办**") && md.contains("**诉前调解**"),
        "{md}"
    );
    let xlsx = dir.0.join("report.xlsx");
    run(&[
        "report",
        "--year",
        "2024",
        "--format",
        "xlsx",
        "--out",
        xlsx.to_str().expect("path"),
    ]);
    assert!(
        std::fs::read(&xlsx)
            .map(|b| b.starts_with(b"PK"))
            .unwrap_or(false),
        "an xlsx is a zip"
    );
    let json = run(&[
        "report",
        "--year",
        "2024",
        "--as-of",
        "2024-12-31",
        "--format",
        "json",
    ]);
    let mut report: Value = serde_json::from_slice(&json.stdout).expect("json");
    report["markdown"] = Value::String(md);
    report
}

/// The figures of the sections the workflow files declare: 审议意见 formed, 民生实事 proposed,
/// voted through and completed, people received, opinions collected and things done.
fn declared(r: &Value) -> [i64; 7] {
    let figure = |kind: &str, name: &str| {
        r["sections"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["kind"] == kind)
            .flat_map(|s| s["counts"].as_array().cloned().unwrap_or_default())
            .find(|c| c["name"] == name)
            .and_then(|c| c["value"].as_i64())
            .unwrap_or(-1)
    };
    [
        figure("deliberation", "opinions"),
        figure("livelihood", "received"),
        figure("livelihood", "adopted"),
        figure("livelihood", "evaluated"),
        figure("liaison", "received"),
        figure("liaison", "opinions"),
        figure("liaison", "deeds"),
    ]
}

fn figures(r: &Value) -> [u64; 6] {
    let kind = |k: &str| {
        r["kinds"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["kind"] == k))
            .cloned()
            .unwrap_or_default()
    };
    let n = |v: &Value| v.as_u64().unwrap_or(u64::MAX);
    [
        n(&kind("suggestion")["filed"]),
        n(&r["key_suggestions"]["total"]),
        n(&r["petitions"]["taken_on"]),
        n(&r["petitions"]["resolved_directly"]),
        n(&r["petitions"]["transferred"]),
        n(&r["mediation"]["referred"]),
    ]
}

#[test]
fn the_demo_year_gives_the_2024_report_figures_computed_from_its_records() {
    let r = demo_report("full", &[]);
    assert_eq!(figures(&r), [81, 8, 87, 48, 39, 176]);
    // The seed's 20-odd opinions, 11 projects carried out, and 4,200 people received, 385
    // opinions collected and 564 things done, each counted as its workflow file declares.
    assert_eq!(declared(&r), [22, 18, 11, 11, 4200, 385, 564]);
    let s = r["kinds"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["kind"] == "suggestion"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(s["answered"], 81, "all answered");
    assert_eq!(
        r["key_suggestions"]["implemented"], 8,
        "all key suggestions implemented"
    );
    assert!(
        s["answered_late"].as_u64().is_some_and(|n| n > 0),
        "some replies were late"
    );
    assert!(
        s["reopened"].as_u64().is_some_and(|n| n > 0),
        "some were sent back by 不满意"
    );
    assert!(
        r["mediation"]["ongoing"].as_u64().is_some_and(|n| n > 0),
        "a few items still open"
    );
    // Each key suggestion's leader inspected and held a forum; every other one a meeting too.
    assert_eq!(
        r["key_suggestions"]["activities"],
        serde_json::json!({"inspection": 8, "forum": 8, "supervision_meeting": 4})
    );
    // 回头看: every answer is classed; some B promises were delivered within the year, others
    // (and the C answers) are still followed at its end.
    let classes: u64 = s["by_class"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or_default();
    assert_eq!(classes, 81, "{}", s["by_class"]);
    let b = s["by_class"]["B"].as_u64().unwrap_or_default();
    let delivered = s["b_delivered"].as_u64().unwrap_or_default();
    assert!(
        0 < delivered && delivered < b,
        "B {b}, delivered {delivered}"
    );
    assert!(s["following"].as_u64().is_some_and(|n| n > 0));
    let md = r["markdown"].as_str().unwrap_or_default();
    assert!(
        md.contains(&format!(
            "B类（正在解决或列入计划）{b}件、已落实{delivered}件"
        )),
        "{md}"
    );
    // 联名: co-signers rated the replies too, counted apart from the lead deputies' ratings.
    let co_rated: u64 = s["co_ratings"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or_default();
    assert!(co_rated > 0, "{}", s["co_ratings"]);
    assert!(md.contains("联名代表评价满意"), "{md}");
    // Each co-handler owes its own opinion: most came in time, some late, a few never (the
    // lead department replied first), each counted from the records.
    let co = |k: &str| -> u64 {
        r["departments"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| d[k].as_u64().unwrap_or_default())
            .sum()
    };
    let (handled, sent, on_time) = (
        co("co_handled"),
        co("co_opinions"),
        co("co_opinions_on_time"),
    );
    assert!(
        0 < on_time && on_time < sent && sent < handled,
        "co-handling: {handled} handled, {sent} sent, {on_time} on time"
    );
    assert_eq!(r["petitions"]["stations"], 42);
    // One petition in eleven is a person coming back: counted by the blind index.
    let repeat = r["petitions"]["repeat"].as_u64().unwrap_or_default();
    assert!((1..87).contains(&repeat), "repeat petitions: {repeat}");
    let md = r["markdown"].as_str().unwrap_or_default();
    assert!(md.contains(&format!("其中重复信访{repeat}件")), "{md}");
    assert!(
        md.contains("共收到代表提出的建议81件，已全部交办，全部办理答复"),
        "{md}"
    );
    assert!(md.contains("8件重点建议全部落实"), "{md}");
    assert!(
        md.contains("受理信访代办件87件，解决48件，转办交办39件"),
        "{md}"
    );
    assert!(md.contains("累计调解各类民商事案件176件"), "{md}");
    assert!(
        md.contains("走访接待选民4200人次，收集社情民意385条，为群众办好事办实事564件"),
        "{md}"
    );
    assert!(md.contains("代表大会票决通过11个"), "{md}");
    assert!(md.contains("形成审议意见22条"), "{md}");
}

#[test]
fn another_scale_and_seed_give_other_figures_because_nothing_is_written_down() {
    let r = demo_report("half", &["--scale", "0.5", "--seed", "7"]);
    // round(81/2), round(8/2), round(87/2), round(48/2), the rest transferred, round(176/2).
    assert_eq!(figures(&r), [41, 4, 44, 24, 20, 88]);
    // round(22/2); round(18/2) proposed, round(11/2) through and completed; round(4200/2)
    // people, round(385/2) opinions, round(564/2) things done.
    assert_eq!(declared(&r), [11, 9, 6, 6, 2100, 193, 282]);
    assert_eq!(r["petitions"]["stations"], 21);
}
