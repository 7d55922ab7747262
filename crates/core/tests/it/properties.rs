//! Property tests: random action sequences on every shipped workflow keep the machine's promises.
//!
//! Whatever is tried, by whichever role, with valid or broken payloads: no case reaches an
//! undefined state, nothing acts from a terminal state, every refusal names the actions that are
//! open, and the history always folds back into the projection.

use duban_core::machine::{Actor, Case, Refusal, act, allowed_actions, file};
use duban_core::workflow::{Field, FieldType, Workflow};
use duban_core::{Calendar, Role, Workflows};
use jiff::{Timestamp, ToSpan};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

#[derive(Debug, Clone)]
struct Step {
    action: usize,
    role: usize,
    seed: u64,
    valid: bool,
    hours: u32,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0usize..64,
        0usize..Role::ALL.len(),
        any::<u64>(),
        prop::bool::weighted(0.8),
        0u32..24 * 40,
    )
        .prop_map(|(action, role, seed, valid, hours)| Step {
            action,
            role,
            seed,
            valid,
            hours,
        })
}

/// A payload for `fields`: valid ones fill every required field with a value of its type;
/// broken ones drop a required field, add an unknown one or put a wrong type.
fn payload(fields: &[Field], seed: u64, valid: bool, case: Option<&Case>) -> Value {
    let mut m = Map::new();
    for (i, f) in fields.iter().enumerate() {
        // Filing in someone else's name is for staff only; the tests file in their own.
        if f.sets.as_deref() == Some("filer") {
            continue;
        }
        let pick = seed.rotate_left(i as u32 * 7);
        if !f.required && pick.is_multiple_of(3) {
            continue;
        }
        let v = match &f.ty {
            FieldType::Text => json!(format!("文本{}", pick % 100)),
            FieldType::Integer => json!(pick % 1000),
            FieldType::Boolean => json!(pick.is_multiple_of(2)),
            FieldType::Date => {
                let base = case
                    .and_then(|c| c.deadline.as_ref())
                    .map(|d| d.deadline.due_date)
                    .unwrap_or(jiff::civil::date(2024, 6, 1));
                json!(
                    base.saturating_add(((pick % 60) as i64 - 5).days())
                        .to_string()
                )
            }
            FieldType::Enum(values) => json!(values[(pick % values.len() as u64) as usize]),
            FieldType::Org | FieldType::User => json!(format!("code-{}", pick % 4)),
            FieldType::Orgs | FieldType::Users => {
                json!(["code-a", "code-b"][..(1 + pick % 2) as usize])
            }
            FieldType::Person => {
                json!({"name": "张三", "id_number": "110101199003074477", "phone": "13812345678"})
            }
            FieldType::File => json!(format!("att_{:032x}", pick)),
        };
        m.insert(f.name.clone(), v);
    }
    if !valid {
        match seed % 3 {
            0 => {
                m.insert("no_such_field".into(), json!(1));
            }
            1 => {
                if let Some(f) = fields.iter().find(|f| f.required) {
                    m.remove(&f.name);
                } else {
                    m.insert("no_such_field".into(), json!(1));
                }
            }
            _ => {
                if let Some(f) = fields.first() {
                    m.insert(f.name.clone(), json!({"nested": [1, 2, 3]}));
                } else {
                    return json!("not an object");
                }
            }
        }
    }
    Value::Object(m)
}

