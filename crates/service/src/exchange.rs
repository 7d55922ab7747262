//! Spreadsheets in and out: an import planned row by row through the state machine and written
//! all or nothing, and an export from the histories.

use super::*;

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

impl<S: Store + Audit + duban_storage::Accounts> Service<S> {
    /// `rows` in the import layout of `wf`: the sheet as offices keep it, Chinese headers read
    /// as columns and names as codes (the directory read once); problems go to `errors`.
    async fn laid_out(
        &self,
        wf: &Workflow,
        rows: &[sheet::Row],
        errors: &mut Vec<sheet::RowError>,
    ) -> Result<Vec<sheet::Row>, Vec<sheet::RowError>> {
        let orgs = self.store.directory().await.map_err(storage_problem)?;
        let people = self.store.people().await.map_err(storage_problem)?;
        let names = crate::sheet_names::Names::new(&orgs, &people);
        let layout = crate::sheet_names::Layout::new(wf, &names);
        let mut laid_out = Vec::with_capacity(rows.len());
        for row in rows {
            let (row, problems) = layout.row(row.clone());
            errors.extend(problems);
            laid_out.push(row);
        }
        Ok(laid_out)
    }

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
        let wf = self.workflow(kind).map_err(kind_problem)?;
        // One instant for the whole import: what counts as "in the future", and which
        // reminders have already passed.
        let now = self.now();
        let mut errors = Vec::new();
        let mut planned = Vec::new();
        let mut known: BTreeMap<String, Option<(Role, Option<String>)>> =
            std::collections::BTreeMap::new();
        let mut references = BTreeMap::new();
        let laid_out = self.laid_out(wf, rows, &mut errors).await?;
        let rows = &laid_out[..];
        for (i, row) in rows.iter().enumerate() {
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
                            .map_err(storage_problem)?;
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
            .map_err(storage_problem)?;
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
        if !write {
            return Ok(planned.len());
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
            .map_err(storage_problem)?;
        Ok(cases.len())
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
        let laid_out = self.laid_out(wf, rows, &mut errors).await?;
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
                        let fields = wf
                            .action(&t.event.action)
                            .map(|a| a.payload.as_slice())
                            .unwrap_or_default();
                        let problems = self
                            .unknown_references(
                                fields,
                                &t.event.payload,
                                &mut BTreeMap::new(),
                                &mut Reads(&self.store),
                            )
                            .await
                            .map_err(storage_problem)?;
                        errors.extend(problems.into_iter().map(|p| sheet::RowError {
                            row: row.number,
                            column: format!("{}.{}", t.event.action, p.field),
                            problem: p.problem,
                        }));
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
