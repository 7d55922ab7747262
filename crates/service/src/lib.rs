//! duban-service: the use cases — file, act, list, show, history, reveal — each authorised per
//! object and each one storage transaction.
//!
//! Who may see a case follows from its parties: a department sees cases it leads or co-handles,
//! a deputy the cases they filed, co-signed or that came in at their station, a mediator their
//! mediations, a court the cases it referred; leaders, staff and auditors see all. Which role
//! may take which action comes from the workflow files, checked by the state machine.

mod auth;
pub mod report;
pub mod sheet;
mod signin;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use duban_core::machine::{self, Actor, Case, TransitionError};
use duban_core::vocabulary::{kind, org_kind, party};
use duban_core::workflow::{FieldType, Workflow};
use duban_core::{Calendar, Role, Workflows};
use duban_storage::{
    Access, Attempt, Audit, AuditRecord, CaseAndFiling, CaseQuery, CaseRecord, Cursor, Delivery,
    Filed, Held, Idempotency, ListFilter, Listing, Meta, NewCase, Notification, Outbox, Page,
    PartyList, PersonalRecord, Store, StoredEvent, User,
};
use jiff::Timestamp;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use auth::{hash_token, new_token};
pub use signin::{SignIn, SignInPolicy, WeakPassword, check_password, hash_password};

/// Where "now" comes from: the system clock in service, a fixed one in tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that says what it is told, for tests.
#[derive(Debug)]
pub struct FixedClock(pub std::sync::Mutex<Timestamp>);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A field at fault and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

/// Why a use case did not happen. Each maps to one HTTP status at the edge.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Unknown, or not visible to the caller: the same answer, so existence does not leak.
    #[error("no such case")]
    NotFound,
    /// No such kind of case.
    #[error("no such kind of case (known: {})", known.join(", "))]
    UnknownKind { kind: String, known: Vec<String> },
    /// The caller may see the object but not do this.
    #[error("{detail}")]
    Forbidden { detail: String },
    /// The payload or parameters are wrong; every problem is listed.
    #[error("invalid input: {}", problems.iter().map(|p| format!("{}: {}", p.field, p.problem)).collect::<Vec<_>>().join("; "))]
    Invalid { problems: Vec<FieldProblem> },
    /// The action is not possible now; the open ones are listed.
    #[error("{reason}")]
    NotAllowed {
        action: String,
        reason: String,
        allowed: Vec<String>,
    },
    /// The caller's version is not the case's version: someone acted first.
    #[error("the case is at version {current}; reload it and try again")]
    Stale { current: u64 },
    /// The idempotency key was used for a different request.
    #[error("this idempotency key was already used for a different request")]
    IdempotencyMismatch { key: String },
    #[error(transparent)]
    Storage(#[from] duban_storage::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Who is calling: the user behind the bearer token or session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: User,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor {
            user: self.user.login.clone(),
            role: self.user.role,
            org: self.user.org.clone(),
        }
    }

    fn role(&self) -> Role {
        self.user.role
    }

    fn is_member(&self, case: &Case, party: &str) -> bool {
        case.parties.get(party).is_some_and(|members| {
            members
                .iter()
                .any(|m| *m == self.user.login || self.user.org.as_deref() == Some(m.as_str()))
        })
    }

    /// Whether the caller may see `case` at all.
    pub fn can_see(&self, case: &Case) -> bool {
        match self.role() {
            Role::Leader | Role::Staff | Role::Auditor => true,
            Role::Admin => false,
            Role::Department => party::DEPARTMENTS.iter().any(|p| self.is_member(case, p)),
            Role::Deputy => {
                party::DEPUTY.iter().any(|p| self.is_member(case, p))
                    || self.is_member(case, party::STATION)
            }
            Role::Mediator => self.is_member(case, party::MEDIATORS),
            Role::Court => self.is_member(case, party::COURT) || self.is_member(case, party::FILER),
        }
    }

    /// Whether the caller may see personal data in full (asking, with a reason): staff and
    /// leaders, the deputy who took the case on, and the department that must contact the person.
    pub fn may_reveal(&self, case: &Case) -> bool {
        match self.role() {
            Role::Leader | Role::Staff => true,
            Role::Deputy => self.is_member(case, party::FILER),
            Role::Department => self.is_member(case, party::LEAD_DEPARTMENT),
            Role::Mediator => self.is_member(case, party::MEDIATORS),
            Role::Court | Role::Auditor | Role::Admin => false,
        }
    }
}

/// A request to see personal data in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reveal {
    /// `id_number`, `phone`, `address` (the name is always shown masked unless revealed too:
    /// `name`).
    pub fields: Vec<String>,
    pub reason: String,
}

pub const REVEALABLE: &[&str] = &["name", "id_number", "phone", "address"];

