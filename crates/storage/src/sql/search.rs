//! What a case is searched by: its number, title and body, lower-cased, and every distinct pair
//! of their characters between bars, so that two-character words (common in Chinese) are found
//! through the same trigram index as longer ones. The query side is the dialect's
//! ([`Backend::search`]).

use std::collections::BTreeSet;

use super::*;

/// The row of `case_search` for a case: its id, its document, its pairs and when it was filed
/// (milliseconds; the order of a search over every case, chosen among these rows alone).
pub(crate) fn search_row(case_id: &str, number: &str, words: &str, filed_at: i64) -> Vec<Val> {
    let doc = format!("{number}\n{words}").to_lowercase();
    vec![
        Val::Text(case_id.to_string()),
        Val::Text(doc.clone()),
        Val::Text(pairs(&doc)),
        Val::Int(filed_at),
    ]
}

/// `|ab|bc|…|`: each distinct pair of neighbouring characters once, leaving out pairs with a
/// space or a bar (a bar in the text would blur the boundaries).
pub(crate) fn pairs(doc: &str) -> String {
    let chars: Vec<char> = doc.chars().collect();
    let mut seen = BTreeSet::new();
    let mut out = String::from("|");
    for w in chars.windows(2) {
        if w.iter().any(|c| c.is_whitespace() || *c == '|') {
            continue;
        }
        let pair: String = w.iter().collect();
        if seen.insert(pair.clone()) {
            out.push_str(&pair);
            out.push('|');
        }
    }
    out
}

/// The columns `case_search` is written with.
pub(crate) const SEARCH_TARGET: &str = "case_search (case_id, doc, pairs, filed_at)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pair_is_kept_once_between_bars() {
        assert_eq!(pairs("道路道路 ab|c"), "|道路|路道|ab|");
    }
}
