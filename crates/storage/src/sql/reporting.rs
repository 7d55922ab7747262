//! What the annual report and the export read: a year's histories, streamed, and the figures
//! kept with each case, grouped.

use jiff::Timestamp;
use sqlx::Row;

use super::*;
use crate::{CaseHistory, Reporting, Result};

/// Served by the covering index `cases_figures`: on SQLite the rows arrive grouped and nothing
/// is sorted or read from the table. Every case of the kind's year is read once: those
/// unchanged since the instant are counted, and the rest (changed after it, or with no figures
/// kept) only counted as left out, so that the report replays them only when there are any.
/// (A second scan of the same entries to look for them cost the report half as much again.)
pub(crate) const FIGURE_GROUPS_SQL: &str = "SELECT figures, state, \
    SUM(CASE WHEN updated_at <= $3 THEN 1 ELSE 0 END) AS cases, \
    SUM(CASE WHEN updated_at <= $3 AND is_open = 1 AND due_key < $3 THEN 1 ELSE 0 END) AS overdue, \
    COUNT(*) AS read \
    FROM cases WHERE kind = $1 AND year = $2 GROUP BY figures, state";

/// Served by the partial covering index `cases_raters`, over the rated cases only. A case
/// with ratings kept was written with its figures, so it needs no `figures IS NOT NULL`: the
/// same cases as [`FIGURE_GROUPS_SQL`] counts.
pub(crate) const RATER_GROUPS_SQL: &str = "SELECT raters, COUNT(*) AS cases FROM cases \
    WHERE kind = $1 AND year = $2 AND raters IS NOT NULL AND updated_at <= $3 GROUP BY raters";

impl SqlStore {
    /// The rows of a grouped count of a kind's cases of a year unchanged since the instant
    /// (`$1` the kind, `$2` the year, `$3` the instant).
    async fn year_groups(
        &self,
        sql: &'static str,
        kind: &str,
        year: i16,
        as_of: Timestamp,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        Ok(sqlx::query(sql)
            .bind(kind.to_string())
            .bind(i64::from(year))
            .bind(ms(as_of))
            .fetch_all(&self.pool)
            .await?)
    }
}

impl Reporting for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn histories(&self, kind: &str, year: i16) -> Result<Vec<CaseHistory>> {
        let mut out = Vec::new();
        self.each_history(kind, year, None, |h| out.push(h)).await?;
        Ok(out)
    }

    #[tracing::instrument(skip_all)]
    async fn figure_groups(
        &self,
        kind: &str,
        year: i16,
        as_of: Timestamp,
    ) -> Result<crate::FigureGroups> {
        let rows = self
            .year_groups(FIGURE_GROUPS_SQL, kind, year, as_of)
            .await?;
        let mut out = crate::FigureGroups::default();
        for r in &rows {
            let read = r.try_get::<i64, _>("read")? as u64;
            let Some(figures) = r.try_get::<Option<String>, _>("figures")? else {
                out.left_out += read;
                continue;
            };
            let cases = r.try_get::<i64, _>("cases")? as u64;
            out.left_out += read - cases;
            if cases > 0 {
                out.groups.push(crate::FigureGroup {
                    figures,
                    state: r.try_get("state")?,
                    cases,
                    overdue: r.try_get::<i64, _>("overdue")? as u64,
                });
            }
        }
        Ok(out)
    }

    #[tracing::instrument(skip_all)]
    async fn rater_groups(
        &self,
        kind: &str,
        year: i16,
        as_of: Timestamp,
    ) -> Result<Vec<(String, u64)>> {
        let rows = self
            .year_groups(RATER_GROUPS_SQL, kind, year, as_of)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("raters")?, r.try_get::<i64, _>("cases")? as u64)))
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn each_history<F>(
        &self,
        kind: &str,
        year: i16,
        changed_after: Option<Timestamp>,
        mut each: F,
    ) -> Result<()>
    where
        F: FnMut(CaseHistory) + Send,
    {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query(
            "SELECT c.title, c.number, c.kind, c.workflow_version, c.workflow_digest, e.case_id, e.seq, e.action, e.actor, \
             e.actor_role, e.actor_org, e.on_behalf_of, e.at, e.from_state, e.to_state, e.payload, e.detail, e.request_id \
             FROM cases c JOIN case_events e ON e.case_id = c.id WHERE c.kind = $1 AND c.year = $2 \
             AND ($3 IS NULL OR c.updated_at > $3 OR c.figures IS NULL) \
             ORDER BY c.filed_at, c.id, e.seq",
        )
        .bind(kind.to_string())
        .bind(i64::from(year))
        .bind(changed_after.map(ms))
            .fetch(&self.pool);
        let mut current: Option<CaseHistory> = None;
        while let Some(r) = rows.try_next().await? {
            let e = event_from_row(&r)?;
            match current.as_mut() {
                Some(h) if h.id == e.case_id => h.events.push(e.event),
                _ => {
                    if let Some(done) = current.take() {
                        each(done);
                    }
                    current = Some(CaseHistory {
                        id: e.case_id.clone(),
                        kind: r.try_get("kind")?,
                        title: r.try_get("title")?,
                        number: r.try_get("number")?,
                        workflow_version: r.try_get::<i64, _>("workflow_version")? as u32,
                        workflow_digest: r.try_get("workflow_digest")?,
                        events: vec![e.event],
                    });
                }
            }
        }
        if let Some(done) = current {
            each(done);
        }
        Ok(())
    }
}
