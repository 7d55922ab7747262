//! Cases: filing one, recording an action (its statements sent the way the dialect says:
//! [`ActionWrite`]), and reading a case, its history, its past states and its reminders.

use duban_core::Role;
use duban_core::deadline::china_date;
use duban_core::machine::{Actor, Case, Effect, Event, Transition};
use jiff::Timestamp;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::batch::{self, Stmt};
use super::*;
use crate::{
    CaseAndFiling, CaseRecord, Cases, Error, Filed, Meta, NewCase, Result, StoredEvent,
    StoredReminder,
};

/// A case with its first event's payload, what it was filed with (`case_and_filing_from_row`).
pub(crate) const CASE_AND_FILING: &str = "SELECT c.id, c.number, c.title, c.projection, e.payload FROM cases c \
     LEFT JOIN case_events e ON e.case_id = c.id AND e.seq = 1 WHERE c.id = $1";

/// A case from a row with its `id`, `title` and `projection`.
pub(crate) fn record_from_row(r: &AnyRow) -> Result<CaseRecord> {
    Ok(CaseRecord {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        title: r.try_get("title")?,
        case: parse(&r.try_get::<String, _>("projection")?, "case projection")?,
    })
}

/// `record_from_row` with the first event's `payload` beside it, read by a LEFT JOIN (no first
/// event, no filing).
pub(crate) fn case_and_filing_from_row(r: &AnyRow) -> Result<CaseAndFiling> {
    let filing = match r.try_get::<Option<String>, _>("payload")? {
        Some(p) => parse(&p, "event payload")?,
        None => Map::new(),
    };
    Ok((record_from_row(r)?, filing))
}

pub(crate) fn event_from_row(row: &AnyRow) -> Result<StoredEvent> {
    let role: String = row.try_get("actor_role")?;
    let detail: Detail = parse(&row.try_get::<String, _>("detail")?, "event detail")?;
    let payload: Map<String, Value> =
        parse(&row.try_get::<String, _>("payload")?, "event payload")?;
    Ok(StoredEvent {
        case_id: row.try_get("case_id")?,
        event: Event {
            seq: row.try_get::<i64, _>("seq")? as u64,
            action: row.try_get("action")?,
            actor: Actor {
                user: row.try_get("actor")?,
                role: Role::parse(&role)
                    .ok_or_else(|| Error::Corrupt(format!("unknown role {role}")))?,
                org: row.try_get("actor_org")?,
            },
            at: detail.at,
            payload,
            from_state: row.try_get("from_state")?,
            to_state: row.try_get("to_state")?,
            sets: detail.sets,
            deadline: detail.deadline,
            paused: detail.paused,
            duties: detail.duties,
            closed: detail.closed,
            choices: detail.choices,
        },
        meta: Meta {
            request_id: row.try_get("request_id")?,
            on_behalf_of: row.try_get("on_behalf_of")?,
        },
    })
}

pub(crate) const HISTORY_SQL: &str = "SELECT case_id, seq, action, actor, actor_role, actor_org, on_behalf_of, at, from_state, \
    to_state, payload, detail, request_id FROM case_events WHERE case_id = $1 ORDER BY seq";

pub(crate) const DUE_REMINDERS_SQL: &str = "SELECT case_id, reminder_key, state, duty, rule, fire_at, due_date, notify, \
    repeat_every_days, escalate, status, headline FROM reminders WHERE status = 'pending' AND fire_at <= $1 ORDER BY fire_at LIMIT $2";

pub(crate) fn reminder(row: &AnyRow) -> Result<StoredReminder> {
    let duty: String = row.try_get("duty")?;
    let notify: String = row.try_get("notify")?;
    Ok(StoredReminder {
        case_id: row.try_get("case_id")?,
        key: row.try_get("reminder_key")?,
        state: row.try_get("state")?,
        duty: if duty.is_empty() { None } else { Some(duty) },
        rule: row.try_get("rule")?,
        fire_at: from_ms(row.try_get("fire_at")?)?,
        due_date: row.try_get("due_date")?,
        notify: parse(&notify, "reminder notify")?,
        repeat_every_days: row.try_get("repeat_every_days")?,
        escalate: row.try_get::<i64, _>("escalate")? == 1,
        status: row.try_get("status")?,
        headline: row.try_get("headline")?,
    })
}

