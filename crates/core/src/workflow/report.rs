//! What the annual report says of a kind, as its workflow file declares it (`[report]`): named
//! counts over the year's cases, and the Chinese sentence that states them.
//!
//! Why in the file: the sentences of a work report ("走访接待选民4200余人次，收集社情民意385条")
//! belong to each kind's procedure, and a kind added as a file must be reported without code.
//! Every count reads what [`crate::Milestones`] keeps for every case alike (states entered,
//! steps taken with their enum values, integer fields summed), so the kept figures and a
//! replay of the events count the same.

use serde::Serialize;

use crate::Figures;

/// The figures the engine knows of every kind, which a sentence may state beside its counts:
/// the cases filed in the year, those open at the instant, the deputy homes and liaison
/// stations on record, and the filings whose person had filed a case of the kind in the twelve
/// months before (重复信访; counted for the kinds whose filing names a person).
pub const ENGINE_FIGURES: [&str; 4] = ["filed", "open", "stations", "repeat"];

/// The parties a section may be broken down by (`by`): those the kept figures hold.
pub const BREAKDOWNS: [&str; 4] = ["station", "mediators", "lead_department", "supervisor"];

/// The kind's section of the annual report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportSection {
    /// The section's heading (the kind's title when the file gives none).
    pub title: String,
    pub counts: Vec<ReportCount>,
    /// The sentence, with `{name}` for each count's figure and each of [`ENGINE_FIGURES`].
    pub sentence: String,
    /// A party to break every count down by, member by member (the petitions of each station).
    pub by: Option<String>,
}

/// One named figure of a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportCount {
    pub name: String,
    pub title: String,
    pub counted: Counted,
}

/// What a count counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Counted {
    /// Cases that ever entered this state.
    Reached(String),
    /// Cases that took this action (`file`: every case filed), and, when `when` is not empty,
    /// chose these enum values in it.
    Took {
        action: String,
        when: Vec<(String, String)>,
    },
    /// An integer field of an action summed over every event of it (people received at each
    /// visit).
    Sum { action: String, field: String },
    /// Cases standing in one of these states at the instant (mediations still under way).
    In(Vec<String>),
}

impl Counted {
    /// What one case with these figures, standing in `state` at the instant, adds to the count.
    pub fn of(&self, figures: &Figures, state: &str) -> i64 {
        let m = &figures.milestones;
        match self {
            Counted::Reached(s) => i64::from(m.reached.contains(s)),
            Counted::Took { action, when } => i64::from(
                m.steps.contains(action)
                    && when
                        .iter()
                        .all(|(f, v)| m.steps.contains(&format!("{action}:{f}={v}"))),
            ),
            Counted::Sum { action, field } => m
                .sums
                .get(&format!("{action}.{field}"))
                .copied()
                .unwrap_or(0),
            Counted::In(states) => i64::from(states.iter().any(|s| s == state)),
        }
    }
}

impl ReportSection {
    /// The sentence with each `{name}` replaced by its figure: the counts' (`values` in the
    /// order of `counts`), then the engine's.
    pub fn state(&self, values: &[i64], engine: &[(&str, i64)]) -> String {
        let named = self
            .counts
            .iter()
            .map(|c| c.name.as_str())
            .zip(values.iter().copied())
            .chain(engine.iter().copied());
        let mut out = self.sentence.clone();
        for (name, n) in named {
            out = out.replace(&format!("{{{name}}}"), &n.to_string());
        }
        out
    }
}

/// The `{name}` placeholders of a sentence, in order; `Err` with the text at fault when a
/// brace is left open or a name is empty.
pub fn placeholders(sentence: &str) -> Result<Vec<&str>, &str> {
    let mut out = Vec::new();
    let mut rest = sentence;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(&rest[open..]);
        };
        let name = &after[..close];
        if name.is_empty() || name.contains('{') {
            return Err(&rest[open..open + close + 2]);
        }
        out.push(name);
        rest = &after[close + 1..];
    }
    Ok(out)
}
