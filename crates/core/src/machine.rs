//! The pure state machine: given a workflow, a case, an action with its payload, the actor and
//! `now`, decide the new state, the event to append and the effects to carry out — or refuse,
//! saying why and which actions are open instead. It performs nothing itself.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::calendar::Calendar;
use crate::deadline::{self, CHINA, Deadline, china_date};
use crate::figures::{Figures, Milestones};
use crate::person::Person;
use crate::role::Role;
use crate::vocabulary::party;
use crate::workflow::{Anchor, Audience, Field, FieldType, State, When, Workflow};

/// The name of the event that opens a case.
pub const FILE: &str = "file";

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user's login.
    pub user: String,
    pub role: Role,
    /// The organisation the user acts for (a department, station or court), if any.
    pub org: Option<String>,
}

/// A running deadline on the case's current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDeadline {
    #[serde(flatten)]
    pub deadline: Deadline,
    /// The last day as first computed, before any extension.
    pub original_due: Date,
    pub extensions: u32,
}

/// A duty still owed in the current state (a co-handler's opinion).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenDuty {
    pub name: String,
    pub owed_by: String,
    pub deadline: Deadline,
}

/// The current state of a case: a projection of its events, nothing more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub kind: String,
    /// The workflow version and digest the case was filed under.
    pub workflow_version: u32,
    pub workflow_digest: String,
    pub state: String,
    /// How many events the case has; the version an action must name to act.
    pub version: u64,
    pub filed_at: Timestamp,
    /// When the case entered its current state.
    pub entered_at: Timestamp,
    pub deadline: Option<StateDeadline>,
    pub duties: Vec<OpenDuty>,
    /// Who fills each party: user logins or organisation codes.
    pub parties: BTreeMap<String, Vec<String>>,
    /// The latest time each action was taken, for periods counted from an earlier event.
    pub last_taken: BTreeMap<String, Timestamp>,
    /// True once the case is in a terminal state.
    pub closed: bool,
    /// What its history counts for in the year's figures. Projections written before this
    /// was kept read as empty until `duban migrate` refolds them.
    #[serde(default)]
    pub milestones: Milestones,
}

/// One entry in a case's append-only history. It carries everything the projection needs, the
/// computed deadlines included, so that replaying history never depends on today's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// 1-based position in the case's history; equals the case's version after it.
    pub seq: u64,
    pub action: String,
    pub actor: Actor,
    pub at: Timestamp,
    pub payload: Map<String, Value>,
    pub from_state: Option<String>,
    pub to_state: String,
    /// Parties this event filled (replacing earlier values).
    pub sets: BTreeMap<String, Vec<String>>,
    /// The state's deadline after the event.
    pub deadline: Option<StateDeadline>,
    /// The duties still open after the event.
    pub duties: Vec<OpenDuty>,
    /// True when `to_state` is terminal: the case is closed.
    pub closed: bool,
}

/// A reminder to schedule. The key is unique within the case, so scheduling twice is a no-op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    pub key: String,
    pub state: String,
    pub duty: Option<String>,
    /// Index of the rule in the workflow's `reminders`.
    pub rule: usize,
    pub at: Timestamp,
    /// The deadline the reminder is about, if any.
    pub due_date: Option<Date>,
    pub notify: Vec<String>,
    /// Repeat every this many days while the state lasts (overdue escalation).
    pub repeat_every_days: Option<u32>,
    pub escalate: bool,
}

/// Something the caller must do in the same transaction as appending the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "effect")]
pub enum Effect {
    ScheduleReminder(Reminder),
    /// Cancel the pending reminders of this state's own deadline (`duty` is `None`: it was
    /// extended) or of one of its duties (it was done), while the case stays in the state.
    /// Leaving a state cancels nothing: its reminders no longer apply
    /// ([`Case::reminder_applies`]), and the scheduler drops each when it falls due, so a
    /// history acted live and the same history imported keep the same rows.
    CancelReminders {
        state: String,
        duty: Option<String>,
    },
}

