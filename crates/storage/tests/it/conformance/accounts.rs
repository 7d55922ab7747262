//! Conformance: accounts and the audit log: passwords, locks and sessions, and the audit chain.

use super::*;

conformance!(
    passwords_locks_and_sessions_are_kept,
    a_password_change_ends_every_other_session,
    the_audit_chain_verifies_and_survives_pruning,
);

async fn passwords_locks_and_sessions_are_kept<S: Store + duban_storage::Accounts>(s: &S) {
    use duban_storage::{Session, SignInAttempt};
    let user = User {
        login: "zhang".into(),
        role: Role::Staff,
        org: None,
        name: "张".into(),
    };
    s.add_user(&user).await.expect("user");
    let at = ts("2024-03-01T09:00:00");
    assert!(!s.set_password("nobody", "h", at, None).await.expect("set"));
    assert!(
        s.set_password("zhang", "$argon2id$x", at, None)
            .await
            .expect("set")
    );
    let c = s.credentials("zhang").await.expect("read").expect("found");
    assert_eq!(c.password_hash.as_deref(), Some("$argon2id$x"));
    assert_eq!(c.password_changed_at, Some(at));

    // Four attempts count; the fifth locks, and while the lock lasts nothing is counted.
    let until = ts("2024-03-01T09:15:00");
    for n in 1..=4 {
        assert_eq!(
            s.claim_attempt("zhang", at, 5, until).await.expect("claim"),
            SignInAttempt::Counted {
                failures: n,
                locks: false
            }
        );
    }
    assert_eq!(
        s.claim_attempt("zhang", at, 5, until).await.expect("claim"),
        SignInAttempt::Counted {
            failures: 5,
            locks: true
        }
    );
    assert_eq!(
        s.claim_attempt("zhang", ts("2024-03-01T09:14:59"), 5, until)
            .await
            .expect("claim"),
        SignInAttempt::Locked(until)
    );
    // A right password claimed before the lock does not lift it; the one whose claim locked does.
    assert_eq!(
        s.attempt_succeeded("zhang", at, false).await.expect("ok"),
        Some(until)
    );
    assert_eq!(
        s.attempt_succeeded("zhang", at, true).await.expect("ok"),
        None
    );
    // After the lock expires the count starts again.
    let later = ts("2024-03-01T10:00:00");
    for login in ["zhang", "nobody-at-all"] {
        s.claim_attempt(login, later, 2, until)
            .await
            .expect("claim");
        assert_eq!(
            s.claim_attempt(login, later, 2, ts("2024-03-01T10:15:00"))
                .await
                .expect("claim"),
            SignInAttempt::Counted {
                failures: 2,
                locks: true
            },
            "{login}: an unknown login is counted and locked like a known one"
        );
        assert_eq!(
            s.claim_attempt(
                login,
                ts("2024-03-01T10:15:00"),
                2,
                ts("2024-03-01T10:30:00")
            )
            .await
            .expect("claim"),
            SignInAttempt::Counted {
                failures: 1,
                locks: false
            },
            "{login}: the lock has expired"
        );
    }
    // A count with no attempt for a day is forgotten.
    s.claim_attempt("nobody-at-all", ts("2024-03-01T10:20:00"), 5, until)
        .await
        .expect("claim");
    assert_eq!(
        s.claim_attempt("nobody-at-all", ts("2024-03-02T10:21:00"), 5, until)
            .await
            .expect("claim"),
        SignInAttempt::Counted {
            failures: 1,
            locks: false
        }
    );
    // Setting a password clears the count.
    assert!(
        s.set_password("zhang", "$argon2id$y", later, None)
            .await
            .expect("set")
    );
    assert_eq!(
        s.claim_attempt("zhang", later, 5, until)
            .await
            .expect("claim"),
        SignInAttempt::Counted {
            failures: 1,
            locks: false
        }
    );

    let session = Session {
        id_hash: "h1".into(),
        login: "zhang".into(),
        csrf: "c1".into(),
        source: "127.0.0.1".into(),
        created_at: at,
        expires_at: ts("2024-03-01T17:00:00"),
    };
    assert!(
        !s.create_session(&session, "$argon2id$old")
            .await
            .expect("session"),
        "not for a password that is no longer the user's"
    );
    assert!(
        s.create_session(&session, "$argon2id$y")
            .await
            .expect("session")
    );
    let (found, who) = s.session("h1", at).await.expect("read").expect("live");
    assert_eq!((found, who), (session.clone(), user.clone()));
    assert!(
        s.session("h1", ts("2024-03-01T17:00:00"))
            .await
            .expect("read")
            .is_none(),
        "expired"
    );
    assert!(s.session("h2", at).await.expect("read").is_none());
    assert_eq!(s.people().await.expect("people"), vec![user]);
    assert_eq!(
        s.purge_sessions(ts("2024-03-01T18:00:00"))
            .await
            .expect("purge"),
        1
    );
    assert!(s.session("h1", at).await.expect("read").is_none());
    s.create_session(
        &Session {
            id_hash: "h3".into(),
            ..session
        },
        "$argon2id$y",
    )
    .await
    .expect("session");
    s.delete_session("h3").await.expect("delete");
    assert!(s.session("h3", at).await.expect("read").is_none());
}

