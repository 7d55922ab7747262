//! duban-storage: the `Store` trait and its SQL implementation on SQLite and PostgreSQL.
//!
//! Every action is one transaction: the event is appended, the projection updated under a
//! version check, the reminders the state machine asked for scheduled or cancelled, and any
//! personal data stored encrypted — all or nothing. All SQL of the project lives in this crate.

mod accounts;
mod admin;
mod attachments;
mod audit;
#[cfg(feature = "bench")]
pub mod bench;
mod contacts;
mod crypto;
mod faults;
mod links;
mod migrate;
mod outbox;
mod private;
mod remask;
mod sealed;
mod sql;
mod unit;

use std::future::Future;

use duban_core::machine::{Case, Event, Transition};
use duban_core::number::NumberFormat;
use duban_core::{Person, Role};
use jiff::Timestamp;

pub use accounts::{Accounts, Credentials, Session, SignInAttempt};
pub use admin::{
    Account, Administration, OrgEntry, OrgQuery, PeopleQuery, RosterImported, RosterPerson,
    UserChange,
};
pub use attachments::{AttachmentInfo, Attachments, NewAttachment};
pub use audit::{Audit, AuditQuery, AuditRecord, GENESIS, Head, Verdict, chain_hash};
pub use contacts::{Audience, Contacts, Recipient};
pub use crypto::{Keyring, key_id};
pub use duban_core::{Org, OrgKind, User};
pub use faults::{Faults, POINTS as FAULT_POINTS};
pub use links::{LinkKey, SignedLink};
pub use migrate::MIGRATIONS;
pub use outbox::{
    Attempt, ClaimedReminder, Delivery, Finish, NewDelivery, Outbox, ReminderOutcome,
};
pub use private::{create_private, write_private};
pub use sql::{Backend, CommitSharing, OnlineCopy, SqlImport, SqlStore, sqlite_file};
pub use unit::{Acted, Acting, Decide, Lookup, Record};

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The case changed since the caller read it: nothing was written.
    #[error("case {id} is at version {actual}, not {expected}: someone else acted first")]
    Conflict {
        id: String,
        expected: u64,
        actual: u64,
    },
    #[error("{what} `{id}` does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("{what} `{id}` already exists")]
    Duplicate { what: &'static str, id: String },
    /// The idempotency key was used before for a different request.
    #[error("idempotency key `{key}` was already used for a different request")]
    IdempotencyMismatch { key: String },
    #[error("personal data: {0}")]
    Crypto(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("database URL: {0}")]
    Url(String),
    /// The database was migrated by a newer binary: serving it could misread what it keeps.
    #[error(
        "the database's schema is at version {database}, newer than this binary's {binary}: run the newer duban, or restore a backup taken before the upgrade"
    )]
    SchemaNewer { database: i64, binary: i64 },
    /// A migration's text differs from what was applied: the schema may not be what the code
    /// expects.
    #[error(
        "migration {version} ({name}) was changed after it was applied to this database: its checksum is {now}, the database recorded {recorded}"
    )]
    MigrationChanged {
        version: i64,
        name: &'static str,
        recorded: String,
        now: String,
    },
    /// A fault injected by a test at a named point.
    #[error("injected fault at {0}")]
    Injected(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Request context recorded with an event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// The request that caused the event, for tracing.
    pub request_id: Option<String>,
    /// Whom the actor acted for (a deputy for a constituent, staff for a department).
    pub on_behalf_of: Option<String>,
}

/// A repeated request with the same key must not file twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub key: String,
    /// A hash of the request body: the same key with a different body is refused.
    pub request_hash: String,
}

/// How a new case is numbered and found: its kind's number format, a number it already has
/// (an imported row's 编号), and the words it is searched by (its title and body).
#[derive(Debug, Clone)]
pub struct Indexing<'a> {
    pub format: &'a NumberFormat,
    /// A number to keep; `None` takes the next of the kind's sequence for the filing's year.
    pub number: Option<String>,
    pub words: String,
}

/// A case to create from the state machine's `file` transition.
#[derive(Debug)]
pub struct NewCase<'a> {
    pub id: String,
    pub title: String,
    pub transition: &'a Transition,
    pub idempotency: Option<Idempotency>,
    pub meta: Meta,
    pub index: Indexing<'a>,
}

