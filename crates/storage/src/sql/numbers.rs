//! Case numbers: each kind and year's sequence is one row of `case_numbers`, taken in the
//! writing transaction, so a number is never given twice, whatever files at the same time.

use duban_core::number::NumberFormat;
use sqlx::Row;

use super::*;
use crate::Result;

/// Raises the sequence of `kind` in `year` to at least `at_least`, then takes `count` numbers
/// after it; returns the first taken (with `count` 0, the one after the last). The row stays
/// locked until the transaction ends: a concurrent filing, in this process or another, waits
/// and takes the next.
pub(crate) async fn take(
    tx: &mut WriteTx,
    kind: &str,
    year: i16,
    at_least: u64,
    count: u64,
) -> Result<u64> {
    let last: i64 = sqlx::query(
        "INSERT INTO case_numbers (kind, year, last) VALUES ($1, $2, $3 + $4) \
         ON CONFLICT (kind, year) DO UPDATE SET last = \
         (CASE WHEN case_numbers.last > $3 THEN case_numbers.last ELSE $3 END) + $4 \
         RETURNING last",
    )
    .bind(kind.to_string())
    .bind(i64::from(year))
    .bind(at_least as i64)
    .bind(count as i64)
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    Ok(last as u64 + 1 - count)
}

/// The number a new case of `kind` filed in `year` gets: the one it brings (its sequence
/// raised past it, so that later filings continue after it), or the next of the sequence.
pub(crate) async fn number_for(
    tx: &mut WriteTx,
    kind: &str,
    year: i16,
    format: &NumberFormat,
    given: Option<&str>,
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Result<String> {
    match given {
        Some(n) => {
            if let Some((y, seq)) = format.read(n) {
                take(tx, kind, y, seq, 0).await?;
            }
            Ok(n.to_string())
        }
        None => {
            let seq = take(tx, kind, year, 0, 1).await?;
            Ok(format.render(year, seq, fields))
        }
    }
}