/// Everything the case page and the API show about one case.
#[derive(Debug, Clone)]
pub struct CaseDetail {
    pub record: CaseRecord,
    pub state_title: String,
    pub terminal: bool,
    /// What the case was filed with (personal data masked).
    pub filing: serde_json::Map<String, Value>,
    /// The actions open to the caller now.
    pub allowed_actions: Vec<String>,
    pub supervisor: Option<String>,
    /// Personal data shown in full, when asked for and allowed.
    pub revealed: Vec<PersonalRecord>,
}

/// A case's history and who saw its personal data.
#[derive(Debug, Clone)]
pub struct History {
    pub events: Vec<StoredEvent>,
    pub accesses: Vec<Access>,
}

/// The list filters the API accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    pub kind: Option<String>,
    pub state: Option<String>,
    pub year: Option<i16>,
    pub department: Option<String>,
    pub deputy: Option<String>,
    pub station: Option<String>,
    pub key: bool,
    pub overdue: bool,
    /// A department's open items by deadline, soonest (so the overdue) first, rather than in
    /// filing order.
    pub by_due: bool,
    /// Only open items due from now until this instant, soonest first (leaders, staff, auditors).
    pub due_before: Option<Timestamp>,
    pub after: Option<Cursor>,
    pub limit: u32,
}

/// The use cases over a store.
pub struct Service<S> {
    store: S,
    workflows: Arc<Workflows>,
    calendar: Arc<Calendar>,
    clock: Arc<dyn Clock>,
    /// Woken when an action schedules reminders, so that a sleeping scheduler in this process
    /// looks again at once rather than at its next planned time.
    wake: Option<Arc<tokio::sync::Notify>>,
    sign_in: SignInPolicy,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Service<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// An action decided on: the case as read, its filing, its workflow and the transition.
type Decided<'w> = (
    CaseRecord,
    serde_json::Map<String, Value>,
    &'w Workflow,
    machine::Transition,
);

/// An action as asked for, and the instant its use case read the clock at (once: the
/// decision, the answer and any audit record of a refusal share it).
struct Step<'a> {
    action: &'a str,
    payload: &'a Value,
    expected_version: u64,
    request_id: Option<&'a str>,
    now: Timestamp,
}

impl<'a> Step<'a> {
    /// The action as asked for, at the instant read now from the service's clock.
    fn now<S: Store + Audit>(
        service: &Service<S>,
        action: &'a str,
        payload: &'a Value,
        expected_version: u64,
        request_id: Option<&'a str>,
    ) -> Self {
        Step {
            action,
            payload,
            expected_version,
            request_id,
            now: service.now(),
        }
    }
}

/// Why an action was not taken, and what of it goes into the audit log.
struct Refused {
    error: Error,
    audit: Option<Denial>,
}

/// An authorisation failure to record: what was attempted, on what, and why it was refused.
struct Denial {
    action: String,
    target: String,
    detail: String,
}

impl Refused {
    fn audited(error: Error, action: &str, target: &str, detail: &str) -> Refused {
        Refused {
            error,
            audit: Some(Denial {
                action: action.into(),
                target: target.into(),
                detail: detail.into(),
            }),
        }
    }
}

impl From<Error> for Refused {
    fn from(error: Error) -> Refused {
        Refused { error, audit: None }
    }
}

fn refused(action: &str, e: TransitionError) -> Error {
    use machine::Refusal;
    match e.reason {
        Refusal::InvalidPayload {
            field,
            problem,
            more,
        } => Error::Invalid {
            problems: std::iter::once((field, problem))
                .chain(more)
                .map(|(field, problem)| FieldProblem { field, problem })
                .collect(),
        },
        Refusal::Forbidden { .. } | Refusal::NotAParty { .. } => Error::Forbidden {
            detail: format!(
                "{}; actions open to you now: {}",
                e.reason,
                if e.allowed.is_empty() {
                    "none".into()
                } else {
                    e.allowed.join(", ")
                }
            ),
        },
        reason => Error::NotAllowed {
            action: action.into(),
            reason: reason.to_string(),
            allowed: e.allowed,
        },
    }
}

