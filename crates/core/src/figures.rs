//! What one case counts for in the year's figures, kept up to date event by event.
//!
//! The annual report counts, for every case of the year, whether it was assigned, answered (and
//! on time), evaluated and how it was rated, and what the sections its workflow file declares
//! count: the states it entered, the steps it took and the values they chose. No action name
//! of a shipped kind is written here: what a petition's or a mediation's section counts is in
//! its file.
//! Working that out by replaying every event of a million cases takes a minute; keeping it in
//! the projection as each event is applied lets the store group the cases by their figures and
//! count them in one index scan. [`Milestones`] is the part only the history can tell;
//! [`Figures`] adds what the case's current state and parties say. Both are defined once, here,
//! and the report's slow path (replaying the events up to an earlier instant) uses the same
//! definitions, so the two ways of counting cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::deadline::china_date;
use crate::machine::{Event, OpenDuty};

/// The state a department's reply puts a case in.
const ANSWERED: &str = "handled";
const ASSIGNED: &str = "assigned";
const EVALUATED: &str = "evaluated";
/// A rated B or C reply followed up (回头看), and its promise delivered.
const FOLLOWING: &str = "following";
const DELIVERED: &str = "implemented";

/// Facts about a case's history that its current state no longer shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestones {
    /// Ever assigned to a department.
    #[serde(default, skip_serializing_if = "is_false")]
    pub assigned: bool,
    /// The first answer: whether it came within the deadline then running, and before that
    /// deadline ever lapsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_on_time: Option<bool>,
    /// Before the first answer, the running deadline passed and was then moved later (an
    /// extension approved after the last day): the answer is late whatever the new date.
    #[serde(default, skip_serializing_if = "is_false")]
    pub extended_late: bool,
    /// The first answer: how many days (China's calendar) after the case entered the state it
    /// was answered from, the step that started the handler's clock (the latest assignment,
    /// a petition's acceptance, a mediator's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_to_answer: Option<u32>,
    /// Ever evaluated by the filer.
    #[serde(default, skip_serializing_if = "is_false")]
    pub evaluated: bool,
    /// The class of the latest answer (A/B/C/D: `classification`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_class: Option<String>,
    /// Followed up after a B or C answer was rated (回头看), and whether the department
    /// reported what it promised delivered.
    #[serde(default, skip_serializing_if = "is_false")]
    pub followed: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub delivered: bool,
    /// Every rating given, counted by value, and the latest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ratings: BTreeMap<String, u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rating: Option<String>,
    /// Ratings given beside the one that decides the route: a rating on an event that keeps
    /// the case in its state (each co-signer's of a joint suggestion's reply), by value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub co_ratings: BTreeMap<String, u32>,
    /// The supervising leader's activities on the case (视察, 座谈会, 督办会, 测评会), counted
    /// by the `activity` each records, as ratings are counted by `rating`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub activities: BTreeMap<String, u32>,
    /// The duties owed per member (a co-handler's opinion), by duty and member: `None` while
    /// owed or never done, then whether the first discharge came by the duty's last day.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub duties: BTreeMap<String, BTreeMap<String, Option<bool>>>,
    /// What a workflow file's report section counts (`[report.counts]`), kept for every kind
    /// alike: the states the case entered, the steps taken (the action's name, and
    /// `action:field=value` for each enum value it chose; `file` is the filing), and each
    /// integer field summed over the events of its action (`action.field`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub reached: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub steps: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sums: BTreeMap<String, i64>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Milestones {
    /// Notes one event; `owed` are the duties open before it, `due_before` is the end of the
    /// deadline running before it, and `since` the instant the case entered the state the
    /// event is taken in.
    pub fn note(
        &mut self,
        e: &Event,
        owed: &[OpenDuty],
        due_before: Option<Timestamp>,
        since: Timestamp,
    ) {
        let stays = e.from_state.as_deref() == Some(e.to_state.as_str());
        self.note_duties(e, owed, stays);
        self.note_step(e, stays);
        let due_after = e.deadline.as_ref().map(|d| d.deadline.due_at);
        if let (true, None, Some(due), Some(after)) =
            (stays, self.answered_on_time, due_before, due_after)
            && e.at >= due
            && after > due
        {
            self.extended_late = true;
        }
        match e.to_state.as_str() {
            ASSIGNED => self.assigned = true,
            EVALUATED => self.evaluated = true,
            // Rated, and followed up rather than closed.
            FOLLOWING => {
                self.evaluated = true;
                self.followed = true;
            }
            DELIVERED => self.delivered = true,
            ANSWERED if self.answered_on_time.is_none() => {
                self.answered_on_time =
                    Some(!self.extended_late && due_before.is_none_or(|due| e.at <= due));
                let days = (china_date(e.at) - china_date(since)).get_days();
                self.days_to_answer = u32::try_from(days).ok();
            }
            _ => {}
        }
        if let Some(class) = e.choices.get("classification") {
            self.answer_class = Some(class.clone());
        }
        if let Some(a) = e.payload.get("activity").and_then(Value::as_str) {
            *self.activities.entry(a.to_string()).or_default() += 1;
        }
        match e.payload.get("rating").and_then(Value::as_str) {
            Some(r) if stays => *self.co_ratings.entry(r.to_string()).or_default() += 1,
            Some(r) => {
                *self.ratings.entry(r.to_string()).or_default() += 1;
                self.last_rating = Some(r.to_string());
            }
            None => {}
        }
    }

    /// Notes what a report section may count of the event: the state it entered, its action
    /// and the enum values it chose (a date chosen, such as a promise's, is no value to count
    /// by), and its integer fields.
    fn note_step(&mut self, e: &Event, stays: bool) {
        if !stays {
            self.reached.insert(e.to_state.clone());
        }
        self.steps.insert(e.action.clone());
        for (field, value) in &e.choices {
            if !value.is_empty() && value.parse::<jiff::civil::Date>().is_err() {
                self.steps.insert(format!("{}:{field}={value}", e.action));
            }
        }
        for (field, value) in &e.payload {
            if let Some(n) = value.as_i64() {
                // Saturating: a payload's integer near the type's limit must not wrap round.
                let total = self
                    .sums
                    .entry(format!("{}.{field}", e.action))
                    .or_default();
                *total = total.saturating_add(n);
            }
        }
    }

    /// Notes the duties a member owes as they open, and each one's first discharge: a duty
    /// open before an event that keeps the case in its state, and gone after it, was done by
    /// it. A duty that ends with its state (the reply came first) stays owed, never done.
    fn note_duties(&mut self, e: &Event, owed: &[OpenDuty], stays: bool) {
        for d in &e.duties {
            if let Some(m) = &d.member {
                self.duties
                    .entry(d.name.clone())
                    .or_default()
                    .entry(m.clone())
                    .or_insert(None);
            }
        }
        if !stays {
            return;
        }
        for d in owed.iter().filter(|d| !e.duties.contains(d)) {
            let Some(m) = &d.member else { continue };
            let record = self
                .duties
                .entry(d.name.clone())
                .or_default()
                .entry(m.clone())
                .or_insert(None);
            if record.is_none() {
                *record = Some(e.at <= d.deadline.due_at);
            }
        }
    }
}

