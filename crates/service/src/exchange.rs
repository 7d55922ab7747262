//! Spreadsheets in and out: an import planned row by row through the state machine and written
//! all or nothing, and an export from the histories.

use super::*;
use duban_core::machine::Transition;
use duban_storage::Importing;

/// A database failure as an import reports it: a problem of no row.
fn storage_problem(e: duban_storage::Error) -> Vec<sheet::RowError> {
    vec![sheet::RowError {
        row: 0,
        column: String::new(),
        problem: format!("database: {e}"),
    }]
}

/// An unknown kind as an import reports it: a problem of the `kind` column.
fn kind_problem(e: Error) -> Vec<sheet::RowError> {
    vec![sheet::RowError {
        row: 0,
        column: "kind".into(),
        problem: e.to_string(),
    }]
}

/// An export: the header row (Chinese, as an import reads it back), and each case's cells
/// under it.
pub type Exported = (Vec<String>, Vec<Vec<String>>);

/// How many rows an import plans and writes at a time: all it holds of the cases at once,
/// whatever the sheet's length.
const SLICE: usize = 1_000;

/// The rows of a sheet in filing order (the row's order among those filed at the same time),
/// as their positions: the order numbers are given in.
fn filing_order(rows: &[sheet::Row], layout: &crate::sheet_names::Layout<'_>) -> Vec<usize> {
    let mut order: Vec<(Option<jiff::Timestamp>, usize)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (layout.cell(r, "filed_at").and_then(sheet::moment), i))
        .collect();
    order.sort_unstable();
    order.into_iter().map(|(_, i)| i).collect()
}

impl<S: Store + Audit + duban_storage::Accounts> Service<S> {
    /// The directory read once for a sheet: its names, to read as codes.
    async fn names(&self) -> Result<crate::sheet_names::Names, Vec<sheet::RowError>> {
        let orgs = self.store.directory().await.map_err(storage_problem)?;
        let people = self.store.people().await.map_err(storage_problem)?;
        Ok(crate::sheet_names::Names::new(&orgs, &people))
    }

    /// Imports spreadsheet rows of `kind` through the state machine: every row is checked
    /// (fields, references, the whole history of the row) and written in one transaction — or,
    /// if any row is bad, none, with every bad row named. Rows are planned and written a slice
    /// at a time, so the cases of a long sheet are never all in memory at once.
    #[tracing::instrument(skip_all, fields(kind = kind, rows = rows.len()))]
    pub async fn import(
        &self,
        kind: &str,
        rows: &[sheet::Row],
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<usize, Vec<sheet::RowError>> {
        self.import_or_check(kind, rows, progress, true).await
    }

    /// [`Service::import`], or with `write` false only its check: how many rows would be
    /// imported, or every problem, with nothing written.
    pub async fn import_or_check(
        &self,
        kind: &str,
        rows: &[sheet::Row],
        progress: &(dyn Fn(usize) + Sync),
        write: bool,
    ) -> Result<usize, Vec<sheet::RowError>> {
        let mut import = None;
        let planned = self
            .plan_and_write(kind, rows, progress, write.then_some(&mut import))
            .await;
        match (planned, import) {
            (Ok(n), Some(import)) => {
                import.commit().await.map_err(storage_problem)?;
                Ok(n)
            }
            (Err(errors), Some(import)) => {
                // What was written of the earlier slices goes; the rows' problems are the
                // answer whether or not the rollback reaches the database (if it does not,
                // the transaction ends with the connection).
                if let Err(e) = import.rollback().await {
                    tracing::warn!(error = %e, "rolling back a refused import");
                }
                Err(errors)
            }
            (planned, None) => planned,
        }
    }

    /// The work of [`Service::import_or_check`]: each slice of rows laid out, planned and
    /// checked, then — while no row has been refused, and `import` is given — written in the
    /// import begun there. Returns how many rows were planned, or every problem.
    async fn plan_and_write(
        &self,
        kind: &str,
        rows: &[sheet::Row],
        progress: &(dyn Fn(usize) + Sync),
        mut import: Option<&mut Option<S::Import>>,
    ) -> Result<usize, Vec<sheet::RowError>> {
        let wf = self.workflow(kind).map_err(kind_problem)?;
        // One instant for the whole import: what counts as "in the future", and which
        // reminders have already passed.
        let now = self.now();
        let names = self.names().await?;
        let layout = crate::sheet_names::Layout::new(wf, &names);
        let (mut errors, brought) = self.number_problems(kind, rows, &layout).await?;
        let mut known = BTreeMap::new();
        let mut references = BTreeMap::new();
        let mut done = 0;
        for slice in filing_order(rows, &layout).chunks(SLICE) {
            let mut planned = Vec::with_capacity(slice.len());
            for &i in slice {
                let (row, problems) = layout.row(rows[i].clone());
                errors.extend(problems);
                if let Some(ts) = self
                    .plan_imported(wf, &row, now, &mut known, &mut references, &mut errors)
                    .await?
                {
                    planned.push((row, ts));
                }
                done += 1;
                progress(done);
            }
            let Some(import) = import.as_deref_mut().filter(|_| errors.is_empty()) else {
                continue;
            };
            let import = match import {
                Some(begun) => begun,
                unbegun => {
                    let mut begun = self
                        .store
                        .begin_import(now)
                        .await
                        .map_err(storage_problem)?;
                    begun
                        .reserve(kind, &wf.number, &brought)
                        .await
                        .map_err(storage_problem)?;
                    unbegun.insert(begun)
                }
            };
            import
                .write(&self.imported(wf, &planned))
                .await
                .map_err(storage_problem)?;
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.row);
            return Err(errors);
        }
        Ok(done)
    }