impl<S: Store + Audit> Service<S> {
    pub fn new(
        store: S,
        workflows: Arc<Workflows>,
        calendar: Arc<Calendar>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            workflows,
            calendar,
            clock,
            wake: None,
            sign_in: SignInPolicy::default(),
        }
    }

    /// Guards web sign-in with `policy` instead of the defaults.
    pub fn with_sign_in_policy(mut self, policy: SignInPolicy) -> Self {
        self.sign_in = policy;
        self
    }

    /// Wakes `notify` whenever an action schedules reminders.
    pub fn with_wakeup(mut self, notify: Arc<tokio::sync::Notify>) -> Self {
        self.wake = Some(notify);
        self
    }

    fn scheduled(&self, t: &machine::Transition) {
        let any = t
            .effects
            .iter()
            .any(|e| matches!(e, machine::Effect::ScheduleReminder(_)));
        if let (true, Some(w)) = (any, &self.wake) {
            w.notify_one();
        }
    }

    /// The store, for the binary that composes the service with the scheduler and the
    /// command line. The HTTP edges never take it: what they need is a use case here.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Records a bearer token that does not work (a security event: where did it come from?),
    /// on a best-effort basis: a failure to record is logged, and the caller answers 401
    /// either way.
    pub async fn token_refused(&self, source: &str, path: &str) {
        let record = AuditRecord {
            at: self.now(),
            actor: "-".into(),
            role: "-".into(),
            source: source.into(),
            action: "auth_failed".into(),
            target: path.into(),
            outcome: "refused".into(),
            detail: "unknown or revoked bearer token".into(),
        };
        if let Err(e) = self.store.audit(&record).await {
            tracing::error!(error = %e, "could not record a failed authentication");
        }
    }

    /// Records a security event. Denials are recorded on a best-effort basis (a failure is
    /// logged); what must be accountable (reveals, exports) propagates the failure instead.
    pub async fn audit(
        &self,
        p: Option<&Principal>,
        action: &str,
        target: &str,
        outcome: &str,
        detail: &str,
    ) -> Result<()> {
        self.audit_at(self.now(), p, action, (target, outcome, detail))
            .await
    }

    /// `audit` at the instant the use case read its clock at: each use case reads it once.
    async fn audit_at(
        &self,
        at: Timestamp,
        p: Option<&Principal>,
        action: &str,
        (target, outcome, detail): (&str, &str, &str),
    ) -> Result<()> {
        let record = AuditRecord {
            at,
            actor: p
                .map(|p| p.user.login.clone())
                .unwrap_or_else(|| "-".into()),
            role: p
                .map(|p| p.user.role.as_str().to_string())
                .unwrap_or_else(|| "-".into()),
            source: "api".into(),
            action: action.into(),
            target: target.into(),
            outcome: outcome.into(),
            detail: detail.into(),
        };
        Ok(self.store.audit(&record).await?)
    }

    async fn audit_denial(
        &self,
        at: Timestamp,
        p: &Principal,
        action: &str,
        target: &str,
        detail: &str,
    ) {
        if let Err(e) = self
            .audit_at(at, Some(p), action, (target, "refused", detail))
            .await
        {
            tracing::error!(error = %e, "could not record an authorisation failure");
        }
    }

    pub fn workflows(&self) -> &Workflows {
        &self.workflows
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    pub fn now(&self) -> Timestamp {
        // Millisecond precision: what the database keeps, so that reads equal writes.
        let now = self.clock.now();
        Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now)
    }

    /// Whether the database answers.
    pub async fn store_ping(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }

    /// The user a bearer token belongs to.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Principal>> {
        Ok(self
            .store
            .user_for_token(&hash_token(token))
            .await?
            .map(|(user, _)| Principal { user }))
    }

    fn workflow(&self, kind: &str) -> Result<&Workflow> {
        self.workflows.get(kind).ok_or_else(|| Error::UnknownKind {
            kind: kind.into(),
            known: self.workflows.kinds().map(str::to_string).collect(),
        })
    }

    /// Organisations and users named in a payload must exist: a typo must not assign a case to
    /// no one. Every unknown reference is reported.
    async fn check_references(
        &self,
        fields: &[duban_core::workflow::Field],
        payload: &Value,
        held: &mut Held,
    ) -> Result<()> {
        let Some(payload) = payload.as_object() else {
            return Ok(()); // not an object: it names no one
        };
        let problems = self
            .unknown_references(fields, payload, &mut BTreeMap::new(), held)
            .await?;
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid { problems })
        }
    }

    /// Every organisation or user code in `payload` that names no one, or an organisation of
    /// another kind than its field takes (a station field takes only stations), one problem
    /// each, read in what `held` holds. The problem names the field, never the code: what was
    /// submitted is not echoed. `seen` remembers what was looked up (keyed by is-organisation
    /// and code), so an import asks the store once per distinct code however many rows name it.
    async fn unknown_references(
        &self,
        fields: &[duban_core::workflow::Field],
        payload: &serde_json::Map<String, Value>,
        seen: &mut BTreeMap<(bool, String), Option<String>>,
        held: &mut Held,
    ) -> std::result::Result<Vec<FieldProblem>, duban_storage::Error> {
        let mut problems = Vec::new();
        for f in fields {
            let is_org = matches!(f.ty, FieldType::Org | FieldType::Orgs);
            if !is_org && !matches!(f.ty, FieldType::User | FieldType::Users) {
                continue;
            }
            let codes: Vec<&str> = match payload.get(&f.name) {
                Some(Value::String(s)) => vec![s.as_str()],
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
                _ => continue,
            };
            for (i, code) in codes.iter().enumerate() {
                let key = (is_org, code.to_string());
                let kind = match seen.get(&key) {
                    Some(k) => k.clone(),
                    None => {
                        let k = self.store.code_kind(held, is_org, code).await?;
                        seen.insert(key, k.clone());
                        k
                    }
                };
                // Which of a list is at fault, by its place, since the code is not repeated.
                let which = if codes.len() > 1 {
                    format!("item {} ", i + 1)
                } else {
                    String::new()
                };
                let problem = match (kind, &f.org_kind) {
                    (None, _) if is_org => format!("{which}names no organisation"),
                    (None, _) => format!("{which}names no user"),
                    (Some(k), Some(wanted)) if is_org && k != *wanted => {
                        format!("{which}names an organisation that is not a {wanted} (it is a {k})")
                    }
                    _ => continue,
                };
                problems.push(FieldProblem {
                    field: f.name.clone(),
                    problem,
                });
            }
        }
        Ok(problems)
    }

    /// Files a case. With an idempotency key, a repeat of the same request returns the first
    /// case (`created` false); the same key with another body is refused.
    #[tracing::instrument(skip_all, fields(kind = kind))]
    pub async fn file(
        &self,
        p: &Principal,
        kind: &str,
        payload: &Value,
        idempotency_key: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<(CaseDetail, bool)> {
        let wf = self.workflow(kind)?;
        let now = self.now();
        let t = machine::file(wf, &self.calendar, &p.actor(), payload, now)
            .map_err(|e| refused("file", e))?;
        self.check_references(&wf.filing.payload, payload, &mut Held::default())
            .await?;
        let title = payload
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| wf.title.clone());
        let idempotency = idempotency_key.map(|key| Idempotency {
            key: key.to_string(),
            request_hash: hex::encode(Sha256::digest(format!("{kind}\n{payload}").as_bytes())),
        });
        let filed = self
            .store
            .file_case(NewCase {
                id: uuid::Uuid::now_v7().to_string(),
                title,
                transition: &t,
                idempotency,
                meta: Meta {
                    request_id: request_id.map(str::to_string),
                    on_behalf_of: None,
                },
            })
            .await
            .map_err(|e| match e {
                duban_storage::Error::IdempotencyMismatch { key } => {
                    Error::IdempotencyMismatch { key }
                }
                other => Error::Storage(other),
            })?;
        let created = matches!(filed, Filed::Created { .. });
        self.scheduled(&t);
        let detail = self.show_at(now, p, filed.id(), None, request_id).await?;
        Ok((detail, created))
    }

    async fn visible(&self, now: Timestamp, p: &Principal, id: &str) -> Result<CaseRecord> {
        match self.store.case(id).await? {
            Some(record) if p.can_see(&record.case) => Ok(record),
            Some(_) => {
                self.audit_denial(now, p, "denied", id, "case out of the caller's reach")
                    .await;
                Err(Error::NotFound)
            }
            None => Err(Error::NotFound),
        }
    }

    /// Takes an action on a case the caller can see, at the version the caller last saw.
    #[tracing::instrument(skip_all, fields(case_id = id, action = action))]
    pub async fn act(
        &self,
        p: &Principal,
        id: &str,
        action: &str,
        payload: &Value,
        expected_version: u64,
        request_id: Option<&str>,
    ) -> Result<CaseDetail> {
        let read = self.store.case_to_act_on(id).await?;
        let step = Step::now(self, action, payload, expected_version, request_id);
        self.act_on(p, read, &step).await
    }

    /// `act` for the holder of a bearer token, checked in the same read as the case: over the
    /// API, acting is the busiest request, and each read is a round trip to the database.
    /// `None` if the token is unknown or revoked.
    #[tracing::instrument(skip_all, fields(case_id = id, action = action))]
    pub async fn act_with_token(
        &self,
        token: &str,
        id: &str,
        action: &str,
        payload: &Value,
        expected_version: u64,
        request_id: Option<&str>,
    ) -> Result<Option<CaseDetail>> {
        let Some((user, found, held)) = self
            .store
            .user_and_case_for_token(&hash_token(token), id)
            .await?
        else {
            return Ok(None);
        };
        let step = Step::now(self, action, payload, expected_version, request_id);
        self.act_on(&Principal { user }, (found, held), &step)
            .await
            .map(Some)
    }

    /// `act` from the case as read (`None`: no such case) and what it was read under
    /// ([`Held`]), whoever read it.
    async fn act_on(
        &self,
        p: &Principal,
        (found, mut held): (Option<CaseAndFiling>, Held),
        step: &Step<'_>,
    ) -> Result<CaseDetail> {
        let decided = self.decide(p, found, &mut held, step).await;
        let (record, filing, wf, t) = match decided {
            Ok(decided) => decided,
            Err(Refused { error, audit }) => {
                // Recording the refusal is a write: on SQLite it waits for the turn `held`
                // holds, so let go of that first.
                drop(held);
                if let Some(d) = audit {
                    self.audit_denial(step.now, p, &d.action, &d.target, &d.detail)
                        .await;
                }
                return Err(error);
            }
        };
        let meta = Meta {
            request_id: step.request_id.map(str::to_string),
            on_behalf_of: None,
        };
        match self
            .store
            .record_held_action(held, &record.id, step.expected_version, &t, &meta)
            .await
        {
            Ok(()) => {}
            Err(duban_storage::Error::Conflict { actual, .. }) => {
                return Err(Error::Stale { current: actual });
            }
            Err(e) => return Err(e.into()),
        }
        self.scheduled(&t);
        // The answer is the transition's case: no need to read back what was just written.
        let record = CaseRecord {
            id: record.id,
            title: record.title,
            case: t.case,
        };
        Ok(self.detail(step.now, p, wf, record, filing, Vec::new()))
    }

    /// What `act_on` is to record, or why not and what of that to audit. Writes nothing, and
    /// reads (the codes the payload names) only in `held`: it runs while the write turn is held.
    async fn decide(
        &self,
        p: &Principal,
        found: Option<CaseAndFiling>,
        held: &mut Held,
        step: &Step<'_>,
    ) -> std::result::Result<Decided<'_>, Refused> {
        let (action, payload) = (step.action, step.payload);
        let (record, filing) = match found {
            Some((record, filing)) if p.can_see(&record.case) => (record, filing),
            Some((record, _)) => {
                return Err(Refused::audited(
                    Error::NotFound,
                    "denied",
                    &record.id,
                    "case out of the caller's reach",
                ));
            }
            None => return Err(Error::NotFound.into()),
        };
        if record.case.version != step.expected_version {
            return Err(Error::Stale {
                current: record.case.version,
            }
            .into());
        }
        let wf = self.workflow(&record.case.kind)?;
        let t = machine::act(
            wf,
            &self.calendar,
            &record.case,
            action,
            payload,
            &p.actor(),
            step.now,
        );
        let t = match t {
            Ok(t) => t,
            Err(e) => {
                return Err(match refused(action, e) {
                    Error::Forbidden { detail } => Refused::audited(
                        Error::Forbidden {
                            detail: detail.clone(),
                        },
                        &format!("act:{action}"),
                        &record.id,
                        &detail,
                    ),
                    other => other.into(),
                });
            }
        };
        if let Some(a) = wf.action(action) {
            self.check_references(&a.payload, payload, held).await?;
        }
        Ok((record, filing, wf, t))
    }

    /// One case as the caller may see it; with `reveal`, personal data in full (recorded).
    #[tracing::instrument(skip_all, fields(case_id = id))]
    pub async fn show(
        &self,
        p: &Principal,
        id: &str,
        reveal: Option<&Reveal>,
        request_id: Option<&str>,
    ) -> Result<CaseDetail> {
        self.show_at(self.now(), p, id, reveal, request_id).await
    }

    /// `show` at the instant its use case read the clock at.
    async fn show_at(
        &self,
        now: Timestamp,
        p: &Principal,
        id: &str,
        reveal: Option<&Reveal>,
        request_id: Option<&str>,
    ) -> Result<CaseDetail> {
        let record = self.visible(now, p, id).await?;
        let wf = self.workflow(&record.case.kind)?;
        let mut revealed = Vec::new();
        if let Some(r) = reveal {
            let mut problems = Vec::new();
            for f in &r.fields {
                if !REVEALABLE.contains(&f.as_str()) {
                    problems.push(FieldProblem {
                        field: "reveal".into(),
                        problem: format!(
                            "names a field that is not personal data (one of: {})",
                            REVEALABLE.join(", ")
                        ),
                    });
                }
            }
            if r.reason.trim().chars().count() < 2 {
                problems.push(FieldProblem {
                    field: "reason".into(),
                    problem: "say why you need to see personal data in full".into(),
                });
            }
            if !problems.is_empty() {
                return Err(Error::Invalid { problems });
            }
            if !p.may_reveal(&record.case) {
                return Err(Error::Forbidden {
                    detail: format!(
                        "role `{}` may not see personal data in full on this case",
                        p.role()
                    ),
                });
            }
            let wanted: BTreeSet<&str> = r.fields.iter().map(String::as_str).collect();
            for mut rec in self.store.personal_data(id).await? {
                let person = &mut rec.person;
                if !wanted.contains("name") {
                    person.name = duban_core::person::mask_name(&person.name);
                }
                if !wanted.contains("id_number") {
                    person.id_number = person
                        .id_number
                        .as_deref()
                        .map(duban_core::person::mask_id_number);
                }
                if !wanted.contains("phone") {
                    person.phone = person.phone.as_deref().map(duban_core::person::mask_phone);
                }
                if !wanted.contains("address") {
                    person.address = person
                        .address
                        .as_deref()
                        .map(duban_core::person::mask_address);
                }
                revealed.push(rec);
            }
            self.store
                .record_access(&Access {
                    case_id: id.to_string(),
                    at: now,
                    actor: p.user.login.clone(),
                    role: p.role(),
                    fields: wanted.iter().map(|s| s.to_string()).collect(),
                    reason: r.reason.trim().to_string(),
                    request_id: request_id.map(str::to_string),
                })
                .await?;
            let why = format!("fields {}; reason: {}", r.fields.join(","), r.reason.trim());
            self.audit_at(now, Some(p), "reveal", (id, "ok", &why))
                .await?;
        }
        let filing = self.store.filing(id).await?.unwrap_or_default();
        Ok(self.detail(now, p, wf, record, filing, revealed))
    }

    /// The page's view of a case the caller may see.
    fn detail(
        &self,
        now: Timestamp,
        p: &Principal,
        wf: &Workflow,
        record: CaseRecord,
        filing: serde_json::Map<String, Value>,
        revealed: Vec<PersonalRecord>,
    ) -> CaseDetail {
        let state = wf.state(&record.case.state);
        CaseDetail {
            state_title: state.map(|s| s.title.clone()).unwrap_or_default(),
            terminal: state.is_some_and(|s| s.terminal),
            allowed_actions: machine::allowed_actions(
                wf,
                &record.case,
                &p.actor(),
                now,
                &self.calendar,
            ),
            supervisor: record
                .case
                .parties
                .get(party::SUPERVISOR)
                .and_then(|s| s.first())
                .cloned(),
            filing,
            revealed,
            record,
        }
    }

    /// A case's history and the record of who saw its personal data.
    #[tracing::instrument(skip_all, fields(case_id = id))]
    pub async fn history(&self, p: &Principal, id: &str) -> Result<History> {
        self.visible(self.now(), p, id).await?;
        Ok(History {
            events: self.store.events(id).await?,
            accesses: self.store.accesses(id).await?,
        })
    }

    /// The cases the caller may list, narrowed by the parameters. Asking for someone else's
    /// list (another department's, another deputy's) is refused, not silently emptied.
    #[tracing::instrument(skip_all)]
    pub async fn list(&self, p: &Principal, params: &ListParams) -> Result<Listing> {
        let now = self.now();
        let result = self.list_within_reach(now, p, params).await;
        if let Err(Error::Forbidden { detail }) = &result {
            self.audit_denial(now, p, "list", "cases", detail).await;
        }
        result
    }

    async fn list_within_reach(
        &self,
        now: Timestamp,
        p: &Principal,
        params: &ListParams,
    ) -> Result<Listing> {
        let forbid = |detail: &str| {
            Err(Error::Forbidden {
                detail: detail.into(),
            })
        };
        let own_org = p.user.org.clone().unwrap_or_default();
        let base = match p.role() {
            Role::Admin => return forbid("administrators manage accounts, not cases"),
            Role::Leader | Role::Staff | Role::Auditor => {
                if let Some(until) = params.due_before {
                    CaseQuery::DueBetween { from: now, until }
                } else if let (Some(d), true) = (&params.department, params.by_due) {
                    CaseQuery::DepartmentOpen {
                        department: d.clone(),
                    }
                } else if let Some(d) = &params.department {
                    CaseQuery::Party(PartyList::Department(d.clone()))
                } else if let Some(d) = &params.deputy {
                    CaseQuery::Party(PartyList::Deputy(d.clone()))
                } else if let Some(s) = &params.station {
                    CaseQuery::Party(PartyList::Station(s.clone()))
                } else if params.overdue {
                    CaseQuery::Overdue { now }
                } else if params.key {
                    CaseQuery::KeySuggestions
                } else {
                    CaseQuery::All
                }
            }
            Role::Department => {
                if params.department.as_ref().is_some_and(|d| *d != own_org)
                    || params.deputy.is_some()
                    || params.station.is_some()
                {
                    return forbid("a department lists only its own cases");
                }
                if params.by_due {
                    CaseQuery::DepartmentOpen {
                        department: own_org,
                    }
                } else {
                    CaseQuery::Party(PartyList::Department(own_org))
                }
            }
            Role::Deputy => {
                if params.department.is_some()
                    || params.deputy.as_ref().is_some_and(|d| *d != p.user.login)
                {
                    return forbid("a deputy lists only their own cases and their station's");
                }
                match &params.station {
                    Some(s) if *s == own_org => CaseQuery::Party(PartyList::Station(s.clone())),
                    Some(_) => return forbid("a deputy lists only their own station's cases"),
                    None => CaseQuery::Party(PartyList::Deputy(p.user.login.clone())),
                }
            }
            Role::Mediator | Role::Court => {
                if params.department.is_some()
                    || params.deputy.is_some()
                    || params.station.is_some()
                {
                    return forbid("this role lists only its own cases");
                }
                if p.role() == Role::Mediator {
                    CaseQuery::Party(PartyList::Mediator(p.user.login.clone()))
                } else {
                    CaseQuery::Party(PartyList::Court(own_org))
                }
            }
        };
        let filter = ListFilter {
            kind: params.kind.clone(),
            state: params.state.clone(),
            year: params.year,
            overdue_at: (params.overdue && !matches!(base, CaseQuery::Overdue { .. }))
                .then_some(now),
            key_only: params.key && !matches!(base, CaseQuery::KeySuggestions),
        };
        let page = Page {
            after: params.after.clone(),
            limit: params.limit.clamp(1, 200),
        };
        Ok(self.store.list_filtered(&base, &filter, &page).await?)
    }

    /// The year's figures as of `as_of` (default now), with the names of organisations and
    /// people for display. For leaders, staff and auditors.
    pub async fn annual_report(
        &self,
        p: &Principal,
        year: i16,
        as_of: Option<Timestamp>,
    ) -> Result<(report::AnnualReport, BTreeMap<String, String>)> {
        if !matches!(p.role(), Role::Leader | Role::Staff | Role::Auditor) {
            return Err(Error::Forbidden {
                detail: "the annual report is for leaders, staff and auditors".into(),
            });
        }
        self.report(year, as_of).await
    }

    /// The report without a caller, for the command line (which runs with the operator's
    /// authority over the database).
    pub async fn report(
        &self,
        year: i16,
        as_of: Option<Timestamp>,
    ) -> Result<(report::AnnualReport, BTreeMap<String, String>)> {
        if !(2000..=2100).contains(&year) {
            return Err(Error::Invalid {
                problems: vec![FieldProblem {
                    field: "year".into(),
                    problem: "must be a year from 2000 to 2100".into(),
                }],
            });
        }
        let as_of = as_of.unwrap_or_else(|| self.now());
        // Suggestions, petitions, mediation first, as the work report orders them.
        let mut workflows: Vec<&Workflow> = self.workflows.iter().collect();
        workflows.sort_by_key(|wf| kind::report_order(&wf.kind));
        // The store keeps each case's figures as it acts, so the cases unchanged since the
        // instant come grouped by their figures; only those changed after it are replayed
        // from their events up to it, one at a time as the rows arrive (memory stays flat).
        // Stored times are whole milliseconds: so is the instant, or the two ways could
        // disagree about a deadline that ends within the same millisecond.
        let as_of = Timestamp::from_millisecond(as_of.as_millisecond()).unwrap_or(as_of);
        let mut tally = report::Tally::new(year, as_of);
        for wf in workflows {
            tally.begin_kind(&wf.kind, &wf.title);
            for g in self.store.figure_groups(&wf.kind, year, as_of).await? {
                let figures = duban_core::Figures::from_key(&g.figures).map_err(|e| {
                    duban_storage::Error::Corrupt(format!("case figures {}: {e}", g.figures))
                })?;
                tally.count(&figures, g.cases, g.overdue);
            }
            self.store
                .each_history(&wf.kind, year, Some(as_of), |h| tally.add(&h))
                .await?;
        }
        let directory = self.store.directory().await?;
        let mut r = tally.finish();
        r.petitions.stations = directory
            .iter()
            .filter(|(_, _, kind)| kind == org_kind::STATION)
            .count() as u64;
        let names = directory
            .into_iter()
            .map(|(code, name, _)| (code, name))
            .collect();
        Ok((r, names))
    }

    /// Imports spreadsheet rows of `kind` through the state machine: every row is checked first
    /// (fields, references, the whole history of the row), and then all are written in one
    /// transaction — or, if any row is bad, none, with every bad row named.
    #[tracing::instrument(skip_all, fields(kind = kind, rows = rows.len()))]
    pub async fn import(
        &self,
        kind: &str,
        rows: &[sheet::Row],
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<usize, Vec<sheet::RowError>> {
        let wf = self.workflow(kind).map_err(|e| {
            vec![sheet::RowError {
                row: 0,
                column: "kind".into(),
                problem: e.to_string(),
            }]
        })?;
        // One instant for the whole import: what counts as "in the future", and which
        // reminders have already passed.
        let now = self.now();
        let mut errors = Vec::new();
        let mut planned = Vec::new();
        let mut known: BTreeMap<String, Option<(Role, Option<String>)>> =
            std::collections::BTreeMap::new();
        let mut references = BTreeMap::new();
        let storage_error = |e: duban_storage::Error| {
            vec![sheet::RowError {
                row: 0,
                column: String::new(),
                problem: format!("database: {e}"),
            }]
        };
        for (i, row) in rows.iter().enumerate() {
            // Who filed it must exist; their role is the filing role.
            let filer = row
                .cells
                .get("filer")
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            if !filer.is_empty() && !known.contains_key(&filer) {
                let user = self.store.user(&filer).await.map_err(storage_error)?;
                known.insert(filer.clone(), user.map(|u| (u.role, u.org)));
            }
            let role = known.get(&filer).cloned().flatten();
            if !filer.is_empty() && role.is_none() {
                errors.push(sheet::RowError {
                    row: row.number,
                    column: "filer".into(),
                    problem: "names no user".into(),
                });
                continue;
            }
            match sheet::plan_row(wf, &self.calendar, row, role, now) {
                Ok(ts) => {
                    // Organisations and users the row names must exist (looked up once each).
                    for t in &ts {
                        let fields = if t.event.action == machine::FILE {
                            &wf.filing.payload
                        } else {
                            match wf.action(&t.event.action) {
                                Some(a) => &a.payload,
                                None => continue,
                            }
                        };
                        let prefix = if t.event.action == machine::FILE {
                            String::new()
                        } else {
                            format!("{}.", t.event.action)
                        };
                        let problems = self
                            .unknown_references(
                                fields,
                                &t.event.payload,
                                &mut references,
                                &mut Held::default(),
                            )
                            .await
                            .map_err(storage_error)?;
                        errors.extend(problems.into_iter().map(|p| sheet::RowError {
                            row: row.number,
                            column: format!("{prefix}{}", p.field),
                            problem: p.problem,
                        }));
                    }
                    planned.push((row, ts));
                }
                Err(e) => errors.extend(e),
            }
            progress(i + 1);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let cases: Vec<duban_storage::ImportedCase<'_>> = planned
            .iter()
            .map(|(row, ts)| duban_storage::ImportedCase {
                id: uuid::Uuid::now_v7().to_string(),
                title: row
                    .cells
                    .get("title")
                    .cloned()
                    .unwrap_or_else(|| wf.title.clone()),
                transitions: ts,
            })
            .collect();
        self.store
            .import_cases(&cases, now)
            .await
            .map_err(storage_error)?;
        Ok(cases.len())
    }

    /// Every case of `kind` filed in `year`, as spreadsheet rows in the import layout, personal
    /// data masked.
    pub async fn export(
        &self,
        kind: &str,
        year: i16,
    ) -> Result<(Vec<String>, Vec<BTreeMap<String, String>>)> {
        let wf = self.workflow(kind)?;
        let rows = self
            .store
            .histories(kind, year)
            .await?
            .iter()
            .map(|h| sheet::export_row(wf, &h.events))
            .collect();
        Ok((sheet::columns(wf), rows))
    }

    /// The caller's reminder inbox, newest first.
    pub async fn notifications(
        &self,
        p: &Principal,
        page: &Page,
    ) -> Result<(Vec<Notification>, Option<Cursor>)> {
        Ok(self.store.notifications(&p.user.login, page).await?)
    }
}

/// Reminder deliveries, for administrators: which failed for good, and retrying them.
impl<S: Store + Outbox + Audit> Service<S> {
    fn admin_only(p: &Principal) -> Result<()> {
        if p.role() == Role::Admin {
            Ok(())
        } else {
            Err(Error::Forbidden {
                detail: "deliveries are for administrators".into(),
            })
        }
    }

    /// Deliveries, optionally in one status (`dead` for those that gave up), with their attempts.
    pub async fn deliveries(
        &self,
        p: &Principal,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(Delivery, Vec<Attempt>)>> {
        Self::admin_only(p)?;
        if let Some(s) = status
            && !["pending", "claimed", "sent", "dead"].contains(&s)
        {
            return Err(Error::Invalid {
                problems: vec![FieldProblem {
                    field: "status".into(),
                    problem: "one of pending, claimed, sent, dead".into(),
                }],
            });
        }
        let mut out = Vec::new();
        for d in self.store.deliveries(status, limit.clamp(1, 500)).await? {
            let attempts = self.store.attempts(&d.id).await?;
            out.push((d, attempts));
        }
        Ok(out)
    }

    /// Puts a dead delivery back in the queue.
    pub async fn retry_delivery(&self, p: &Principal, id: &str) -> Result<()> {
        Self::admin_only(p)?;
        if self.store.retry_delivery(id, self.now()).await? {
            if let Some(w) = &self.wake {
                w.notify_one();
            }
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }
}
