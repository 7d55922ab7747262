//! `vote = { … }` on an action as written: the integer fields that count the votes, the field
//! that counts everyone entitled to vote, and the announced result with its passing value.

use crate::diagnostic::FileDiagnostics;
use crate::tomlread::{self, Located, Table};

const VOTE_KEYS: &[&str] = &["of", "yes", "no", "result", "passed"];

#[derive(Debug)]
pub(crate) struct RawVote {
    pub(crate) line: usize,
    pub(crate) of: Option<Located<String>>,
    pub(crate) yes: Vec<Located<String>>,
    pub(crate) no: Vec<Located<String>>,
    pub(crate) result: Option<Located<String>>,
    pub(crate) passed: Option<Located<String>>,
}

pub(super) fn read_vote(t: &Table<'_>, path: &str, d: &mut FileDiagnostics<'_>) -> Option<RawVote> {
    let (vt, span) = tomlread::table(t, "vote", path, d)?;
    let vpath = format!("{path}.vote");
    tomlread::check_keys(vt, &vpath, VOTE_KEYS, d);
    let vote = RawVote {
        line: d.line_of_span(&span),
        of: tomlread::required_string(vt, &span, "of", &vpath, d),
        yes: tomlread::strings(vt, "yes", &vpath, d).unwrap_or_default(),
        no: tomlread::strings(vt, "no", &vpath, d).unwrap_or_default(),
        result: tomlread::string(vt, "result", &vpath, d),
        passed: tomlread::string(vt, "passed", &vpath, d),
    };
    if vote.yes.is_empty() {
        d.at_line(vote.line, format!("`{vpath}.yes` names no field to count"));
    }
    if vote.result.is_some() != vote.passed.is_some() {
        d.at_line(
            vote.line,
            format!("`{vpath}`: `result` and `passed` go together (the field, and its value for a vote that passes)"),
        );
    }
    Some(vote)
}
