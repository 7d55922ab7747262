//! Time travel, as a property: for random histories on every shipped workflow, the case as of
//! any past instant, rebuilt from its stored events, equals what the projection said then; and
//! every stored case is the fold of its stored events.

use duban_core::Role;
use duban_core::machine::{Actor, Case, allowed_actions};
use duban_core::workflow::{Field, FieldType};
use duban_storage::Cases;
use duban_testkit::{Failure, TestDb, World};
use jiff::{Timestamp, ToSpan};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

/// A valid payload for `fields`, varied by `seed`.
fn payload(fields: &[Field], seed: u64, case: Option<&Case>) -> Value {
    let mut m = Map::new();
    for (i, f) in fields.iter().enumerate() {
        // Filing in someone else's name is for staff only; the tests file in their own.
        if f.sets.as_deref() == Some("filer") {
            continue;
        }
        let pick = seed.rotate_left(i as u32 * 11);
        let v = match &f.ty {
            FieldType::Text => json!(format!("内容{}", pick % 97)),
            FieldType::Integer => json!(pick % 10_000),
            FieldType::Boolean => json!(pick % 2 == 1),
            FieldType::Date => {
                // Extensions ask for a day after the current deadline.
                let base = case
                    .and_then(|c| c.deadline.as_ref())
                    .map(|d| d.deadline.due_date)
                    .unwrap_or(jiff::civil::date(2024, 6, 1));
                json!(
                    base.saturating_add(((pick % 20) as i64 + 1).days())
                        .to_string()
                )
            }
            FieldType::Enum(values) => json!(values[(pick % values.len() as u64) as usize]),
            FieldType::Org | FieldType::User => json!(format!("code-{}", pick % 3)),
            FieldType::Orgs | FieldType::Users => json!(["code-a", "code-b"]),
            FieldType::Person => json!({"name": "赵六", "id_number": "11010519491231002X"}),
            FieldType::File => json!(format!("att_{:032x}", pick)),
        };
        m.insert(f.name.clone(), v);
    }
    Value::Object(m)
}

async fn one_history(
    db: &TestDb,
    w: &World,
    kind: usize,
    steps: &[(u64, u32)],
) -> Result<(), TestCaseError> {
    let wf = w.workflows.iter().nth(kind).expect("three kinds");
    let filer = Actor {
        user: "filer".into(),
        role: wf.filing.roles[0],
        org: Some("code-0".into()),
    };
    let mut now: Timestamp = "2024-01-02T01:00:00Z".parse().expect("instant");
    let mut filing = payload(&wf.filing.payload, 1, None);
    // A field the filer may fill only with their own organisation gets theirs.
    for f in &wf.filing.payload {
        if f.own_org_for.contains(&filer.role) {
            filing[f.name.as_str()] = json!("code-0");
        }
    }
    let id = w.file(&db.store, &wf.kind, &filer, filing, now).await;
    let mut snapshots = vec![(
        now,
        db.store.case(&id).await.expect("read").expect("filed").case,
    )];
    for &(seed, hours) in steps {
        now = now
            .checked_add((i64::from(hours) + 1).hours())
            .expect("in range");
        let current = snapshots.last().map(|s| s.1.clone()).expect("filed");
        // Any action open to anyone now, as a committee member or as someone who fills a party
        // of the case, so that walks go deep into the workflow.
        let mut people: Vec<String> = current.parties.values().flatten().cloned().collect();
        people.push("someone".into());
        let open: Vec<(Actor, String)> = Role::ALL
            .into_iter()
            .flat_map(|role| {
                people.iter().map(move |p| Actor {
                    user: p.clone(),
                    role,
                    org: Some(p.clone()),
                })
            })
            .flat_map(|who| {
                allowed_actions(wf, &current, &who, now, &w.calendar)
                    .into_iter()
                    .map(move |a| (who.clone(), a))
            })
            .collect();
        let Some((who, name)) = open.get(seed as usize % open.len().max(1)).cloned() else {
            continue;
        };
        let name = name.as_str();
        let fields = &wf.action(name).expect("action").payload;
        match w
            .act(
                &db.store,
                &id,
                name,
                payload(fields, seed, Some(&current)),
                &who,
                now,
            )
            .await
        {
            Ok(t) => snapshots.push((now, t.case)),
            // An extension past its cap or count is a legitimate refusal.
            Err(Failure::Refused(_)) => {}
            Err(Failure::Store(e)) => return Err(TestCaseError::fail(format!("store: {e}"))),
        }
    }
    for (i, (at, projection)) in snapshots.iter().enumerate() {
        let then = db.store.case_as_of(&id, *at).await.expect("as of");
        prop_assert_eq!(
            then.as_ref(),
            Some(projection),
            "as of {} (after event {})",
            at,
            i + 1
        );
        let just_before = db
            .store
            .case_as_of(&id, *at - 1.millisecond())
            .await
            .expect("as of");
        prop_assert_eq!(
            just_before.as_ref(),
            if i == 0 {
                None
            } else {
                Some(&snapshots[i - 1].1)
            }
        );
    }
    let record = db.store.case(&id).await.expect("read").expect("exists");
    prop_assert_eq!(&record.case, &snapshots.last().expect("filed").1);
    Ok(())
}

fn histories(db: &TestDb, rt: &tokio::runtime::Runtime, cases: u32) {
    let w = World::new();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        0usize..3,
        prop::collection::vec((any::<u64>(), 0u32..24 * 20), 1..30),
    );
    runner
        .run(&strategy, |(kind, steps)| {
            rt.block_on(one_history(db, &w, kind, &steps))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    // And across the whole database: every case is the fold of its events.
    rt.block_on(async {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM cases")
            .fetch_all(db.store.pool())
            .await
            .expect("ids");
        assert!(ids.len() >= cases as usize);
        // The random walks must go somewhere: on average well past filing.
        let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_events")
            .fetch_one(db.store.pool())
            .await
            .expect("count");
        assert!(
            events >= 3 * ids.len() as i64,
            "{events} events for {} cases",
            ids.len()
        );
        for id in ids {
            let record = db.store.case(&id).await.expect("read").expect("exists");
            let events = db.store.events(&id).await.expect("events");
            let folded = Case::fold(
                &record.case.kind,
                record.case.workflow_version,
                &record.case.workflow_digest,
                events.iter().map(|e| &e.event),
            );
            assert_eq!(folded, Some(record.case), "case {id}");
        }
    });
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn sqlite_the_past_is_the_fold_of_the_events_up_to_it() {
    let rt = runtime();
    let db = rt.block_on(duban_testkit::sqlite());
    histories(&db, &rt, 40);
}

#[test]
fn postgres_the_past_is_the_fold_of_the_events_up_to_it() {
    let rt = runtime();
    let Some(db) = rt.block_on(duban_testkit::postgres()) else {
        return;
    };
    histories(&db, &rt, 40);
}