/// A case to import whole: its filing and every action after it, as the state machine gave them.
#[derive(Debug)]
pub struct ImportedCase<'a> {
    pub id: String,
    pub title: String,
    pub transitions: &'a [Transition],
    pub index: Indexing<'a>,
}

/// A case written before numbers and search existed, to be numbered and indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unindexed {
    pub id: String,
    pub kind: String,
    pub number: Option<String>,
    /// What it was filed with: the words it is searched by come from here.
    pub filing: serde_json::Map<String, serde_json::Value>,
}

/// The outcome of filing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filed {
    Created {
        id: String,
    },
    /// The same idempotency key and request were seen before: this is that case.
    Replayed {
        id: String,
    },
}

impl Filed {
    pub fn id(&self) -> &str {
        match self {
            Filed::Created { id } | Filed::Replayed { id } => id,
        }
    }
}

/// A case as stored: its id, number, title and projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecord {
    pub id: String,
    /// The number people quote (`建议〔2024〕007号`); `None` only for a case written before
    /// numbers existed and not yet numbered.
    pub number: Option<String>,
    pub title: String,
    pub case: Case,
}

/// A case and what it was filed with: its first event's payload, personal data masked.
pub type CaseAndFiling = (CaseRecord, serde_json::Map<String, serde_json::Value>);

/// An event as stored, with its request context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub case_id: String,
    pub event: Event,
    pub meta: Meta,
}

/// One row of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSummary {
    pub id: String,
    pub number: Option<String>,
    pub kind: String,
    pub title: String,
    pub state: String,
    pub is_key: bool,
    pub filed_at: Timestamp,
    pub due_date: Option<String>,
    pub due_at: Option<Timestamp>,
    pub supervisor: Option<String>,
    /// Whose move it is (logins, organisation codes, `role:NAME`): who holds the case.
    pub awaiting: Vec<String>,
}

/// Who a party list is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartyList {
    /// Cases a deputy filed or co-signed.
    Deputy(String),
    /// Cases a department leads or co-handles, open or closed.
    Department(String),
    /// Cases taken on at a station.
    Station(String),
    /// Mediation cases of a mediator.
    Mediator(String),
    /// Cases a court referred.
    Court(String),
}

/// The lists the application needs, each served by an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseQuery {
    /// A department's open items (as lead or co-handler, or waiting on it in another part of
    /// the case, such as the body answering a petition's 复核), soonest deadline first.
    DepartmentOpen { department: String },
    /// Open items past their deadline at `now`, most overdue first.
    Overdue { now: Timestamp },
    /// Open items due from `from` up to (not including) `until`, soonest first: what falls due
    /// this week.
    DueBetween { from: Timestamp, until: Timestamp },
    /// Key suggestions with their supervising leader, in filing order.
    KeySuggestions,
    /// A deputy's, station's, mediator's or court's cases, in filing order.
    Party(PartyList),
    /// Open cases that wait on any of these members (a login, an organisation code,
    /// `role:NAME`): a person's queue, soonest deadline first.
    Awaiting { members: Vec<String> },
    /// Cases of a kind filed in a year (China time), optionally in one state, in filing order.
    ByKind {
        kind: String,
        year: i16,
        state: Option<String>,
    },
    /// Every case, in filing order (for committee staff).
    All,
}

/// Conditions added to a list query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub kind: Option<String>,
    pub state: Option<String>,
    /// The year of filing, China time.
    pub year: Option<i16>,
    /// Only cases open and past their deadline at this instant.
    pub overdue_at: Option<Timestamp>,
    /// Only key items (with a supervising leader).
    pub key_only: bool,
    /// Only repeat filings: cases whose person has another case of the kind filed in the
    /// twelve months before (重复信访), found by the ID number's blind index.
    pub repeat: bool,
    /// Only cases holding every one of these terms (two characters or more each) in their
    /// number, title or body.
    pub search: Vec<String>,
    /// Only cases on which these members fill these parties (a list narrowed by a department
    /// and a deputy at once).
    pub member_of: Vec<PartyList>,
}

