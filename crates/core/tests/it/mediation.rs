//! Pre-litigation mediation on real dates: the referral the mediator accepts or declines, the
//! clock that starts at acceptance, judicial confirmation as a step of its own, and a failed
//! mediation's return to the court for filing.

use duban_core::Role;
use duban_core::machine::{Actor, Case, Refusal};
use serde_json::json;

use crate::world::*;

fn court() -> Actor {
    actor("clerk", Role::Court, Some("court-1"))
}

fn mediator(login: &str) -> Actor {
    actor(login, Role::Mediator, None)
}

/// A dispute the court refers on `at`.
fn referred(w: &World, at: &str) -> Case {
    let c = w.file("mediation", &court(), json!({"title": "买卖合同纠纷", "summary": "……", "court": "court-1", "dispute_type": "contract", "applicant": {"name": "甲"}, "respondent": {"name": "乙公司"}}), at).case;
    let t = w.act(
        &c,
        "assign_mediators",
        json!({"mediators": ["med"]}),
        &court(),
        at,
    );
    assert!(
        notices(&t)
            .iter()
            .any(|(_, h, to)| h == "新委派调解" && to == "mediators"),
        "{:?}",
        notices(&t)
    );
    t.case
}

/// A mediation accepted on `accepted` and concluded with `outcome` on `concluded`.
fn concluded(w: &World, accepted: &str, outcome: &str, concluded: &str) -> Case {
    let c = referred(w, accepted);
    let c = w
        .act(&c, "accept", json!({}), &mediator("med"), accepted)
        .case;
    w.act(
        &c,
        "conclude",
        json!({"outcome": outcome}),
        &mediator("med"),
        concluded,
    )
    .case
}

#[test]
fn a_referral_waits_three_working_days_for_the_mediators_answer() {
    let w = World::new();
    // Referred on Friday 2024-09-27: 3 working days are Sunday 09-29 (a make-up working day),
    // Monday 09-30 and, after the National Day holiday, Tuesday 10-08.
    let c = referred(&w, "2024-09-27T10:00:00");
    assert_eq!(c.state, "referred");
    assert_eq!(due(&c), "2024-10-08");
    // The mediator declines: the case goes back to the court to name another, whose own 3
    // working days run from the refusal.
    let declined = w.act(
        &c,
        "decline",
        json!({"reason": "与一方当事人系亲属"}),
        &mediator("med"),
        "2024-09-30T09:00:00",
    );
    assert_eq!(declined.case.state, "received");
    assert_eq!(due(&declined.case), "2024-10-10");
    assert!(
        notices(&declined)
            .iter()
            .any(|(_, h, to)| h == "调解员不接受委派" && to.contains("court")),
        "{:?}",
        notices(&declined)
    );
    let c = w
        .act(
            &declined.case,
            "assign_mediators",
            json!({"mediators": ["med2"]}),
            &court(),
            "2024-10-08T10:00:00",
        )
        .case;
    // The mediator who declined is no longer the case's, and cannot take it back.
    let e = w
        .try_act(
            &c,
            "accept",
            json!({}),
            &mediator("med"),
            "2024-10-08T11:00:00",
        )
        .expect_err("not theirs");
    assert!(matches!(e.reason, Refusal::NotAParty { .. }), "{e}");
    let accepted = w.act(
        &c,
        "accept",
        json!({}),
        &mediator("med2"),
        "2024-10-09T09:00:00",
    );
    assert_eq!(accepted.case.state, "assigned");
    // 30 days from the acceptance on 10-09 → 11-08 (Fri).
    assert_eq!(due(&accepted.case), "2024-11-08");
    assert!(!scheduled(&accepted).is_empty());
    // The referral's answer is not the mediation's clock: days to answer count from here.
    assert!(accepted.case.milestones.assigned);
}

#[test]
fn a_mediation_clock_starts_when_the_mediator_accepts() {
    let w = World::new();
    let c = referred(&w, "2024-05-07T09:00:00");
    let accepted = w.act(
        &c,
        "accept",
        json!({}),
        &mediator("med"),
        "2024-05-08T09:00:00",
    );
    // 30 days from 05-08 → 06-07 (Fri).
    assert_eq!(due(&accepted.case), "2024-06-07");
    assert!(!scheduled(&accepted).is_empty());
    // Accepting is once per case: taken again it would restart the clock, so it is refused
    // and no longer offered.
    let again = w
        .try_act(
            &accepted.case,
            "accept",
            json!({}),
            &mediator("med"),
            "2024-05-20T09:00:00",
        )
        .expect_err("accepted twice");
    assert!(
        matches!(again.reason, Refusal::AlreadyTaken { .. }),
        "{again}"
    );
    assert!(!again.allowed.contains(&"accept".to_string()));
    assert!(again.allowed.contains(&"record_session".to_string()));
    let c = w
        .act(
            &accepted.case,
            "extend",
            json!({"until": "2024-06-21", "consent": "双方当事人书面同意"}),
            &mediator("med"),
            "2024-06-01T09:00:00",
        )
        .case;
    assert_eq!(due(&c), "2024-06-21");
    let c = w
        .act(
            &c,
            "conclude",
            json!({"outcome": "agreement", "judicial_confirmation": true}),
            &mediator("med"),
            "2024-06-10T09:00:00",
        )
        .case;
    let c = w
        .act(
            &c,
            "evaluate",
            json!({"rating": "satisfied"}),
            &court(),
            "2024-06-12T09:00:00",
        )
        .case;
    assert_eq!(c.state, "evaluated");
}

