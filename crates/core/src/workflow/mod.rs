//! Workflow definitions: one TOML file per kind of case, loaded, validated and looked up by kind.

mod graph;
mod load;
mod model;
mod report;

use std::collections::BTreeMap;

pub use graph::mermaid;
pub use model::*;
pub use report::{BREAKDOWNS, Counted, ENGINE_FIGURES, ReportCount, ReportSection, placeholders};

use crate::diagnostic::{Diagnostics, Source};

/// The workflow files shipped with Duban, compiled into the binary so that `duban` runs from any
/// directory. A deployment points `--workflows DIR` at its own edited copies instead.
pub const BUILTIN_WORKFLOWS: &[Source<'static>] = &[
    Source {
        name: "workflows/suggestion.toml",
        text: include_str!("../../../../workflows/suggestion.toml"),
    },
    Source {
        name: "workflows/petition.toml",
        text: include_str!("../../../../workflows/petition.toml"),
    },
    Source {
        name: "workflows/mediation.toml",
        text: include_str!("../../../../workflows/mediation.toml"),
    },
    Source {
        name: "workflows/deliberation.toml",
        text: include_str!("../../../../workflows/deliberation.toml"),
    },
    Source {
        name: "workflows/livelihood.toml",
        text: include_str!("../../../../workflows/livelihood.toml"),
    },
    Source {
        name: "workflows/liaison.toml",
        text: include_str!("../../../../workflows/liaison.toml"),
    },
];

/// Every loaded workflow, by kind.
#[derive(Debug, Clone, Default)]
pub struct Workflows {
    by_kind: BTreeMap<String, Workflow>,
}

impl Workflows {
    /// The shipped definitions.
    pub fn builtin() -> Self {
        // The shipped files are tested to validate; failing here would mean a broken build.
        Self::load(BUILTIN_WORKFLOWS)
            .unwrap_or_else(|d| panic!("shipped workflows are invalid:\n{d}"))
    }

    /// Loads and validates every file, reporting all problems in all files at once.
    pub fn load(sources: &[Source<'_>]) -> Result<Self, Diagnostics> {
        let mut by_kind: BTreeMap<String, Workflow> = BTreeMap::new();
        let mut problems = Vec::new();
        for source in sources {
            match load::load(source) {
                Ok(w) => {
                    if let Some(other) = by_kind.get(&w.kind) {
                        problems.push(crate::Diagnostic {
                            file: source.name.to_string(),
                            line: 0,
                            message: format!(
                                "kind `{}` is already defined in {}",
                                w.kind, other.source
                            ),
                        });
                    } else {
                        by_kind.insert(w.kind.clone(), w);
                    }
                }
                Err(found) => problems.extend(found),
            }
        }
        if problems.is_empty() {
            Ok(Self { by_kind })
        } else {
            Err(Diagnostics(problems))
        }
    }

    pub fn get(&self, kind: &str) -> Option<&Workflow> {
        self.by_kind.get(kind)
    }

    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.by_kind.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Workflow> {
        self.by_kind.values()
    }
}