/// The order of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// The list's own: by deadline for the inbox, overdue and due lists, else by filing.
    #[default]
    Natural,
    /// Newest filed first.
    Newest,
    /// Oldest filed first.
    Oldest,
    /// Soonest deadline first (cases without one last).
    Deadline,
}

/// The hot queries whose plans must stay on an index as the tables grow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    List(CaseQuery),
    /// A search over every case, in an order.
    Search {
        terms: Vec<String>,
        order: Order,
    },
    DueReminders {
        now: Timestamp,
    },
    History {
        case_id: String,
    },
    /// The annual report's grouping of a year's cases by their figures.
    FigureGroups {
        kind: String,
        year: i16,
        as_of: Timestamp,
    },
}

/// Where a page starts: after the row with this sort key and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: i64,
    pub id: String,
}

impl Cursor {
    /// An opaque text form for APIs: `KEY.ID`.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.key, self.id)
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let (key, id) = s.split_once('.')?;
        Some(Cursor {
            key: key.parse().ok()?,
            id: id.to_string(),
        })
    }
}

/// A page request: keyset pagination, stable under concurrent inserts, either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The page after this row (in the list's order).
    pub after: Option<Cursor>,
    /// The page before this row; `after` wins when both are given.
    pub before: Option<Cursor>,
    pub limit: u32,
    pub order: Order,
}

impl Page {
    pub fn first(limit: u32) -> Self {
        Self {
            after: None,
            before: None,
            limit,
            order: Order::Natural,
        }
    }
}

/// A page of results, where the pages on either side start, and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub items: Vec<CaseSummary>,
    pub next: Option<Cursor>,
    pub prev: Option<Cursor>,
    /// Every row the list holds, over all its pages.
    pub total: u64,
}

/// A reminder as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReminder {
    pub case_id: String,
    pub key: String,
    pub state: String,
    pub duty: Option<String>,
    pub rule: i64,
    pub fire_at: Timestamp,
    pub due_date: Option<String>,
    pub notify: Vec<String>,
    pub repeat_every_days: Option<i64>,
    pub escalate: bool,
    pub status: String,
    /// A notice's headline (新交办); `None` for a reminder of a deadline.
    pub headline: Option<String>,
}

/// A case's whole history, for reports: what it is and every event, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseHistory {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub number: Option<String>,
    pub workflow_version: u32,
    pub workflow_digest: String,
    pub events: Vec<Event>,
}

/// Cases that count alike in the year's figures (see [`Reporting::figure_groups`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureGroup {
    /// The figures they share, as `duban_core::Figures::key` wrote them.
    pub figures: String,
    /// The state they stood in: whose step an overdue case is late at.
    pub state: String,
    pub cases: u64,
    /// How many of them were open past their deadline at the instant asked about.
    pub overdue: u64,
}

/// A kind's year as [`Reporting::figure_groups`] reads it: the groups of the cases unchanged
/// since the instant, and how many cases it left out (changed after the instant, or with no
/// figures kept), which [`Reporting::each_history`] replays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FigureGroups {
    pub groups: Vec<FigureGroup>,
    pub left_out: u64,
}

/// A decrypted personal-data record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalRecord {
    pub seq: u64,
    pub field: String,
    pub person: Person,
}

/// A bearer token's public description (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub login: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
}

/// A message in someone's reminder inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: String,
    /// A user login.
    pub recipient: String,
    /// The case it is about; `None` for a notice about the system (an administrator's role
    /// changed).
    pub case_id: Option<String>,
    pub reminder_key: Option<String>,
    pub title: String,
    pub body: String,
    pub escalate: bool,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
}

/// One full view of a case's personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub case_id: String,
    pub at: Timestamp,
    pub actor: String,
    pub role: Role,
    pub fields: Vec<String>,
    pub reason: String,
    pub request_id: Option<String>,
}

/// Everything Duban keeps, behind one interface with an implementation per database: one
/// trait per area, each implemented in its own file of `sql/`. Callers write `S: Store`.
pub trait Store:
    Schema + Directory + Cases + Lists + PersonalData + Reporting + Tokens + Inbox + Attachments
{
}

impl<T> Store for T where
    T: Schema + Directory + Cases + Lists + PersonalData + Reporting + Tokens + Inbox + Attachments
{
}