impl SqlStore {
    /// Rebuilds every case's projection from its events and writes its figures: run once, by
    /// the migration that began keeping the figures, for cases written before it. The fold is
    /// the same one every action applies, so the result is what those actions would have kept.
    pub(crate) async fn refold_cases(tx: &mut WriteTx) -> Result<()> {
        let cases = sqlx::query("SELECT id, kind, workflow_version, workflow_digest FROM cases")
            .fetch_all(&mut **tx)
            .await?;
        for c in &cases {
            let id: String = c.try_get("id")?;
            let rows = sqlx::query(HISTORY_SQL)
                .bind(id.clone())
                .fetch_all(&mut **tx)
                .await?;
            let events = rows
                .iter()
                .map(|r| event_from_row(r).map(|e| e.event))
                .collect::<Result<Vec<_>>>()?;
            let Some(case) = Case::fold(
                &c.try_get::<String, _>("kind")?,
                c.try_get::<i64, _>("workflow_version")? as u32,
                &c.try_get::<String, _>("workflow_digest")?,
                &events,
            ) else {
                continue;
            };
            let cols = Columns::of(&case)?;
            sqlx::query(
                "UPDATE cases SET projection = $1, figures = $2, raters = $3 WHERE id = $4",
            )
            .bind(cols.projection)
            .bind(cols.figures)
            .bind(cols.raters)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// [`ActionWrite::OneStatement`]: the case's UPDATE under its version, the event, the
    /// parties it sets and the scheduled reminders in one statement, which is its own
    /// transaction. The rest is written only if the case's row was (each part selects from the
    /// UPDATE's result). Returns whether it was.
    pub(crate) async fn record_in_one_statement(
        &self,
        case_id: &str,
        expected_version: u64,
        t: &Transition,
        cols: &Columns,
        effects: &[Effect],
        meta: &Meta,
    ) -> Result<bool> {
        let event = event_row(case_id, &t.event, meta)?;
        let mut scheduled = OnlyScheduled {
            case_id,
            rows: Vec::new(),
        };
        apply_effects(effects, ms(t.event.at), &mut scheduled)?;
        let reminders = scheduled.rows;
        let mut binds = case_update_binds(case_id, expected_version, t, cols);
        let mut sql = if t.event.sets.is_empty() {
            update_case_with_inbox_copy()
        } else {
            let (parties, values) = set_parties_in_one_statement(
                case_id,
                &t.event.sets,
                cols,
                ms(t.case.filed_at),
                binds.len() + 1,
            );
            binds.extend(values);
            format!("WITH u AS ({UPDATE_CASE} RETURNING 1), {parties}")
        };
        sql.push_str(&format!(
            ", e AS (INSERT INTO {EVENTS_TARGET} SELECT v.* FROM u CROSS JOIN (VALUES {}) AS v)",
            numbered(binds.len() + 1, std::slice::from_ref(&event))
        ));
        binds.extend(event);
        if !reminders.is_empty() {
            sql.push_str(&format!(
                ", r AS (INSERT INTO {REMINDERS_TARGET} SELECT v.* FROM u CROSS JOIN (VALUES {}) AS v \
                 {REVIVE_CANCELLED})",
                numbered(binds.len() + 1, &reminders)
            ));
            binds.extend(reminders.into_iter().flatten());
        }
        sql.push_str(" SELECT count(*) FROM u");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for v in binds {
            q = v.bind_to(q);
        }
        let updated: i64 = q.fetch_one(&self.pool).await?.try_get(0)?;
        Ok(updated == 1)
    }

    /// Records a decided action under its version: the UPDATE, the event, the parties, the
    /// effects and any personal data, or nothing and a conflict.
    pub(crate) async fn record_in(&self, r: &crate::unit::Record) -> Result<()> {
        let (t, meta) = (&r.transition, &r.meta);
        self.record(&r.case_id, r.expected_version, t, meta, &r.files)
            .await
    }

    #[tracing::instrument(skip_all, fields(case_id = case_id, action = %t.event.action))]
    async fn record(
        &self,
        case_id: &str,
        expected_version: u64,
        t: &Transition,
        meta: &Meta,
        files: &[crate::NewAttachment],
    ) -> Result<()> {
        if t.event.seq != expected_version + 1 {
            return Err(Error::Conflict {
                id: case_id.into(),
                expected: expected_version,
                actual: t.event.seq.saturating_sub(1),
            });
        }
        let cols = Columns::of(&t.case)?;
        let effects = &t.effects;
        let simple = only_schedules(effects) && t.personal.is_empty() && files.is_empty();
        let way = self.backend.action_write(simple, false);
        if way == ActionWrite::OneStatement {
            self.fault("record_action.event_insert")?;
            self.fault("record_action.effects")?;
            let updated = self
                .record_in_one_statement(case_id, expected_version, t, &cols, effects, meta)
                .await?;
            if !updated {
                return Err(self.why_not_updated(case_id, expected_version).await?);
            }
            return Ok(());
        }
        let (update, mut rest) =
            self.action_statements(case_id, expected_version, t, meta, files)?;
        if way == ActionWrite::Sent
            && let Some(group) = self.writers.group()
        {
            self.fault("record_action.event_insert")?;
            self.fault("record_action.effects")?;
            rest.insert(0, update);
            if group.write(rest).await? {
                return Ok(());
            }
            return Err(self.why_not_updated(case_id, expected_version).await?);
        }
        let mut tx = self.begin().await?;
        let updated = self.write_action(&mut tx, way, update, rest).await?;
        if updated == 0 {
            tx.rollback().await?;
            return Err(self.why_not_updated(case_id, expected_version).await?);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sends an action's statements in `tx` as `way` says, and answers how many rows the
    /// case's UPDATE under its version changed (1, or 0 and nothing else written).
    async fn write_action(
        &self,
        tx: &mut WriteTx,
        way: ActionWrite,
        update: Stmt,
        mut rest: Vec<Stmt>,
    ) -> Result<u64> {
        if matches!(way, ActionWrite::Script | ActionWrite::Sent) {
            // The UPDATE under its version first, the rest after it. Should the version have
            // moved, the rest fails or is rolled back.
            self.fault("record_action.event_insert")?;
            self.fault("record_action.effects")?;
            rest.insert(0, update);
            return batch::run(tx, rest).await;
        }
        // The UPDATE first, alone: it answers with a row, and the rest is sent only if the
        // version held.
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "{} SELECT count(*) FROM u",
            update_case_with_inbox_copy()
        )));
        for v in update.binds {
            q = v.bind_to(q);
        }
        let updated = q.fetch_one(&mut **tx).await?.try_get::<i64, _>(0)? as u64;
        if updated == 1 {
            self.fault("record_action.event_insert")?;
            self.fault("record_action.effects")?;
            batch::run(tx, rest).await?;
        }
        Ok(updated)
    }

    /// The statements recording a decided action: the case's UPDATE under its version, and
    /// the rest (the event, parties, effects, personal data, files) to send only if it held.
    fn action_statements(
        &self,
        case_id: &str,
        expected_version: u64,
        t: &Transition,
        meta: &Meta,
        files: &[crate::NewAttachment],
    ) -> Result<(Stmt, Vec<Stmt>)> {
        let cols = Columns::of(&t.case)?;
        let update = Stmt::new(
            UPDATE_CASE,
            case_update_binds(case_id, expected_version, t, &cols),
        );
        let mut rest = vec![Self::event_statement(case_id, &t.event, meta)?];
        Self::party_statements(
            &mut rest,
            case_id,
            &t.event.sets,
            &cols,
            ms(t.case.filed_at),
        );
        apply_effects(
            &t.effects,
            ms(t.event.at),
            &mut Statements {
                out: &mut rest,
                case_id,
            },
        )?;
        self.personal_statements(&mut rest, case_id, t)?;
        for file in files {
            rest.push(self.attachment_statement(file)?);
        }
        Ok((update, rest))
    }

    /// Why a case's UPDATE under its version changed no row: another action moved the version
    /// first, or there is no such case.
    pub(crate) async fn why_not_updated(
        &self,
        case_id: &str,
        expected_version: u64,
    ) -> Result<Error> {
        let actual: Option<i64> = sqlx::query_scalar("SELECT version FROM cases WHERE id = $1")
            .bind(case_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match actual {
            Some(v) => Error::Conflict {
                id: case_id.into(),
                expected: expected_version,
                actual: v as u64,
            },
            None => Error::NotFound {
                what: "case",
                id: case_id.into(),
            },
        })
    }
}

impl Cases for SqlStore {
    type Import = super::import::SqlImport;