fn run(wf: &Workflow, cal: &Calendar, steps: &[Step]) -> Result<(), TestCaseError> {
    let filer_role = wf.filing.roles[0];
    let filer = Actor {
        user: "filer".into(),
        role: filer_role,
        org: Some("org-0".into()),
    };
    let mut now: Timestamp = "2024-01-02T01:00:00Z".parse().expect("timestamp");
    let mut filing = payload(&wf.filing.payload, 7, true, None);
    // A field the filer may fill only with their own organisation gets theirs.
    for f in &wf.filing.payload {
        if f.own_org_for.contains(&filer_role) {
            filing[f.name.as_str()] = Value::from("org-0");
        }
    }
    let first = file(wf, cal, &filer, &filing, now)
        .map_err(|e| TestCaseError::fail(format!("filing failed: {e}")))?;
    let mut case = first.case;
    let mut events = vec![first.event];
    // Half the steps try an action that is open now, so that runs go deep into the workflow.
    for s in steps {
        now = now.checked_add((s.hours as i64).hours()).expect("in range");
        let role = Role::ALL[s.role];
        // Act as someone who fills a party of the case half the time, a stranger otherwise.
        let members: Vec<&String> = case.parties.values().flatten().collect();
        let who = if s.seed % 2 == 0 && !members.is_empty() {
            members[(s.seed / 2) as usize % members.len()].clone()
        } else {
            format!("u{}", s.role)
        };
        let actor = Actor {
            user: who.clone(),
            role,
            org: Some(who),
        };
        let open = allowed_actions(wf, &case, &actor, now, cal);
        let name = if s.action % 2 == 0 && !open.is_empty() {
            open[s.action / 2 % open.len()].clone()
        } else if s.action == 63 {
            "no_such_action".to_string()
        } else {
            wf.actions[s.action % wf.actions.len()].name.clone()
        };
        let fields = wf
            .action(&name)
            .map(|a| a.payload.as_slice())
            .unwrap_or_default();
        let body = payload(fields, s.seed, s.valid, Some(&case));
        let was_terminal = wf.state(&case.state).is_some_and(|st| st.terminal);
        match act(wf, cal, &case, &name, &body, &actor, now) {
            Ok(t) => {
                prop_assert!(!was_terminal, "acted from terminal state {}", case.state);
                prop_assert!(s.valid, "a broken payload was accepted: {name} {body}");
                prop_assert!(
                    open.contains(&name),
                    "{name} succeeded but was not listed as open: {open:?}"
                );
                prop_assert!(
                    wf.state(&t.case.state).is_some(),
                    "undefined state {}",
                    t.case.state
                );
                prop_assert_eq!(t.event.seq, case.version + 1);
                events.push(t.event);
                case = t.case;
                prop_assert_eq!(
                    Case::fold(&wf.kind, wf.version, &wf.digest, &events),
                    Some(case.clone())
                );
            }
            Err(e) => {
                prop_assert_eq!(&e.allowed, &open);
                let text = e.to_string();
                for a in &open {
                    prop_assert!(
                        text.contains(a.as_str()),
                        "`{}` does not name open action `{}`",
                        text,
                        a
                    );
                }
                if was_terminal {
                    let is_terminal_refusal = matches!(e.reason, Refusal::Terminal { .. });
                    prop_assert!(is_terminal_refusal, "{}", text);
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_action_sequences_keep_every_invariant(kind in 0usize..3, steps in prop::collection::vec(step(), 1..40)) {
        let wfs = Workflows::builtin();
        let cal = Calendar::builtin();
        let wf = wfs.iter().nth(kind).expect("three kinds");
        run(wf, &cal, &steps)?;
    }

    #[test]
    fn deadlines_never_fall_on_a_rest_day_and_never_before_the_start(
        start in 0i64..(365 * 3),
        amount in 0u32..400,
        unit in 0usize..3,
    ) {
        let cal = Calendar::builtin();
        let unit = [duban_core::Unit::Days, duban_core::Unit::WorkingDays, duban_core::Unit::Months][unit];
        let start = jiff::civil::date(2024, 1, 1).saturating_add(start.days());
        let d = duban_core::deadline::due_from_date(&cal, start, duban_core::Period::new(amount, unit));
        prop_assert!(d.due_date >= start);
        if amount > 0 {
            prop_assert!(d.due_date > start);
            prop_assert!(cal.is_working_day(d.due_date), "{} ends on a rest day: {}", d.due_date, d.explanation);
        }
        prop_assert!(!d.explanation.is_empty());
    }
}
