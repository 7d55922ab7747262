//! Deciding: who may take which action now, filing a case, and acting on one — the
//! transition, entering or staying in a state, with the deadline and duties that follow.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::{Map, Value};

use crate::calendar::Calendar;
use crate::deadline::{self, Deadline};
use crate::role::Role;
use crate::vocabulary::party;
use crate::workflow::{Action, Anchor, Clock, ExtensionRule, State, Workflow};

use super::*;

/// One action being decided: what each part of the decision reads (the workflow, the
/// calendar, the action and its time) and the effects it gathers, passed as one value rather
/// than as the same arguments down every call.
pub(super) struct Step<'a> {
    pub(super) wf: &'a Workflow,
    pub(super) cal: &'a Calendar,
    pub(super) action: &'a str,
    /// Who takes it: a duty owed per member is discharged by the member acting.
    pub(super) actor: &'a Actor,
    pub(super) now: Timestamp,
    pub(super) effects: Vec<Effect>,
}

/// Whether `actor` fills one of `parties` on the case: as the user named, or for the
/// organisation named.
pub fn fills(case: &Case, actor: &Actor, parties: &[String]) -> bool {
    parties.iter().any(|p| {
        case.parties.get(p).is_some_and(|members| {
            members
                .iter()
                .any(|m| *m == actor.user || actor.org.as_deref() == Some(m.as_str()))
        })
    })
}

/// Committee roles act for the committee and are not bound to a case's parties.
pub(super) fn party_bound(role: Role) -> bool {
    !matches!(role, Role::Leader | Role::Staff | Role::Admin)
}

pub(super) fn party_ok(a: &crate::workflow::Action, case: &Case, actor: &Actor) -> bool {
    a.by.is_empty() || !party_bound(actor.role) || fills(case, actor, &a.by)
}

/// The actions `actor` may take on `case` at `now`, in the workflow's order.
pub fn allowed_actions(
    wf: &Workflow,
    case: &Case,
    actor: &Actor,
    now: Timestamp,
    cal: &Calendar,
) -> Vec<String> {
    let role = actor.role;
    if wf.state(&case.state).is_none_or(|s| s.terminal) {
        return Vec::new();
    }
    wf.actions_from(&case.state)
        .filter(|a| a.roles.contains(&role) && role.may_act())
        .filter(|a| party_ok(a, case, actor))
        .filter(|a| window_end(a.within.as_ref(), case, cal).is_none_or(|end| now < end.due_at))
        .filter(|a| !(a.once && case.last_taken.contains_key(&a.name)))
        .filter(|a| answers_if_it_must(wf, case, a))
        .filter(|a| unchosen(a, case).is_none())
        .filter(|a| clock_refusal(a, case, now).is_none())
        .filter(|a| unfilled(a, case).is_none())
        .filter(|a| owes(wf, a, case, actor))
        .map(|a| a.name.clone())
        .collect()
}

/// The first of `a`'s `when` conditions the case does not meet: the field and the value it
/// must have been given.
fn unchosen<'a>(a: &'a Action, case: &Case) -> Option<&'a (String, String)> {
    a.when
        .iter()
        .find(|(field, value)| case.choices.get(field) != Some(value))
}

/// The first party `a` requires that no one fills on the case yet.
fn unfilled<'a>(a: &'a Action, case: &Case) -> Option<&'a String> {
    a.requires
        .iter()
        .find(|p| case.parties.get(*p).is_none_or(|v| v.is_empty()))
}

/// Whether `actor`'s taking `a` moves the case: always, unless the action names who decides
/// it (`decided_by`) and the actor, bound to the case's parties, is not one of them.
fn decides(a: &Action, case: &Case, actor: &Actor) -> bool {
    a.decided_by.is_empty() || !party_bound(actor.role) || fills(case, actor, &a.decided_by)
}

/// Whether `actor` may take `a` as far as duties go: a decider always; anyone else only while
/// they owe a duty of the state that `a` discharges (a co-signer who has not yet rated this
/// reply).
fn owes(wf: &Workflow, a: &Action, case: &Case, actor: &Actor) -> bool {
    if decides(a, case, actor) {
        return true;
    }
    let Some(state) = wf.state(&case.state) else {
        return false;
    };
    case.duties
        .iter()
        .any(|d| discharges(state, d, actor, &a.name))
}