    /// One laid-out row planned through the state machine, its filer and the organisations and
    /// people it names looked up (once each across the import); its problems go to `errors`.
    async fn plan_imported(
        &self,
        wf: &Workflow,
        row: &sheet::Row,
        now: jiff::Timestamp,
        known: &mut BTreeMap<String, Option<(Role, Option<String>)>>,
        references: &mut BTreeMap<(bool, String), Option<String>>,
        errors: &mut Vec<sheet::RowError>,
    ) -> Result<Option<Vec<Transition>>, Vec<sheet::RowError>> {
        // Who filed it must exist; their role is the filing role.
        let filer = row
            .cells
            .get(party::FILER)
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        if !filer.is_empty() && !known.contains_key(&filer) {
            let user = self.store.user(&filer).await.map_err(storage_problem)?;
            known.insert(filer.clone(), user.map(|u| (u.role, u.org)));
        }
        let role = known.get(&filer).cloned().flatten();
        if !filer.is_empty() && role.is_none() {
            errors.push(sheet::RowError {
                row: row.number,
                column: party::FILER.into(),
                problem: "names no user".into(),
            });
            return Ok(None);
        }
        let ts = match sheet::plan_row(wf, &self.calendar, row, role, now) {
            Ok(ts) => ts,
            Err(e) => {
                errors.extend(e);
                return Ok(None);
            }
        };
        for t in &ts {
            errors.extend(
                self.reference_problems(wf, row.number, t, references)
                    .await?,
            );
        }
        Ok(Some(ts))
    }

    /// The organisations and people a row's step `t` names that do not exist, as problems of
    /// the row's columns (`action.field`, or the filing's own field); each looked up once
    /// across the sheet (`references`).
    async fn reference_problems(
        &self,
        wf: &Workflow,
        row: usize,
        t: &Transition,
        references: &mut BTreeMap<(bool, String), Option<String>>,
    ) -> Result<Vec<sheet::RowError>, Vec<sheet::RowError>> {
        let (fields, prefix) = if t.event.action == machine::FILE {
            (&wf.filing.payload, String::new())
        } else {
            match wf.action(&t.event.action) {
                Some(a) => (&a.payload, format!("{}.", t.event.action)),
                None => return Ok(Vec::new()),
            }
        };
        let problems = self
            .unknown_references(
                fields,
                &t.event.payload,
                references,
                &mut Reads(&self.store),
            )
            .await
            .map_err(storage_problem)?;
        Ok(problems
            .into_iter()
            .map(|p| sheet::RowError {
                row,
                column: format!("{prefix}{}", p.field),
                problem: p.problem,
            })
            .collect())
    }