/// Personal data given in an action's payload, to be stored encrypted. The event's payload holds
/// only the masked form of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalField {
    pub field: String,
    pub person: Person,
}

/// What an accepted action produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub case: Case,
    pub event: Event,
    pub effects: Vec<Effect>,
    pub personal: Vec<PersonalField>,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("unknown action `{action}`")]
    UnknownAction { action: String },
    #[error("the case is closed (state `{state}` is final)")]
    Terminal { state: String },
    #[error("`{action}` cannot be taken in state `{state}`")]
    WrongState { action: String, state: String },
    #[error("role `{role}` may not take `{action}` (it is for: {})", join(roles))]
    Forbidden {
        action: String,
        role: Role,
        roles: Vec<Role>,
    },
    #[error("`{action}` is for the case's {}, which you are not", join(parties))]
    NotAParty {
        action: String,
        parties: Vec<String>,
    },
    #[error("`{action}` was open until {until} and that time has passed")]
    WindowClosed { action: String, until: Date },
    #[error("`{action}` is taken once per case and already was")]
    AlreadyTaken { action: String },
    #[error("field `{field}`: {problem}{}", more.iter().map(|(f, p)| format!("; field `{f}`: {p}")).collect::<String>())]
    InvalidPayload {
        field: String,
        problem: String,
        /// Further problems in the same payload, each (field, problem): every one is reported.
        more: Vec<(String, String)>,
    },
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A refusal with the actions the actor could take instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}; actions open to you now: {}", join(allowed))]
pub struct TransitionError {
    pub reason: Refusal,
    pub allowed: Vec<String>,
}

