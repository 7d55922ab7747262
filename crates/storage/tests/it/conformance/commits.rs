//! Conformance: writes that arrive together and share a commit (SQLite's group commit; on
//! PostgreSQL the server's own) are each answered for themselves: a conflicting or refused
//! action beside others leaves them written and leaves no trace of its own, and a write is
//! answered only once what it wrote can be read.

use super::unit::Register;
use super::*;
use duban_storage::{Acted, Acting, Cases, SqlStore};

conformance!(
    writes_arriving_together_are_each_answered_for_themselves,
    a_caller_giving_up_leaves_its_action_whole_or_absent,
);

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

/// Polls `f` at most `polls` times, yielding between them, and gives it up if it is not done:
/// as a request dropped by its client is.
async fn given_up_after<F: std::future::Future>(f: F, polls: usize) -> Option<F::Output> {
    use std::task::Poll;
    let mut f = std::pin::pin!(f);
    for _ in 0..polls {
        let polled = std::future::poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx))).await;
        if let Poll::Ready(out) = polled {
            return Some(out);
        }
        tokio::task::yield_now().await;
    }
    None
}

/// Actions whose callers give up at every point of their way (while reading, queued for the
/// writer, inside a group) each leave their case either acted on whole or untouched, and the
/// writer free: every case then takes an action at the version it shows.
async fn a_caller_giving_up_leaves_its_action_whole_or_absent(s: &SqlStore) {
    let w = World::new();
    let clerk = added_clerk(s).await;
    // Where callers give up falls differently from round to round: several rounds make it
    // likely that one falls inside a script.
    for _ in 0..4 {
        callers_give_up(s, &w, &clerk).await;
    }
}

/// One round of [`a_caller_giving_up_leaves_its_action_whole_or_absent`].
async fn callers_give_up(s: &SqlStore, w: &World, clerk: &User) {
    let mut ids = Vec::new();
    for _ in 0..24 {
        ids.push(plain_suggestion(w, s).await);
    }
    let outcomes = futures_util::future::join_all(
        ids.iter()
            .enumerate()
            .map(|(i, id)| given_up_after(s.act(Acting::User(clerk), id, Register::new(w)), i)),
    )
    .await;
    let finished = outcomes.iter().filter(|o| o.is_some()).count();
    assert!(finished < ids.len(), "every caller finished: none gave up");
    // One more action, on a case of its own: a write sent after every one of theirs, so that
    // once it is answered whatever they had sent is written or never will be.
    let last = plain_suggestion(w, s).await;
    let within = std::time::Duration::from_secs(30);
    let settled = tokio::time::timeout(within, s.act(Acting::User(clerk), &last, Register::new(w)))
        .await
        .expect("the writer is not left waiting");
    assert!(matches!(settled, Ok(Acted::Recorded { .. })), "{settled:?}");
    let mut untouched = 0;
    for (i, id) in ids.iter().enumerate() {
        let version = s.case(id).await.expect("read").expect("case").case.version;
        let events = s.events(id).await.expect("events").len() as u64;
        assert_eq!(events, version, "case {i}: events against its version");
        assert!(
            version == 1 || version == 2,
            "case {i} at version {version}"
        );
        if version == 1 {
            // Untouched: it takes the action now, at the version it shows.
            untouched += 1;
            let acted = s.act(Acting::User(clerk), id, Register::new(w)).await;
            assert!(
                matches!(acted, Ok(Acted::Recorded { .. })),
                "case {i}: {acted:?}"
            );
            assert_eq!(s.events(id).await.expect("events").len(), 2, "case {i}");
        }
    }
    assert!(untouched > 0, "no caller gave up before its write was sent");
}
