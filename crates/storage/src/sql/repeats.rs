//! Repeat filings: a case of a kind whose person, by the blind index of their ID number, has
//! another case of the same kind filed in the twelve months before it (重复信访). One condition,
//! written once, serves the case page, the list filter and the annual report's count.

use sqlx::Row;

use super::lists::{self, SUMMARY_COLUMNS};
use super::*;
use crate::{CaseSummary, Result};

/// "近12个月": 365 days before the filing, in the milliseconds `filed_at` is kept in.
pub(crate) const WINDOW_MS: i64 = 365 * 24 * 60 * 60 * 1000;

/// True for the case `c` when a person it names by ID number is named by another case of its
/// kind filed in the window before it. The person's index rows are found by case (the primary
/// key's prefix), the other cases by the index on the hash.
pub(crate) fn condition() -> String {
    format!(
        "EXISTS (SELECT 1 FROM personal_data p \
         JOIN personal_data q ON q.id_number_hash = p.id_number_hash AND q.case_id <> p.case_id \
         JOIN cases e ON e.id = q.case_id \
         WHERE p.case_id = c.id AND p.id_number_hash IS NOT NULL AND e.kind = c.kind \
         AND e.filed_at < c.filed_at AND e.filed_at >= c.filed_at - {WINDOW_MS})"
    )
}

impl SqlStore {
    /// The earlier filings of the person (or persons) `case_id` names: cases of its kind naming
    /// the same ID number, filed in the twelve months before it, oldest first.
    pub(crate) async fn earlier_of_same_person(&self, case_id: &str) -> Result<Vec<CaseSummary>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS}, c.filed_at AS sort_key FROM cases c \
             WHERE c.id IN (SELECT q.case_id FROM personal_data p \
               JOIN personal_data q ON q.id_number_hash = p.id_number_hash AND q.case_id <> p.case_id \
               WHERE p.case_id = $1 AND p.id_number_hash IS NOT NULL) \
             AND c.kind = (SELECT kind FROM cases WHERE id = $1) \
             AND c.filed_at < (SELECT filed_at FROM cases WHERE id = $1) \
             AND c.filed_at >= (SELECT filed_at FROM cases WHERE id = $1) - {WINDOW_MS} \
             ORDER BY c.filed_at, c.id"
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
