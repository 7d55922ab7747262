//! Import: whole histories written slice by slice in one transaction, in multi-row statements,
//! leaving the same rows as the same steps acted one by one.

use std::collections::BTreeMap;

use duban_core::deadline::china_date;
use duban_core::number::NumberFormat;
use duban_core::vocabulary::party;
use jiff::Timestamp;

use super::batch;
use super::*;
use crate::{Error, Meta, Result};

/// An import under way on SQL: the one transaction every slice is written in. Dropped
/// uncommitted, sqlx rolls it back.
pub struct SqlImport {
    pub(crate) store: SqlStore,
    pub(crate) tx: WriteTx,
    pub(crate) now: Timestamp,
}

impl std::fmt::Debug for SqlImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlImport").field("now", &self.now).finish()
    }
}

impl crate::Importing for SqlImport {
    async fn reserve(
        &mut self,
        kind: &str,
        format: &NumberFormat,
        numbers: &[String],
    ) -> Result<()> {
        let mut highest: BTreeMap<i16, u64> = BTreeMap::new();
        for (year, seq) in numbers.iter().filter_map(|n| format.read(n)) {
            let h = highest.entry(year).or_default();
            *h = (*h).max(seq);
        }
        for (year, at_least) in highest {
            numbers::take(&mut self.tx, kind, year, at_least, 0).await?;
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(cases = cases.len()))]
    async fn write(&mut self, cases: &[crate::ImportedCase<'_>]) -> Result<()> {
        self.store
            .write_imported(&mut self.tx, cases, self.now)
            .await
    }

    async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    async fn rollback(self) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }
}

