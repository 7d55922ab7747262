//! The report's sections that the workflow files declare (`[report]`): each kind's named counts
//! over its year's cases, broken down by a party where the file says so, and the sentence
//! stating them, as the work report says it.

use std::collections::BTreeMap;

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
    /// Cases of the kind filed in the year, and those open at the instant: a section of a kind
    /// without any case is not printed.
    pub filed: u64,
    pub open: u64,
    /// The file's sentence with each figure in place.
    pub sentence: String,
    pub counts: Vec<SectionCount>,
    /// The party the counts are broken down by, if the file says so, and each member's counts
    /// by name (the petitions taken on at each station).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub rows: BTreeMap<String, BTreeMap<String, i64>>,
    /// Filings whose person had filed a case of the kind in the twelve months before
    /// (`{repeat}`), found by the personal-data index once the cases are counted; the
    /// petitions' is also `petitions.repeat`.
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub repeat: u64,
    /// What the file declared, to state the sentence again once the engine's own figures
    /// (the stations, the repeat petitions) are known.
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub declared: Option<ReportSection>,
}

impl Section {
    /// The figure named `name`, 0 if the section has none.
    pub fn get(&self, name: &str) -> i64 {
        self.counts
            .iter()
            .find(|c| c.name == name)
            .map_or(0, |c| c.value)
    }

    /// A member's figure named `name` in the breakdown, 0 if none.
    pub fn row(&self, member: &str, name: &str) -> i64 {
        self.rows
            .get(member)
            .and_then(|r| r.get(name))
            .copied()
            .unwrap_or(0)
    }

    /// The figure named `name` as a count: 0 if there is none (a count is never negative).
    pub fn count(&self, name: &str) -> u64 {
        as_count(self.get(name))
    }

    /// Each member of the breakdown, with the row `make` builds from its counts by name (the
    /// API's tables that predate the sections: the stations, the mediators).
    pub fn by_member<R>(&self, make: impl Fn(&dyn Fn(&str) -> u64) -> R) -> BTreeMap<String, R> {
        self.rows
            .keys()
            .map(|member| {
                let n = |name: &str| as_count(self.row(member, name));
                (member.clone(), make(&n))
            })
            .collect()
    }

    /// Whether the sentence states `{repeat}`: only then is it looked up.
    pub fn states_repeat(&self) -> bool {
        self.declared
            .as_ref()
            .is_some_and(|d| d.sentence.contains("{repeat}"))
    }

    /// States the sentence with the counts and the engine's figures (`stations`, `repeat`).
    pub fn state(&mut self, stations: u64, repeat: u64) {
        let Some(declared) = &self.declared else {
            return;
        };
        let values: Vec<i64> = self.counts.iter().map(|c| c.value).collect();
        let n = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
        self.sentence = declared.state(
            &values,
            &[
                ("filed", n(self.filed)),
                ("open", n(self.open)),
                ("stations", n(stations)),
                ("repeat", n(repeat)),
            ],
        );
    }
}

/// A section being counted, case group by case group.
#[derive(Debug)]
pub(super) struct Counting {
    declared: ReportSection,
    kind: String,
    filed: u64,
    open: u64,
    values: Vec<i64>,
    rows: BTreeMap<String, Vec<i64>>,
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
            open: 0,
            values,
            rows: BTreeMap::new(),
        })
    }

    /// Counts `n` cases that share `figures` and stand in `state` at the instant.
    pub(super) fn add(&mut self, figures: &Figures, state: &str, n: u64) {
        self.filed += n;
        self.open += n * u64::from(!figures.closed);
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let each: Vec<i64> = self
            .declared
            .counts
            .iter()
            .map(|c| n.saturating_mul(c.counted.of(figures, state)))
            .collect();
        for (value, add) in self.values.iter_mut().zip(&each) {
            *value = value.saturating_add(*add);
        }
        let Some(by) = &self.declared.by else { return };
        for member in figures.members(by) {
            let row = self
                .rows
                .entry(member.to_string())
                .or_insert_with(|| vec![0; each.len()]);
            for (value, add) in row.iter_mut().zip(&each) {
                *value = value.saturating_add(*add);
            }
        }
    }

    pub(super) fn finish(self) -> Section {
        let names: Vec<String> = self
            .declared
            .counts
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let mut section = Section {
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
            rows: self
                .rows
                .into_iter()
                .map(|(member, values)| (member, names.iter().cloned().zip(values).collect()))
                .collect(),
            kind: self.kind,
            title: self.declared.title.clone(),
            by: self.declared.by.clone(),
            filed: self.filed,
            open: self.open,
            sentence: String::new(),
            repeat: 0,
            declared: Some(self.declared),
        };
        section.state(0, 0);
        section
    }
}

/// A figure as the API's tables state it: a count, never negative.
fn as_count(figure: i64) -> u64 {
    u64::try_from(figure).unwrap_or(0)
}
