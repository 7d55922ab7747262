//! Conformance: administration. A disabled person's token and session stop working on the very
//! next read, and so do those of a disabled organisation's people; tokens expire; a reset
//! password must be changed; people, organisations and the audit log are searched.

use duban_storage::{
    Accounts, Administration, Audit, AuditQuery, AuditRecord, OrgQuery, PeopleQuery, RosterPerson,
    Session, UserChange,
};

use super::*;

conformance!(
    a_disabled_person_or_organisation_cannot_get_in,
    tokens_expire_and_reset_passwords_must_change,
    people_organisations_and_the_audit_log_are_searched,
    a_roster_adds_then_updates_in_one_transaction,
);

fn person(login: &str, role: Role, org: Option<&str>, name: &str) -> User {
    User {
        login: login.into(),
        role,
        org: org.map(str::to_string),
        name: name.into(),
    }
}

fn session(login: &str, id: &str, at: jiff::Timestamp) -> Session {
    Session {
        id_hash: id.into(),
        login: login.into(),
        csrf: "c".into(),
        source: "127.0.0.1".into(),
        created_at: at,
        expires_at: ts("2024-03-02T09:00:00"),
    }
}

async fn a_disabled_person_or_organisation_cannot_get_in<S>(s: &S)
where
    S: Store + Accounts + Administration,
{
    use duban_storage::{Acted, Acting};
    let w = World::new();
    s.add_org(&Org {
        code: "jtj".into(),
        kind: OrgKind::Department,
        name: "交通局".into(),
    })
    .await
    .expect("org");
    let zhang = person("zhang", Role::Department, Some("jtj"), "张");
    let li = person("li", Role::Department, Some("jtj"), "李");
    for u in [&zhang, &li] {
        s.add_user(u).await.expect("user");
        s.set_password(&u.login, "$argon2id$x", ts("2024-03-01T08:00:00"), None)
            .await
            .expect("password");
    }
    let at = ts("2024-03-01T09:00:00");
    s.add_token("tok-z", "zhang", "hash-z", at, None)
        .await
        .expect("token");
    s.add_token("tok-l", "li", "hash-l", at, None)
        .await
        .expect("token");
    for (u, id) in [(&zhang, "s-z"), (&li, "s-l")] {
        assert!(
            s.create_session(&session(&u.login, id, at), "$argon2id$x")
                .await
                .expect("session")
        );
    }
    assert!(
        s.user_for_token("hash-z", at)
            .await
            .expect("read")
            .is_some()
    );
    assert!(s.session("s-z", at).await.expect("read").is_some());

    // Disabling zhang: the very next read of his token and session finds neither, the act
    // path's own read of the token included, and his password opens nothing.
    assert!(
        s.set_user_disabled("zhang", Some(at))
            .await
            .expect("disable")
    );
    assert_eq!(s.user_for_token("hash-z", at).await.expect("read"), None);
    assert_eq!(s.session("s-z", at).await.expect("read"), None);
    let id = plain_suggestion(&w, s).await;
    let acted = s
        .act(Acting::Token("hash-z", at), &id, NeverDecides)
        .await
        .expect("act");
    assert!(matches!(acted, Acted::UnknownToken), "{acted:?}");
    let c = s.credentials("zhang").await.expect("read").expect("found");
    assert!(c.disabled);
    assert!(
        !s.account("zhang")
            .await
            .expect("read")
            .expect("found")
            .active()
    );
    // Enabled again, he signs in anew: the old token stays revoked.
    assert!(s.set_user_disabled("zhang", None).await.expect("enable"));
    assert_eq!(s.user_for_token("hash-z", at).await.expect("read"), None);
    assert!(
        !s.credentials("zhang")
            .await
            .expect("read")
            .expect("found")
            .disabled
    );
    assert!(!s.set_user_disabled("nobody", Some(at)).await.expect("none"));

    // Disabling the organisation stops li, who was never disabled himself; enabling it lets
    // his token work again.
    assert!(
        s.user_for_token("hash-l", at)
            .await
            .expect("read")
            .is_some()
    );
    assert!(s.set_org_disabled("jtj", Some(at)).await.expect("disable"));
    assert_eq!(s.user_for_token("hash-l", at).await.expect("read"), None);
    assert_eq!(s.session("s-l", at).await.expect("read"), None);
    assert!(
        s.credentials("li")
            .await
            .expect("read")
            .expect("found")
            .disabled
    );
    let li_account = s.account("li").await.expect("read").expect("found");
    assert!(li_account.org_disabled && li_account.disabled_at.is_none());
    assert!(s.set_org_disabled("jtj", None).await.expect("enable"));
    assert!(
        s.user_for_token("hash-l", at)
            .await
            .expect("read")
            .is_some()
    );
}

