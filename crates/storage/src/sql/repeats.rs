//! Repeat filings: a case of a kind whose person, by the blind index of their ID number, has
//! another case of the same kind filed in the twelve months before it (重复信访). One condition,
//! written once, serves the case page, the list filter and the annual report's count.

use sqlx::Row;

use super::lists::{self, SUMMARY_COLUMNS};
use super::*;
use crate::{CaseSummary, Result};

/// "近12个月": 365 days before the filing, in the milliseconds `filed_at` is kept in.
pub(crate) const WINDOW_MS: i64 = 365 * 24 * 60 * 60 * 1000;

/// The joins from a case's ID-number index rows (`p`) to the other cases naming the same
/// number (`q`, and the case as `{other}`). The case's rows are found by the primary key's
/// prefix, the others by the index on the hash.
fn same_person(other: &str) -> String {
    format!(
        "personal_data p \
         JOIN personal_data q ON q.id_number_hash = p.id_number_hash AND q.case_id <> p.case_id \
         JOIN cases {other} ON {other}.id = q.case_id"
    )
}

/// That `{other}` names a person `{case}` names by ID number, is of its kind, and was filed in
/// the window before it.
fn filed_before(case: &str, other: &str) -> String {
    format!(
        "p.case_id = {case}.id AND p.id_number_hash IS NOT NULL AND {other}.kind = {case}.kind \
         AND {other}.filed_at < {case}.filed_at AND {other}.filed_at >= {case}.filed_at - {WINDOW_MS}"
    )
}

/// True for the case `c` when a person it names by ID number is named by another case of its
/// kind filed in the window before it.
pub(crate) fn condition() -> String {
    format!(
        "EXISTS (SELECT 1 FROM {} WHERE {})",
        same_person("e"),
        filed_before("c", "e")
    )
}

impl SqlStore {
    /// The earlier filings of the person (or persons) `case_id` names: cases of its kind naming
    /// the same ID number, filed in the twelve months before it, oldest first.
    pub(crate) async fn earlier_of_same_person(&self, case_id: &str) -> Result<Vec<CaseSummary>> {
        // DISTINCT: a case naming the person in two fields or events is still one case.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT {SUMMARY_COLUMNS}, c.filed_at AS sort_key FROM cases me, {} \
             WHERE me.id = $1 AND {} ORDER BY c.filed_at, c.id",
            same_person("c"),
            filed_before("me", "c")
        )))
        .bind(case_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(lists::summary(r)?.0)).collect()
    }

    /// How many cases of `kind` filed in `year` (China time) up to `until` are repeat filings.
    pub(crate) async fn count_repeats(
        &self,
        kind: &str,
        year: i16,
        until: jiff::Timestamp,
    ) -> Result<u64> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM cases c WHERE c.kind = $1 AND c.year = $2 AND c.filed_at <= $3 AND {}",
            condition()
        )))
        .bind(kind.to_string())
        .bind(i64::from(year))
        .bind(ms(until))
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0))
    }
}
