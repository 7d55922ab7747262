//! The case use cases: filing, acting (decided inside storage's unit of work, recorded or
//! refused, refusals audited after it), showing with reveals, and the history.

use super::*;

/// An action as asked for, and the instant its use case read the clock at (once: the
/// decision, the answer and any audit record of a refusal share it).
pub(crate) struct Step<'a> {
    pub(crate) action: &'a str,
    pub(crate) payload: &'a Value,
    pub(crate) expected_version: u64,
    pub(crate) request_id: Option<&'a str>,
    pub(crate) now: Timestamp,
}

impl<'a> Step<'a> {
    /// The action as asked for, at the instant read now from the service's clock.
    fn now<S: Store + Audit>(
        service: &Service<S>,
        action: &'a str,
        payload: &'a Value,
        expected_version: u64,
        request_id: Option<&'a str>,
    ) -> Self {
        Step {
            action,
            payload,
            expected_version,
            request_id,
            now: service.now(),
        }
    }
}

/// Why an action was not taken, and what of it goes into the audit log.
struct Refused {
    error: Error,
    audit: Option<Denial>,
}

/// An authorisation failure to record: what was attempted, on what, and why it was refused.
struct Denial {
    action: String,
    target: String,
    detail: String,
}

impl Refused {
    fn audited(error: Error, action: &str, target: &str, detail: &str) -> Refused {
        Refused {
            error,
            audit: Some(Denial {
                action: action.into(),
                target: target.into(),
                detail: detail.into(),
            }),
        }
    }
}

impl From<Error> for Refused {
    fn from(error: Error) -> Refused {
        Refused { error, audit: None }
    }
}

impl<S: Store + Audit> Service<S> {
    /// Files a case. With an idempotency key, a repeat of the same request returns the first
    /// case (`created` false); the same key with another body is refused.
    #[tracing::instrument(skip_all, fields(kind = kind))]
    pub async fn file(
        &self,
        p: &Principal,
        kind: &str,
        payload: &Value,
        idempotency_key: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<(CaseDetail, bool)> {
        let wf = self.workflow(kind)?;
        let now = self.now();
        let t = machine::file(wf, &self.calendar, &p.actor(), payload, now)
            .map_err(|e| refused("file", e))?;
        self.check_references(&wf.filing.payload, payload, &mut Reads(&self.store))
            .await?;
        let title = payload
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| wf.title.clone());
        let idempotency = idempotency_key.map(|key| Idempotency {
            key: key.to_string(),
            request_hash: hex::encode(Sha256::digest(format!("{kind}\n{payload}").as_bytes())),
        });
        let filed = self
            .store
            .file_case(NewCase {
                id: uuid::Uuid::now_v7().to_string(),
                title,
                transition: &t,
                index: self.indexing(wf, &t.event.payload, None),
                idempotency,
                meta: Meta {
                    request_id: request_id.map(str::to_string),
                    on_behalf_of: None,
                },
            })
            .await
            .map_err(|e| match e {
                duban_storage::Error::IdempotencyMismatch { key } => {
                    Error::IdempotencyMismatch { key }
                }
                other => Error::Storage(other),
            })?;
        let created = matches!(filed, Filed::Created { .. });
        self.scheduled(&t);
        let detail = self.show_at(now, p, filed.id(), None, request_id).await?;
        Ok((detail, created))
    }

    pub(crate) async fn visible(
        &self,
        now: Timestamp,
        p: &Principal,
        id: &str,
    ) -> Result<CaseRecord> {
        match self.store.case(id).await? {
            Some(record) if p.can_see(&record.case) => Ok(record),
            Some(_) => {
                self.audit_denial(now, p, "denied", id, "case out of the caller's reach")
                    .await;
                Err(Error::NotFound)
            }
            None => Err(Error::NotFound),
        }
    }

