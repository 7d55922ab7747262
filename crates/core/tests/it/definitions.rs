//! Broken definitions fail with the expected file:line diagnostics; a new kind needs only a file.

use std::fs;
use std::path::Path;

use duban_core::machine::{Actor, act, file};
use duban_core::workflow::BUILTIN_WORKFLOWS;
use duban_core::{Calendar, Role, Source, Workflows};
use serde_json::json;

fn fixtures(dir: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut out: Vec<(String, String)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let name = format!(
                "fixtures/{}",
                p.file_name().unwrap_or_default().to_string_lossy()
            );
            (name, fs::read_to_string(&p).unwrap_or_default())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn each_broken_definition_fails_with_its_expected_diagnostics() {
    let broken = fixtures("broken");
    assert!(broken.len() >= 10, "fixtures missing: {}", broken.len());
    for (name, text) in &broken {
        let expected: Vec<(usize, String)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .map(|l| {
                let (line, msg) = l.split_once(": ").expect("`# expect: LINE: message`");
                (line.parse().expect("a line number"), msg.to_string())
            })
            .collect();
        assert!(!expected.is_empty(), "{name} has no `# expect:` lines");
        let err = Workflows::load(&[Source { name, text }]).expect_err(name);
        for (line, msg) in &expected {
            assert!(
                err.0.iter().any(|d| d.file == *name
                    && d.line == *line
                    && d.message.contains(msg.as_str())),
                "{name}: expected `{line}: {msg}`, got:\n{err}"
            );
        }
        // The rendered form is what `duban workflows check` prints: file:line: reason.
        let rendered = err.to_string();
        assert!(
            rendered.contains(&format!("{name}:{}:", expected[0].0)),
            "{rendered}"
        );
    }
}

#[test]
fn a_fourth_kind_needs_only_a_new_file() {
    // The shipped livelihood file is left out: the fixture is the smallest such kind, a file
    // of its own beside the others.
    let mut sources: Vec<Source<'_>> = BUILTIN_WORKFLOWS
        .iter()
        .filter(|s| !s.name.ends_with("livelihood.toml"))
        .copied()
        .collect();
    let valid = fixtures("valid");
    let (name, text) = valid
        .iter()
        .find(|(n, _)| n.ends_with("livelihood.toml"))
        .expect("livelihood fixture");
    sources.push(Source { name, text });
    let all = Workflows::load(&sources).unwrap_or_else(|e| panic!("{e}"));
    let wf = all.get("livelihood").expect("loaded");
    let cal = Calendar::builtin();
    // Its forms say what each field is in Chinese, from the file: not `budget_yuan`.
    let field = |name: &str| wf.field(name).expect(name);
    assert_eq!(field("budget_yuan").label(), "预算（元）");
    assert_eq!(field("votes_for").label(), "赞成票");
    assert_eq!(field("result").value_label("adopted"), "通过");
    // Without a title, the built-in name of the code.
    assert_eq!(field("title").label(), "标题");
    assert_eq!(field("rating").value_label("satisfied"), "满意");

    let staff = Actor {
        user: "wang".into(),
        role: Role::Staff,
        org: None,
    };
    let dept = Actor {
        user: "li".into(),
        role: Role::Department,
        org: Some("jtj".into()),
    };
    let deputy = Actor {
        user: "zhao".into(),
        role: Role::Deputy,
        org: None,
    };
    let t = |s: &str| s.parse().expect("timestamp");

    let filed = file(
        wf,
        &cal,
        &staff,
        &json!({"title": "城区老旧小区加装电梯"}),
        t("2024-01-10T02:00:00Z"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let voted = act(
        wf,
        &cal,
        &filed.case,
        "vote",
        &json!({"result": "adopted", "votes_for": 180}),
        &staff,
        t("2024-01-20T02:00:00Z"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(voted.case.state, "voted");
    // 20 working days from Sat 2024-01-20: ten ordinary days to 02-02, Sun 02-04 (make-up) is
    // the 11th, 02-05..09 the 12th–16th, Spring Festival 02-10..17 does not count, Sun 02-18
    // (make-up) is the 17th, so the 20th is Wed 2024-02-21.
    assert_eq!(
        voted
            .case
            .deadline
            .as_ref()
            .map(|d| d.deadline.due_date.to_string()),
        Some("2024-02-21".into())
    );
    let started = act(
        wf,
        &cal,
        &voted.case,
        "start",
        &json!({"lead_department": "jtj", "supervisor": "chen"}),
        &staff,
        t("2024-02-01T02:00:00Z"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        started.case.parties.get("lead_department"),
        Some(&vec!["jtj".to_string()])
    );
    let progressed = act(
        wf,
        &cal,
        &started.case,
        "report_progress",
        &json!({"progress": "已完成30部"}),
        &dept,
        t("2024-06-01T02:00:00Z"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(progressed.case.state, "implementing");
    let done = act(
        wf,
        &cal,
        &progressed.case,
        "evaluate",
        &json!({"rating": "satisfied"}),
        &deputy,
        t("2024-12-20T02:00:00Z"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(done.case.state, "evaluated");

    let rejected = act(
        wf,
        &cal,
        &filed.case,
        "vote",
        &json!({"result": "rejected", "votes_for": 20}),
        &staff,
        t("2024-01-20T02:00:00Z"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rejected.case.state, "dropped");
}

#[test]
fn the_same_kind_twice_is_reported() {
    let twice = [
        BUILTIN_WORKFLOWS[0],
        Source {
            name: "elsewhere/suggestion.toml",
            text: BUILTIN_WORKFLOWS[0].text,
        },
    ];
    let err = Workflows::load(&twice).expect_err("duplicate kind");
    assert!(
        err.to_string()
            .contains("kind `suggestion` is already defined in workflows/suggestion.toml"),
        "{err}"
    );
}
