//! duban-service: the use cases — file, act, list, show, history, reveal — each authorised per
//! object and each one storage transaction.
//!
//! Who may see a case follows from its parties: a department sees cases it leads or co-handles,
//! a deputy the cases they filed, co-signed or that came in at their station, a mediator their
//! mediations, a court the cases it referred; leaders, staff and auditors see all. Which role
//! may take which action comes from the workflow files, checked by the state machine.

mod admin;
mod attachments;
mod auth;
mod authz;
mod case_sheets;
mod cases;
mod clock;
mod deliveries;
mod error;
mod exchange;
pub mod filetype;
mod find;
mod links;
mod references;
mod repeats;
pub mod report;
mod requests;
pub mod roster;
pub mod sheet;
pub mod sheet_names;
pub mod sheet_read;
mod signin;
pub mod xlsx;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use duban_core::machine::{self, Actor, Case, TransitionError};
use duban_core::vocabulary::{kind, org_kind, party};
use duban_core::workflow::{FieldType, Workflow};
use duban_core::{Calendar, Role, Workflows};
use duban_storage::{
    Access, Acted, Acting, Audit, CaseAndFiling, CaseQuery, CaseRecord, Decide, Filed, Idempotency,
    ListFilter, Lookup, Meta, NewAttachment, NewCase, Outbox, PartyList, PersonalRecord, Record,
    Store, User,
};
use jiff::Timestamp;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use admin::{NewOrg, NewPerson, OrgChange, PersonChange, admin_only, is_code};
pub use attachments::{AttachmentPolicy, Upload};
pub use auth::{Caller, Credential, hash_token, new_token};
pub use authz::Principal;
pub use cases::as_of_instant;
pub use clock::{Clock, FixedClock, SystemClock};
pub use deliveries::{SentNotice, SentOutcome};
pub use duban_storage::AttachmentInfo;
/// What the HTTP edges show, as storage gives it: they take these from here, not from storage,
/// and so depend on the service alone.
pub use duban_storage::{
    Account, Attempt, AuditQuery, AuditRecord, CaseSummary, Cursor, Delivery, Listing,
    Notification, Order, OrgEntry, OrgQuery, Page, PeopleQuery, RosterImported, SqlStore,
    StoredEvent, TokenInfo, Verdict,
};
use error::refused;
pub use error::{Error, FieldProblem, Result};
pub use exchange::Exported;
pub use find::{search_terms, search_words};
pub use links::{LinkError, LinkOffer};
use references::Reads;
pub use repeats::EarlierFiling;
pub use requests::{PendingRequest, pending_requests};
pub use signin::{SignIn, SignInPolicy, WeakPassword, check_password, hash_password};

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
    /// Whom this view is for (its allowed actions are theirs): the login of the caller.
    pub viewer: String,
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
    /// Only repeat filings (重复信访): for the committee, and for a deputy's own list.
    pub repeat: bool,
    /// A department's open items by deadline, soonest (so the overdue) first, rather than in
    /// filing order.
    pub by_due: bool,
    /// Only open items due from now until this instant, soonest first (leaders, staff, auditors).
    pub due_before: Option<Timestamp>,
    /// Words to find in the number, title or body (each two characters or more).
    pub q: Option<String>,
    pub order: Order,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
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
    attachments: AttachmentPolicy,
    /// The key signed links open under; `None` opens none.
    links: Option<duban_storage::LinkKey>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Service<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("store", &self.store)
            .finish_non_exhaustive()
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
            attachments: AttachmentPolicy::default(),
            links: None,
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
    /// on a best-effort basis: a failure to record is logged, and the caller is refused either
    /// way.
    async fn token_refused(&self, c: &Credential) -> Error {
        let record = AuditRecord {
            at: self.now(),
            actor: "-".into(),
            role: "-".into(),
            source: c.source.clone(),
            action: "auth_failed".into(),
            target: c.path.clone(),
            outcome: "refused".into(),
            detail: "unknown or revoked bearer token".into(),
        };
        if let Err(e) = self.store.audit(&record).await {
            tracing::error!(error = %e, "could not record a failed authentication");
        }
        Error::Unauthenticated
    }

    /// Records a security event. Denials are recorded on a best-effort basis (a failure is
    /// logged); what must be accountable (reveals, exports) propagates the failure instead.
    #[tracing::instrument(skip_all)]
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
        let operator = p.is_some_and(Principal::is_operator);
        let record = AuditRecord {
            at,
            actor: match p {
                Some(p) if operator => p.user.name.clone(),
                Some(p) => p.user.login.clone(),
                None => "-".into(),
            },
            role: match p {
                Some(_) if operator => "operator".into(),
                Some(p) => p.user.role.as_str().to_string(),
                None => "-".into(),
            },
            source: if operator { "cli" } else { "api" }.into(),
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

    /// The user a bearer token belongs to; a token that does not work is recorded and
    /// refused ([`Error::Unauthenticated`]).
    pub async fn authenticate(&self, c: &Credential) -> Result<Principal> {
        match self
            .store
            .user_for_token(&hash_token(&c.token), self.now())
            .await?
        {
            Some((user, _)) => Ok(Principal { user }),
            None => Err(self.token_refused(c).await),
        }
    }

    fn workflow(&self, kind: &str) -> Result<&Workflow> {
        self.workflows.get(kind).ok_or_else(|| Error::UnknownKind {
            kind: kind.into(),
            known: self.workflows.kinds().map(str::to_string).collect(),
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

    /// The year's figures as of `as_of` (default now), with the names of organisations and
    /// people for display. For leaders, staff and auditors.
    #[tracing::instrument(skip_all)]
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
    #[tracing::instrument(skip_all)]
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
            tally.begin_kind(wf);
            let kept = self.store.figure_groups(&wf.kind, year, as_of).await?;
            for g in kept.groups {
                let figures = duban_core::Figures::from_key(&g.figures).map_err(|e| {
                    duban_storage::Error::Corrupt(format!("case figures {}: {e}", g.figures))
                })?;
                tally.count(&figures, &g.state, g.cases, g.overdue);
            }
            // 代表满意度: the ratings kept with the same cases, grouped by who gave which.
            for (raters, cases) in self.store.rater_groups(&wf.kind, year, as_of).await? {
                let ratings: Vec<duban_core::machine::DeputyRating> = serde_json::from_str(&raters)
                    .map_err(|e| {
                        duban_storage::Error::Corrupt(format!("case raters {raters}: {e}"))
                    })?;
                for r in ratings {
                    tally.rated(&r.by, &r.rating, r.co, cases);
                }
            }
            // Only when the scan above left some out: as of now, usually none.
            if kept.left_out > 0 {
                self.store
                    .each_history(&wf.kind, year, Some(as_of), |h| tally.add(&h))
                    .await?;
            }
        }
        let directory = self.store.directory().await?;
        let mut r = tally.finish();
        r.petitions.stations = directory
            .iter()
            .filter(|(_, _, kind)| kind == org_kind::STATION)
            .count() as u64;
        // Found by the blind index of ID numbers, which no replay of events holds: counted
        // the same way as of any instant, over the cases filed by then.
        r.petitions.repeat = self
            .store
            .repeat_filings(kind::PETITION, year, as_of)
            .await?;
        // Any other kind whose sentence states its repeat filings (`{repeat}`).
        for s in &mut r.sections {
            if s.kind != kind::PETITION && s.states_repeat() {
                s.repeat = self.store.repeat_filings(&s.kind, year, as_of).await?;
            }
        }
        r.state_sections();
        let names = directory
            .into_iter()
            .map(|(code, name, _)| (code, name))
            .collect();
        Ok((r, names))
    }

    /// The caller's inbox of notices and reminders, newest first; with `unread_only`, only
    /// what they have not read.
    #[tracing::instrument(skip_all)]
    pub async fn notifications(
        &self,
        p: &Principal,
        page: &Page,
        unread_only: bool,
    ) -> Result<(Vec<Notification>, Option<Cursor>)> {
        Ok(self
            .store
            .notifications(&p.user.login, page, unread_only)
            .await?)
    }

    /// Marks one of the caller's notices read. Someone else's notice is not found, as one
    /// that does not exist; one already read stays read.
    #[tracing::instrument(skip_all)]
    pub async fn mark_read(&self, p: &Principal, id: &str) -> Result<()> {
        if self.store.mark_read(&p.user.login, id, self.now()).await? {
            return Ok(());
        }
        if self.store.has_notification(&p.user.login, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }

    /// Marks every notice of the caller read; how many were unread.
    #[tracing::instrument(skip_all)]
    pub async fn mark_all_read(&self, p: &Principal) -> Result<u64> {
        Ok(self.store.mark_all_read(&p.user.login, self.now()).await?)
    }

    /// How many notices the caller has not read.
    pub async fn unread(&self, p: &Principal) -> Result<u64> {
        Ok(self.store.unread(&p.user.login).await?)
    }

    /// What waits on the caller (待我处理): the open cases whose move is theirs — as the
    /// person, for their organisation, or by their role — soonest deadline first.
    #[tracing::instrument(skip_all)]
    pub async fn queue(&self, p: &Principal, page: &Page) -> Result<Listing> {
        if p.role() == Role::Admin {
            return Err(Error::Forbidden {
                detail: "administrators manage accounts, not cases".into(),
            });
        }
        let mut members = vec![p.user.login.clone()];
        members.extend(p.user.org.clone());
        members.push(machine::role_member(p.role()));
        Ok(self
            .store
            .list_filtered(
                &CaseQuery::Awaiting { members },
                &ListFilter::default(),
                page,
            )
            .await?)
    }
}
