//! Whose move it is on a case: the state's `waits_on`, whoever still owes a duty, and whoever
//! may answer a request still pending (an extension asked for). Kept as the case's `awaiting`
//! party, so that a person's queue is one indexed look-up, and worked out here alone.

use std::collections::BTreeSet;

use crate::role::Role;
use crate::vocabulary::party;
use crate::workflow::{Action, Audience, Workflow};

use super::Case;

/// The members `case` waits on, sorted: logins and organisation codes of the parties named,
/// and `role:NAME` for roles. Empty once the case is closed.
pub fn awaiting(wf: &Workflow, case: &Case) -> Vec<String> {
    let mut out = BTreeSet::new();
    let Some(state) = wf.state(&case.state) else {
        return Vec::new();
    };
    if case.closed || state.terminal {
        return Vec::new();
    }
    for a in &state.waits_on {
        resolve(case, a, &mut out);
    }
    // Whoever still owes a duty of the state (a co-handler its opinion) has a move to make too.
    for d in &case.duties {
        match &d.member {
            Some(m) => {
                out.insert(m.clone());
            }
            None => resolve(case, &Audience::Party(d.owed_by.clone()), &mut out),
        }
    }
    for request in wf.actions_from(&case.state) {
        if !pending(request, case) {
            continue;
        }
        for answer in request.answered_by.iter().filter_map(|x| wf.action(x)) {
            if !answer.from.contains(&case.state) {
                continue;
            }
            for role in &answer.roles {
                // An organisation-bound role answers through the parties it must fill.
                if answer.by.is_empty() || !super::decide::party_bound(*role) {
                    resolve(case, &Audience::Role(*role), &mut out);
                }
            }
            for p in &answer.by {
                resolve(case, &Audience::Party(p.clone()), &mut out);
            }
        }
    }
    out.into_iter().collect()
}

/// Whether `request` (an action with `answered_by`) was taken in the case's current stay in
/// its state and none of its answers has been taken since.
pub fn pending(request: &Action, case: &Case) -> bool {
    if request.answered_by.is_empty() {
        return false;
    }
    let Some(asked) = case.last_taken.get(&request.name) else {
        return false;
    };
    *asked >= case.entered_at
        && request
            .answered_by
            .iter()
            .all(|x| case.last_taken.get(x).is_none_or(|t| t < asked))
}

fn resolve(case: &Case, a: &Audience, out: &mut BTreeSet<String>) {
    match a {
        Audience::Role(r) => {
            out.insert(role_member(*r));
        }
        Audience::Party(p) => {
            out.extend(case.parties.get(p).into_iter().flatten().cloned());
        }
    }
}

/// How a role is written among the members a case waits on.
pub fn role_member(r: Role) -> String {
    format!("role:{r}")
}

/// Records in `sets` (the event's) and `case` (after it) the new `awaiting`, if it changed.
pub(super) fn keep(
    wf: &Workflow,
    case: &mut Case,
    sets: &mut std::collections::BTreeMap<String, Vec<String>>,
) {
    let now = awaiting(wf, case);
    let before = case.parties.get(party::AWAITING);
    if before.map_or(now.is_empty(), |b| *b == now) {
        return;
    }
    sets.insert(party::AWAITING.into(), now.clone());
    case.parties.insert(party::AWAITING.into(), now);
}