impl TransitionError {
    /// The payload field at fault, if the refusal is about one.
    pub fn field(&self) -> Option<&str> {
        match &self.reason {
            Refusal::InvalidPayload { field, .. } => Some(field),
            _ => None,
        }
    }
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
fn party_bound(role: Role) -> bool {
    !matches!(role, Role::Leader | Role::Staff | Role::Admin)
}

fn party_ok(a: &crate::workflow::Action, case: &Case, actor: &Actor) -> bool {
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
        .map(|a| a.name.clone())
        .collect()
}

/// The end of an action's window, if it has one and its anchor has happened. A window whose
/// anchor never happened is shut: there is nothing to count from.
fn window_end(
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

fn anchor_time(
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
    let blank = Case {
        kind: wf.kind.clone(),
        workflow_version: wf.version,
        workflow_digest: wf.digest.clone(),
        state: wf.initial.clone(),
        version: 0,
        filed_at: now,
        entered_at: now,
        deadline: None,
        duties: Vec::new(),
        parties: BTreeMap::new(),
        last_taken: BTreeMap::new(),
        closed: false,
        milestones: Milestones::default(),
    };
    let mut effects = Vec::new();
    let (deadline, duties) = enter(wf, cal, &blank, &wf.initial, FILE, now, &sets, &mut effects);
    let event = Event {
        seq: 1,
        action: FILE.into(),
        actor: actor.clone(),
        at: now,
        payload,
        from_state: None,
        to_state: wf.initial.clone(),
        sets,
        deadline,
        duties,
        closed: false,
    };
    let mut case = blank;
    case.apply(&event);
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
    let Checked { payload, personal } = check_payload(&a.payload, payload).map_err(refuse)?;
    own_organisation(&a.payload, &payload, actor).map_err(refuse)?;
    let target = a.target(&case.state, &payload).to_string();

    let sets = sets_from(&a.payload, &payload);
    let mut effects = Vec::new();
    let (deadline, duties) = if target != case.state {
        enter(wf, cal, case, &target, action, now, &sets, &mut effects)
    } else {
        stay(wf, cal, case, state, action, &payload, now, &mut effects).map_err(refuse)?
    };
    let event = Event {
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
        duties,
    };
    let mut next = case.clone();
    next.apply(&event);
    Ok(Transition {
        case: next,
        event,
        effects,
        personal,
    })
}

/// Computes the deadline and duties of a state being entered and schedules their reminders.
/// A duty is opened only when someone fills the party that owes it (no co-handlers, no duty).
#[allow(clippy::too_many_arguments)]
fn enter(
    wf: &Workflow,
    cal: &Calendar,
    case: &Case,
    target: &str,
    action: &str,
    now: Timestamp,
    sets: &BTreeMap<String, Vec<String>>,
    effects: &mut Vec<Effect>,
) -> (Option<StateDeadline>, Vec<OpenDuty>) {
    let Some(state) = wf.state(target) else {
        return (None, Vec::new());
    };
    // The case as it will be once in the new state: periods "from entered" count from now.
    let mut entering = case.clone();
    entering.entered_at = now;
    entering.parties.extend(sets.clone());
    let deadline = state.deadline.as_ref().and_then(|rule| {
        let from = anchor_time(&rule.from, &entering, Some((action, now)))?;
        let d = deadline::due(cal, from, rule.period);
        Some(StateDeadline {
            original_due: d.due_date,
            deadline: d,
            extensions: 0,
        })
    });
    let duties: Vec<OpenDuty> = state
        .duties
        .iter()
        .filter(|duty| {
            entering
                .parties
                .get(&duty.owed_by)
                .is_some_and(|v| !v.is_empty())
        })
        .filter_map(|duty| {
            let from = anchor_time(&duty.from, &entering, Some((action, now)))?;
            Some(OpenDuty {
                name: duty.name.clone(),
                owed_by: duty.owed_by.clone(),
                deadline: deadline::due(cal, from, duty.period),
            })
        })
        .collect();
    schedule(
        wf,
        &state.name,
        None,
        deadline.as_ref().map(|d| &d.deadline),
        now,
        true,
        effects,
    );
    for duty in &duties {
        schedule(
            wf,
            &state.name,
            Some(&duty.name),
            Some(&duty.deadline),
            now,
            true,
            effects,
        );
    }
    (deadline, duties)
}

/// An action that keeps the case in its state: it may grant an extension, start a clock whose
/// anchor is this action, or discharge a duty.
#[allow(clippy::too_many_arguments)]
fn stay(
    wf: &Workflow,
    cal: &Calendar,
    case: &Case,
    state: &State,
    action: &str,
    payload: &Map<String, Value>,
    now: Timestamp,
    effects: &mut Vec<Effect>,
) -> Result<(Option<StateDeadline>, Vec<OpenDuty>), Refusal> {
    let mut deadline = case.deadline.clone();
    let mut duties = case.duties.clone();
    if let Some(rule) = &state.deadline {
        let is_extension = rule.extension.as_ref().is_some_and(|e| e.action == action);
        match (&mut deadline, is_extension) {
            (Some(current), true) => {
                let ext = rule.extension.as_ref().expect("checked above");
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
                effects.push(Effect::CancelReminders {
                    state: state.name.clone(),
                    duty: None,
                });
                schedule(
                    wf,
                    &state.name,
                    None,
                    Some(&current.deadline),
                    now,
                    false,
                    effects,
                );
            }
            (None, true) => {
                return Err(invalid(
                    "until",
                    "there is no running deadline to extend yet",
                ));
            }
            (None, false) => {
                // A clock counted from this very action starts now (the first time it is taken).
                if let Anchor::Action(a) = &rule.from
                    && a == action
                {
                    let d = deadline::due(cal, now, rule.period);
                    schedule(wf, &state.name, None, Some(&d), now, false, effects);
                    deadline = Some(StateDeadline {
                        original_due: d.due_date,
                        deadline: d,
                        extensions: 0,
                    });
                }
            }
            (Some(_), false) => {}
        }
    }
    for duty in state.duties.iter().filter(|d| d.done_by == action) {
        if duties.iter().any(|d| d.name == duty.name) {
            duties.retain(|d| d.name != duty.name);
            effects.push(Effect::CancelReminders {
                state: state.name.clone(),
                duty: Some(duty.name.clone()),
            });
        }
    }
    Ok((deadline, duties))
}

/// Office hours: reminders before or after a deadline go out at 09:00 China time.
fn nine_am(date: Date) -> Timestamp {
    CHINA
        .to_timestamp(date.to_datetime(jiff::civil::Time::constant(9, 0, 0, 0)))
        .unwrap_or(Timestamp::MAX)
}

/// Schedules the reminder rules of `state` (for its own deadline or for `duty`). Reminders whose
/// time has already passed are left out: a 3-day deadline gets no "7 days before" reminder.
fn schedule(
    wf: &Workflow,
    state: &str,
    duty: Option<&str>,
    deadline: Option<&Deadline>,
    now: Timestamp,
    entering: bool,
    effects: &mut Vec<Effect>,
) {
    for (i, rule) in wf.reminders.iter().enumerate() {
        if rule.state != state || rule.duty.as_deref() != duty {
            continue;
        }
        let (at, due_date, repeat) = match (rule.when, deadline) {
            (When::Entered, _) if entering => (now, deadline.map(|d| d.due_date), None),
            (When::Entered, _) => continue,
            (When::BeforeDue(days), Some(d)) => {
                let day = d.due_date.saturating_sub(i64::from(days).days());
                (nine_am(day), Some(d.due_date), None)
            }
            (When::AtDue, Some(d)) => (nine_am(d.due_date), Some(d.due_date), None),
            (When::Overdue, Some(d)) => (
                nine_am(d.due_date.saturating_add(1.day())),
                Some(d.due_date),
                None,
            ),
            (When::OverdueEvery(n), Some(d)) => (
                nine_am(d.due_date.saturating_add(1.day())),
                Some(d.due_date),
                Some(n),
            ),
            (_, None) => continue,
        };
        if at < now && rule.when != When::Entered {
            continue;
        }
        let notify = rule.notify.iter().map(Audience::to_string).collect();
        let key = format!(
            "{state}/{}/{i}/{}",
            duty.unwrap_or("-"),
            due_date
                .map(|d| d.to_string())
                .unwrap_or_else(|| china_date(now).to_string())
        );
        effects.push(Effect::ScheduleReminder(Reminder {
            key,
            state: state.to_string(),
            duty: duty.map(str::to_string),
            rule: i,
            at,
            due_date,
            notify,
            repeat_every_days: repeat,
            escalate: rule.escalate,
        }));
    }
}

fn invalid(field: &str, problem: &str) -> Refusal {
    Refusal::InvalidPayload {
        field: field.into(),
        problem: problem.into(),
        more: Vec::new(),
    }
}

/// A payload that passed its checks: what the event records (personal data masked) and the
/// personal data itself, for encrypted storage.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub payload: Map<String, Value>,
    pub personal: Vec<PersonalField>,
}

/// A field whose `own_org_for` names the actor's role takes only the actor's own organisation:
/// a deputy files a petition only at their own station, while staff may file at any.
fn own_organisation(
    fields: &[Field],
    payload: &Map<String, Value>,
    actor: &Actor,
) -> Result<(), Refusal> {
    for f in fields
        .iter()
        .filter(|f| f.own_org_for.contains(&actor.role))
    {
        if let Some(code) = payload.get(&f.name).and_then(Value::as_str)
            && actor.org.as_deref() != Some(code)
        {
            return Err(Refusal::InvalidPayload {
                field: f.name.clone(),
                problem: format!(
                    "a {} may name only their own organisation here",
                    actor.role.as_str()
                ),
                more: Vec::new(),
            });
        }
    }
    Ok(())
}

/// Checks a payload against the declared fields: an object, no unknown fields, required ones
/// present, each of its type. Nulls for absent optional fields are dropped; persons are masked.
pub fn check_payload(fields: &[Field], payload: &Value) -> Result<Checked, Refusal> {
    let obj = match payload {
        Value::Object(o) => o.clone(),
        Value::Null => Map::new(),
        _ => return Err(invalid("payload", "must be a JSON object")),
    };
    // Every problem is collected, so that a form can mark all its bad fields at once.
    let mut problems: Vec<(String, String)> = Vec::new();
    for key in obj.keys() {
        if !fields.iter().any(|f| &f.name == key) {
            let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            problems.push((
                key.clone(),
                format!("unknown field (this action takes: {})", join(&known)),
            ));
        }
    }
    let mut out = Map::new();
    let mut personal = Vec::new();
    for f in fields {
        match obj.get(&f.name) {
            None | Some(Value::Null) => {
                let when = !f.required_when.is_empty()
                    && f.required_when.iter().all(|(other, value)| {
                        obj.get(other).and_then(Value::as_str) == Some(value)
                    });
                if f.required {
                    problems.push((f.name.clone(), "is required".into()));
                } else if when {
                    let (other, value) = &f.required_when[0];
                    problems.push((
                        f.name.clone(),
                        format!("is required when `{other}` is `{value}`"),
                    ));
                }
            }
            Some(v) if f.ty == FieldType::Person => match Person::from_json(v) {
                Ok(person) => {
                    out.insert(f.name.clone(), person.masked_json());
                    personal.push(PersonalField {
                        field: f.name.clone(),
                        person,
                    });
                }
                Err((sub, problem)) => {
                    let field = if sub.is_empty() {
                        f.name.clone()
                    } else {
                        format!("{}.{sub}", f.name)
                    };
                    problems.push((field, problem));
                }
            },
            Some(v) => match check_value(f, v) {
                Ok(()) => {
                    out.insert(f.name.clone(), v.clone());
                }
                Err(Refusal::InvalidPayload { field, problem, .. }) => {
                    problems.push((field, problem))
                }
                Err(other) => return Err(other),
            },
        }
    }
    if !problems.is_empty() {
        let (field, problem) = problems.remove(0);
        return Err(Refusal::InvalidPayload {
            field,
            problem,
            more: problems,
        });
    }
    Ok(Checked {
        payload: out,
        personal,
    })
}

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn check_value(f: &Field, v: &Value) -> Result<(), Refusal> {
    let bad = |problem: &str| Err(invalid(&f.name, problem));
    match &f.ty {
        FieldType::Text => {
            let Some(s) = v.as_str() else {
                return bad("must be text");
            };
            if f.required && s.trim().is_empty() {
                return bad("must not be empty");
            }
            if let Some(max) = f.max_length
                && s.chars().count() > max
            {
                return bad(&format!("is longer than {max} characters"));
            }
        }
        FieldType::Integer => {
            if v.as_i64().is_none() {
                return bad("must be a whole number");
            }
        }
        FieldType::Boolean => {
            if !v.is_boolean() {
                return bad("must be true or false");
            }
        }
        FieldType::Date => {
            if v.as_str().and_then(|s| s.parse::<Date>().ok()).is_none() {
                return bad("must be a date YYYY-MM-DD");
            }
        }
        FieldType::Enum(values) => {
            if !v.as_str().is_some_and(|s| values.iter().any(|x| x == s)) {
                return bad(&format!("must be one of: {}", values.join(", ")));
            }
        }
        FieldType::Org | FieldType::User => {
            if !v.as_str().is_some_and(is_code) {
                return bad(&format!(
                    "must be a{} code (no spaces, at most 64 characters)",
                    if f.ty == FieldType::Org {
                        "n organisation"
                    } else {
                        " user"
                    }
                ));
            }
        }
        // Persons are parsed by `Person::from_json` in `check_payload`.
        FieldType::Person => {}
        FieldType::Orgs | FieldType::Users => {
            let Some(items) = v.as_array() else {
                return bad("must be a list of codes");
            };
            let mut seen = std::collections::BTreeSet::new();
            for item in items {
                match item.as_str() {
                    Some(s) if is_code(s) => {
                        if !seen.insert(s) {
                            return bad("lists the same code twice");
                        }
                    }
                    _ => {
                        return bad(
                            "must be a list of codes (no spaces, at most 64 characters each)",
                        );
                    }
                }
            }
            if f.required && items.is_empty() {
                return bad("must not be empty");
            }
        }
    }
    Ok(())
}

/// The parties a payload fills.
fn sets_from(fields: &[Field], payload: &Map<String, Value>) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for f in fields {
        let (Some(party), Some(v)) = (&f.sets, payload.get(&f.name)) else {
            continue;
        };
        let values = match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => continue,
        };
        out.insert(party.clone(), values);
    }
    out
}