/// Why a pause or resume cannot be taken now, if it cannot: a pause needs a running deadline
/// whose last day has not passed (a pause taken late would excuse the lateness), a resume a
/// paused one.
fn clock_refusal(a: &Action, case: &Case, now: Timestamp) -> Option<Refusal> {
    let action = a.name.clone();
    match a.clock? {
        Clock::Pause => match &case.deadline {
            None => Some(Refusal::NotRunning { action }),
            Some(d) if d.deadline.is_overdue(now) => Some(Refusal::PastDue {
                action,
                due: d.deadline.due_date,
            }),
            Some(_) => None,
        },
        Clock::Resume => case
            .paused
            .is_none()
            .then_some(Refusal::NotPaused { action }),
    }
}

/// Whether `a` may be taken as far as requests go: always, unless it is `only_to_answer` and
/// no request it answers is pending.
fn answers_if_it_must(wf: &Workflow, case: &Case, a: &Action) -> bool {
    !a.only_to_answer
        || wf
            .actions_from(&case.state)
            .any(|r| r.answered_by.contains(&a.name) && super::awaiting::pending(r, case))
}

/// The end of an action's window, if it has one and its anchor has happened. A window whose
/// anchor never happened is shut: there is nothing to count from.
pub(super) fn window_end(
    within: Option<&(crate::Period, Anchor)>,
    case: &Case,
    cal: &Calendar,
) -> Option<Deadline> {
    let (period, anchor) = within?;
    match anchor_time(anchor, case, None) {
        Some(t) => Some(deadline::due(cal, t, *period)),
        None => Some(Deadline::on_date(Date::MIN, cal, String::new())),
    }
}

pub(super) fn anchor_time(
    anchor: &Anchor,
    case: &Case,
    this_action: Option<(&str, Timestamp)>,
) -> Option<Timestamp> {
    match anchor {
        Anchor::Entered => Some(case.entered_at),
        Anchor::Action(a) => match this_action {
            Some((name, now)) if name == a => Some(now),
            _ => case.last_taken.get(a).copied(),
        },
        // `Due` only anchors extension limits, which are handled where the deadline is known.
        Anchor::Due => None,
    }
}

/// Opens a case: checks the filer's role and the filing payload, and enters the initial state.
pub fn file(
    wf: &Workflow,
    cal: &Calendar,
    actor: &Actor,
    payload: &Value,
    now: Timestamp,
) -> Result<Transition, TransitionError> {
    let refuse = |reason| TransitionError {
        reason,
        allowed: Vec::new(),
    };
    if !wf.filing.roles.contains(&actor.role) || !actor.role.may_act() {
        return Err(refuse(Refusal::Forbidden {
            action: FILE.into(),
            role: actor.role,
            roles: wf.filing.roles.clone(),
        }));
    }
    let Checked { payload, personal } =
        check_payload(&wf.filing.payload, payload).map_err(refuse)?;
    own_organisation(&wf.filing.payload, &payload, actor).map_err(refuse)?;
    let mut sets = sets_from(&wf.filing.payload, &payload);
    // Committee staff may register a case for the deputy (or court) who brought it, naming
    // them in a field that sets `filer`; anyone else files in their own name.
    match sets.get(party::FILER) {
        Some(named) if party_bound(actor.role) && named.as_slice() != [actor.user.clone()] => {
            let field = wf
                .filing
                .payload
                .iter()
                .find(|f| f.sets.as_deref() == Some(party::FILER))
                .map(|f| f.name.clone())
                .unwrap_or_else(|| party::FILER.into());
            return Err(refuse(Refusal::InvalidPayload {
                field,
                problem: "only committee staff may file in someone else's name".into(),
                more: Vec::new(),
            }));
        }
        Some(_) => {}
        None => {
            sets.insert(party::FILER.into(), vec![actor.user.clone()]);
        }
    }
    let blank = Case::blank(&wf.kind, wf.version, &wf.digest, &wf.initial, now);
    let mut step = Step {
        wf,
        cal,
        action: FILE,
        actor,
        now,
        effects: Vec::new(),
    };
    let (deadline, duties) = enter(&mut step, &blank, &wf.initial, &sets, &payload);
    let choices = choices_from(&wf.filing.payload, &payload);
    notices::schedule(&mut step, &wf.initial, 1, deadline.as_ref(), &choices);
    let effects = step.effects;
    let mut event = Event {
        seq: 1,
        action: FILE.into(),
        actor: actor.clone(),
        at: now,
        payload,
        from_state: None,
        to_state: wf.initial.clone(),
        choices,
        sets,
        deadline,
        paused: None,
        duties,
        closed: false,
    };
    let mut case = blank;
    case.apply(&event);
    awaiting::keep(wf, &mut case, &mut event.sets);
    Ok(Transition {
        case,
        event,
        effects,
        personal,
    })
}

