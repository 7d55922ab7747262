//! `[report]` as written: the section's heading and sentence, and its named counts.

use crate::diagnostic::FileDiagnostics;
use crate::tomlread::{self, Located, Table};

use super::actions::read_when;
use super::read_named_tables;

const REPORT_KEYS: &[&str] = &["title", "sentence", "counts", "by"];
const COUNT_KEYS: &[&str] = &["title", "reached", "took", "when", "sum", "in"];

#[derive(Debug)]
pub(crate) struct RawReport {
    pub(crate) title: Option<Located<String>>,
    pub(crate) sentence: Option<Located<String>>,
    pub(crate) counts: Vec<RawCount>,
    /// A party to break the counts down by.
    pub(crate) by: Option<Located<String>>,
}

#[derive(Debug)]
pub(crate) struct RawCount {
    pub(crate) name: Located<String>,
    pub(crate) title: Option<Located<String>>,
    pub(crate) reached: Option<Located<String>>,
    pub(crate) took: Option<Located<String>>,
    pub(crate) when: Vec<(Located<String>, String)>,
    /// `action.field`: an integer field summed over the action's events.
    pub(crate) sum: Option<Located<String>>,
    /// States the case stands in at the instant.
    pub(crate) within: Option<Vec<Located<String>>>,
}

pub(super) fn read_report(top: &Table<'_>, d: &mut FileDiagnostics<'_>) -> Option<RawReport> {
    let (t, span) = tomlread::table(top, "report", "", d)?;
    tomlread::check_keys(t, "report", REPORT_KEYS, d);
    let line = d.line_of_span(&span);
    let sentence = tomlread::required_string(t, &span, "sentence", "report", d);
    let counts = if tomlread::get(t, "counts").is_some() {
        read_named_tables(t, "counts", d)
            .into_iter()
            .map(|(name, ct, _)| {
                let path = format!("report.counts.{}", name.value);
                tomlread::check_keys(ct, &path, COUNT_KEYS, d);
                RawCount {
                    title: tomlread::string(ct, "title", &path, d),
                    reached: tomlread::string(ct, "reached", &path, d),
                    took: tomlread::string(ct, "took", &path, d),
                    when: read_when(ct, &path, d),
                    sum: tomlread::string(ct, "sum", &path, d),
                    within: tomlread::strings(ct, "in", &path, d),
                    name,
                }
            })
            .collect()
    } else {
        d.at_line(line, "`report` declares no `counts`");
        Vec::new()
    };
    Some(RawReport {
        title: tomlread::string(t, "title", "report", d),
        by: tomlread::string(t, "by", "report", d),
        sentence,
        counts,
    })
}
