//! The projection: a case as the fold of its events, what it counts for in the year's figures,
//! and whether a reminder still applies to it.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::figures::{Figures, Milestones};
use crate::vocabulary::party;

use super::*;

impl Case {
    /// Whether a reminder scheduled for `state` (and `duty`, as [`OpenDuty::key`] names it), about the deadline that falls on
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
            Some(key) => match self.duties.iter().find(|d| d.key() == key) {
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
        self.milestones
            .note(e, &self.duties, due_before, self.entered_at);
        if e.from_state.as_deref() != Some(e.to_state.as_str()) {
            self.entered_at = e.at;
        }
        if e.seq == 1 {
            self.filed_at = e.at;
        }
        self.state = e.to_state.clone();
        self.version = e.seq;
        self.deadline = e.deadline.clone();
        self.paused = e.paused.clone();
        self.duties = e.duties.clone();
        for (party, values) in &e.sets {
            self.parties.insert(party.clone(), values.clone());
        }
        self.last_taken.insert(e.action.clone(), e.at);
        for (field, value) in &e.choices {
            self.choices.insert(field.clone(), value.clone());
        }
        self.closed = e.closed;
        if let (Role::Deputy, Some(rating)) = (
            e.actor.role,
            e.payload.get("rating").and_then(Value::as_str),
        ) {
            self.deputy_ratings.push(DeputyRating {
                by: e.actor.user.clone(),
                rating: rating.to_string(),
                co: e.from_state.as_deref() == Some(e.to_state.as_str()),
            });
        }
    }

    /// A case of `kind` under workflow `version` with `digest`, in `state` since `at`, with no
    /// event yet: what filing and folding both start from.
    pub(super) fn blank(
        kind: &str,
        version: u32,
        digest: &str,
        state: &str,
        at: Timestamp,
    ) -> Case {
        Case {
            kind: kind.to_string(),
            workflow_version: version,
            workflow_digest: digest.to_string(),
            state: state.to_string(),
            version: 0,
            filed_at: at,
            entered_at: at,
            deadline: None,
            paused: None,
            duties: Vec::new(),
            parties: BTreeMap::new(),
            last_taken: BTreeMap::new(),
            choices: BTreeMap::new(),
            closed: false,
            milestones: Milestones::default(),
            deputy_ratings: Vec::new(),
        }
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
            let c =
                case.get_or_insert_with(|| Case::blank(kind, version, digest, &e.to_state, e.at));
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