/// The schema and the connection: migrations and a health check.
pub trait Schema: Send + Sync {
    /// Answers when the database does.
    fn ping(&self) -> impl Future<Output = Result<()>> + Send;
    /// Creates or upgrades the schema; safe to run concurrently and repeatedly. Refuses a
    /// database migrated by a newer binary ([`Error::SchemaNewer`]) or one whose applied
    /// migrations differ from this binary's ([`Error::MigrationChanged`]).
    fn migrate(&self) -> impl Future<Output = Result<Vec<i64>>> + Send;
}

/// The directory: organisations and the people who sign in.
pub trait Directory: Send + Sync {
    fn add_org(&self, org: &Org) -> impl Future<Output = Result<()>> + Send;
    fn org(&self, code: &str) -> impl Future<Output = Result<Option<Org>>> + Send;
    fn add_user(&self, user: &User) -> impl Future<Output = Result<()>> + Send;
    fn user(&self, login: &str) -> impl Future<Output = Result<Option<User>>> + Send;
    /// What a code names: an organisation's kind (`org`) or a user's role, or `None` if no
    /// such organisation or user exists. (An action's decision reads codes through the
    /// [`Lookup`] its unit of work gives it instead.)
    fn code_kind(
        &self,
        org: bool,
        code: &str,
    ) -> impl Future<Output = Result<Option<String>>> + Send;
    /// Every organisation's and user's code, name and kind (the organisation kind, or `user`),
    /// for names and station counts in reports.
    fn directory(&self) -> impl Future<Output = Result<Vec<(String, String, String)>>> + Send;
}

