//! The report's sections that the workflow files declare (`[report]`): each kind's named counts
//! over its year's cases, and the sentence stating them, as the work report says it.

use duban_core::Figures;
use duban_core::workflow::{ReportSection, Workflow};
use serde::Serialize;

/// One figure of a section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SectionCount {
    /// The count's name in the file, and what it is called.
    pub name: String,
    pub title: String,
    pub value: i64,
}

/// A kind's section, as its file declares it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Section {
    pub kind: String,
    pub title: String,
    /// Cases of the kind filed in the year: a section of a kind without any is not printed.
    pub filed: u64,
    /// The file's sentence with each count's figure in place.
    pub sentence: String,
    pub counts: Vec<SectionCount>,
}

/// A section being counted, case group by case group.
#[derive(Debug)]
pub(super) struct Counting {
    declared: ReportSection,
    kind: String,
    filed: u64,
    values: Vec<i64>,
}

impl Counting {
    /// The section `wf` declares, if any, with every figure at zero.
    pub(super) fn of(wf: &Workflow) -> Option<Self> {
        let declared = wf.report.clone()?;
        let values = vec![0; declared.counts.len()];
        Some(Self {
            declared,
            kind: wf.kind.clone(),
            filed: 0,
            values,
        })
    }

    /// Counts `n` cases that share `figures`.
    pub(super) fn add(&mut self, figures: &Figures, n: u64) {
        self.filed += n;
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        for (value, c) in self.values.iter_mut().zip(&self.declared.counts) {
            *value += n * c.counted.of(&figures.milestones);
        }
    }

    pub(super) fn finish(self) -> Section {
        Section {
            sentence: self.declared.state(&self.values),
            counts: self
                .declared
                .counts
                .iter()
                .zip(&self.values)
                .map(|(c, v)| SectionCount {
                    name: c.name.clone(),
                    title: c.title.clone(),
                    value: *v,
                })
                .collect(),
            kind: self.kind,
            title: self.declared.title,
            filed: self.filed,
        }
    }
}
