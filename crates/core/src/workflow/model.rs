//! The validated, immutable form of a workflow definition.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::deadline::Period;
use crate::number::NumberFormat;
use crate::role::Role;

/// One kind of case (suggestion, petition, mediation, or any kind a deployment adds as a file).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workflow {
    pub kind: String,
    /// The definition's version as written in the file; a case keeps the version it was filed
    /// under, together with `digest`, so that editing a file never rewrites history.
    pub version: u32,
    /// A hash of the file's text, to tell two edits with the same version number apart.
    pub digest: String,
    pub title: String,
    /// The file it came from.
    pub source: String,
    pub initial: String,
    /// The named relations a case of this kind has to people and organisations (filer, lead
    /// department, supervisor …). Payload fields fill them; reminders address them.
    pub parties: Vec<String>,
    pub filing: Filing,
    pub states: Vec<State>,
    pub actions: Vec<Action>,
    pub reminders: Vec<ReminderRule>,
    /// How its cases are numbered.
    pub number: NumberFormat,
    /// Who is told, at once, when an action makes them owe the next step.
    pub notices: Vec<NoticeRule>,
    /// What the annual report says of the kind (`[report]`), if the file declares it.
    pub report: Option<super::ReportSection>,
}

/// Who may file a case of this kind and what they must give.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Filing {
    pub roles: Vec<Role>,
    pub payload: Vec<Field>,
    /// What the link to file one is called, for a role (`titles`): staff 登记建议, a deputy
    /// 提出建议. See [`Workflow::filing_title`].
    pub titles: Vec<(Role, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub name: String,
    pub title: String,
    pub terminal: bool,
    pub deadline: Option<DeadlineRule>,
    /// Instead of a period: the deadline falls on the date an earlier step gave in this date
    /// field (the date a department promised to deliver by, 回头看).
    pub due_on: Option<String>,
    pub duties: Vec<Duty>,
    /// Whose move it is while a case is here: a case in this state is in their queue.
    pub waits_on: Vec<Audience>,
    /// Whose step this is in the spine, so that the report blames the right party for a case
    /// overdue here.
    pub stage: Stage,
}

/// The part of the spine a state belongs to. A case past its deadline counts against the
/// party whose step it is: the annual report's 逾期未办结 is the handler's alone, and a reply
/// waiting to be rated, or a case waiting on the office, counts apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The handler owes the answer (a department, a mediator, a deputy resolving directly).
    /// The default: a state's deadline is the handler's unless the file says otherwise.
    #[default]
    Handling,
    /// An answer waits for its rating (the deputy's, the court's).
    Rating,
    /// The office's own step: registering, assigning, deciding a request, supervising.
    Office,
    /// An answer given and rated, whose promise is followed up (回头看): past its date the
    /// delivery is late, not the answer.
    FollowUp,
}

impl Stage {
    pub const NAMES: &[&str] = &["handling", "rating", "office", "follow_up"];

    pub fn parse(s: &str) -> Option<Stage> {
        match s {
            "handling" => Some(Stage::Handling),
            "rating" => Some(Stage::Rating),
            "office" => Some(Stage::Office),
            "follow_up" => Some(Stage::FollowUp),
            _ => None,
        }
    }
}

/// Where a period is counted from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "from", content = "action")]
pub enum Anchor {
    /// The moment the case entered the state.
    Entered,
    /// The latest time the named action was taken on the case. Until it has been taken, the
    /// clock does not run (a mediation's 30 days start when the mediator accepts).
    Action(String),
    /// The state's deadline as first computed, before any extension (only for extension limits).
    Due,
}

/// The time limit a state carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadlineRule {
    pub period: Period,
    pub from: Anchor,
    pub extension: Option<ExtensionRule>,
    /// The rule the time limit comes from (`《信访工作条例》第三十五条`), printed on the
    /// assignment notice beside the deadline.
    pub basis: Option<String>,
}