/// Cases: filing, acting, reading one case and its history, its reminders, and import.
pub trait Cases: Send + Sync {
    /// An import under way ([`Cases::begin_import`]).
    type Import: Importing;
    /// Creates a case from a `file` transition, with its first event, reminders and personal
    /// data, in one transaction.
    fn file_case(&self, new: NewCase<'_>) -> impl Future<Output = Result<Filed>> + Send;
    /// Records an action: appends the event and updates the projection if the case is still at
    /// `expected_version`, and applies the effects — or writes nothing and reports a conflict.
    fn record_action(
        &self,
        case_id: &str,
        expected_version: u64,
        transition: &Transition,
        meta: &Meta,
    ) -> impl Future<Output = Result<()>> + Send;
    /// An action as one unit of work: reads the case (with the token's user for
    /// [`Acting::Token`]), hands it to `decision`, then records the transition it decided on
    /// under its version, or writes nothing and hands back its refusal, once nothing is held.
    fn act<D: Decide>(
        &self,
        acting: Acting<'_>,
        case_id: &str,
        decision: D,
    ) -> impl Future<Output = Result<Acted<D::Kept, D::Refusal>>> + Send;
    fn case(&self, id: &str) -> impl Future<Output = Result<Option<CaseRecord>>> + Send;
    /// Many cases in one read each thousand ids, in no order; ids not found are left out (the
    /// scheduler reads a batch of reminders' cases at once).
    fn cases(&self, ids: &[String]) -> impl Future<Output = Result<Vec<CaseRecord>>> + Send;
    /// The case's history, oldest first.
    fn events(&self, id: &str) -> impl Future<Output = Result<Vec<StoredEvent>>> + Send;
    /// A case with what it was filed with, in one read.
    fn case_and_filing(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<CaseAndFiling>>> + Send;
    /// What the case was filed with: its first event's payload (personal data masked), read
    /// alone — a case's page needs it on every answer, its whole history only on request.
    fn filing(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<serde_json::Map<String, serde_json::Value>>>> + Send;
    /// The case as it stood at `at`, rebuilt from its events; `None` if not yet filed then.
    fn case_as_of(
        &self,
        id: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<Option<Case>>> + Send;
    /// Pending reminders due at `now`, oldest first.
    fn due_reminders(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredReminder>>> + Send;
    /// Every reminder of a case, in key order.
    fn reminders(&self, case_id: &str) -> impl Future<Output = Result<Vec<StoredReminder>>> + Send;
    /// Writes whole cases (a filing and the actions after it) in one transaction: all or none.
    /// Reminders already due at `now` are left out.
    fn import_cases(
        &self,
        cases: &[ImportedCase<'_>],
        now: Timestamp,
    ) -> impl Future<Output = Result<()>> + Send {
        async move {
            let mut import = self.begin_import(now).await?;
            import.write(cases).await?;
            import.commit().await
        }
    }
    /// Begins an import written slice by slice in one transaction ([`Importing`]), so that a
    /// sheet of any length is held in memory a slice at a time and still written all or none.
    /// Reminders already due at `now` are left out.
    fn begin_import(&self, now: Timestamp) -> impl Future<Output = Result<Self::Import>> + Send;
    /// Which of `numbers` cases of `kind` already have: a re-import must not file them again.
    fn numbers_taken(
        &self,
        kind: &str,
        numbers: &[String],
    ) -> impl Future<Output = Result<Vec<String>>> + Send;
    /// The cases of `kind` that `numbers` name, as (number, id), sorted by number.
    fn numbered(
        &self,
        kind: &str,
        numbers: &[String],
    ) -> impl Future<Output = Result<Vec<(String, String)>>> + Send;
    /// Records decided actions on several cases in one transaction, each under its version:
    /// all of them, or none and the first conflict (an answers sheet).
    fn record_batch(
        &self,
        records: &[crate::unit::Record],
    ) -> impl Future<Output = Result<()>> + Send;
    /// Up to `limit` cases written before numbers and search existed.
    fn unindexed(&self, limit: u32) -> impl Future<Output = Result<Vec<Unindexed>>> + Send;
    /// Numbers a case written before numbers existed (in its filing year's sequence) unless
    /// it has one, and makes it searchable: one transaction.
    fn index_case(&self, id: &str, index: &Indexing<'_>)
    -> impl Future<Output = Result<()>> + Send;
}

/// An import under way: whole cases written slice after slice in one transaction, which holds
/// the writer's turn until it is committed or rolled back. Dropped, it rolls back.
pub trait Importing: Send {
    /// Raises the numbering of `kind` past `numbers`, the numbers the sheet brings, before any
    /// slice is written: a case numbered from the sequence never takes a number a later slice
    /// brings.
    fn reserve(
        &mut self,
        kind: &str,
        format: &NumberFormat,
        numbers: &[String],
    ) -> impl Future<Output = Result<()>> + Send;
    /// Writes `cases`, numbering those that bring no number in filing order.
    fn write(&mut self, cases: &[ImportedCase<'_>]) -> impl Future<Output = Result<()>> + Send;
    /// Makes every slice written durable, and lets the next writer in.
    fn commit(self) -> impl Future<Output = Result<()>> + Send;
    /// Undoes every slice written, and lets the next writer in.
    fn rollback(self) -> impl Future<Output = Result<()>> + Send;
}

/// The lists people work from, keyset-paginated, and their query plans.
pub trait Lists: Send + Sync {
    fn list(&self, query: &CaseQuery, page: &Page) -> impl Future<Output = Result<Listing>> + Send {
        async move {
            self.list_filtered(query, &ListFilter::default(), page)
                .await
        }
    }
    /// A list with further conditions on kind, state or filing year.
    fn list_filtered(
        &self,
        query: &CaseQuery,
        filter: &ListFilter,
        page: &Page,
    ) -> impl Future<Output = Result<Listing>> + Send;
    /// The database's plan for one of the hot queries, for checking that it stays on an index.
    fn explain(&self, query: &Plan) -> impl Future<Output = Result<String>> + Send;
}

/// Constituents' personal data, encrypted, and the record of who saw it in full.
pub trait PersonalData: Send + Sync {
    /// The case's personal data, decrypted.
    fn personal_data(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Vec<PersonalRecord>>> + Send;
    /// Cases naming a person with this ID number (repeat petitions), found by blind index.
    fn cases_by_id_number(
        &self,
        id_number: &str,
    ) -> impl Future<Output = Result<Vec<String>>> + Send;
    /// The earlier filings of the person a case names (重复信访): cases of its kind naming the
    /// same ID number, filed in the twelve months before it, oldest first.
    fn earlier_filings(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Vec<CaseSummary>>> + Send;
    /// How many cases of `kind` filed in `year` (China time) up to `until` are repeat filings.
    fn repeat_filings(
        &self,
        kind: &str,
        year: i16,
        until: Timestamp,
    ) -> impl Future<Output = Result<u64>> + Send;
    /// Records a full view of personal data.
    fn record_access(&self, access: &Access) -> impl Future<Output = Result<()>> + Send;
    /// Who saw a case's personal data, oldest first.
    fn accesses(&self, case_id: &str) -> impl Future<Output = Result<Vec<Access>>> + Send;
}

/// What the annual report and the export read: histories by kind and year, and the figures kept with each case.
pub trait Reporting: Send + Sync {
    /// Every case of `kind` filed in `year` (China time) with its events, in filing order: one
    /// indexed query, for the annual report and exports.
    fn histories(
        &self,
        kind: &str,
        year: i16,
    ) -> impl Future<Output = Result<Vec<CaseHistory>>> + Send;
    /// The same cases, handed to `each` one at a time as the rows stream in: a province's year
    /// is never all in memory at once. With `changed_after`, only the cases that
    /// [`Reporting::figure_groups`] leaves out for that instant: those changed after it, and any
    /// whose figures are not yet kept.
    fn each_history<F>(
        &self,
        kind: &str,
        year: i16,
        changed_after: Option<Timestamp>,
        each: F,
    ) -> impl Future<Output = Result<()>> + Send
    where
        F: FnMut(CaseHistory) + Send;
    /// The cases of `kind` filed in `year` and unchanged since `as_of`, grouped by what they
    /// count for in the year's figures and by state: each group's figures (`Figures::key`) and
    /// state, how many cases share them, and how many of those were open past their deadline
    /// at `as_of`; and how many cases it left out. One scan of an index, however many events
    /// the cases have.
    fn figure_groups(
        &self,
        kind: &str,
        year: i16,
        as_of: Timestamp,
    ) -> impl Future<Output = Result<FigureGroups>> + Send;
    /// The same cases' ratings by deputies (`Case::deputy_ratings`, as JSON), grouped: each
    /// list of ratings and how many cases share it. One scan of an index over the rated cases
    /// only; the lists are few (a deputy, a value), however many cases share them.
    fn rater_groups(
        &self,
        kind: &str,
        year: i16,
        as_of: Timestamp,
    ) -> impl Future<Output = Result<Vec<(String, u64)>>> + Send;
}

/// Bearer tokens for the API, kept as hashes.
pub trait Tokens: Send + Sync {
    /// Stores a token's hash for `login` under a public id.
    fn add_token(
        &self,
        id: &str,
        login: &str,
        token_hash: &str,
        at: Timestamp,
        expires_at: Option<Timestamp>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The user a live token belongs to (not revoked, not expired at `now`, its person and
    /// organisation not disabled), with the token's id.
    fn user_for_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<(User, String)>>> + Send;
    fn tokens(&self, login: &str) -> impl Future<Output = Result<Vec<TokenInfo>>> + Send;
    /// Revokes a token; `false` if there is no live token with that id.
    fn revoke_token(&self, id: &str, at: Timestamp) -> impl Future<Output = Result<bool>> + Send;
}

/// Each person's inbox of reminders and notices.
pub trait Inbox: Send + Sync {
    /// Puts a message in a person's inbox (the scheduler delivers reminders this way).
    fn add_notification(&self, n: &Notification) -> impl Future<Output = Result<()>> + Send;
    /// A person's inbox, newest first; with `unread_only`, what they have not read.
    #[allow(clippy::type_complexity)]
    fn notifications(
        &self,
        recipient: &str,
        page: &Page,
        unread_only: bool,
    ) -> impl Future<Output = Result<(Vec<Notification>, Option<Cursor>)>> + Send;
    /// Marks one of a person's notices read; `false` if they have no such unread notice.
    fn mark_read(
        &self,
        recipient: &str,
        id: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Marks every notice of a person read; how many were unread.
    fn mark_all_read(
        &self,
        recipient: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<u64>> + Send;
    /// Whether a person has a notice with this id (read or not).
    fn has_notification(
        &self,
        recipient: &str,
        id: &str,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// How many notices a person has not read.
    fn unread(&self, recipient: &str) -> impl Future<Output = Result<u64>> + Send;
    /// Every inbox message about a case, to whomever, oldest first (what went out about it).
    fn case_notifications(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Vec<Notification>>> + Send;
}