/// A decision that is never reached: the token is refused first.
struct NeverDecides;

impl duban_storage::Decide for NeverDecides {
    type Kept = ();
    type Refusal = ();
    fn action(&self) -> &str {
        "none"
    }
    async fn decide<L: duban_storage::Lookup>(
        self,
        _actor: &User,
        _found: Option<duban_storage::CaseAndFiling>,
        _lookup: &mut L,
    ) -> Result<(duban_storage::Record, ()), ()> {
        Err(())
    }
}

async fn tokens_expire_and_reset_passwords_must_change<S>(s: &S)
where
    S: Store + Accounts + Administration,
{
    s.add_user(&person("wang", Role::Staff, None, "王"))
        .await
        .expect("user");
    let at = ts("2024-03-01T09:00:00");
    let until = ts("2024-03-01T10:00:00");
    s.add_token("tok-w", "wang", "hash-w", at, Some(until))
        .await
        .expect("token");
    assert!(
        s.user_for_token("hash-w", at)
            .await
            .expect("read")
            .is_some()
    );
    assert_eq!(s.user_for_token("hash-w", until).await.expect("read"), None);
    assert_eq!(
        s.tokens("wang").await.expect("list")[0].expires_at,
        Some(until)
    );

    assert!(
        s.create_session(&session("wang", "s-w", at), "")
            .await
            .is_ok()
    );
    assert!(
        s.reset_password("wang", "$argon2id$t", at)
            .await
            .expect("reset")
    );
    let c = s.credentials("wang").await.expect("read").expect("found");
    assert!(c.must_change);
    assert_eq!(c.password_hash.as_deref(), Some("$argon2id$t"));
    assert_eq!(s.session("s-w", at).await.expect("read"), None);
    // Their own new password clears it.
    s.set_password("wang", "$argon2id$own", at, None)
        .await
        .expect("set");
    assert!(
        !s.credentials("wang")
            .await
            .expect("read")
            .expect("found")
            .must_change
    );
}