/// Everything one case contributes to the year's figures but whether it is overdue, which
/// depends on the instant the report is made for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    #[serde(flatten)]
    pub milestones: Milestones,
    #[serde(default, skip_serializing_if = "is_false")]
    pub closed: bool,
    /// The parties the report groups by (first of each), and a mediation's mediators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mediators: Vec<String>,
}

impl Figures {
    /// The figures as the key the store groups cases by: compact JSON, the same text for the
    /// same figures (fields in a fixed order, maps sorted), so equal cases share one group.
    pub fn key(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Reads a key written by [`Figures::key`].
    pub fn from_key(key: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(key)
    }

    /// Whether a key suggestion counts as 落实: its latest rating pleased the deputy and it is
    /// closed, and if its answer was followed up (a B or C promise), the promise was delivered.
    pub fn implemented(&self) -> bool {
        let m = &self.milestones;
        self.closed && m.evaluated && self.pleased() && (!m.followed || m.delivered)
    }

    /// The members of `party` the figures keep (one of [`crate::workflow::BREAKDOWNS`]): what a
    /// section broken down by it counts each case for.
    pub fn members(&self, party: &str) -> Vec<&str> {
        use crate::vocabulary::party;
        match party {
            party::STATION => self.station.as_deref().into_iter().collect(),
            party::LEAD_DEPARTMENT => self.lead_department.as_deref().into_iter().collect(),
            party::SUPERVISOR => self.supervisor.as_deref().into_iter().collect(),
            party::MEDIATORS => self.mediators.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the latest rating was 满意 or 基本满意.
    pub fn pleased(&self) -> bool {
        matches!(
            self.milestones.last_rating.as_deref(),
            Some("satisfied" | "basically_satisfied")
        )
    }
}
