//! What the suites on real dates share: the shipped workflows and calendar, filing and acting
//! at Beijing office hours, and what a transition schedules and tells.

use duban_core::machine::{Actor, Case, Effect, Transition, act, file};
use duban_core::{Calendar, Role, Workflows};
use jiff::Timestamp;
use serde_json::Value;

pub(crate) struct World {
    pub(crate) wfs: Workflows,
    pub(crate) cal: Calendar,
}

impl World {
    pub(crate) fn new() -> Self {
        Self {
            wfs: Workflows::builtin(),
            cal: Calendar::builtin(),
        }
    }
    pub(crate) fn file(&self, kind: &str, who: &Actor, payload: Value, at: &str) -> Transition {
        let wf = self.wfs.get(kind).expect("kind");
        file(wf, &self.cal, who, &payload, ts(at)).unwrap_or_else(|e| panic!("file: {e}"))
    }
    pub(crate) fn act(
        &self,
        case: &Case,
        action: &str,
        payload: Value,
        who: &Actor,
        at: &str,
    ) -> Transition {
        self.try_act(case, action, payload, who, at)
            .unwrap_or_else(|e| panic!("{action}: {e}"))
    }
    /// 《关于加快农村公路提档升级的建议》, filed on 2024-06-20, registered, and assigned on
    /// 2024-07-01 09:00 as `assign` says (its lead department due 2024-10-08, a co-handler's
    /// opinion 2024-08-01).
    pub(crate) fn assigned_suggestion(&self, assign: Value) -> Transition {
        let deputy = actor("liu", Role::Deputy, None);
        let staff = actor("xu", Role::Staff, None);
        let c = self
            .file(
                "suggestion",
                &deputy,
                serde_json::json!({"title": "关于加快农村公路提档升级的建议", "body": "……"}),
                "2024-06-20T10:00:00",
            )
            .case;
        let c = self
            .act(
                &c,
                "register",
                serde_json::json!({}),
                &staff,
                "2024-06-25T09:00:00",
            )
            .case;
        self.act(&c, "assign", assign, &staff, "2024-07-01T09:00:00")
    }
    pub(crate) fn try_act(
        &self,
        case: &Case,
        action: &str,
        payload: Value,
        who: &Actor,
        at: &str,
    ) -> Result<Transition, duban_core::TransitionError> {
        let wf = self.wfs.get(&case.kind).expect("kind");
        act(wf, &self.cal, case, action, &payload, who, ts(at))
    }
}

pub(crate) fn ts(s: &str) -> Timestamp {
    // Times in tests are Beijing office hours written as local times.
    format!("{s}+08:00")
        .parse()
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}

pub(crate) fn actor(user: &str, role: Role, org: Option<&str>) -> Actor {
    Actor {
        user: user.into(),
        role,
        org: org.map(str::to_string),
    }
}

pub(crate) fn due(case: &Case) -> String {
    case.deadline
        .as_ref()
        .map(|d| d.deadline.due_date.to_string())
        .unwrap_or_default()
}

/// The reminders a transition schedules: when, and to whom.
pub(crate) fn scheduled(t: &Transition) -> Vec<(String, String)> {
    t.effects
        .iter()
        .filter_map(|e| match e {
            Effect::ScheduleReminder(r) if r.headline.is_none() => {
                Some((r.at.to_string(), r.notify.join("+")))
            }
            _ => None,
        })
        .collect()
}

/// The notices a transition sends: when, their headline, and to whom.
pub(crate) fn notices(t: &Transition) -> Vec<(String, String, String)> {
    t.effects
        .iter()
        .filter_map(|e| match e {
            Effect::ScheduleReminder(r) => r
                .headline
                .as_ref()
                .map(|h| (r.at.to_string(), h.clone(), r.notify.join("+"))),
            _ => None,
        })
        .collect()
}
