//! What a case is searched by: its number, title and body, lower-cased, and every distinct pair
//! of their characters between bars, so that two-character words (common in Chinese) are found
//! through the same trigram index as longer ones. The query side is the dialect's
//! ([`Backend::search`]).

use std::collections::BTreeSet;

use super::lists::keyset_after;
use super::*;
use crate::{Cursor, Result};

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

/// Adds `rows` ([`search_row`]s) to `case_search`, many a statement.
pub(crate) async fn insert_search_rows(tx: &mut WriteTx, rows: &[Vec<Val>]) -> Result<()> {
    let backend = tx.backend();
    insert_with(tx, rows, |values| backend.search_insert(values)).await
}

/// [`insert_search_rows`] of one row, as a statement of a larger write.
pub(crate) fn search_statement(backend: Backend, row: Vec<Val>) -> Stmt {
    let sql = backend.search_insert(&numbered(1, std::slice::from_ref(&row)));
    Stmt::new(sql, row)
}

/// Where `case_search`'s rowids run in filing order ([`Backend::search_rowids_in_filing_order`]),
/// each second of filing times owns this many of them, from its number of seconds since 1970
/// times this (times before 1970 share the first). 2^29: half a billion filings in one second,
/// and filing times until the year 2500, within a 64-bit rowid.
pub(crate) const ROWIDS_PER_SECOND: i64 = 1 << 29;

/// The first rowid of the second `filed_at` (milliseconds) falls in.
fn second_start(filed_at: i64) -> i64 {
    filed_at.max(0) / 1000 * ROWIDS_PER_SECOND
}

/// Where rowids run in filing order: a condition that narrows a search over every case,
/// ordered by filing, to the rows its page can be among, or `None` elsewhere.
///
/// Choosing the page by `(filed_at, case_id)` reads each row the words match (a thousand, for
/// two common characters, at 1,000,000 cases). Instead, the first `limit` matches past the
/// cursor are taken in rowid order, which reads only the index, and the page lies in the
/// seconds from the cursor's to the last of theirs: a row filed in an earlier second (for
/// `oldest`, a later one) has those `limit` before it. Only that second is read whole.
pub(crate) fn filing_window(
    backend: Backend,
    terms: &[String],
    cursor: Option<&Cursor>,
    (cmp, dir): (&str, &str),
    limit: u32,
    binds: &mut Vec<Bind>,
) -> Option<String> {
    if !backend.search_rowids_in_filing_order() {
        return None;
    }
    let descending = dir == "DESC";
    // Up to the cursor's second (for `oldest`, from it), so that the rows past it are skipped
    // by rowid, unread.
    let bound = |binds: &mut Vec<Bind>| match cursor {
        Some(c) => {
            let edge = if descending {
                second_start(c.key) + ROWIDS_PER_SECOND
            } else {
                second_start(c.key)
            };
            binds.push(Bind::Int(edge));
            let op = if descending { "<" } else { ">=" };
            format!(" AND rowid {op} ${}", binds.len())
        }
        None => String::new(),
    };
    let (matching, more) = backend.search_rows(terms, binds.len() + 1);
    binds.extend(more);
    let mut first = format!(
        "SELECT rowid AS r FROM case_search WHERE {matching}{}",
        bound(binds)
    );
    keyset_after(&mut first, binds, ("filed_at", "case_id"), cursor, cmp);
    binds.push(Bind::Int(i64::from(limit) + 1));
    first.push_str(&format!(" ORDER BY rowid {dir} LIMIT ${}", binds.len()));
    let window = if descending {
        format!(
            "rowid >= (SELECT min(r) / {ROWIDS_PER_SECOND} * {ROWIDS_PER_SECOND} FROM ({first}))"
        )
    } else {
        format!(
            "rowid < (SELECT (max(r) / {ROWIDS_PER_SECOND} + 1) * {ROWIDS_PER_SECOND} FROM ({first}))"
        )
    };
    Some(format!(" AND {window}{}", bound(binds)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pair_is_kept_once_between_bars() {
        assert_eq!(pairs("道路道路 ab|c"), "|道路|路道|ab|");
    }
}
