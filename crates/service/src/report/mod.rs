//! The annual report: the year's figures computed from the records, as of any instant.
//!
//! Each case counts for its [`Figures`]: kept in its projection as events are applied, so that
//! the store can hand over the year's cases grouped by their figures, and worked out again by
//! replaying the events up to the instant for cases changed since. Nothing is stored as a
//! total. The general figures use the spine every workflow shares (received → assigned → handled →
//! evaluated, and a `rating` field on evaluations); every other section, petitions' and
//! mediation's included, is declared in its workflow file and counted by `sections.rs`.

use std::collections::BTreeMap;

use duban_core::Figures;
use duban_core::machine::{Case, DeputyRating};
use duban_core::vocabulary::kind;
use duban_core::workflow::{Stage, Workflow};
use duban_storage::CaseHistory;
use jiff::Timestamp;
use serde::Serialize;

mod render;
mod sections;
pub use render::{markdown, workbook};
pub use sections::{Section, SectionCount};

/// The figures of one kind of case.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KindFigures {
    pub kind: String,
    pub title: String,
    pub filed: u64,
    /// Ever assigned to a department or mediator.
    pub assigned: u64,
    /// Answered (reached `handled`) at least once.
    pub answered: u64,
    /// Answered before the deadline in force at the time.
    pub answered_on_time: u64,
    pub answered_late: u64,
    /// Still open at the instant and past the deadline of the handler's own step (a state of
    /// `stage = "handling"`): the late answers still owed.
    pub open_overdue: u64,
    /// Answered, and the rating is past its deadline (a state of `stage = "rating"`): late, but
    /// not the handler's delay.
    pub rating_overdue: u64,
    /// Past the deadline of the office's own step (`stage = "office"`: registering, naming a
    /// mediator, deciding a request, a leader's supervision).
    pub office_overdue: u64,
    /// `answered_on_time / (answered + open_overdue)`, in per cent: open overdue items count
    /// against it. `None` when there is nothing to count.
    pub on_time_rate: Option<f64>,
    /// Days from the step that started the handler's clock to the first answer (China's
    /// calendar): the median and the 90th percentile by nearest rank over the cases answered.
    /// `None` when none was.
    pub days_to_answer_median: Option<u32>,
    pub days_to_answer_p90: Option<u32>,
    pub evaluated: u64,
    /// Ratings given (each evaluation counts; a reopened case may be rated twice).
    pub satisfied: u64,
    pub basically_satisfied: u64,
    pub dissatisfied: u64,
    /// Sent back at least once by a 不满意 rating.
    pub reopened: u64,
    /// Not closed at the instant.
    pub open: u64,
    /// Answers by the class of the latest (A 已解决或采纳, B 正在解决或列入计划, C 因条件限制
    /// 暂时难以解决, D 留作参考).
    pub by_class: BTreeMap<String, u64>,
    /// B answers whose promise the department reported delivered by the instant (回头看).
    pub b_delivered: u64,
    /// Rated B or C answers still followed up at the instant, and those of them past the date
    /// the department promised (`stage = "follow_up"`).
    pub following: u64,
    pub follow_up_overdue: u64,
    /// Ratings given beside the one that decides (each co-signer of a joint suggestion rates
    /// each reply), by value.
    pub co_ratings: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyFigures {
    pub total: u64,
    /// Closed with the deputy satisfied or basically satisfied, and a B or C answer's promise
    /// reported delivered (回头看).
    pub implemented: u64,
    /// Supervising leader → key suggestions.
    pub by_supervisor: BTreeMap<String, u64>,
    /// The supervising leaders' activities recorded on key suggestions, by their `activity`
    /// (`inspection` 视察, `forum` 座谈会, `supervision_meeting` 督办会, `evaluation_meeting`
    /// 测评会).
    pub activities: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StationRow {
    pub taken_on: u64,
    pub resolved_directly: u64,
    pub transferred: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PetitionFigures {
    /// Deputy homes and liaison stations on record.
    pub stations: u64,
    pub taken_on: u64,
    pub resolved_directly: u64,
    pub transferred: u64,
    /// Petitions whose person, by ID number, had petitioned in the twelve months before
    /// (重复信访).
    pub repeat: u64,
    pub by_station: BTreeMap<String, StationRow>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediatorRow {
    pub cases: u64,
    pub agreement: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediationFigures {
    pub referred: u64,
    pub agreement: u64,
    /// Agreements put to the court for judicial confirmation, and those it confirmed.
    pub judicial_confirmation: u64,
    pub confirmed: u64,
    pub failed: u64,
    /// Failed mediations returned to the court and filed for trial (退回立案).
    pub returned_for_filing: u64,
    pub withdrawn: u64,
    pub ongoing: u64,
    pub by_mediator: BTreeMap<String, MediatorRow>,
}

/// A department's record for one kind, with its denominators.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DepartmentRow {
    pub kind: String,
    pub department: String,
    pub assigned: u64,
    pub answered: u64,
    pub answered_on_time: u64,
    /// As the kind's: overdue at the handler's own step only.
    pub open_overdue: u64,
    pub satisfied: u64,
    pub basically_satisfied: u64,
    pub dissatisfied: u64,
    /// As the kind's: the median and 90th percentile of days to the first answer.
    pub days_to_answer_median: Option<u32>,
    pub days_to_answer_p90: Option<u32>,
    /// Cases it was asked to co-handle (a duty owed by it alone, such as a co-handler's
    /// opinion), the opinions it sent, and those sent by their last day.
    pub co_handled: u64,
    pub co_opinions: u64,
    pub co_opinions_on_time: u64,
    /// As the kind's: its answers by class, and its B answers delivered.
    pub by_class: BTreeMap<String, u64>,
    pub b_delivered: u64,
}

/// The ratings one deputy gave on one kind's replies: those that decided the route (the lead
/// deputy's), those given beside them as a co-signer, and all of them by value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeputyRow {
    pub kind: String,
    /// The deputy's login; the report's names map says who it is.
    pub deputy: String,
    pub ratings: u64,
    pub co_ratings: u64,
    pub satisfied: u64,
    pub basically_satisfied: u64,
    pub dissatisfied: u64,
}

/// How many cases took each number of days to their first answer.
pub type Days = BTreeMap<u32, u64>;

/// The smallest number of days within which at least `share` of the counted cases were
/// answered (nearest rank: the median of 1, 2, 3, 10 is 2); `None` for no cases.
pub fn percentile(days: &Days, share: f64) -> Option<u32> {
    let total: u64 = days.values().sum();
    let rank = ((share * total as f64).ceil() as u64).max(1);
    let mut seen = 0;
    days.iter().find_map(|(d, n)| {
        seen += n;
        (seen >= rank).then_some(*d)
    })
}

/// The year's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnnualReport {
    pub year: i16,
    /// The instant the figures stand at, China time (`2024-12-31 23:59`).
    pub as_of: String,
    pub kinds: Vec<KindFigures>,
    pub key_suggestions: KeyFigures,
    pub petitions: PetitionFigures,
    pub mediation: MediationFigures,
    pub departments: Vec<DepartmentRow>,
    /// Each deputy's ratings of the replies (代表满意度), a co-signer's included.
    pub deputies: Vec<DeputyRow>,
    /// The sections the workflow files declare (`[report]`), in the work report's order.
    pub sections: Vec<Section>,
}

impl AnnualReport {
    /// The petition and mediation figures, read by name from the sections their files declare
    /// (petition.toml and mediation.toml say what each counts), for the API's clients and the
    /// tables that predate the sections.
    fn read_sections(&mut self) {
        let section = |k: &str| self.sections.iter().find(|s| s.kind == k);
        if let Some(s) = section(kind::PETITION) {
            let p = &mut self.petitions;
            p.taken_on = s.count("taken_on");
            p.resolved_directly = s.count("resolved_directly");
            p.transferred = s.count("transferred");
            p.by_station = s.by_member(|n| StationRow {
                taken_on: n("taken_on"),
                resolved_directly: n("resolved_directly"),
                transferred: n("transferred"),
            });
        }
        if let Some(s) = section(kind::MEDIATION) {
            let m = &mut self.mediation;
            m.referred = s.count("referred");
            m.agreement = s.count("agreement");
            m.judicial_confirmation = s.count("judicial_confirmation");
            m.confirmed = s.count("confirmed");
            m.failed = s.count("failed");
            m.returned_for_filing = s.count("returned_for_filing");
            m.withdrawn = s.count("withdrawn");
            m.ongoing = s.count("ongoing");
            m.by_mediator = s.by_member(|n| MediatorRow {
                cases: n("referred"),
                agreement: n("agreement"),
                failed: n("failed"),
            });
        }
    }

    /// States every section's sentence again with the engine's figures known only once the
    /// cases are counted: the stations on record and the repeat petitions.
    pub fn state_sections(&mut self) {
        let (stations, repeat) = (self.petitions.stations, self.petitions.repeat);
        for s in &mut self.sections {
            if s.kind == kind::PETITION {
                s.repeat = repeat;
            }
            let repeat = s.repeat;
            s.state(stations, repeat);
        }
    }
}

/// The case as it stood at `as_of`: its figures, its state, and whether it was then open past
/// its deadline.
fn read(h: &CaseHistory, as_of: Timestamp) -> Option<(Figures, String, bool, Vec<DeputyRating>)> {
    let case = Case::fold(
        &h.kind,
        h.workflow_version,
        &h.workflow_digest,
        h.events.iter().filter(|e| e.at <= as_of),
    )?;
    let overdue_open = !case.closed
        && case
            .deadline
            .as_ref()
            .is_some_and(|d| d.deadline.due_at < as_of);
    Some((
        case.figures(),
        case.state,
        overdue_open,
        case.deputy_ratings,
    ))
}

/// Computes the report for `year` from the histories of each kind, as of `as_of`.
pub fn annual(
    year: i16,
    as_of: Timestamp,
    kinds: &[(&Workflow, Vec<CaseHistory>)],
) -> AnnualReport {
    let mut tally = Tally::new(year, as_of);
    for (wf, histories) in kinds {
        tally.begin_kind(wf);
        for h in histories {
            tally.add(h);
        }
    }
    tally.finish()
}

/// The report counted one case at a time, so that a year's histories can stream past it
/// rather than be held in memory together. Kinds come one after another (`begin_kind`).
#[derive(Debug)]
pub struct Tally {
    as_of: Timestamp,
    report: AnnualReport,
    departments: BTreeMap<(String, String), (DepartmentRow, Days)>,
    deputies: BTreeMap<(String, String), DeputyRow>,
    current: Option<(KindFigures, Days)>,
    /// The current kind's declared section, being counted.
    section: Option<sections::Counting>,
    /// The current kind's states by whose step they are.
    stages: BTreeMap<String, Stage>,
}

impl Tally {
    pub fn new(year: i16, as_of: Timestamp) -> Self {
        Self {
            as_of,
            report: AnnualReport {
                year,
                as_of: duban_core::deadline::CHINA
                    .to_datetime(as_of)
                    .strftime("%Y-%m-%d %H:%M")
                    .to_string(),
                ..AnnualReport::default()
            },
            departments: BTreeMap::new(),
            deputies: BTreeMap::new(),
            current: None,
            section: None,
            stages: BTreeMap::new(),
        }
    }

    /// Starts counting the cases of another kind.
    pub fn begin_kind(&mut self, wf: &Workflow) {
        self.close_kind();
        self.current = Some((
            KindFigures {
                kind: wf.kind.clone(),
                title: wf.title.clone(),
                ..KindFigures::default()
            },
            Days::new(),
        ));
        self.section = sections::Counting::of(wf);
        self.stages = wf
            .states
            .iter()
            .map(|s| (s.name.clone(), s.stage))
            .collect();
    }

    fn close_kind(&mut self) {
        if let Some(s) = self.section.take() {
            self.report.sections.push(s.finish());
        }
        if let Some((mut f, days)) = self.current.take() {
            let denominator = f.answered + f.open_overdue;
            f.on_time_rate = (denominator > 0)
                .then(|| (f.answered_on_time as f64 * 1000.0 / denominator as f64).round() / 10.0);
            f.days_to_answer_median = percentile(&days, 0.5);
            f.days_to_answer_p90 = percentile(&days, 0.9);
            self.report.kinds.push(f);
        }
    }

    /// Counts one case of the current kind from its history, as it stood at the instant.
    pub fn add(&mut self, h: &CaseHistory) {
        if let Some((figures, state, overdue_open, ratings)) = read(h, self.as_of) {
            self.count(&figures, &state, 1, u64::from(overdue_open));
            for r in ratings {
                self.rated(&r.by, &r.rating, r.co, 1);
            }
        }
    }

    /// Counts `n` ratings of `value` by `deputy` on the current kind's cases, a co-signer's
    /// if `co` (the store's counts, or one case read above).
    pub fn rated(&mut self, deputy: &str, value: &str, co: bool, n: u64) {
        let Some((f, _)) = self.current.as_ref() else {
            return;
        };
        let kind = f.kind.clone();
        let row = self
            .deputies
            .entry((kind.clone(), deputy.to_string()))
            .or_insert_with(|| DeputyRow {
                kind,
                deputy: deputy.to_string(),
                ..DeputyRow::default()
            });
        if co {
            row.co_ratings += n;
        } else {
            row.ratings += n;
        }
        match value {
            "satisfied" => row.satisfied += n,
            "basically_satisfied" => row.basically_satisfied += n,
            "dissatisfied" => row.dissatisfied += n,
            _ => {}
        }
    }

    /// Counts `n` cases of the current kind that share `figures` and stand in `state`,
    /// `overdue` of which were open past their deadline at the instant (the store's grouped
    /// rows, or one case read above). An overdue case counts against whoever's step its state
    /// is; a state the workflow no longer has counts as the handler's, the default.
    pub fn count(&mut self, figures: &Figures, state: &str, n: u64, overdue: u64) {
        let stage = self.stages.get(state).copied().unwrap_or_default();
        if let Some(s) = self.section.as_mut() {
            s.add(figures, state, n);
        }
        let Some((f, kind_days)) = self.current.as_mut() else {
            return;
        };
        let late = |s: Stage| if stage == s { overdue } else { 0 };
        if let Some(d) = figures.milestones.days_to_answer {
            *kind_days.entry(d).or_default() += n;
        }
        let m = &figures.milestones;
        let rated = |value: &str| u64::from(m.ratings.get(value).copied().unwrap_or(0));
        let yes = |b: bool| n * u64::from(b);
        f.filed += n;
        f.assigned += yes(m.assigned);
        if let Some(on_time) = m.answered_on_time {
            f.answered += n;
            f.answered_on_time += yes(on_time);
            f.answered_late += yes(!on_time);
        }
        f.open_overdue += late(Stage::Handling);
        f.rating_overdue += late(Stage::Rating);
        f.office_overdue += late(Stage::Office);
        f.follow_up_overdue += late(Stage::FollowUp);
        for (value, times) in &m.co_ratings {
            *f.co_ratings.entry(value.clone()).or_default() += n * u64::from(*times);
        }
        f.evaluated += yes(m.evaluated);
        f.open += yes(!figures.closed);
        f.satisfied += n * rated("satisfied");
        f.basically_satisfied += n * rated("basically_satisfied");
        f.dissatisfied += n * rated("dissatisfied");
        f.reopened += yes(rated("dissatisfied") > 0);
        let b_delivered = yes(m.answer_class.as_deref() == Some("B") && m.delivered);
        if let Some(class) = &m.answer_class {
            *f.by_class.entry(class.clone()).or_default() += n;
        }
        f.b_delivered += b_delivered;
        f.following += yes(m.followed && !figures.closed);
        let kind = f.kind.clone();
        for owed in m.duties.values() {
            for (member, done) in owed {
                let (row, _) = self.department(&kind, member);
                row.co_handled += n;
                row.co_opinions += yes(done.is_some());
                row.co_opinions_on_time += yes(*done == Some(true));
            }
        }
        if let Some(lead) = &figures.lead_department {
            let (row, days) = self.department(&kind, lead);
            if let Some(d) = m.days_to_answer {
                *days.entry(d).or_default() += n;
            }
            row.assigned += n;
            if let Some(class) = &m.answer_class {
                *row.by_class.entry(class.clone()).or_default() += n;
            }
            row.b_delivered += b_delivered;
            if let Some(on_time) = m.answered_on_time {
                row.answered += n;
                row.answered_on_time += yes(on_time);
            }
            row.open_overdue += late(Stage::Handling);
            // Every rating given, as the kind's totals count them: a 不满意 that sent a reply
            // back stays a 不满意 of the department's, whatever the next reply earned. (Counting
            // only the latest here made every department read 100 % beside a kind at 93 %.)
            row.satisfied += n * rated("satisfied");
            row.basically_satisfied += n * rated("basically_satisfied");
            row.dissatisfied += n * rated("dissatisfied");
        }
        // Key suggestions (重点建议): a suggestion with a supervising leader.
        if kind == kind::SUGGESTION
            && let Some(leader) = &figures.supervisor
        {
            let k = &mut self.report.key_suggestions;
            k.total += n;
            *k.by_supervisor.entry(leader.clone()).or_default() += n;
            k.implemented += yes(figures.implemented());
            for (activity, times) in &m.activities {
                *k.activities.entry(activity.clone()).or_default() += n * u64::from(*times);
            }
        }
    }

    /// The row of `department` for `kind`, begun empty.
    fn department(&mut self, kind: &str, department: &str) -> &mut (DepartmentRow, Days) {
        self.departments
            .entry((kind.to_string(), department.to_string()))
            .or_insert_with(|| {
                let row = DepartmentRow {
                    kind: kind.to_string(),
                    department: department.to_string(),
                    ..DepartmentRow::default()
                };
                (row, Days::new())
            })
    }

    /// The report, with its department rows in the work report's order.
    pub fn finish(mut self) -> AnnualReport {
        self.close_kind();
        let departments = std::mem::take(&mut self.departments);
        let mut report = self.report;
        // In the order the work report speaks of them: suggestions, then petitions, then others.
        let order = kind::report_order;
        let mut rows: Vec<DepartmentRow> = departments
            .into_values()
            .map(|(mut row, days)| {
                row.days_to_answer_median = percentile(&days, 0.5);
                row.days_to_answer_p90 = percentile(&days, 0.9);
                row
            })
            .collect();
        rows.sort_by(|a, b| {
            order(&a.kind)
                .cmp(&order(&b.kind))
                .then(a.department.cmp(&b.department))
        });
        report.departments = rows;
        let mut deputies: Vec<DeputyRow> = self.deputies.into_values().collect();
        deputies.sort_by(|a, b| {
            order(&a.kind)
                .cmp(&order(&b.kind))
                .then(a.deputy.cmp(&b.deputy))
        });
        report.deputies = deputies;
        report.sections.sort_by_key(|s| kind::report_order(&s.kind));
        report.read_sections();
        report
    }
}
