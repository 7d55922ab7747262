//! Conformance: an action's unit of work: what it reads, what the decision sees, and what it records the action in.

use super::*;

conformance!(
    a_token_and_the_case_it_acts_on_are_read_together,
    an_action_is_recorded_once_or_leaves_no_trace,
);

/// What a test decision saw inside its unit of work, and what it looked up there.
#[derive(Debug)]
pub(super) struct Seen {
    actor: User,
    case: Option<(String, serde_json::Map<String, serde_json::Value>)>,
    kinds: Vec<Option<String>>,
}

/// A decision for these tests: looks `codes` up, then registers the case at its version plus
/// `skew`, or refuses, saying what it saw either way.
pub(super) struct Register<'w> {
    pub(super) w: &'w World,
    pub(super) refuse: bool,
    pub(super) skew: u64,
    pub(super) codes: &'w [(bool, &'w str)],
}

impl duban_storage::Decide for Register<'_> {
    type Kept = Seen;
    type Refusal = Seen;

    fn action(&self) -> &str {
        "register"
    }

    async fn decide<L: duban_storage::Lookup>(
        self,
        actor: &User,
        found: Option<duban_storage::CaseAndFiling>,
        lookup: &mut L,
    ) -> Result<(duban_storage::Record, Seen), Seen> {
        let mut kinds = Vec::new();
        for (org, code) in self.codes {
            kinds.push(lookup.code_kind(*org, code).await.expect("look up"));
        }
        let seen = Seen {
            actor: actor.clone(),
            case: found.as_ref().map(|(r, f)| (r.id.clone(), f.clone())),
            kinds,
        };
        let Some((record, _)) = found.filter(|_| !self.refuse) else {
            return Err(seen);
        };
        Ok((registered(self.w, record, self.skew), seen))
    }
}

/// One unit of work with a test decision; it must not be kept waiting (by a unit before it
/// that still holds the write turn).
async fn unit<S: Store>(
    s: &S,
    acting: duban_storage::Acting<'_>,
    case: &str,
    decision: Register<'_>,
) -> Result<duban_storage::Acted<Seen, Seen>, Error> {
    let within = std::time::Duration::from_secs(10);
    tokio::time::timeout(within, s.act(acting, case, decision))
        .await
        .expect("not kept waiting")
}

impl<'w> Register<'w> {
    pub(super) fn new(w: &'w World) -> Self {
        Register {
            w,
            refuse: false,
            skew: 0,
            codes: &[],
        }
    }
}

async fn a_token_and_the_case_it_acts_on_are_read_together<S: Store>(s: &S) {
    use duban_storage::{Acted, Acting};
    let w = World::new();
    let user = added_clerk(s).await;
    let at = ts("2024-03-01T09:00:00");
    s.add_token("tok-1", "xu_staff", "hash-1", at, None)
        .await
        .expect("token");
    let id = plain_suggestion(&w, s).await;
    let alone = s.case_and_filing(&id).await.expect("read").expect("case");
    let refuse = Register {
        refuse: true,
        ..Register::new(&w)
    };
    let seen = |acted: Acted<Seen, Seen>| match acted {
        Acted::Refused { actor, refusal } => {
            assert_eq!(actor, refusal.actor);
            Some((actor, refusal.case))
        }
        Acted::UnknownToken => None,
        Acted::Recorded { .. } => panic!("a refusing decision recorded"),
    };
    let act = |token: &'static str, case: String, decision| async move {
        unit(s, Acting::Token(token, at), &case, decision)
            .await
            .expect("read")
    };
    // The token's user and the case, as each is read alone.
    let (who, case) = seen(act("hash-1", id.clone(), refuse).await).expect("a live token");
    assert_eq!(who, user);
    assert_eq!(case, Some((alone.0.id.clone(), alone.1.clone())));
    assert_eq!(alone.1["title"], "t");
    // No such case: the user still, and no case.
    let refuse = |w| Register {
        refuse: true,
        ..Register::new(w)
    };
    assert_eq!(
        seen(act("hash-1", "no-such-case".into(), refuse(&w)).await),
        Some((user.clone(), None))
    );
    // No such token, or a revoked one: nothing, case or not.
    assert_eq!(seen(act("nope", id.clone(), refuse(&w)).await), None);
    assert!(s.revoke_token("tok-1", at).await.expect("revoke"));
    assert_eq!(seen(act("hash-1", id.clone(), refuse(&w)).await), None);
    // None of these units kept anyone from writing.
    s.add_token("tok-2", "xu_staff", "hash-2", at, None)
        .await
        .expect("a write after them");
    // A live token's decision is recorded.
    let recorded = act("hash-2", id.clone(), Register::new(&w)).await;
    assert!(matches!(recorded, Acted::Recorded { .. }), "{recorded:?}");
    assert_eq!(s.events(&id).await.expect("events").len(), 2);
}