impl Case {
    /// Whether a reminder scheduled for `state` (and `duty`), about the deadline that falls on
    /// `due_date`, still applies to the case as it stands: the case is open and in that state,
    /// the duty is still owed, and the deadline is still that one. Leaving a state writes
    /// nothing to its reminders; the scheduler asks this when one falls due, and a reminder
    /// that no longer applies is cancelled then. Re-entering the state with the same deadline
    /// makes its reminders apply again, as the workflow would schedule them anew.
    pub fn reminder_applies(
        &self,
        state: &str,
        duty: Option<&str>,
        due_date: Option<&str>,
    ) -> bool {
        if self.closed || self.state != state {
            return false;
        }
        let deadline = match duty {
            Some(name) => match self.duties.iter().find(|d| d.name == name) {
                Some(d) => Some(&d.deadline),
                None => return false,
            },
            None => self.deadline.as_ref().map(|d| &d.deadline),
        };
        match due_date {
            None => true,
            Some(date) => deadline.is_some_and(|d| d.due_date.to_string() == date),
        }
    }

    /// Applies one event to the projection. Folding a case's events from the first gives the
    /// case; folding those up to an instant gives the case as it stood then.
    pub fn apply(&mut self, e: &Event) {
        let due_before = self.deadline.as_ref().map(|d| d.deadline.due_at);
        self.milestones.note(e, due_before);
        if e.from_state.as_deref() != Some(e.to_state.as_str()) {
            self.entered_at = e.at;
        }
        if e.seq == 1 {
            self.filed_at = e.at;
        }
        self.state = e.to_state.clone();
        self.version = e.seq;
        self.deadline = e.deadline.clone();
        self.duties = e.duties.clone();
        for (party, values) in &e.sets {
            self.parties.insert(party.clone(), values.clone());
        }
        self.last_taken.insert(e.action.clone(), e.at);
        self.closed = e.closed;
    }