/// How a state's deadline may be extended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExtensionRule {
    /// The action that grants an extension; its roles say who may grant it. Its payload carries
    /// the new last day in the field `until`.
    pub action: String,
    /// How many extensions a case may get in this state; `None` for no limit.
    pub max_times: Option<u32>,
    /// The latest the deadline may be moved to, counted like a deadline.
    pub limit: Option<(Period, Anchor)>,
}

/// A secondary obligation inside a state, owed by a party (co-handlers' opinions to the lead).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Duty {
    pub name: String,
    pub title: String,
    pub owed_by: String,
    pub period: Period,
    pub from: Anchor,
    /// Taking this action discharges the duty.
    pub done_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    pub name: String,
    pub title: String,
    pub from: Vec<String>,
    /// The target state; `None` keeps the case where it is (recording, extending, marking).
    pub to: Option<String>,
    /// Targets that depend on the state acted from or on payload values; the first match wins.
    pub routes: Vec<Route>,
    pub roles: Vec<Role>,
    /// When not empty, an organisation-bound actor (department, deputy, mediator, court) must
    /// fill one of these parties of the case: only the lead department replies, only the filing
    /// deputy rates. Committee roles (leader, staff, admin) act for the committee and are exempt.
    pub by: Vec<String>,
    pub payload: Vec<Field>,
    /// The action is only open within this period (a department may ask for reassignment
    /// within 15 days of assignment).
    pub within: Option<(Period, Anchor)>,
    /// At most once per case (a mediator's acceptance, which starts the clock: taken again it
    /// would restart it).
    pub once: bool,
    /// For a request (an extension asked for): the actions that answer it. Until one of them
    /// is taken, or the case leaves the state, the request waits on whoever may take them.
    pub answered_by: Vec<String>,
    /// Taken only to answer a pending request that names it in `answered_by` (refusing an
    /// extension nobody asked for would mean nothing).
    pub only_to_answer: bool,
    /// Open only while the case's latest choice of each enum field is the value given (a
    /// mediation's return for filing, once its `outcome` is `failed`).
    pub when: Vec<(String, String)>,
    /// Stops or restarts the state's deadline (a petition waiting for an appraisal): the days
    /// between a pause and its resumption are not counted.
    pub clock: Option<Clock>,
    /// Open only while each of these parties is filled: a supervising leader's activities are
    /// recorded only on a key suggestion, one with a `supervisor`.
    pub requires: Vec<String>,
    /// When set, only these parties' taking the action moves the case (the lead deputy's
    /// rating decides). Anyone else in `by` who takes it records their part and leaves the
    /// case in its state, once, while they owe a duty of the state that it discharges (each
    /// co-signer rates each reply). Committee roles, bound to no party, decide.
    pub decided_by: Vec<String>,
    /// May be taken from a signed link in a notice, without signing in: each person in `by`
    /// gets a link of their own, bound to the case, to them and to the state as it was
    /// entered, which works once and only while they may still take it (a deputy rating a
    /// reply from the e-mail).
    pub link: bool,
    /// Records a vote (票决, 满意度测评): its counts are checked against each other and
    /// against everyone entitled to vote, and the result announced against the counts.
    pub vote: Option<Vote>,
}

/// A vote an action records, in integer fields of its payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vote {
    /// The field counting everyone entitled to vote (全体代表, 组成人员): the votes cast
    /// cannot exceed it, and a vote passes with more than half of it.
    pub of: String,
    /// The fields whose votes are for (赞成; 满意 and 基本满意), and those cast otherwise
    /// (反对, 弃权; 不满意).
    pub yes: Vec<String>,
    pub no: Vec<String>,
    /// The enum field announcing the result, and its value for a vote that passes: it must be
    /// that value exactly when the votes for are more than half of `of`.
    pub result: Option<(String, String)>,
}

impl Vote {
    /// Whether `yes` votes pass among `of` entitled to vote: more than half of all of them,
    /// not of those present (a project passes "以全体代表的过半数通过").
    pub fn passes(yes: u64, of: u64) -> bool {
        yes.saturating_mul(2) > of
    }
}