/// An action's unit of work records what its decision gave, under the version it read; a
/// refusal or a stale version writes nothing, and neither keeps anyone from writing.
async fn an_action_is_recorded_once_or_leaves_no_trace<S: Store>(s: &S) {
    use duban_storage::{Acted, Acting};
    let w = World::new();
    let clerk = added_clerk(s).await;
    let id = plain_suggestion(&w, s).await;
    let clerk = &clerk;
    let act =
        |case: String, decision| async move { unit(s, Acting::User(clerk), &case, decision).await };

    // Refused: nothing written, and the next writer gets in.
    let refused = act(
        id.clone(),
        Register {
            refuse: true,
            ..Register::new(&w)
        },
    )
    .await
    .expect("read");
    match refused {
        Acted::Refused { actor, refusal } => {
            assert_eq!(&actor, clerk);
            assert_eq!(refusal.case.expect("the case").1["title"], "t");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.events(&id).await.expect("events").len(), 1);
    let other = plain_suggestion(&w, s).await;

    // Decided at a version that is not the case's: a conflict that writes nothing.
    let stale = act(
        id.clone(),
        Register {
            skew: 1,
            ..Register::new(&w)
        },
    )
    .await;
    assert!(matches!(stale, Err(Error::Conflict { .. })), "{stale:?}");
    assert_eq!(s.events(&id).await.expect("events").len(), 1);

    // Decided and recorded: the action is written once. Codes are looked up inside the unit.
    s.add_org(&Org {
        code: "jtj".into(),
        kind: OrgKind::Department,
        name: "县交通运输局".into(),
    })
    .await
    .expect("org");
    let codes = [
        (true, "jtj"),
        (true, "xu_staff"),
        (false, "xu_staff"),
        (false, "nobody"),
    ];
    let recorded = act(
        id.clone(),
        Register {
            codes: &codes,
            ..Register::new(&w)
        },
    )
    .await
    .expect("recorded");
    let Acted::Recorded { record, kept, .. } = recorded else {
        panic!("{recorded:?}");
    };
    assert_eq!(
        kept.kinds,
        [Some("department".into()), None, Some("staff".into()), None]
    );
    let after = s.case(&id).await.expect("read").expect("the case");
    assert_eq!(after.case, record.transition.case);
    assert_eq!(s.events(&id).await.expect("events").len(), 2);
    // The same codes read outside a unit.
    assert_eq!(
        s.code_kind(true, "jtj").await.expect("org").as_deref(),
        Some("department")
    );
    assert_eq!(s.code_kind(false, "nobody").await.expect("user"), None);

    // No such case: the decision sees none, and an action elsewhere goes through.
    let none = act("no-such-case".into(), Register::new(&w))
        .await
        .expect("read");
    assert!(
        matches!(&none, Acted::Refused { refusal, .. } if refusal.case.is_none()),
        "{none:?}"
    );
    let recorded = act(other.clone(), Register::new(&w))
        .await
        .expect("recorded");
    assert!(matches!(recorded, Acted::Recorded { .. }), "{recorded:?}");
}
