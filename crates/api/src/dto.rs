//! The JSON shapes of requests and responses, described for the OpenAPI document.

use std::collections::BTreeMap;

use duban_service::{CaseDetail, History};
use duban_service::{CaseSummary, Notification, StoredEvent};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Filing a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCaseRequest {
    /// The kind of case: `suggestion`, `petition`, `mediation`, or any kind the deployment adds.
    pub kind: String,
    /// The filing fields the kind's workflow declares.
    #[schema(value_type = Object)]
    pub payload: Map<String, Value>,
}

/// A deadline and how it was counted.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineDto {
    /// The last day, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub due_date: String,
    /// The instant it ends: 24:00 China time on the last day.
    #[schema(format = DateTime)]
    pub due_at: String,
    /// True when a year without a published holiday calendar was counted by weekends alone.
    pub provisional: bool,
    pub explanation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<u32>,
}

impl From<&duban_core::Deadline> for DeadlineDto {
    fn from(d: &duban_core::Deadline) -> Self {
        Self {
            due_date: d.due_date.to_string(),
            due_at: d.due_at.to_string(),
            provisional: d.provisional,
            explanation: d.explanation.clone(),
            extensions: None,
        }
    }
}

/// A deadline stopped by a pause: since when, and the deadline as it stood. Resuming moves its
/// last day later by the paused days.
#[derive(Debug, Serialize, ToSchema)]
pub struct PausedDto {
    #[schema(format = DateTime)]
    pub since: String,
    pub deadline: DeadlineDto,
}

/// A duty still owed in the current state, by one member of a party (each co-handling
/// department owes its own opinion).
#[derive(Debug, Serialize, ToSchema)]
pub struct DutyDto {
    pub name: String,
    #[schema(schema_with = crate::contract::refs::party)]
    pub owed_by: String,
    /// The organisation code or login that owes it; null for a duty opened before duties were
    /// owed per member, which the whole party owed.
    pub member: Option<String>,
    pub deadline: DeadlineDto,
}

/// Personal data shown in full on request (fields not asked for stay masked).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalDto {
    pub field: String,
    pub seq: u64,
    pub name: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// One case.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDto {
    pub id: String,
    /// The number people quote, such as `建议〔2024〕007号`: unique within the kind.
    pub number: Option<String>,
    #[schema(schema_with = crate::contract::refs::kind)]
    pub kind: String,
    pub title: String,
    #[schema(schema_with = crate::contract::refs::state)]
    pub state: String,
    pub state_title: String,
    pub terminal: bool,
    /// The version to send back in `If-Match` when acting; also the `ETag`.
    pub version: u64,
    pub workflow_version: u32,
    #[schema(format = DateTime)]
    pub filed_at: String,
    #[schema(format = DateTime)]
    pub entered_at: String,
    /// The running deadline; null while it is paused.
    pub deadline: Option<DeadlineDto>,
    /// The state's deadline while it is paused (鉴定、听证): not counted, not overdue.
    pub paused: Option<PausedDto>,
    pub duties: Vec<DutyDto>,
    #[schema(schema_with = crate::contract::refs::parties)]
    pub parties: BTreeMap<String, Vec<String>>,
    pub supervisor: Option<String>,
    pub is_key: bool,
    pub overdue: bool,
    /// The actions the caller may take now.
    #[schema(schema_with = crate::contract::refs::actions)]
    pub allowed_actions: Vec<String>,
    /// What the case was filed with; personal data masked.
    #[schema(schema_with = crate::contract::refs::filing)]
    pub filing: Map<String, Value>,
    /// Present only when personal data was revealed with `?reveal=…&reason=…`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub personal_data: Vec<PersonalDto>,
    /// Present only with `?as_of=…`: the instant this view was folded to (`overdue` is judged
    /// then too).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub as_of: Option<String>,
}

impl CaseDto {
    pub fn new(d: CaseDetail, now: jiff::Timestamp) -> Self {
        let c = &d.record.case;
        Self {
            id: d.record.id.clone(),
            number: d.record.number.clone(),
            kind: c.kind.clone(),
            title: d.record.title.clone(),
            state: c.state.clone(),
            state_title: d.state_title,
            terminal: d.terminal,
            version: c.version,
            workflow_version: c.workflow_version,
            filed_at: c.filed_at.to_string(),
            entered_at: c.entered_at.to_string(),
            deadline: c.deadline.as_ref().map(|sd| DeadlineDto {
                extensions: Some(sd.extensions),
                ..DeadlineDto::from(&sd.deadline)
            }),
            paused: c.paused.as_ref().map(|p| PausedDto {
                since: p.since.to_string(),
                deadline: DeadlineDto {
                    extensions: Some(p.deadline.extensions),
                    ..DeadlineDto::from(&p.deadline.deadline)
                },
            }),
            duties: c
                .duties
                .iter()
                .map(|x| DutyDto {
                    name: x.name.clone(),
                    owed_by: x.owed_by.clone(),
                    member: x.member.clone(),
                    deadline: DeadlineDto::from(&x.deadline),
                })
                .collect(),
            parties: c.parties.clone(),
            is_key: d.supervisor.is_some(),
            supervisor: d.supervisor,
            overdue: c.is_overdue(now),
            allowed_actions: d.allowed_actions,
            filing: d.filing,
            personal_data: d
                .revealed
                .into_iter()
                .map(|r| PersonalDto {
                    field: r.field,
                    seq: r.seq,
                    name: r.person.name.clone(),
                    id_number: r.person.id_number.clone(),
                    phone: r.person.phone.clone(),
                    address: r.person.address.clone(),
                })
                .collect(),
            as_of: None,
        }
    }
}