/// What an action does to the clock of the state it is taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// The deadline stops running: no reminder fires and the case is not overdue while paused.
    Pause,
    /// The deadline runs again, its last day moved later by the paused days.
    Resume,
}

impl Clock {
    pub const NAMES: &[&str] = &["pause", "resume"];

    pub fn parse(s: &str) -> Option<Clock> {
        match s {
            "pause" => Some(Clock::Pause),
            "resume" => Some(Clock::Resume),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Clock::Pause => "pause",
            Clock::Resume => "resume",
        }
    }

    /// The action that undoes this one.
    pub fn other(self) -> Clock {
        match self {
            Clock::Pause => Clock::Resume,
            Clock::Resume => Clock::Pause,
        }
    }
}

impl Action {
    /// Where this action leads from `state` with `payload`: a route's target, else `to`, else
    /// the same state.
    pub fn target<'a>(
        &'a self,
        state: &'a str,
        payload: &serde_json::Map<String, serde_json::Value>,
        earlier: &std::collections::BTreeMap<String, String>,
    ) -> &'a str {
        for route in &self.routes {
            let from_ok = route.from.as_deref().is_none_or(|f| f == state);
            // A field the action does not carry is read from what an earlier step chose.
            let when_ok = route.when.iter().all(|(field, value)| {
                let chosen = match payload.get(field) {
                    Some(v) => v.as_str(),
                    None => earlier.get(field).map(String::as_str),
                };
                chosen == Some(value.as_str())
            });
            if from_ok && when_ok {
                return &route.to;
            }
        }
        self.to.as_deref().unwrap_or(state)
    }

    /// Every state this action can lead to from `state`.
    pub fn targets_from<'a>(&'a self, state: &'a str) -> Vec<&'a str> {
        let mut out: Vec<&str> = self
            .routes
            .iter()
            .filter(|r| r.from.as_deref().is_none_or(|f| f == state))
            .map(|r| r.to.as_str())
            .collect();
        // The default applies unless a route without conditions for this state always wins.
        let unconditional = self
            .routes
            .iter()
            .any(|r| r.when.is_empty() && r.from.as_deref().is_none_or(|f| f == state));
        if !unconditional {
            out.push(self.to.as_deref().unwrap_or(state));
        }
        out.dedup();
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    pub from: Option<String>,
    /// Enum fields and the value each must have: the action's payload, or for a field it does
    /// not carry, the latest an earlier step chose (a reply's class, read when it is rated).
    pub when: Vec<(String, String)>,
    pub to: String,
}

/// A payload field an action requires or accepts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub name: String,
    pub ty: FieldType,
    pub required: bool,
    /// For text: the most characters allowed.
    pub max_length: Option<usize>,
    /// The bounds of an integer field (`min`, `max`): a count of people is not negative, a
    /// percentage not above 100.
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// The party this field's value fills on the case (e.g. `lead_department`).
    pub sets: Option<String>,
    /// Required when these enum fields of the same payload have these values (a reason for
    /// 不满意: `required_when = { rating = "dissatisfied" }`).
    pub required_when: Vec<(String, String)>,
    /// For org and orgs: the kind of organisation the codes must name (`department`,
    /// `station`, `court`, `committee`): a station field takes only stations.
    pub org_kind: Option<String>,
    /// For user and users: the roles the named users must have (a co-signer is a deputy, a
    /// supervisor a leader); empty, any user.
    pub user_role: Vec<Role>,
    /// For org: the roles that may name only their own organisation here (a deputy files only
    /// at their own station; staff may file for any).
    pub own_org_for: Vec<Role>,
    /// What people call the field (`title`): its label on forms, pages and the API document.
    /// Without one, the built-in name of its code (`labels::field`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What people call each of an enum's values (`value_titles`); a value without one has
    /// the built-in name of its code (`labels::value`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub value_titles: BTreeMap<String, String>,
}

impl Field {
    /// The field's label: its `title`, else the built-in name of its code.
    pub fn label(&self) -> &str {
        self.title
            .as_deref()
            .unwrap_or_else(|| crate::labels::field(&self.name))
    }

