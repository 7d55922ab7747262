//! Finding cases: the words a case is searched by, a search as people type it (terms of two
//! characters or more), and numbering and indexing the cases written before either existed.

use super::*;
use duban_storage::{Indexing, Unindexed};

/// The most terms one search takes, and the longest a term may be.
const MAX_TERMS: usize = 5;
const MAX_TERM_CHARS: usize = 100;

/// The words a case is found by: the text fields of its filing (title, body, summary …), one
/// per line. Personal data is never among them: a person field is not text.
pub fn search_words(wf: &Workflow, filing: &serde_json::Map<String, Value>) -> String {
    wf.filing
        .payload
        .iter()
        .filter(|f| f.ty == FieldType::Text)
        .filter_map(|f| filing.get(&f.name).and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A search as typed, split at spaces into terms that must all be found; every term is two
/// characters or more (a single Chinese character matches nearly everything).
pub fn search_terms(q: &str) -> Result<Vec<String>> {
    let terms: Vec<String> = q.split_whitespace().map(str::to_string).collect();
    let problem = |problem: &str| Error::Invalid {
        problems: vec![FieldProblem {
            field: "q".into(),
            problem: problem.into(),
        }],
    };
    if q.chars().count() > 200 {
        return Err(problem("must be at most 200 characters"));
    }
    if terms.len() > MAX_TERMS {
        return Err(problem("takes at most 5 words"));
    }
    if terms.iter().any(|t| t.chars().count() < 2) {
        return Err(problem("each word must be at least 2 characters"));
    }
    if terms.iter().any(|t| t.chars().count() > MAX_TERM_CHARS) {
        return Err(problem("each word must be at most 100 characters"));
    }
    Ok(terms)
}

impl<S: Store + Audit> Service<S> {
    /// How a new case of `wf` filed with `filing` is numbered and found; `number` keeps one it
    /// already has.
    pub(crate) fn indexing<'w>(
        &self,
        wf: &'w Workflow,
        filing: &serde_json::Map<String, Value>,
        number: Option<String>,
    ) -> Indexing<'w> {
        Indexing {
            format: &wf.number,
            number,
            words: search_words(wf, filing),
        }
    }

    /// Numbers and indexes every case written before numbers and search existed, oldest
    /// first, so that their numbers follow filing order: run at start-up, after the
    /// migrations. Returns how many it did.
    #[tracing::instrument(skip_all)]
    pub async fn index_unindexed(&self) -> Result<u64> {
        let mut done = 0;
        loop {
            let batch = self.store.unindexed(500).await?;
            if batch.is_empty() {
                return Ok(done);
            }
            for Unindexed {
                id,
                kind,
                number,
                filing,
            } in batch
            {
                // A kind no longer loaded keeps its cases findable by the default format.
                let fallback;
                let wf = match self.workflows.get(&kind) {
                    Some(wf) => wf,
                    None => {
                        fallback = duban_core::number::NumberFormat::parse(
                            duban_core::number::DEFAULT_FORMAT,
                        )
                        .map_err(duban_storage::Error::Corrupt)?;
                        self.store
                            .index_case(
                                &id,
                                &Indexing {
                                    format: &fallback,
                                    number,
                                    words: String::new(),
                                },
                            )
                            .await?;
                        done += 1;
                        continue;
                    }
                };
                let index = self.indexing(wf, &filing, number);
                self.store.index_case(&id, &index).await?;
                done += 1;
            }
        }
    }
}