async fn a_password_change_ends_every_other_session<S: Store + duban_storage::Accounts>(s: &S) {
    use duban_storage::Session;
    s.add_user(&User {
        login: "zhang".into(),
        role: Role::Staff,
        org: None,
        name: "张科长".into(),
    })
    .await
    .expect("user");
    let at = ts("2024-03-01T09:00:00");
    let session = |id: &str| Session {
        id_hash: id.into(),
        login: "zhang".into(),
        csrf: "c".into(),
        source: "127.0.0.1".into(),
        created_at: at,
        expires_at: ts("2024-03-01T17:00:00"),
    };
    assert!(s.set_password("zhang", "h0", at, None).await.expect("set"));
    for id in ["laptop", "phone", "desk"] {
        s.create_session(&session(id), "h0").await.expect("session");
    }
    // Changing one's own password keeps the session it was changed in.
    assert!(
        s.set_password("zhang", "h", at, Some("desk"))
            .await
            .expect("set")
    );
    for (id, live) in [("laptop", false), ("phone", false), ("desk", true)] {
        assert_eq!(
            s.session(id, at).await.expect("read").is_some(),
            live,
            "{id}"
        );
    }
    // A reset by someone else ends them all; so does ending them on demand.
    assert!(s.set_password("zhang", "h2", at, None).await.expect("set"));
    assert!(s.session("desk", at).await.expect("read").is_none());
    for id in ["a", "b"] {
        s.create_session(&session(id), "h2").await.expect("session");
    }
    assert_eq!(s.end_sessions("zhang", None).await.expect("end"), 2);
    assert!(s.session("a", at).await.expect("read").is_none());
}

async fn the_audit_chain_verifies_and_survives_pruning<S: Store + AsPool + duban_storage::Audit>(
    s: &S,
) {
    use duban_storage::Verdict;
    let record = crate::audit_record;
    for i in 0..5 {
        s.audit(&record(i)).await.expect("append");
    }
    assert_eq!(
        s.verify_audit().await.expect("verify"),
        Verdict::Intact { records: 5 }
    );
    // Deleting outside pruning is refused by the database.
    assert!(
        sqlx::query("DELETE FROM audit_log WHERE seq = 1")
            .execute(s.as_pool())
            .await
            .is_err()
    );
    // Pruning what is older than 01-04 keeps the chain verifiable from its new start.
    // The pruning is itself recorded, in the same transaction.
    let by = duban_storage::AuditRecord {
        action: "audit_pruned".into(),
        detail: "older than 184 days".into(),
        ..record(8)
    };
    assert_eq!(
        s.prune_audit(ts("2024-01-04T00:00:00"), &by)
            .await
            .expect("prune"),
        3
    );
    assert_eq!(
        s.verify_audit().await.expect("verify"),
        Verdict::Intact { records: 3 }
    );
    s.audit(&record(5)).await.expect("append after pruning");
    assert_eq!(
        s.verify_audit().await.expect("verify"),
        Verdict::Intact { records: 4 }
    );
    let tail = s.audit_tail(10).await.expect("tail");
    assert_eq!(
        tail.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        [7, 6, 5, 4]
    );
    assert_eq!(tail[1].1.action, "audit_pruned");
    assert!(
        tail[1].1.detail.starts_with("3 record(s) deleted"),
        "{}",
        tail[1].1.detail
    );
    assert!(
        sqlx::query("DELETE FROM audit_log WHERE seq = 4")
            .execute(s.as_pool())
            .await
            .is_err(),
        "the trigger is back"
    );
}