    /// Takes an action on a case the caller can see, at the version the caller last saw. The
    /// caller is someone already known, or a bearer token checked in the same read as the
    /// case ([`Error::Unauthenticated`] if it does not work, recorded).
    #[tracing::instrument(skip_all, fields(case_id = id, action = action))]
    pub async fn act<'c>(
        &self,
        caller: impl Into<Caller<'c>>,
        id: &str,
        action: &str,
        payload: &Value,
        expected_version: u64,
        request_id: Option<&str>,
    ) -> Result<CaseDetail> {
        let step = Step::now(self, action, payload, expected_version, request_id);
        self.act_step(caller.into(), id, &step, Vec::new()).await
    }

    /// Takes the action `step` asks for, with `files` uploaded for it kept in the same
    /// transaction.
    pub(crate) async fn act_step(
        &self,
        caller: Caller<'_>,
        id: &str,
        step: &Step<'_>,
        files: Vec<NewAttachment>,
    ) -> Result<CaseDetail> {
        let hash;
        let acting = match caller {
            Caller::Known(p) => Acting::User(&p.user),
            Caller::Bearer(c) => {
                hash = hash_token(&c.token);
                Acting::Token(&hash, self.now())
            }
        };
        let decision = Decision {
            service: self,
            step,
            files,
        };
        // The unit of work has ended when it answers: a refusal is audited after it, and
        // holds nothing the audit record would wait for.
        match self.store.act(acting, id, decision).await {
            Ok(Acted::Recorded {
                actor,
                record,
                kept,
            }) => {
                self.scheduled(&record.transition);
                let (title, filing, wf) = kept;
                // The answer is the transition's case: no need to read back what was written.
                let (title, number) = title;
                let case = CaseRecord {
                    id: record.case_id,
                    number,
                    title,
                    case: record.transition.case,
                };
                let p = Principal { user: actor };
                Ok(self.detail(step.now, &p, wf, case, filing, Vec::new()))
            }
            Ok(Acted::Refused { actor, refusal }) => {
                let p = Principal { user: actor };
                if let Some(d) = refusal.audit {
                    self.audit_denial(step.now, &p, &d.action, &d.target, &d.detail)
                        .await;
                }
                Err(refusal.error)
            }
            Ok(Acted::UnknownToken) => Err(match caller {
                Caller::Bearer(c) => self.token_refused(c).await,
                Caller::Known(_) => Error::Unauthenticated,
            }),
            Err(duban_storage::Error::Conflict { actual, .. }) => {
                Err(Error::Stale { current: actual })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// One case as the caller may see it; with `reveal`, personal data in full (recorded).
    #[tracing::instrument(skip_all, fields(case_id = id))]
    pub async fn show(
        &self,
        p: &Principal,
        id: &str,
        reveal: Option<&Reveal>,
        request_id: Option<&str>,
    ) -> Result<CaseDetail> {
        self.show_at(self.now(), p, id, reveal, request_id).await
    }

    /// `show` at the instant its use case read the clock at.
    async fn show_at(
        &self,
        now: Timestamp,
        p: &Principal,
        id: &str,
        reveal: Option<&Reveal>,
        request_id: Option<&str>,
    ) -> Result<CaseDetail> {
        let record = self.visible(now, p, id).await?;
        let wf = self.workflow(&record.case.kind)?;
        let mut revealed = Vec::new();
        if let Some(r) = reveal {
            let mut problems = Vec::new();
            for f in &r.fields {
                if !REVEALABLE.contains(&f.as_str()) {
                    problems.push(FieldProblem {
                        field: "reveal".into(),
                        problem: format!(
                            "names a field that is not personal data (one of: {})",
                            REVEALABLE.join(", ")
                        ),
                    });
                }
            }
            if r.reason.trim().chars().count() < 2 {
                problems.push(FieldProblem {
                    field: "reason".into(),
                    problem: "say why you need to see personal data in full".into(),
                });
            }
            if !problems.is_empty() {
                return Err(Error::Invalid { problems });
            }
            if !p.may_reveal(&record.case) {
                return Err(Error::Forbidden {
                    detail: format!(
                        "role `{}` may not see personal data in full on this case",
                        p.role()
                    ),
                });
            }
            let wanted: BTreeSet<&str> = r.fields.iter().map(String::as_str).collect();
            for mut rec in self.store.personal_data(id).await? {
                let person = &mut rec.person;
                if !wanted.contains("name") {
                    person.name = duban_core::person::mask_name(&person.name);
                }
                if !wanted.contains("id_number") {
                    person.id_number = person
                        .id_number
                        .as_deref()
                        .map(duban_core::person::mask_id_number);
                }
                if !wanted.contains("phone") {
                    person.phone = person.phone.as_deref().map(duban_core::person::mask_phone);
                }
                if !wanted.contains("address") {
                    person.address = person
                        .address
                        .as_deref()
                        .map(duban_core::person::mask_address);
                }
                revealed.push(rec);
            }
            self.store
                .record_access(&Access {
                    case_id: id.to_string(),
                    at: now,
                    actor: p.user.login.clone(),
                    role: p.role(),
                    fields: wanted.iter().map(|s| s.to_string()).collect(),
                    reason: r.reason.trim().to_string(),
                    request_id: request_id.map(str::to_string),
                })
                .await?;
            let why = format!("fields {}; reason: {}", r.fields.join(","), r.reason.trim());
            self.audit_at(now, Some(p), "reveal", (id, "ok", &why))
                .await?;
        }
        let filing = self.store.filing(id).await?.unwrap_or_default();
        Ok(self.detail(now, p, wf, record, filing, revealed))
    }

    /// The case as it stood at `at`, folded from its events up to that instant (an instant to
    /// come reads as now). Whoever may see the case now may see how it stood: its history
    /// shows them the same events. The view offers no actions, since nobody acts in the past,
    /// and reveals no personal data.
    #[tracing::instrument(skip_all, fields(case_id = id))]
    pub async fn show_as_of(&self, p: &Principal, id: &str, at: Timestamp) -> Result<CaseDetail> {
        let now = self.now();
        let record = self.visible(now, p, id).await?;
        let wf = self.workflow(&record.case.kind)?;
        let Some(then) = self.store.case_as_of(id, at.min(now)).await? else {
            return Err(Error::Invalid {
                problems: vec![FieldProblem {
                    field: "as_of".into(),
                    problem: format!(
                        "本件于{}受理，此前尚无记录",
                        sheet::show_moment(record.case.filed_at)
                    ),
                }],
            });
        };
        let filing = self.store.filing(id).await?.unwrap_or_default();
        let mut detail = self.detail(
            now,
            p,
            wf,
            CaseRecord {
                case: then,
                ..record
            },
            filing,
            Vec::new(),
        );
        detail.allowed_actions.clear();
        Ok(detail)
    }

    /// The page's view of a case the caller may see.
    fn detail(
        &self,
        now: Timestamp,
        p: &Principal,
        wf: &Workflow,
        record: CaseRecord,
        filing: serde_json::Map<String, Value>,
        revealed: Vec<PersonalRecord>,
    ) -> CaseDetail {
        let state = wf.state(&record.case.state);
        CaseDetail {
            state_title: state.map(|s| s.title.clone()).unwrap_or_default(),
            terminal: state.is_some_and(|s| s.terminal),
            allowed_actions: machine::allowed_actions(
                wf,
                &record.case,
                &p.actor(),
                now,
                &self.calendar,
            ),
            supervisor: record
                .case
                .parties
                .get(party::SUPERVISOR)
                .and_then(|s| s.first())
                .cloned(),
            filing,
            revealed,
            record,
            viewer: p.user.login.clone(),
        }
    }

    /// A case's history and the record of who saw its personal data.
    #[tracing::instrument(skip_all, fields(case_id = id))]
    pub async fn history(&self, p: &Principal, id: &str) -> Result<History> {
        self.visible(self.now(), p, id).await?;
        Ok(History {
            events: self.store.events(id).await?,
            accesses: self.store.accesses(id).await?,
        })
    }
}

/// The service's side of an action's unit of work: the state machine's decision on the case
/// as storage read it, with the codes the payload names looked up in what the unit holds.
struct Decision<'a, S> {
    service: &'a Service<S>,
    step: &'a Step<'a>,
    /// Files uploaded with the action, kept with it.
    files: Vec<NewAttachment>,
}

impl<'a, S: Store + Audit> Decide for Decision<'a, S> {
    /// The case's title, what it was filed with and its workflow: the answer's makings.
    type Kept = (
        (String, Option<String>),
        serde_json::Map<String, Value>,
        &'a Workflow,
    );
    type Refusal = Refused;

    fn action(&self) -> &str {
        self.step.action
    }

    async fn decide<L: Lookup>(
        self,
        actor: &User,
        found: Option<CaseAndFiling>,
        lookup: &mut L,
    ) -> std::result::Result<(Record, Self::Kept), Refused> {
        let Decision {
            service,
            step,
            files,
        } = self;
        let p = Principal {
            user: actor.clone(),
        };
        let (action, payload) = (step.action, step.payload);
        let (record, filing) = match found {
            Some((record, filing)) if p.can_see(&record.case) => (record, filing),
            Some((record, _)) => {
                return Err(Refused::audited(
                    Error::NotFound,
                    "denied",
                    &record.id,
                    "case out of the caller's reach",
                ));
            }
            None => return Err(Error::NotFound.into()),
        };
        if record.case.version != step.expected_version {
            return Err(Error::Stale {
                current: record.case.version,
            }
            .into());
        }
        let wf = service.workflow(&record.case.kind)?;
        let t = machine::act(
            wf,
            &service.calendar,
            &record.case,
            action,
            payload,
            &p.actor(),
            step.now,
        );
        let t = match t {
            Ok(t) => t,
            Err(e) => {
                return Err(match refused(action, e) {
                    Error::Forbidden { detail } => Refused::audited(
                        Error::Forbidden {
                            detail: detail.clone(),
                        },
                        &format!("act:{action}"),
                        &record.id,
                        &detail,
                    ),
                    other => other.into(),
                });
            }
        };
        if let Some(a) = wf.action(action) {
            service
                .check_references(&a.payload, payload, lookup)
                .await?;
            Service::<S>::unknown_files(&a.payload, payload, &record.id, &files, lookup).await?;
        }
        let to_record = Record {
            case_id: record.id,
            expected_version: step.expected_version,
            transition: t,
            meta: Meta {
                request_id: step.request_id.map(str::to_string),
                on_behalf_of: None,
            },
            files,
        };
        Ok((to_record, ((record.title, record.number), filing, wf)))
    }
}

/// The instant an `as_of` names: an instant (RFC 3339, `2024-09-30T16:00:00Z`), or a day
/// (`2024-09-30`) meaning its end in China time, as an office asks "where did it stand on the
/// 30th". `None` if it is neither.
pub fn as_of_instant(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(at) = text.parse::<Timestamp>() {
        return Some(at);
    }
    let day: jiff::civil::Date = text.parse().ok()?;
    // The last day a deadline can have has no end in range: that is no day to look at.
    day.tomorrow().ok()?;
    duban_core::deadline::end_of_day(day)
        .checked_sub(jiff::SignedDuration::from_millis(1))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::as_of_instant;

    #[test]
    fn an_as_of_day_is_its_last_millisecond_in_china() {
        let at = |s: &str| s.parse::<jiff::Timestamp>().ok();
        assert_eq!(as_of_instant("2024-09-30"), at("2024-09-30T15:59:59.999Z"));
        // The last day of a leap February, and the year's last day.
        assert_eq!(
            as_of_instant(" 2024-02-29 "),
            at("2024-02-29T15:59:59.999Z")
        );
        assert_eq!(as_of_instant("2024-12-31"), at("2024-12-31T15:59:59.999Z"));
        assert_eq!(
            as_of_instant("2024-07-01T00:30:00Z"),
            at("2024-07-01T00:30:00Z")
        );
        assert_eq!(
            as_of_instant("2024-07-01T08:30:00+08:00"),
            at("2024-07-01T00:30:00Z")
        );
        for bad in ["", "yesterday", "2024-02-30", "2024-13-01", "30/09/2024"] {
            assert_eq!(as_of_instant(bad), None, "{bad}");
        }
    }
}