/// Takes `action` on `case`. On success the returned case is the old one with the event applied.
pub fn act(
    wf: &Workflow,
    cal: &Calendar,
    case: &Case,
    action: &str,
    payload: &Value,
    actor: &Actor,
    now: Timestamp,
) -> Result<Transition, TransitionError> {
    let refuse = |reason| TransitionError {
        reason,
        allowed: allowed_actions(wf, case, actor, now, cal),
    };
    let state = wf.state(&case.state).ok_or_else(|| {
        refuse(Refusal::WrongState {
            action: action.into(),
            state: case.state.clone(),
        })
    })?;
    if state.terminal {
        return Err(refuse(Refusal::Terminal {
            state: case.state.clone(),
        }));
    }
    let Some(a) = wf.action(action) else {
        return Err(refuse(Refusal::UnknownAction {
            action: action.into(),
        }));
    };
    if !a.from.contains(&case.state) {
        return Err(refuse(Refusal::WrongState {
            action: action.into(),
            state: case.state.clone(),
        }));
    }
    if !a.roles.contains(&actor.role) || !actor.role.may_act() {
        return Err(refuse(Refusal::Forbidden {
            action: action.into(),
            role: actor.role,
            roles: a.roles.clone(),
        }));
    }
    if !party_ok(a, case, actor) {
        return Err(refuse(Refusal::NotAParty {
            action: action.into(),
            parties: a.by.clone(),
        }));
    }
    if let Some(end) = window_end(a.within.as_ref(), case, cal)
        && now >= end.due_at
    {
        return Err(refuse(Refusal::WindowClosed {
            action: action.into(),
            until: end.due_date,
        }));
    }
    if a.once && case.last_taken.contains_key(&a.name) {
        return Err(refuse(Refusal::AlreadyTaken {
            action: action.into(),
        }));
    }
    if !answers_if_it_must(wf, case, a) {
        return Err(refuse(Refusal::NothingToAnswer {
            action: action.into(),
        }));
    }
    if let Some((field, value)) = unchosen(a, case) {
        return Err(refuse(Refusal::NotChosen {
            action: action.into(),
            field: field.clone(),
            value: value.clone(),
        }));
    }
    if let Some(reason) = clock_refusal(a, case, now) {
        return Err(refuse(reason));
    }
    if let Some(party) = unfilled(a, case) {
        return Err(refuse(Refusal::NoParty {
            action: action.into(),
            party: party.clone(),
        }));
    }
    if !owes(wf, a, case, actor) {
        return Err(refuse(Refusal::NotOwed {
            action: action.into(),
        }));
    }
    // A vote's result left out is written from its counts before the fields are checked.
    let filled;
    let payload = match &a.vote {
        Some(vote) => {
            filled = super::vote::fill(vote, &a.payload, payload);
            &filled
        }
        None => payload,
    };
    let Checked { payload, personal } = check_payload(&a.payload, payload).map_err(refuse)?;
    own_organisation(&a.payload, &payload, actor).map_err(refuse)?;
    if let Some(vote) = &a.vote {
        super::vote::check(vote, &payload).map_err(refuse)?;
    }
    // One who does not decide records their part: the case stays where it is.
    let target = if decides(a, case, actor) {
        a.target(&case.state, &payload, &case.choices).to_string()
    } else {
        case.state.clone()
    };

    let sets = sets_from(&a.payload, &payload);
    let choices = choices_from(&a.payload, &payload);
    let mut step = Step {
        wf,
        cal,
        action,
        actor,
        now,
        effects: Vec::new(),
    };
    let (deadline, duties, paused) = if target != case.state {
        let (deadline, duties) = enter(&mut step, case, &target, &sets, &payload);
        (deadline, duties, None)
    } else {
        stay(&mut step, case, state, a, &payload).map_err(refuse)?
    };
    notices::schedule(
        &mut step,
        &target,
        case.version + 1,
        deadline.as_ref(),
        &choices,
    );
    let effects = step.effects;
    let mut event = Event {
        seq: case.version + 1,
        action: action.into(),
        actor: actor.clone(),
        at: now,
        sets,
        payload,
        from_state: Some(case.state.clone()),
        closed: wf.state(&target).is_some_and(|s| s.terminal),
        to_state: target,
        deadline,
        paused,
        duties,
        choices,
    };
    let mut next = case.clone();
    next.apply(&event);
    awaiting::keep(wf, &mut next, &mut event.sets);
    Ok(Transition {
        case: next,
        event,
        effects,
        personal,
    })
}