#[test]
fn judicial_confirmation_is_a_step_with_its_dates_and_its_result() {
    let w = World::new();
    let c = concluded(
        &w,
        "2024-05-08T09:00:00",
        "agreement",
        "2024-06-10T09:00:00",
    );
    assert_eq!(c.state, "handled");
    // An agreement is not filed for trial.
    let e = w
        .try_act(
            &c,
            "return_for_filing",
            json!({"filed_on": "2024-06-12"}),
            &court(),
            "2024-06-12T09:00:00",
        )
        .expect_err("an agreement");
    assert!(
        matches!(&e.reason, Refusal::NotChosen { field, value, .. } if field == "outcome" && value == "failed"),
        "{e}"
    );
    assert!(e.allowed.contains(&"apply_confirmation".to_string()));
    let applied = w.act(
        &c,
        "apply_confirmation",
        json!({"applied_on": "2024-06-11"}),
        &mediator("med"),
        "2024-06-11T10:00:00",
    );
    assert_eq!(applied.case.state, "confirming");
    // The court rules within 15 days of the application: 06-26.
    assert_eq!(due(&applied.case), "2024-06-26");
    assert_eq!(section_count(&applied.case, "judicial_confirmation"), 1);
    assert_eq!(section_count(&applied.case, "confirmed"), 0);
    let ruled = w.act(
        &applied.case,
        "rule_on_confirmation",
        json!({"ruled_on": "2024-06-20", "decision": "confirmed"}),
        &court(),
        "2024-06-20T15:00:00",
    );
    assert_eq!(ruled.case.state, "handled");
    assert_eq!(section_count(&ruled.case, "confirmed"), 1);
    assert_eq!(ruled.event.payload["ruled_on"], "2024-06-20");
    assert!(
        notices(&ruled)
            .iter()
            .any(|(_, h, to)| h == "司法确认已裁定" && to == "mediators")
    );
    // Applied for once; the court then rates the mediation as before.
    assert!(
        w.try_act(
            &ruled.case,
            "apply_confirmation",
            json!({"applied_on": "2024-06-21"}),
            &mediator("med"),
            "2024-06-21T10:00:00",
        )
        .is_err()
    );
    let c = w
        .act(
            &ruled.case,
            "evaluate",
            json!({"rating": "satisfied"}),
            &court(),
            "2024-06-22T09:00:00",
        )
        .case;
    assert_eq!(c.state, "evaluated");

    // The parties have 30 days from the agreement: 06-10 + 30 days is 07-10, then the
    // application is out of time.
    let late = concluded(
        &w,
        "2024-05-08T09:00:00",
        "agreement",
        "2024-06-10T09:00:00",
    );
    let e = w
        .try_act(
            &late,
            "apply_confirmation",
            json!({"applied_on": "2024-07-11"}),
            &mediator("med"),
            "2024-07-11T09:00:00",
        )
        .expect_err("out of time");
    assert!(matches!(e.reason, Refusal::WindowClosed { .. }), "{e}");
}

#[test]
fn a_failed_mediation_is_returned_to_the_court_for_filing_with_its_date() {
    let w = World::new();
    let c = concluded(&w, "2024-05-08T09:00:00", "failed", "2024-06-03T09:00:00");
    // Nothing to confirm.
    let e = w
        .try_act(
            &c,
            "apply_confirmation",
            json!({"applied_on": "2024-06-04"}),
            &mediator("med"),
            "2024-06-04T09:00:00",
        )
        .expect_err("no agreement");
    assert!(matches!(e.reason, Refusal::NotChosen { .. }), "{e}");
    assert!(!e.allowed.contains(&"apply_confirmation".to_string()));
    let filed = w.act(
        &c,
        "return_for_filing",
        json!({"filed_on": "2024-06-05", "court_case_number": "（2024）民初1234号"}),
        &court(),
        "2024-06-05T09:00:00",
    );
    assert_eq!(
        filed.case.state, "handled",
        "the court still rates the work"
    );
    assert_eq!(section_count(&filed.case, "returned_for_filing"), 1);
    assert_eq!(filed.event.payload["filed_on"], "2024-06-05");
    let e = w
        .try_act(
            &filed.case,
            "return_for_filing",
            json!({"filed_on": "2024-06-06"}),
            &court(),
            "2024-06-06T09:00:00",
        )
        .expect_err("once");
    assert!(matches!(e.reason, Refusal::AlreadyTaken { .. }), "{e}");
    // A mediator does not file cases for trial.
    let again = concluded(&w, "2024-05-08T09:00:00", "failed", "2024-06-03T09:00:00");
    assert!(
        w.try_act(
            &again,
            "return_for_filing",
            json!({"filed_on": "2024-06-05"}),
            &mediator("med"),
            "2024-06-05T09:00:00",
        )
        .is_err()
    );
}

/// What mediation.toml's report section counts `case` for, by the count's name.
fn section_count(case: &duban_core::machine::Case, name: &str) -> i64 {
    let wfs = duban_core::Workflows::builtin();
    let section = wfs
        .get("mediation")
        .and_then(|wf| wf.report.clone())
        .expect("a report section");
    let count = section.counts.iter().find(|c| c.name == name).expect(name);
    count.counted.of(&case.figures(), &case.state)
}