    /// A number is a case's: a row that brings one already given (a sheet imported twice) or
    /// given twice in the sheet is refused, naming it, rather than filed again. Returns those
    /// problems, and every number the sheet brings.
    async fn number_problems(
        &self,
        kind: &str,
        rows: &[sheet::Row],
        layout: &crate::sheet_names::Layout<'_>,
    ) -> Result<(Vec<sheet::RowError>, Vec<String>), Vec<sheet::RowError>> {
        let numbered: Vec<(usize, &str)> = rows
            .iter()
            .filter_map(|r| {
                let n = layout.cell(r, "number")?.trim();
                (!n.is_empty()).then_some((r.number, n))
            })
            .collect();
        let given: Vec<String> = numbered.iter().map(|(_, n)| n.to_string()).collect();
        let taken = self
            .store
            .numbers_taken(kind, &given)
            .await
            .map_err(storage_problem)?;
        let mut seen = BTreeMap::new();
        let mut errors = Vec::new();
        for &(row, n) in &numbered {
            let problem = if taken.binary_search_by(|t| t.as_str().cmp(n)).is_ok() {
                format!("{n} is already the number of a case")
            } else if let Some(first) = seen.insert(n, row) {
                format!("{n} is also the number of row {first}")
            } else {
                continue;
            };
            errors.push(sheet::RowError {
                row,
                column: "number".into(),
                problem,
            });
        }
        Ok((errors, given))
    }