async fn people_organisations_and_the_audit_log_are_searched<S>(s: &S)
where
    S: Store + Accounts + Administration + Audit,
{
    for (code, kind, name) in [
        ("jtj", OrgKind::Department, "交通运输局"),
        ("st1", OrgKind::Station, "城关联络站"),
        ("st_2", OrgKind::Station, "Percent%站"),
    ] {
        s.add_org(&Org {
            code: code.into(),
            kind,
            name: name.into(),
        })
        .await
        .expect("org");
    }
    for u in [
        person("dep1", Role::Deputy, Some("st1"), "王建国"),
        person("dep2", Role::Deputy, Some("st1"), "Wang Li"),
        person("clerk", Role::Department, Some("jtj"), "张三"),
        person("admin", Role::Admin, None, "管理员"),
        person("admin2", Role::Admin, None, "管理员二"),
    ] {
        s.add_user(&u).await.expect("user");
    }
    let all = |q: PeopleQuery| async move {
        s.accounts(&PeopleQuery { limit: 50, ..q })
            .await
            .expect("list")
            .into_iter()
            .map(|a| a.user.login)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        all(PeopleQuery {
            org: Some("st1".into()),
            ..Default::default()
        })
        .await,
        ["dep1", "dep2"]
    );
    // Words match the login or the name, whatever the case.
    assert_eq!(
        all(PeopleQuery {
            q: Some("wang".into()),
            ..Default::default()
        })
        .await,
        ["dep2"]
    );
    assert_eq!(
        all(PeopleQuery {
            q: Some("王".into()),
            ..Default::default()
        })
        .await,
        ["dep1"]
    );
    assert_eq!(
        all(PeopleQuery {
            role: Some(Role::Admin),
            after: Some("admin".into()),
            ..Default::default()
        })
        .await,
        ["admin2"]
    );
    s.set_user_disabled("dep2", Some(ts("2024-03-01T09:00:00")))
        .await
        .expect("disable");
    assert_eq!(
        all(PeopleQuery {
            disabled: Some(true),
            ..Default::default()
        })
        .await,
        ["dep2"]
    );
    assert_eq!(s.administrators("admin").await.expect("admins"), ["admin2"]);

    // A name, a role and an organisation change; a new organisation ends the sessions.
    let change = UserChange {
        name: Some("张三丰".into()),
        role: None,
        org: Some(None),
    };
    assert!(s.change_user("clerk", &change).await.expect("change"));
    let clerk = s.user("clerk").await.expect("read").expect("found");
    assert_eq!((clerk.name.as_str(), clerk.org), ("张三丰", None));
    assert!(!s.change_user("nobody", &change).await.expect("none"));

    // Organisations: LIKE's wildcards are taken as they are typed.
    let orgs = s
        .org_entries(&OrgQuery {
            q: Some("%".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("orgs");
    assert_eq!(orgs.len(), 1, "{orgs:?}");
    assert_eq!(orgs[0].org.code, "st_2");
    let st1 = s.org_entry("st1").await.expect("read").expect("found");
    assert_eq!(st1.people, 2);
    assert!(s.rename_org("st1", "城关镇联络站").await.expect("rename"));
    assert_eq!(
        s.org("st1").await.expect("read").expect("found").name,
        "城关镇联络站"
    );

    // The audit log, by actor, action and time, newest first, a page at a time.
    if s.audit_head().await.is_err() {
        return; // A store opened without keys keeps no audit log.
    }
    for (i, (actor, action)) in [
        ("admin", "user_added"),
        ("admin", "user_disabled"),
        ("admin2", "user_added"),
        ("admin", "user_added"),
    ]
    .into_iter()
    .enumerate()
    {
        s.audit(&AuditRecord {
            at: ts(&format!("2024-03-0{}T09:00:00", i + 1)),
            actor: actor.into(),
            role: "admin".into(),
            source: "api".into(),
            action: action.into(),
            target: "dep2".into(),
            outcome: "ok".into(),
            detail: String::new(),
        })
        .await
        .expect("audit");
    }
    let found = s
        .audit_search(&AuditQuery {
            actor: Some("admin".into()),
            action: Some("user_added".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("search");
    let days: Vec<String> = found.iter().map(|(_, r)| r.at.to_string()).collect();
    assert_eq!(days.len(), 2, "{days:?}");
    assert!(found[0].0 > found[1].0, "newest first");
    let page = s
        .audit_search(&AuditQuery {
            from: Some(ts("2024-03-02T00:00:00")),
            until: Some(ts("2024-03-04T00:00:00")),
            limit: 1,
            ..Default::default()
        })
        .await
        .expect("search");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].1.actor, "admin2");
    let older = s
        .audit_search(&AuditQuery {
            from: Some(ts("2024-03-02T00:00:00")),
            until: Some(ts("2024-03-04T00:00:00")),
            before: Some(page[0].0),
            limit: 5,
            ..Default::default()
        })
        .await
        .expect("search");
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].1.action, "user_disabled");
}

async fn a_roster_adds_then_updates_in_one_transaction<S>(s: &S)
where
    S: Store + Accounts + Administration,
{
    let at = ts("2024-03-01T09:00:00");
    let station = Org {
        code: "st42".into(),
        kind: OrgKind::Station,
        name: "新安镇代表之家".into(),
    };
    let row =
        |login: &str, phone: Option<&str>, sms: Option<bool>, email: Option<&str>| RosterPerson {
            user: person(login, Role::Deputy, Some("st42"), "代表"),
            email: email.map(str::to_string),
            phone: phone.map(str::to_string),
            sms,
        };
    let first = [
        row("d1", Some("13800135678"), Some(true), None),
        row("d2", None, None, Some("d2@example.cn")),
    ];
    let done = s
        .import_roster(std::slice::from_ref(&station), &first, at)
        .await
        .expect("import");
    assert_eq!(
        (done.orgs_added, done.people_added, done.people_updated),
        (1, 2, 0)
    );
    let d1 = s.account("d1").await.expect("read").expect("found");
    assert_eq!(d1.phone_masked.as_deref(), Some("138****5678"));
    assert!(d1.sms);
    // Again, without the phone column and with a new e-mail: the number and consent stay.
    let again = [
        row("d1", None, None, None),
        row("d2", None, None, Some("new@example.cn")),
    ];
    let done = s
        .import_roster(std::slice::from_ref(&station), &again, at)
        .await
        .expect("import");
    assert_eq!(
        (done.orgs_added, done.people_added, done.people_updated),
        (0, 0, 2)
    );
    let d1 = s.account("d1").await.expect("read").expect("found");
    assert!(d1.sms && d1.phone_masked.is_some());
    let d2 = s.account("d2").await.expect("read").expect("found");
    assert_eq!(d2.email.as_deref(), Some("new@example.cn"));
    // A failing row (an organisation that does not exist) writes nothing at all.
    let broken = [
        row("d3", None, None, None),
        RosterPerson {
            user: person("d4", Role::Department, Some("nowhere"), "某"),
            email: None,
            phone: None,
            sms: None,
        },
    ];
    assert!(s.import_roster(&[], &broken, at).await.is_err());
    assert!(s.account("d3").await.expect("read").is_none());
}
