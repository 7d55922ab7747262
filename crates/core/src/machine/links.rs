//! Which of a case's actions a person may be sent a signed link for, and until when. A link is
//! only an offer made in a message: when it is used, the action is checked again, in full, as
//! the person it was made for.

use jiff::Timestamp;

use super::{Case, OpenDuty};
use crate::workflow::{Action, Workflow};

/// The duties of the state the case is in that `login` owes and `action` discharges (a
/// co-signer's rating of this reply).
fn owed<'c>(
    wf: &Workflow,
    case: &'c Case,
    login: &str,
    action: &str,
) -> impl Iterator<Item = &'c OpenDuty> {
    let state = wf.state(&case.state);
    let discharges = move |d: &OpenDuty| {
        state.is_some_and(|s| {
            s.duties
                .iter()
                .any(|x| x.name == d.name && x.done_by == action)
        })
    };
    case.duties
        .iter()
        .filter(move |d| d.member.as_deref() == Some(login) && discharges(d))
}

/// The actions marked `link` in the state the case is in that `login` may take now by name:
/// they fill a party of `by` as themselves (a link is a person's, never an office's), and they
/// either decide the action or still owe a duty of the state that it discharges.
pub fn linked_actions<'w>(wf: &'w Workflow, case: &Case, login: &str) -> Vec<&'w Action> {
    if wf.state(&case.state).is_none_or(|s| s.terminal) {
        return Vec::new();
    }
    let named = |parties: &[String]| {
        parties.iter().any(|p| {
            case.parties
                .get(p)
                .is_some_and(|members| members.iter().any(|m| m == login))
        })
    };
    let owes = |a: &Action| owed(wf, case, login, &a.name).next().is_some();
    wf.actions
        .iter()
        .filter(|a| a.from.contains(&case.state))
        .filter(|a| a.link && named(&a.by))
        .filter(|a| a.decided_by.is_empty() || named(&a.decided_by) || owes(a))
        .collect()
}

/// When `login`'s link to take `action` stops working: the end of the duty they owe that it
/// discharges (a co-signer's rating window), else the end of the state's deadline (the lead
/// deputy's), else `fallback` for a state that sets no time.
pub fn link_expiry(
    wf: &Workflow,
    case: &Case,
    login: &str,
    action: &str,
    fallback: Timestamp,
) -> Timestamp {
    let owed = owed(wf, case, login, action)
        .map(|d| d.deadline.due_at)
        .max();
    owed.or_else(|| case.deadline.as_ref().map(|d| d.deadline.due_at))
        .unwrap_or(fallback)
}