/// Computes the deadline and duties of a state being entered and schedules their reminders.
/// A duty is opened for each member of the party that owes it (no co-handlers, no duty).
pub(super) fn enter(
    step: &mut Step,
    case: &Case,
    target: &str,
    sets: &BTreeMap<String, Vec<String>>,
    payload: &Map<String, Value>,
) -> (Option<StateDeadline>, Vec<OpenDuty>) {
    let (wf, cal, action, now) = (step.wf, step.cal, step.action, step.now);
    let Some(state) = wf.state(target) else {
        return (None, Vec::new());
    };
    // The case as it will be once in the new state: periods "from entered" count from now.
    let mut entering = case.clone();
    entering.entered_at = now;
    entering.parties.extend(sets.clone());
    let counted = state.deadline.as_ref().and_then(|rule| {
        let from = anchor_time(&rule.from, &entering, Some((action, now)))?;
        Some(deadline::due(cal, from, rule.period))
    });
    let deadline = counted
        .or_else(|| promised(step, &entering, state, payload))
        .map(|d| StateDeadline {
            original_due: d.due_date,
            deadline: d,
            extensions: 0,
        });
    // One duty per member of the party that owes it: each co-handler owes its own opinion.
    let mut duties = Vec::new();
    for duty in &state.duties {
        let Some(from) = anchor_time(&duty.from, &entering, Some((action, now))) else {
            continue;
        };
        let due = deadline::due(cal, from, duty.period);
        for member in entering.parties.get(&duty.owed_by).into_iter().flatten() {
            duties.push(OpenDuty {
                name: duty.name.clone(),
                owed_by: duty.owed_by.clone(),
                member: Some(member.clone()),
                deadline: due.clone(),
            });
        }
    }
    schedule(
        step,
        &state.name,
        None,
        deadline.as_ref().map(|d| &d.deadline),
        true,
    );
    for duty in &duties {
        schedule(step, &state.name, Some(duty), Some(&duty.deadline), true);
    }
    (deadline, duties)
}

/// The deadline of a state that falls on a date an earlier step gave (`due_on`): this action's
/// payload, else the latest given in that field. None if none was given.
fn promised(
    step: &Step,
    case: &Case,
    state: &State,
    payload: &Map<String, Value>,
) -> Option<Deadline> {
    let field = state.due_on.as_ref()?;
    let given = match payload.get(field).and_then(Value::as_str) {
        Some(v) => v,
        None => case.choices.get(field)?.as_str(),
    };
    let date: Date = given.parse().ok()?;
    let why = format!(
        "期限为此前办理时确定的{}{date}（{}），截止于该日24:00（北京时间）。",
        step.wf
            .field(field)
            .map_or_else(|| crate::labels::field(field), |f| f.label()),
        crate::calendar::weekday_zh(date)
    );
    Some(Deadline::on_date(date, step.cal, why))
}

