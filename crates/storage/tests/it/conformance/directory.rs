//! Conformance: the directory and tokens: organisations and people with their relations, tokens kept as hashes.

use super::*;

conformance!(
    organisations_and_people_are_kept_with_their_relations,
    tokens_are_kept_as_hashes_and_can_be_revoked,
);

async fn organisations_and_people_are_kept_with_their_relations<S: Store>(s: &S) {
    let jtj = Org {
        code: "jtj".into(),
        kind: OrgKind::Department,
        name: "县交通运输局".into(),
    };
    s.add_org(&jtj).await.expect("add org");
    assert_eq!(s.org("jtj").await.expect("org"), Some(jtj.clone()));
    assert!(matches!(
        s.add_org(&jtj).await,
        Err(Error::Duplicate { .. })
    ));
    let clerk = User {
        login: "zhang".into(),
        role: Role::Department,
        org: Some("jtj".into()),
        name: "张科长".into(),
    };
    s.add_user(&clerk).await.expect("add user");
    assert_eq!(s.user("zhang").await.expect("user"), Some(clerk.clone()));
    assert!(matches!(
        s.add_user(&clerk).await,
        Err(Error::Duplicate { .. })
    ));
    let stray = User {
        login: "li".into(),
        role: Role::Department,
        org: Some("nowhere".into()),
        name: "李".into(),
    };
    assert!(matches!(
        s.add_user(&stray).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(s.user("li").await.expect("user"), None);
}

async fn tokens_are_kept_as_hashes_and_can_be_revoked<S: Store>(s: &S) {
    s.add_org(&Org {
        code: "jtj".into(),
        kind: OrgKind::Department,
        name: "交通局".into(),
    })
    .await
    .expect("org");
    let user = User {
        login: "zhang".into(),
        role: Role::Department,
        org: Some("jtj".into()),
        name: "张".into(),
    };
    s.add_user(&user).await.expect("user");
    let at = ts("2024-03-01T09:00:00");
    s.add_token("tok-1", "zhang", "hash-1", at, None)
        .await
        .expect("token");
    s.add_token("tok-2", "zhang", "hash-2", at, None)
        .await
        .expect("token");
    assert!(matches!(
        s.add_token("tok-3", "nobody", "hash-3", at, None).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        s.user_for_token("hash-1", at).await.expect("lookup"),
        Some((user.clone(), "tok-1".into()))
    );
    assert_eq!(s.user_for_token("nope", at).await.expect("lookup"), None);
    assert!(s.revoke_token("tok-1", at).await.expect("revoke"));
    assert!(!s.revoke_token("tok-1", at).await.expect("revoke twice"));
    assert_eq!(s.user_for_token("hash-1", at).await.expect("lookup"), None);
    let listed = s.tokens("zhang").await.expect("list");
    assert_eq!(listed.len(), 2);
    assert!(listed[0].revoked_at.is_some() && listed[1].revoked_at.is_none());
}