    async fn begin_import(&self, now: Timestamp) -> Result<Self::Import> {
        Ok(super::import::SqlImport {
            store: self.clone(),
            tx: self.begin().await?,
            now,
        })
    }

    async fn numbers_taken(&self, kind: &str, numbers: &[String]) -> Result<Vec<String>> {
        Ok(self
            .numbered(kind, numbers)
            .await?
            .into_iter()
            .map(|(n, _)| n)
            .collect())
    }

    async fn record_batch(&self, records: &[crate::unit::Record]) -> Result<()> {
        let mut tx = self.begin().await?;
        for r in records {
            let (case_id, t) = (r.case_id.as_str(), &r.transition);
            let (update, rest) =
                self.action_statements(case_id, r.expected_version, t, &r.meta, &r.files)?;
            let way = self.backend.action_write(false, true);
            let updated = self.write_action(&mut tx, way, update, rest).await?;
            if updated != 1 {
                tx.rollback().await?;
                return Err(self.why_not_updated(case_id, r.expected_version).await?);
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn numbered(&self, kind: &str, numbers: &[String]) -> Result<Vec<(String, String)>> {
        let mut taken = Vec::new();
        // A few hundred at a time: each is a bound value.
        for chunk in numbers.chunks(500) {
            let list = (0..chunk.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let mut q = sqlx::query(AssertSqlSafe(format!(
                "SELECT number, id FROM cases WHERE kind = $1 AND number IN ({list})"
            )))
            .bind(kind.to_string());
            for n in chunk {
                q = q.bind(n.clone());
            }
            for r in q.fetch_all(&self.pool).await? {
                taken.push((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?));
            }
        }
        taken.sort();
        Ok(taken)
    }

    async fn unindexed(&self, limit: u32) -> Result<Vec<crate::Unindexed>> {
        // In filing order, so that numbers given to old cases follow it. Every case filed or
        // imported since numbers began gets its number and its search row in one
        // transaction, as `index_case` does here: a case without a number is one from before.
        let rows = sqlx::query(
            "SELECT c.id, c.kind, c.number, e.payload FROM cases c \
             JOIN case_events e ON e.case_id = c.id AND e.seq = 1 \
             WHERE c.number IS NULL \
             ORDER BY c.filed_at, c.id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(crate::Unindexed {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    number: r.try_get("number")?,
                    filing: parse(&r.try_get::<String, _>("payload")?, "event payload")?,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(case_id = id))]
    async fn index_case(&self, id: &str, index: &crate::Indexing<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT c.kind, c.number, c.filed_at, e.payload FROM cases c \
             JOIN case_events e ON e.case_id = c.id AND e.seq = 1 WHERE c.id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "case",
            id: id.into(),
        })?;
        let kind: String = row.try_get("kind")?;
        let filed_at = from_ms(row.try_get("filed_at")?)?;
        let payload: Map<String, Value> =
            parse(&row.try_get::<String, _>("payload")?, "event payload")?;
        let number = match row.try_get::<Option<String>, _>("number")? {
            Some(n) => n,
            None => {
                let n = numbers::number_for(
                    &mut tx,
                    &kind,
                    china_date(filed_at).year(),
                    index.format,
                    index.number.as_deref(),
                    &payload,
                )
                .await?;
                sqlx::query("UPDATE cases SET number = $1 WHERE id = $2")
                    .bind(n.clone())
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?;
                n
            }
        };
        sqlx::query("DELETE FROM case_search WHERE case_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        insert_search_rows(
            &mut tx,
            &[search_row(id, &number, &index.words, ms(filed_at))],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(case_id = %new.id))]
    async fn file_case(&self, new: NewCase<'_>) -> Result<Filed> {
        let t = new.transition;
        let case = &t.case;
        let cols = Columns::of(case)?;
        let mut tx = self.begin().await?;
        // Taken in this transaction: a replayed or failed filing gives its number back.
        let number = numbers::number_for(
            &mut tx,
            &case.kind,
            china_date(case.filed_at).year(),
            new.index.format,
            new.index.number.as_deref(),
            &t.event.payload,
        )
        .await?;
        let names = CaseNames {
            id: &new.id,
            title: &new.title,
            number: &number,
        };
        let inserted = Self::insert_case(
            &mut tx,
            names,
            case,
            &cols,
            new.idempotency.as_ref(),
            t.event.at,
        )
        .await;
        let inserted = match inserted {
            Ok(r) => r,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                let numbered = e.message().contains("number");
                return Err(Error::Duplicate {
                    what: if numbered { "case number" } else { "case" },
                    id: if numbered { number } else { new.id },
                });
            }
            Err(e) => return Err(e.into()),
        };
        if inserted.rows_affected() == 0 {
            // Only the idempotency key can conflict without an error.
            let idem = new
                .idempotency
                .as_ref()
                .ok_or_else(|| Error::Corrupt("unexpected conflict".into()))?;
            let row = sqlx::query(
                "SELECT id, request_hash FROM cases WHERE filer = $1 AND idempotency_key = $2",
            )
            .bind(cols.filer.clone())
            .bind(idem.key.clone())
            .fetch_one(&mut *tx)
            .await?;
            let hash: Option<String> = row.try_get("request_hash")?;
            tx.rollback().await?;
            return if hash.as_deref() == Some(idem.request_hash.as_str()) {
                Ok(Filed::Replayed {
                    id: row.try_get("id")?,
                })
            } else {
                Err(Error::IdempotencyMismatch {
                    key: idem.key.clone(),
                })
            };
        }
        self.fault("file_case.event_insert")?;
        let mut rest = vec![
            Self::event_statement(&new.id, &t.event, &new.meta)?,
            search_statement(
                tx.backend(),
                search_row(&new.id, &number, &new.index.words, ms(case.filed_at)),
            ),
        ];
        Self::party_statements(&mut rest, &new.id, &case.parties, &cols, ms(case.filed_at));
        apply_effects(
            &t.effects,
            ms(t.event.at),
            &mut Statements {
                out: &mut rest,
                case_id: &new.id,
            },
        )?;
        self.personal_statements(&mut rest, &new.id, t)?;
        batch::run(&mut tx, rest).await?;
        tx.commit().await?;
        Ok(Filed::Created { id: new.id })
    }

    async fn record_action(
        &self,
        case_id: &str,
        expected_version: u64,
        t: &Transition,
        meta: &Meta,
    ) -> Result<()> {
        self.record(case_id, expected_version, t, meta, &[]).await
    }

    #[tracing::instrument(skip_all, fields(case_id = case_id, action = decision.action()))]
    async fn act<D: crate::unit::Decide>(
        &self,
        acting: crate::unit::Acting<'_>,
        case_id: &str,
        decision: D,
    ) -> Result<crate::unit::Acted<D::Kept, D::Refusal>> {
        self.act_unit(acting, case_id, decision).await
    }

    #[tracing::instrument(skip_all, fields(case_id = id))]
    async fn case(&self, id: &str) -> Result<Option<CaseRecord>> {
        let row = sqlx::query("SELECT id, number, title, projection FROM cases WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record_from_row).transpose()
    }

    async fn cases(&self, ids: &[String]) -> Result<Vec<CaseRecord>> {
        let sql = "SELECT id, number, title, projection FROM cases WHERE id IN ({list})";
        fetch_in(self, sql, &[], ids)
            .await?
            .iter()
            .map(record_from_row)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(case_id = id))]
    async fn events(&self, id: &str) -> Result<Vec<StoredEvent>> {
        let rows = sqlx::query(HISTORY_SQL)
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    #[tracing::instrument(skip_all, fields(case_id = id))]
    async fn case_and_filing(&self, id: &str) -> Result<Option<CaseAndFiling>> {
        let row = sqlx::query(CASE_AND_FILING)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(case_and_filing_from_row).transpose()
    }

    async fn filing(&self, id: &str) -> Result<Option<Map<String, Value>>> {
        let row = sqlx::query("SELECT payload FROM case_events WHERE case_id = $1 AND seq = 1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| parse(&r.try_get::<String, _>("payload")?, "event payload"))
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(case_id = id))]
    async fn case_as_of(&self, id: &str, at: Timestamp) -> Result<Option<Case>> {
        let Some(head) =
            sqlx::query("SELECT kind, workflow_version, workflow_digest FROM cases WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let events = self.events(id).await?;
        let kind: String = head.try_get("kind")?;
        let version: i64 = head.try_get("workflow_version")?;
        let digest: String = head.try_get("workflow_digest")?;
        Ok(Case::fold(
            &kind,
            version as u32,
            &digest,
            events.iter().map(|e| &e.event).filter(|e| e.at <= at),
        ))
    }

    async fn due_reminders(&self, now: Timestamp, limit: u32) -> Result<Vec<StoredReminder>> {
        let rows = sqlx::query(DUE_REMINDERS_SQL)
            .bind(ms(now))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(reminder).collect()
    }

    async fn reminders(&self, case_id: &str) -> Result<Vec<StoredReminder>> {
        let rows = sqlx::query(
            "SELECT case_id, reminder_key, state, duty, rule, fire_at, due_date, notify, repeat_every_days, escalate, status, headline \
             FROM reminders WHERE case_id = $1 ORDER BY reminder_key",
        )
        .bind(case_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(reminder).collect()
    }
}