/// A row of a case list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseSummaryDto {
    pub id: String,
    pub number: Option<String>,
    #[schema(schema_with = crate::contract::refs::kind)]
    pub kind: String,
    pub title: String,
    #[schema(schema_with = crate::contract::refs::state)]
    pub state: String,
    pub is_key: bool,
    pub supervisor: Option<String>,
    #[schema(format = DateTime)]
    pub filed_at: String,
    #[schema(format = Date)]
    pub due_date: Option<String>,
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    pub overdue: bool,
}

impl CaseSummaryDto {
    pub fn new(s: CaseSummary, now: jiff::Timestamp) -> Self {
        Self {
            overdue: s.due_at.is_some_and(|d| now >= d),
            id: s.id,
            number: s.number,
            kind: s.kind,
            title: s.title,
            state: s.state,
            is_key: s.is_key,
            supervisor: s.supervisor,
            filed_at: s.filed_at.to_string(),
            due_date: s.due_date,
            due_at: s.due_at.map(|t| t.to_string()),
        }
    }
}

/// A page of cases.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseSummaryDto>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Pass as `before` to get the page before this one; null on the first page.
    pub prev_cursor: Option<String>,
    /// How many cases the list holds over all its pages.
    pub total: u64,
}

/// How many notices were marked read.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedRead {
    pub marked: u64,
}

/// One entry of a case's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDto {
    pub seq: u64,
    #[schema(schema_with = crate::contract::refs::action)]
    pub action: String,
    pub actor: String,
    #[schema(schema_with = crate::contract::refs::role)]
    pub actor_role: String,
    pub actor_org: Option<String>,
    #[schema(format = DateTime)]
    pub at: String,
    #[schema(schema_with = crate::contract::refs::state_or_null)]
    pub from_state: Option<String>,
    #[schema(schema_with = crate::contract::refs::state)]
    pub to_state: String,
    /// What the action carried; personal data masked.
    #[schema(schema_with = crate::contract::refs::event_payload)]
    pub payload: Map<String, Value>,
    /// The state's deadline after the event.
    pub deadline: Option<DeadlineDto>,
    pub request_id: Option<String>,
}

impl From<StoredEvent> for EventDto {
    fn from(s: StoredEvent) -> Self {
        let e = s.event;
        Self {
            seq: e.seq,
            action: e.action,
            actor: e.actor.user,
            actor_role: e.actor.role.as_str().into(),
            actor_org: e.actor.org,
            at: e.at.to_string(),
            from_state: e.from_state,
            to_state: e.to_state,
            payload: e.payload,
            deadline: e.deadline.as_ref().map(|d| DeadlineDto::from(&d.deadline)),
            request_id: s.meta.request_id,
        }
    }
}

/// A full view of personal data, as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessDto {
    #[schema(format = DateTime)]
    pub at: String,
    pub actor: String,
    #[schema(schema_with = crate::contract::refs::role)]
    pub actor_role: String,
    pub fields: Vec<String>,
    pub reason: String,
}

/// A case's history and who saw its personal data in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryDto {
    pub events: Vec<EventDto>,
    pub personal_data_access: Vec<AccessDto>,
}

impl From<History> for HistoryDto {
    fn from(h: History) -> Self {
        Self {
            events: h.events.into_iter().map(EventDto::from).collect(),
            personal_data_access: h
                .accesses
                .into_iter()
                .map(|a| AccessDto {
                    at: a.at.to_string(),
                    actor: a.actor,
                    actor_role: a.role.as_str().into(),
                    fields: a.fields,
                    reason: a.reason,
                })
                .collect(),
        }
    }
}

/// A reminder in the caller's inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationDto {
    pub id: String,
    /// The case it is about; null for a notice about the system (an administrator's role
    /// changed).
    pub case_id: Option<String>,
    pub title: String,
    pub body: String,
    pub escalate: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub read: bool,
}

impl From<Notification> for NotificationDto {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            case_id: n.case_id,
            title: n.title,
            body: n.body,
            escalate: n.escalate,
            created_at: n.created_at.to_string(),
            read: n.read_at.is_some(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<NotificationDto>,
    pub next_cursor: Option<String>,
    /// How many of the caller's notices are unread, over all pages.
    pub unread: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// One attempt at a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptDto {
    pub attempt: i64,
    #[schema(format = DateTime)]
    pub at: String,
    pub owner: String,
    /// `sent`, `failed` or `dead`.
    pub outcome: String,
    pub error: Option<String>,
}

/// An e-mail or webhook delivery of a reminder.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDto {
    pub id: String,
    pub case_id: String,
    pub channel: String,
    pub address: String,
    /// `pending`, `claimed`, `sent` or `dead`.
    pub status: String,
    pub attempts: Vec<AttemptDto>,
    pub last_error: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl DeliveryDto {
    pub fn new(d: duban_service::Delivery, attempts: Vec<duban_service::Attempt>) -> Self {
        Self {
            id: d.id,
            case_id: d.case_id,
            channel: d.channel,
            address: d.address,
            status: d.status,
            last_error: d.last_error,
            created_at: d.created_at.to_string(),
            attempts: attempts
                .into_iter()
                .map(|a| AttemptDto {
                    attempt: a.attempt,
                    at: a.at.to_string(),
                    owner: a.owner,
                    outcome: a.outcome,
                    error: a.error,
                })
                .collect(),
        }
    }
}
