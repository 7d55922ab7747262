//! The shipped workflow files: they load, model the real procedures and carry the statutory limits.

use duban_core::workflow::{Anchor, Workflows};
use duban_core::{Period, Unit};

#[test]
fn every_shipped_workflow_validates() {
    let w = Workflows::builtin();
    let kinds: Vec<&str> = w.kinds().collect();
    assert_eq!(
        kinds,
        [
            "deliberation",
            "liaison",
            "livelihood",
            "mediation",
            "petition",
            "suggestion"
        ]
    );
}

/// Every field and enum value the shipped forms show has a Chinese name: its `title` in the
/// file, or a built-in one. A code shown as it is (`budget_yuan`) means one is missing.
#[test]
fn every_shipped_field_and_value_is_named_in_chinese() {
    let chinese = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    for wf in Workflows::builtin().iter() {
        let actions = wf.actions.iter().map(|a| (a.name.as_str(), &a.payload));
        for (step, payload) in std::iter::once(("filing", &wf.filing.payload)).chain(actions) {
            for f in payload.iter() {
                let at = format!("{}.{step}.{}", wf.kind, f.name);
                assert!(chinese(f.label()), "{at} is labelled `{}`", f.label());
                if let duban_core::workflow::FieldType::Enum(values) = &f.ty {
                    for v in values {
                        assert!(chinese(f.value_label(v)), "{at} = {v}");
                    }
                }
            }
        }
    }
}

#[test]
fn every_kind_has_the_spine_states() {
    for wf in Workflows::builtin().iter() {
        for s in ["received", "assigned", "handled", "evaluated"] {
            assert!(wf.state(s).is_some(), "{} lacks `{s}`", wf.kind);
        }
        assert_eq!(wf.initial, "received", "{}", wf.kind);
        assert!(
            wf.state("evaluated").is_some_and(|s| s.terminal),
            "{}",
            wf.kind
        );
    }
}

#[test]
fn the_statutory_deadlines_are_encoded() {
    let w = Workflows::builtin();
    let table = [
        ("suggestion", "assigned", Period::new(3, Unit::Months)),
        ("suggestion", "rehandling", Period::new(1, Unit::Months)),
        ("petition", "assigned", Period::new(15, Unit::Days)),
        ("petition", "accepted", Period::new(60, Unit::Days)),
        ("petition", "review", Period::new(30, Unit::Days)),
        ("mediation", "assigned", Period::new(30, Unit::Days)),
    ];
    for (kind, state, period) in table {
        let s = w
            .get(kind)
            .and_then(|wf| wf.state(state))
            .unwrap_or_else(|| panic!("{kind}/{state}"));
        let dl = s
            .deadline
            .as_ref()
            .unwrap_or_else(|| panic!("{kind}/{state} has no deadline"));
        assert_eq!(dl.period, period, "{kind}/{state}");
    }
}

#[test]
fn extensions_have_their_statutory_caps() {
    let w = Workflows::builtin();
    let sugg = w
        .get("suggestion")
        .and_then(|wf| wf.state("assigned"))
        .and_then(|s| s.deadline.clone());
    let ext = sugg
        .and_then(|d| d.extension)
        .expect("suggestion extension");
    assert_eq!(
        ext.limit,
        Some((
            Period::new(6, Unit::Months),
            Anchor::Action("assign".into())
        ))
    );

    let pet = w
        .get("petition")
        .and_then(|wf| wf.state("accepted"))
        .and_then(|s| s.deadline.clone());
    let ext = pet.and_then(|d| d.extension).expect("petition extension");
    assert_eq!(ext.max_times, Some(1));
    assert_eq!(ext.limit, Some((Period::new(30, Unit::Days), Anchor::Due)));

    let co = w
        .get("suggestion")
        .and_then(|wf| wf.state("assigned"))
        .map(|s| s.duties.clone())
        .unwrap_or_default();
    assert_eq!(co.len(), 1);
    assert_eq!(co[0].period, Period::new(1, Unit::Months));
    assert_eq!(co[0].owed_by, "co_departments");

    let reassign = w
        .get("suggestion")
        .and_then(|wf| wf.action("request_reassignment"))
        .and_then(|a| a.within.clone());
    assert_eq!(
        reassign,
        Some((Period::new(15, Unit::Days), Anchor::Action("assign".into())))
    );
}