impl SqlStore {
    /// Writes whole cases — each a filing and the actions after it — in `tx` (a slice of a
    /// spreadsheet import). Reminders whose time has already passed are left out: a historical
    /// record should not set off a storm of old reminders.
    async fn write_imported(
        &self,
        tx: &mut WriteTx,
        cases: &[crate::ImportedCase<'_>],
        now: Timestamp,
    ) -> Result<()> {
        // Every row of every table is gathered first and written in multi-row statements: an
        // import is thousands of cases, and each statement is a round trip to the database.
        let mut case_rows = Vec::new();
        let mut event_rows = Vec::new();
        let mut party_rows = Vec::new();
        let mut reminder_rows = Vec::new();
        // When each case was filed, in the same order, for its search row.
        let mut filed = Vec::with_capacity(cases.len());
        // Every case has its filing: the numbers and search rows below pair with these rows.
        if let Some(empty) = cases.iter().find(|c| c.transitions.is_empty()) {
            return Err(Error::Corrupt(format!(
                "imported case {} has no filing",
                empty.id
            )));
        }
        for c in cases {
            let Some(last) = c.transitions.last() else {
                continue;
            };
            let case = &last.case;
            let cols = Columns::of(case)?;
            filed.push(ms(case.filed_at));
            case_rows.push(vec![
                Val::Text(c.id.clone()),
                Val::Text(case.kind.clone()),
                Val::Int(i64::from(case.workflow_version)),
                Val::Text(case.workflow_digest.clone()),
                Val::Text(c.title.clone()),
                Val::Text(case.state.clone()),
                Val::Int(case.version as i64),
                Val::Int(cols.is_open),
                Val::Int(cols.is_key),
                Val::Int(i64::from(china_date(case.filed_at).year())),
                Val::Int(ms(case.filed_at)),
                Val::Int(ms(case.entered_at)),
                Val::Int(cols.due_key),
                Val::OptText(cols.due_date.clone()),
                Val::Text(cols.filer.clone()),
                Val::OptText(cols.supervisor.clone()),
                Val::Text(cols.projection.clone()),
                Val::Int(ms(last.event.at)),
                Val::Text(cols.figures.clone()),
                Val::OptText(cols.raters.clone()),
            ]);
            // The reminders as the effects leave them, gathered in memory rather than by
            // replaying each upsert and cancel against the table.
            let mut reminders = Gathered::new(now);
            for t in c.transitions {
                event_rows.push(event_row(&c.id, &t.event, &Meta::default())?);
                apply_effects(&t.effects, ms(t.event.at), &mut reminders)?;
            }
            reminder_rows.extend(reminders.into_rows(&c.id)?);
            // The parties as the live path leaves them: each member's copies of the open flag
            // and deadline as they were when the event naming it was written, and the
            // departments' kept up to date with the case (what `inbox_copy_sql` and SQLite's
            // trigger do after every action).
            let mut parties: BTreeMap<(&str, &str), (i64, i64)> = BTreeMap::new();
            for t in c.transitions {
                let copy = inbox_copy(&t.case);
                for (party, members) in &t.event.sets {
                    parties.retain(|(p, _), _| p != party);
                    for member in members {
                        parties.entry((party, member)).or_insert(copy);
                    }
                }
                for ((party, _), v) in parties.iter_mut() {
                    // The department parties' and the awaiting copies follow the case after
                    // every action (`inbox_copy_sql`, and SQLite's `cases_inbox_copy`).
                    if party::COPIES_FOLLOW.contains(party) {
                        *v = copy;
                    }
                }
            }
            for ((party, member), (is_open, due_key)) in parties {
                party_rows.push(vec![
                    Val::Text(c.id.clone()),
                    Val::Text(party.to_string()),
                    Val::Text(member.to_string()),
                    Val::Int(is_open),
                    Val::Int(due_key),
                    Val::Int(ms(case.filed_at)),
                ]);
            }
        }
        let numbers = Self::import_numbers(tx, cases).await?;
        let mut search_rows = Vec::with_capacity(cases.len());
        for (((row, c), number), filed_at) in
            case_rows.iter_mut().zip(cases).zip(&numbers).zip(filed)
        {
            row.push(Val::Text(number.clone()));
            search_rows.push(search_row(&c.id, number, &c.index.words, filed_at));
        }
        match insert_rows(
            tx,
            "cases (id, kind, workflow_version, workflow_digest, title, state, version, is_open, is_key, \
             year, filed_at, entered_at, due_key, due_date, filer, supervisor, projection, updated_at, figures, raters, number)",
            &case_rows,
        )
        .await
        {
            Ok(()) => {}
            Err(Error::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                let numbered = e.message().contains("number");
                return Err(Error::Duplicate {
                    what: if numbered { "case number" } else { "case" },
                    id: "one of the imported cases".into(),
                });
            }
            Err(e) => return Err(e),
        }
        insert_search_rows(tx, &search_rows).await?;
        insert_rows(tx, EVENTS_TARGET, &event_rows).await?;
        insert_rows(
            tx,
            "case_parties (case_id, party, member, is_open, due_key, filed_at)",
            &party_rows,
        )
        .await?;
        insert_rows(tx, REMINDERS_TARGET, &reminder_rows).await?;
        let mut personal = Vec::new();
        for c in cases {
            for t in c.transitions {
                self.personal_statements(&mut personal, &c.id, t)?;
            }
        }
        // One statement at a time: an import may carry thousands, and a script of them all
        // would be one prepared statement as long, its `$N` looked up one by one.
        for s in personal {
            batch::run(tx, vec![s]).await?;
        }
        Ok(())
    }

    /// The numbers of imported cases, in their order: those they bring are kept (each kind's
    /// sequence raised past them), the others take the next of their kind and year's, in
    /// filing order. One statement per kind and year.
    async fn import_numbers(
        tx: &mut WriteTx,
        cases: &[crate::ImportedCase<'_>],
    ) -> Result<Vec<String>> {
        // (kind, year) → the highest sequence brought, and the cases to number, by position.
        let mut groups: BTreeMap<(String, i16), (u64, Vec<usize>)> = BTreeMap::new();
        let mut numbers = vec![String::new(); cases.len()];
        for (i, c) in cases.iter().enumerate() {
            let Some(first) = c.transitions.first() else {
                continue;
            };
            let kind = first.case.kind.clone();
            let year = china_date(first.case.filed_at).year();
            match &c.index.number {
                Some(n) => {
                    numbers[i] = n.clone();
                    if let Some((y, seq)) = c.index.format.read(n) {
                        let g = groups.entry((kind, y)).or_default();
                        g.0 = g.0.max(seq);
                    }
                }
                None => groups.entry((kind, year)).or_default().1.push(i),
            }
        }
        for ((kind, year), (at_least, mut unnumbered)) in groups {
            unnumbered.sort_by_key(|&i| {
                cases[i]
                    .transitions
                    .first()
                    .map(|t| (t.case.filed_at, cases[i].id.clone()))
            });
            let first = numbers::take(tx, &kind, year, at_least, unnumbered.len() as u64).await?;
            for (k, i) in unnumbered.into_iter().enumerate() {
                let filing = cases[i].transitions.first().map(|t| &t.event.payload);
                numbers[i] = cases[i].index.format.render(
                    year,
                    first + k as u64,
                    filing.unwrap_or(&serde_json::Map::new()),
                );
            }
        }
        Ok(numbers)
    }
}