    /// Rebuilds a case of `kind`, filed under workflow `version` with `digest`, from its
    /// history (oldest first). `None` if the history is empty.
    pub fn fold<'a>(
        kind: &str,
        version: u32,
        digest: &str,
        events: impl IntoIterator<Item = &'a Event>,
    ) -> Option<Case> {
        let mut case: Option<Case> = None;
        for e in events {
            let c = case.get_or_insert_with(|| Case {
                kind: kind.to_string(),
                workflow_version: version,
                workflow_digest: digest.to_string(),
                state: e.to_state.clone(),
                version: 0,
                filed_at: e.at,
                entered_at: e.at,
                deadline: None,
                duties: Vec::new(),
                parties: BTreeMap::new(),
                last_taken: BTreeMap::new(),
                closed: false,
                milestones: Milestones::default(),
            });
            c.apply(e);
        }
        case
    }

    /// What the case counts for in the year's figures.
    pub fn figures(&self) -> Figures {
        let first = |party: &str| self.parties.get(party).and_then(|v| v.first()).cloned();
        Figures {
            milestones: self.milestones.clone(),
            closed: self.closed,
            lead_department: first(party::LEAD_DEPARTMENT),
            supervisor: first(party::SUPERVISOR),
            station: first(party::STATION),
            mediators: self
                .parties
                .get(party::MEDIATORS)
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// Whether the case's current deadline has passed at `now`.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.deadline
            .as_ref()
            .is_some_and(|d| d.deadline.is_overdue(now))
    }
}
