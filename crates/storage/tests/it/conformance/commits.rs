//! Conformance: writes that arrive together and share a commit (SQLite's group commit; on
//! PostgreSQL the server's own) are each answered for themselves: a conflicting or refused
//! action beside others leaves them written and leaves no trace of its own, and a write is
//! answered only once what it wrote can be read.

use super::unit::Register;
use super::*;
use duban_storage::{Acted, Acting, Cases, SqlStore};

conformance!(writes_arriving_together_are_each_answered_for_themselves);

/// Twelve actions at once, on twelve cases: ten that record, one decided at a stale version
/// (a conflict), one refused. Each recorded action's caller reads its case back on a reading
/// connection as soon as it is answered: what it was told is written must already be there.
async fn writes_arriving_together_are_each_answered_for_themselves(s: &SqlStore) {
    let w = World::new();
    let clerk = added_clerk(s).await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(plain_suggestion(&w, s).await);
    }
    let before = s.commit_sharing();
    let (w, clerk) = (&w, &clerk);
    let outcomes = futures_util::future::join_all(ids.iter().enumerate().map(|(i, id)| {
        let decision = Register {
            skew: u64::from(i == 10),
            refuse: i == 11,
            ..Register::new(w)
        };
        async move {
            let acted = s.act(Acting::User(clerk), id, decision).await;
            // Read back at once, on a reading connection: only what is committed shows there.
            let version = s.case(id).await.expect("read").expect("case").case.version;
            (acted, version)
        }
    }))
    .await;
    for (i, (acted, version)) in outcomes.into_iter().enumerate() {
        match (i, acted) {
            (0..10, Ok(Acted::Recorded { .. })) => {
                assert_eq!(version, 2, "action {i}: answered before it could be read")
            }
            (10, Err(Error::Conflict { .. })) | (11, Ok(Acted::Refused { .. })) => {
                assert_eq!(version, 1, "action {i} left a trace")
            }
            (i, other) => panic!("action {i}: {other:?}"),
        }
    }
    for (i, id) in ids.iter().enumerate() {
        let events = s.events(id).await.expect("events");
        assert_eq!(
            events.len(),
            if i < 10 { 2 } else { 1 },
            "case {i}'s events"
        );
    }
    // On SQLite the ten writes shared commits: they queued behind one another for the one
    // writer, and each found the next already waiting.
    if let (Some(before), Some(after)) = (before, s.commit_sharing()) {
        let (commits, writes) = (after.commits - before.commits, after.writes - before.writes);
        assert_eq!(writes, 10, "kept writes");
        assert!(commits < writes, "{commits} commits for {writes} writes");
    }
}