    /// An enum value's label: its title in `value_titles`, else the built-in name of its code.
    pub fn value_label<'a>(&'a self, value: &'a str) -> &'a str {
        self.value_titles
            .get(value)
            .map_or_else(|| crate::labels::value(value), String::as_str)
    }
}

/// The kinds of organisation a field's `org_kind` may name.
pub const ORG_KINDS: &[&str] = &crate::vocabulary::org_kind::ALL;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "values")]
pub enum FieldType {
    Text,
    Integer,
    Boolean,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// One of the listed values.
    Enum(Vec<String>),
    /// An organisation code.
    Org,
    /// A list of organisation codes.
    Orgs,
    /// A user login.
    User,
    /// A list of user logins.
    Users,
    /// A natural person's personal data (name, ID number, phone, address): validated, stored
    /// encrypted apart from the event, and kept in the event only in masked form.
    Person,
    /// A document attached to the case: the id of an attachment (`att_` and 32 hex digits)
    /// uploaded to the same case, or uploaded with the action in the web form.
    File,
}

impl FieldType {
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Enum(_) => "enum",
            FieldType::Org => "org",
            FieldType::Orgs => "orgs",
            FieldType::User => "user",
            FieldType::Users => "users",
            FieldType::Person => "person",
            FieldType::File => "file",
        }
    }
}

/// When a reminder fires, relative to a state's (or duty's) deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "when", content = "days")]
pub enum When {
    /// As soon as the case enters the state.
    Entered,
    /// This many days before the deadline ends.
    BeforeDue(u32),
    /// On the last day itself.
    AtDue,
    /// When the deadline ends.
    Overdue,
    /// When the deadline ends, then again every this many days while the state lasts.
    OverdueEvery(u32),
}

/// Who a reminder goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "to", content = "name")]
pub enum Audience {
    /// Whoever fills that party on the case.
    Party(String),
    /// Everyone with that role (e.g. all committee leaders).
    Role(Role),
}

impl std::fmt::Display for Audience {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Audience::Party(p) => f.write_str(p),
            Audience::Role(r) => write!(f, "role:{r}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReminderRule {
    pub state: String,
    /// The duty whose deadline this rule watches; `None` for the state's own deadline.
    pub duty: Option<String>,
    pub when: When,
    pub notify: Vec<Audience>,
    /// Escalations are shown to leaders as such (overdue items reaching the committee).
    pub escalate: bool,
}

/// A notice of what just happened, to whoever must now act: when `action` is taken (leading
/// to `to`, if given), tell `notify` at once, headed `【title】`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoticeRule {
    /// An action of the workflow, or `file` for a filing.
    pub action: String,
    pub to: Option<String>,
    /// Only when the action's payload chose these enum values (a co-signer's 不满意).
    pub when: Vec<(String, String)>,
    pub title: String,
    pub notify: Vec<Audience>,
    pub escalate: bool,
}

impl Workflow {
    /// What the link to file a case of this kind is called for `role`: the file's `titles`,
    /// else 登记 and the kind's title.
    pub fn filing_title(&self, role: Role) -> String {
        self.filing
            .titles
            .iter()
            .find(|(r, _)| *r == role)
            .map_or_else(|| format!("登记{}", self.title), |(_, t)| t.clone())
    }

    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|s| s.name == name)
    }

    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.name == name)
    }

    /// Actions that can be taken from `state`, in file order.
    /// The field named `name`: the filing's, else the first action's that carries it. Pages
    /// that show a payload by its keys label them through it.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.filing
            .payload
            .iter()
            .chain(self.actions.iter().flat_map(|a| a.payload.iter()))
            .find(|f| f.name == name)
    }

    pub fn actions_from<'a>(&'a self, state: &'a str) -> impl Iterator<Item = &'a Action> + 'a {
        self.actions
            .iter()
            .filter(move |a| a.from.iter().any(|f| f == state))
    }
}