/// The last day an extension asks for, checked against the state's rule as it stands: a date,
/// later than the current last day, within the number of extensions and the latest last day
/// allowed. Returns it with the sentence the deadline's explanation gains.
fn extension_to(
    cal: &Calendar,
    case: &Case,
    current: &StateDeadline,
    ext: &ExtensionRule,
    payload: &Map<String, Value>,
) -> Result<(Date, String), Refusal> {
    let until = payload
        .get("until")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<Date>().ok())
        .ok_or_else(|| invalid("until", "a date YYYY-MM-DD is required"))?;
    if ext.max_times.is_some_and(|max| current.extensions >= max) {
        return Err(invalid(
            "until",
            &format!(
                "the deadline may be extended at most {} time(s) and already was",
                ext.max_times.unwrap_or(0)
            ),
        ));
    }
    if until <= current.deadline.due_date {
        return Err(invalid(
            "until",
            &format!(
                "{until} is not later than the current last day {}",
                current.deadline.due_date
            ),
        ));
    }
    let mut why = format!(
        "经批准延期，期间最后一日由{}延至{until}",
        current.deadline.due_date
    );
    if let Some((period, anchor)) = &ext.limit {
        let limit = match anchor {
            Anchor::Due => deadline::due_from_date(cal, current.original_due, *period),
            other => match anchor_time(other, case, None) {
                Some(t) => deadline::due(cal, t, *period),
                None => deadline::due(cal, case.entered_at, *period),
            },
        };
        if until > limit.due_date {
            return Err(invalid(
                "until",
                &format!(
                    "{until} is past the latest allowed last day {} ({})",
                    limit.due_date, limit.explanation
                ),
            ));
        }
        why.push_str(&format!("（延期上限：{}）", limit.explanation));
    }
    Ok((until, why))
}

/// What an action leaves running in the state it stays in: the deadline, the duties still
/// owed, and the deadline while it is paused.
type Kept = (Option<StateDeadline>, Vec<OpenDuty>, Option<Paused>);

/// An action that keeps the case in its state: it may grant an extension, ask for one, start a
/// clock whose anchor is this action, pause or resume the deadline, or discharge a duty.
pub(super) fn stay(
    step: &mut Step,
    case: &Case,
    state: &State,
    a: &Action,
    payload: &Map<String, Value>,
) -> Result<Kept, Refusal> {
    let (cal, action, now) = (step.cal, step.action, step.now);
    let mut deadline = case.deadline.clone();
    let mut duties = case.duties.clone();
    if let Some(rule) = &state.deadline {
        let is_extension = rule.extension.as_ref().is_some_and(|e| e.action == action);
        // A request that the extension action answers is checked as that action would be, when
        // it is made: what could never be granted is refused at once. And it is made in time:
        // once the last day has passed, the answer is late whatever is granted after.
        let asks = rule
            .extension
            .as_ref()
            .filter(|e| a.answered_by.contains(&e.action));
        if let (Some(ext), Some(current)) = (asks, &deadline) {
            if current.deadline.is_overdue(now) {
                return Err(invalid(
                    "until",
                    &format!(
                        "the last day {} has passed: an extension is asked for before it, not after",
                        current.deadline.due_date
                    ),
                ));
            }
            extension_to(cal, case, current, ext, payload)?;
        }
        match (&mut deadline, is_extension) {
            (Some(current), true) => {
                let ext = rule.extension.as_ref().expect("checked above");
                let (until, why) = extension_to(cal, case, current, ext, payload)?;
                let extended = Deadline::on_date(
                    until,
                    cal,
                    format!(
                        "{}；{why}。",
                        current.deadline.explanation.trim_end_matches('。')
                    ),
                );
                current.deadline = extended;
                current.extensions += 1;
                step.effects.push(Effect::CancelReminders {
                    state: state.name.clone(),
                    duty: None,
                });
                schedule(step, &state.name, None, Some(&current.deadline), false);
            }
            (None, true) => {
                return Err(invalid(
                    "until",
                    "there is no running deadline to extend yet",
                ));
            }
            (current, false) => {
                // A clock counted from this action starts when it is taken, and starts again
                // each time it is taken anew (a project's quarterly report: the next is due
                // three months on).
                if let Anchor::Action(a) = &rule.from
                    && a == action
                {
                    if current.is_some() {
                        step.effects.push(Effect::CancelReminders {
                            state: state.name.clone(),
                            duty: None,
                        });
                    }
                    let d = deadline::due(cal, now, rule.period);
                    schedule(step, &state.name, None, Some(&d), false);
                    *current = Some(StateDeadline {
                        original_due: d.due_date,
                        deadline: d,
                        extensions: 0,
                    });
                }
            }
        }
    }
    // A date the state's deadline falls on, given while in it (the meeting the handling
    // report goes to, put on the agenda): the deadline is that day, set or moved.
    if let Some(field) = &state.due_on
        && payload.contains_key(field)
        && let Some(d) = promised(step, case, state, payload)
    {
        step.effects.push(Effect::CancelReminders {
            state: state.name.clone(),
            duty: None,
        });
        schedule(step, &state.name, None, Some(&d), false);
        deadline = Some(StateDeadline {
            original_due: deadline.as_ref().map_or(d.due_date, |x| x.original_due),
            deadline: d,
            extensions: 0,
        });
    }
    let paused = pause_or_resume(step, case, state, a, &mut deadline);
    let done: Vec<OpenDuty> = duties
        .iter()
        .filter(|d| discharges(state, d, step.actor, action))
        .cloned()
        .collect();
    for duty in done {
        duties.retain(|d| *d != duty);
        step.effects.push(Effect::CancelReminders {
            state: state.name.clone(),
            duty: Some(duty.key()),
        });
    }
    Ok((deadline, duties, paused))
}

