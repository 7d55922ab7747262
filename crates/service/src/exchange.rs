//! Spreadsheets in and out: an import planned row by row through the state machine and written
//! all or nothing, and an export from the histories.

use super::*;

/// An export: the header row's column names, and each case's cells by column.
pub type Exported = (Vec<String>, Vec<BTreeMap<String, String>>);

impl<S: Store + Audit> Service<S> {
    /// Imports spreadsheet rows of `kind` through the state machine: every row is checked first
    /// (fields, references, the whole history of the row), and then all are written in one
    /// transaction — or, if any row is bad, none, with every bad row named.
    #[tracing::instrument(skip_all, fields(kind = kind, rows = rows.len()))]
    pub async fn import(
        &self,
        kind: &str,
        rows: &[sheet::Row],
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<usize, Vec<sheet::RowError>> {
        let wf = self.workflow(kind).map_err(|e| {
            vec![sheet::RowError {
                row: 0,
                column: "kind".into(),
                problem: e.to_string(),
            }]
        })?;
        // One instant for the whole import: what counts as "in the future", and which
        // reminders have already passed.
        let now = self.now();
        let mut errors = Vec::new();
        let mut planned = Vec::new();
        let mut known: BTreeMap<String, Option<(Role, Option<String>)>> =
            std::collections::BTreeMap::new();
        let mut references = BTreeMap::new();
        let storage_error = |e: duban_storage::Error| {
            vec![sheet::RowError {
                row: 0,
                column: String::new(),
                problem: format!("database: {e}"),
            }]
        };
        for (i, row) in rows.iter().enumerate() {
            // Who filed it must exist; their role is the filing role.
            let filer = row
                .cells
                .get(party::FILER)
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            if !filer.is_empty() && !known.contains_key(&filer) {
                let user = self.store.user(&filer).await.map_err(storage_error)?;
                known.insert(filer.clone(), user.map(|u| (u.role, u.org)));
            }
            let role = known.get(&filer).cloned().flatten();
            if !filer.is_empty() && role.is_none() {
                errors.push(sheet::RowError {
                    row: row.number,
                    column: party::FILER.into(),
                    problem: "names no user".into(),
                });
                continue;
            }
            match sheet::plan_row(wf, &self.calendar, row, role, now) {
                Ok(ts) => {
                    // Organisations and users the row names must exist (looked up once each).
                    for t in &ts {
                        let fields = if t.event.action == machine::FILE {
                            &wf.filing.payload
                        } else {
                            match wf.action(&t.event.action) {
                                Some(a) => &a.payload,
                                None => continue,
                            }
                        };
                        let prefix = if t.event.action == machine::FILE {
                            String::new()
                        } else {
                            format!("{}.", t.event.action)
                        };
                        let problems = self
                            .unknown_references(
                                fields,
                                &t.event.payload,
                                &mut references,
                                &mut Reads(&self.store),
                            )
                            .await
                            .map_err(storage_error)?;
                        errors.extend(problems.into_iter().map(|p| sheet::RowError {
                            row: row.number,
                            column: format!("{prefix}{}", p.field),
                            problem: p.problem,
                        }));
                    }
                    planned.push((row, ts));
                }
                Err(e) => errors.extend(e),
            }
            progress(i + 1);
        }
        // A number is a case's: a row that brings one already given (a sheet imported twice)
        // or given twice in the sheet is refused, naming it, rather than filed again.
        let numbered: Vec<(usize, String)> = rows
            .iter()
            .filter_map(|r| {
                let n = r.cells.get("number")?.trim();
                (!n.is_empty()).then(|| (r.number, n.to_string()))
            })
            .collect();
        let given: Vec<String> = numbered.iter().map(|(_, n)| n.clone()).collect();
        let taken = self
            .store
            .numbers_taken(kind, &given)
            .await
            .map_err(storage_error)?;
        let mut seen = BTreeMap::new();
        for (row, n) in &numbered {
            let problem = if taken.binary_search(n).is_ok() {
                format!("{n} is already the number of a case")
            } else if let Some(first) = seen.insert(n.clone(), *row) {
                format!("{n} is also the number of row {first}")
            } else {
                continue;
            };
            errors.push(sheet::RowError {
                row: *row,
                column: "number".into(),
                problem,
            });
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.row);
            return Err(errors);
        }
        let cases: Vec<duban_storage::ImportedCase<'_>> = planned
            .iter()
            .map(|(row, ts)| duban_storage::ImportedCase {
                id: uuid::Uuid::now_v7().to_string(),
                title: row
                    .cells
                    .get("title")
                    .cloned()
                    .unwrap_or_else(|| wf.title.clone()),
                index: self.indexing(
                    wf,
                    &ts.first()
                        .map(|t| t.event.payload.clone())
                        .unwrap_or_default(),
                    row.cells
                        .get("number")
                        .map(|n| n.trim().to_string())
                        .filter(|n| !n.is_empty()),
                ),
                transitions: ts,
            })
            .collect();
        self.store
            .import_cases(&cases, now)
            .await
            .map_err(storage_error)?;
        Ok(cases.len())
    }

    /// Every case of `kind` filed in `year`, as spreadsheet rows in the import layout, personal
    /// data masked.
    #[tracing::instrument(skip_all)]
    pub async fn export(&self, kind: &str, year: i16) -> Result<Exported> {
        let wf = self.workflow(kind)?;
        let rows = self
            .store
            .histories(kind, year)
            .await?
            .iter()
            .map(|h| sheet::export_row(wf, h.number.as_deref(), &h.events))
            .collect();
        Ok((sheet::columns(wf), rows))
    }
}