    /// Planned rows as the cases to write: each a new id, its title, its history, and what it
    /// is numbered and searched by.
    fn imported<'p>(
        &self,
        wf: &'p Workflow,
        planned: &'p [(sheet::Row, Vec<Transition>)],
    ) -> Vec<duban_storage::ImportedCase<'p>> {
        planned
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
            .collect()
    }

    /// An answers sheet of `kind`: rows keyed by 编号, each recording steps (a reply, a
    /// rating) on the existing case its number names, through the state machine from where
    /// the case stands. Every row is checked first; then all are written in one transaction,
    /// or, if any row is bad, none. With `write` false only the check. The steps are recorded
    /// as the parties' (the department's reply, the deputy's rating), entered by `by`.
    #[tracing::instrument(skip_all, fields(kind = kind, rows = rows.len()))]
    pub async fn import_answers(
        &self,
        kind: &str,
        rows: &[sheet::Row],
        by: &str,
        write: bool,
    ) -> Result<usize, Vec<sheet::RowError>> {
        let wf = self.workflow(kind).map_err(kind_problem)?;
        let now = self.now();
        let mut errors = Vec::new();
        let names = self.names().await?;
        let layout = crate::sheet_names::Layout::new(wf, &names);
        let laid_out: Vec<sheet::Row> = rows
            .iter()
            .map(|row| {
                let (row, problems) = layout.row(row.clone());
                errors.extend(problems);
                row
            })
            .collect();
        let numbers: Vec<String> = laid_out
            .iter()
            .filter_map(|r| r.cells.get("number").map(|n| n.trim().to_string()))
            .collect();
        let ids: BTreeMap<String, String> = self
            .store
            .numbered(kind, &numbers)
            .await
            .map_err(storage_problem)?
            .into_iter()
            .collect();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut references = BTreeMap::new();
        let mut records = Vec::new();
        for row in &laid_out {
            let number = row.cells.get("number").map(|n| n.trim()).unwrap_or("");
            let problem = |problem: String| sheet::RowError {
                row: row.number,
                column: "number".into(),
                problem,
            };
            if number.is_empty() {
                errors.push(problem(
                    "is required: an answers sheet names each case by its number".into(),
                ));
                continue;
            }
            if let Some(first) = seen.insert(number.to_string(), row.number) {
                errors.push(problem(format!(
                    "{number} is also the number of row {first}"
                )));
                continue;
            }
            let Some(id) = ids.get(number) else {
                errors.push(problem(format!("{number} is the number of no {kind} case")));
                continue;
            };
            let Some(record) = self.store.case(id).await.map_err(storage_problem)? else {
                errors.push(problem(format!("{number} is the number of no {kind} case")));
                continue;
            };
            match sheet::plan_answers(wf, &self.calendar, row, &record.case, now) {
                Ok(ts) => {
                    for (version, t) in (record.case.version..).zip(ts) {
                        errors.extend(
                            self.reference_problems(wf, row.number, &t, &mut references)
                                .await?,
                        );
                        records.push(Record {
                            case_id: id.clone(),
                            expected_version: version,
                            transition: t,
                            meta: Meta {
                                request_id: None,
                                on_behalf_of: Some(by.to_string()),
                            },
                            files: Vec::new(),
                        });
                    }
                }
                Err(e) => errors.extend(e),
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.row);
            return Err(errors);
        }
        if write {
            self.store
                .record_batch(&records)
                .await
                .map_err(storage_problem)?;
            for r in &records {
                self.scheduled(&r.transition);
            }
        }
        Ok(laid_out.len())
    }

    /// An import by a signed-in person (committee staff only): new cases, or with `answers`
    /// an answers sheet; with `write` false only the check. A written import is audited.
    #[tracing::instrument(skip_all, fields(kind = kind, rows = rows.len()))]
    pub async fn import_as(
        &self,
        p: &Principal,
        kind: &str,
        rows: &[sheet::Row],
        answers: bool,
        write: bool,
    ) -> Result<Result<usize, Vec<sheet::RowError>>> {
        if p.role() != Role::Staff {
            return Err(Error::Forbidden {
                detail: "importing is for the committee's staff".into(),
            });
        }
        self.workflow(kind)?;
        let result = if answers {
            self.import_answers(kind, rows, &p.user.login, write).await
        } else {
            self.import_or_check(kind, rows, &|_| {}, write).await
        };
        if let (true, Ok(n)) = (write, &result) {
            let what = if answers { "answer rows" } else { "cases" };
            self.audit(
                Some(p),
                "import",
                kind,
                "ok",
                &format!("{n} {what} from the web"),
            )
            .await?;
        }
        Ok(result)
    }

    /// [`Service::export`] for a signed-in person (leaders, staff and auditors), audited.
    #[tracing::instrument(skip_all, fields(kind = kind))]
    pub async fn export_as(&self, p: &Principal, kind: &str, year: i16) -> Result<Exported> {
        if !matches!(p.role(), Role::Leader | Role::Staff | Role::Auditor) {
            return Err(Error::Forbidden {
                detail: "exporting a year's cases is for leaders, staff and auditors".into(),
            });
        }
        let exported = self.export(kind, year).await?;
        let detail = format!("{} cases of {year} to the web", exported.1.len());
        self.audit(Some(p), "export", kind, "ok", &detail).await?;
        Ok(exported)
    }

    /// Every case of `kind` filed in `year`, as spreadsheet rows in the import layout under
    /// Chinese headers, only the columns some case fills, personal data masked.
    #[tracing::instrument(skip_all)]
    pub async fn export(&self, kind: &str, year: i16) -> Result<Exported> {
        let wf = self.workflow(kind)?;
        let rows: Vec<BTreeMap<String, String>> = self
            .store
            .histories(kind, year)
            .await?
            .iter()
            .map(|h| sheet::export_row(wf, h.number.as_deref(), &h.events))
            .collect();
        let used: Vec<(String, String)> = crate::sheet_names::headers(wf)
            .into_iter()
            .filter(|(c, _)| rows.iter().any(|r| r.contains_key(c)))
            .collect();
        let cells = rows
            .iter()
            .map(|r| {
                used.iter()
                    .map(|(c, _)| r.get(c).cloned().unwrap_or_default())
                    .collect()
            })
            .collect();
        Ok((used.into_iter().map(|(_, h)| h).collect(), cells))
    }
}