/// Whether `action`, taken by `actor`, discharges `duty`: it is the action the duty is done
/// by, and the actor is the member who owes it. A duty the whole party owes (opened before
/// duties were owed per member) is discharged by anyone taking the action, as is any duty when
/// committee staff record the action for whoever owes it, being bound to no party.
fn discharges(state: &State, duty: &OpenDuty, actor: &Actor, action: &str) -> bool {
    let by_action = state
        .duties
        .iter()
        .any(|d| d.name == duty.name && d.done_by == action);
    by_action
        && match &duty.member {
            None => true,
            Some(m) => {
                *m == actor.user
                    || actor.org.as_deref() == Some(m.as_str())
                    || !party_bound(actor.role)
            }
        }
}

/// Stops the running `deadline` (its reminders cancelled: they no longer apply), or starts it
/// again with its last day moved later by the paused days (its reminders scheduled for the new
/// day), as the action's `clock` says. Returns the deadline while paused.
fn pause_or_resume(
    step: &mut Step,
    case: &Case,
    state: &State,
    a: &Action,
    deadline: &mut Option<StateDeadline>,
) -> Option<Paused> {
    let (cal, now) = (step.cal, step.now);
    match a.clock {
        Some(Clock::Pause) => {
            let stopped = deadline.take()?;
            step.effects.push(Effect::CancelReminders {
                state: state.name.clone(),
                duty: None,
            });
            Some(Paused {
                since: now,
                deadline: stopped,
            })
        }
        Some(Clock::Resume) => {
            let p = case.paused.as_ref()?;
            let unit = state
                .deadline
                .as_ref()
                .map_or(crate::Unit::Days, |r| r.period.unit);
            let (from, to) = (deadline::china_date(p.since), deadline::china_date(now));
            let d = deadline::resumed(cal, &p.deadline.deadline, unit, from, to);
            // The cap on extensions moves with it: paused days count toward neither.
            let (original_due, _) =
                deadline::moved_by_pause(cal, p.deadline.original_due, unit, from, to);
            schedule(step, &state.name, None, Some(&d), false);
            *deadline = Some(StateDeadline {
                deadline: d,
                original_due,
                extensions: p.deadline.extensions,
            });
            None
        }
        None => case.paused.clone(),
    }
}
