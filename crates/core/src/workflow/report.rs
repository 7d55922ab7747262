//! What the annual report says of a kind, as its workflow file declares it (`[report]`): named
//! counts over the year's cases, and the Chinese sentence that states them.
//!
//! Why in the file: the sentences of a work report ("走访接待选民4200余人次，收集社情民意385条")
//! belong to each kind's procedure, and a kind added as a file must be reported without code.
//! Every count reads what [`crate::Milestones`] keeps for every case alike (states entered,
//! steps taken with their enum values, integer fields summed), so the kept figures and a
//! replay of the events count the same.

use serde::Serialize;

use crate::Milestones;

/// The kind's section of the annual report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportSection {
    /// The section's heading (the kind's title when the file gives none).
    pub title: String,
    pub counts: Vec<ReportCount>,
    /// The sentence, with `{name}` for each count's figure.
    pub sentence: String,
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
}

impl Counted {
    /// What one case with these milestones adds to the count.
    pub fn of(&self, m: &Milestones) -> i64 {
        match self {
            Counted::Reached(state) => i64::from(m.reached.contains(state)),
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
        }
    }
}

impl ReportSection {
    /// The sentence with each `{name}` replaced by its figure (`figures` in the order of
    /// `counts`).
    pub fn state(&self, figures: &[i64]) -> String {
        let mut out = self.sentence.clone();
        for (c, n) in self.counts.iter().zip(figures) {
            out = out.replace(&format!("{{{}}}", c.name), &n.to_string());
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
