//! 联名 on real dates: each co-signer rates each reply once (`evaluate`, decided by the filer
//! alone), as an event of its own counted apart, while the reply waits for the lead deputy's
//! rating, which alone decides the route. A co-signer's 不满意 is told to staff at once.

use duban_core::Refusal;
use duban_core::machine::{Case, allowed_actions};
use duban_core::{Role, Workflows};
use serde_json::json;

use crate::world::{World, actor, notices, scheduled};

/// A joint suggestion by `liu` with `wang` and `zhao`, answered on 2024-08-15.
fn replied(w: &World) -> duban_core::machine::Transition {
    let deputy = actor("liu", Role::Deputy, None);
    let staff = actor("xu", Role::Staff, None);
    let dept = actor("zhang", Role::Department, Some("jtj"));
    let c = w
        .file(
            "suggestion",
            &deputy,
            json!({"title": "关于加快农村公路提档升级的建议", "body": "……", "cosigners": ["wang", "zhao"]}),
            "2024-06-20T10:00:00",
        )
        .case;
    let c = w
        .act(&c, "register", json!({}), &staff, "2024-06-25T09:00:00")
        .case;
    let c = w
        .act(
            &c,
            "assign",
            json!({"lead_department": "jtj"}),
            &staff,
            "2024-07-01T09:00:00",
        )
        .case;
    w.act(
        &c,
        "reply",
        json!({"classification": "A", "answer": "已完成"}),
        &dept,
        "2024-08-15T10:00:00",
    )
}

fn rate(w: &World, c: &Case, who: &str, rating: &str, at: &str) -> duban_core::machine::Transition {
    let cosigner = actor(who, Role::Deputy, None);
    w.act(
        c,
        "evaluate",
        json!({"rating": rating, "comment": "未解决根本问题"}),
        &cosigner,
        at,
    )
}

#[test]
fn every_co_signer_rates_each_reply_once_and_the_lead_decides() {
    let w = World::new();
    let wfs = Workflows::builtin();
    let wf = wfs.get("suggestion").expect("kind");
    let wang = actor("wang", Role::Deputy, None);
    let t = replied(&w);
    // Each co-signer owes a rating of its own, reminded a week before the rating window ends
    // (09-15 is in the Mid-Autumn holiday: it ends on 09-18).
    let owing: Vec<_> = t
        .case
        .duties
        .iter()
        .filter_map(|d| d.member.clone())
        .collect();
    assert_eq!(owing, ["wang", "zhao"]);
    assert!(
        scheduled(&t).contains(&("2024-09-11T01:00:00Z".into(), "member:wang".into())),
        "{:?}",
        scheduled(&t)
    );
    assert!(
        allowed_actions(wf, &t.case, &wang, t.event.at, &w.cal).contains(&"evaluate".to_string())
    );

    // wang: 不满意. An event of its own; the case stays for the lead's rating; staff are told.
    let one = rate(&w, &t.case, "wang", "dissatisfied", "2024-08-18T10:00:00");
    assert_eq!(one.case.state, "handled");
    assert_eq!(
        notices(&one),
        [(
            "2024-08-18T02:00:00Z".to_string(),
            "联名代表不满意".to_string(),
            "role:staff+lead_department".to_string()
        )]
    );
    assert_eq!(one.case.milestones.co_ratings["dissatisfied"], 1);
    assert!(one.case.milestones.ratings.is_empty());
    // Once per reply.
    let again = w
        .try_act(
            &one.case,
            "evaluate",
            json!({"rating": "satisfied"}),
            &wang,
            "2024-08-19T10:00:00",
        )
        .expect_err("rated already");
    assert!(matches!(again.reason, Refusal::NotOwed { .. }), "{again}");
    // A deputy who did not sign cannot.
    let stranger = actor("qian", Role::Deputy, None);
    let e = w
        .try_act(
            &one.case,
            "evaluate",
            json!({"rating": "satisfied"}),
            &stranger,
            "2024-08-19T10:00:00",
        )
        .expect_err("not a co-signer");
    assert!(matches!(e.reason, Refusal::NotAParty { .. }), "{e}");

    let two = rate(&w, &one.case, "zhao", "satisfied", "2024-08-19T10:00:00");
    assert!(notices(&two).is_empty(), "only 不满意 is told");
    // The lead deputy's rating decides: 满意 closes it, whatever the co-signers said.
    let liu = actor("liu", Role::Deputy, None);
    let done = w.act(
        &two.case,
        "evaluate",
        json!({"rating": "satisfied"}),
        &liu,
        "2024-08-20T10:00:00",
    );
    assert_eq!(done.case.state, "evaluated");
    let m = &done.case.milestones;
    assert_eq!(m.ratings, [("satisfied".to_string(), 1)].into());
    assert_eq!(
        m.co_ratings,
        [
            ("dissatisfied".to_string(), 1),
            ("satisfied".to_string(), 1)
        ]
        .into()
    );
    assert!(done.case.figures().pleased());
}

/// Signed links are offered to each signer who may still rate this reply, by name, until the
/// end of their own window: the lead deputy's is the state's deadline, a co-signer's their
/// duty's last day (both 2024-09-18 here, the rating window rolled over the Mid-Autumn
/// holiday). A co-signer who has rated, the department and a stranger are offered none.
#[test]
fn links_are_offered_to_those_who_may_still_rate_until_their_window_ends() {
    use duban_core::machine::{link_expiry, linked_actions};
    let w = World::new();
    let wfs = Workflows::builtin();
    let wf = wfs.get("suggestion").expect("kind");
    let t = replied(&w);
    let offered = |c: &Case, who: &str| -> Vec<String> {
        linked_actions(wf, c, who)
            .into_iter()
            .map(|a| a.name.clone())
            .collect()
    };
    for who in ["liu", "wang", "zhao"] {
        assert_eq!(offered(&t.case, who), ["evaluate"], "{who}");
        let end = link_expiry(wf, &t.case, who, "evaluate", t.event.at);
        assert_eq!(end.to_string(), "2024-09-18T16:00:00Z", "{who}");
    }
    for who in ["zhang", "jtj", "qian"] {
        assert!(offered(&t.case, who).is_empty(), "{who}");
    }
    let one = rate(&w, &t.case, "wang", "satisfied", "2024-08-18T10:00:00");
    assert!(offered(&one.case, "wang").is_empty(), "rated already");
    assert_eq!(offered(&one.case, "zhao"), ["evaluate"]);
    // Once the lead has rated, the round is over: no one is offered anything.
    let liu = actor("liu", Role::Deputy, None);
    let done = w.act(
        &one.case,
        "evaluate",
        json!({"rating": "satisfied"}),
        &liu,
        "2024-08-20T10:00:00",
    );
    for who in ["liu", "zhao"] {
        assert!(offered(&done.case, who).is_empty(), "{who}");
    }
}
