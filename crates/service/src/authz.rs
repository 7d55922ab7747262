//! Who may see what, on one page: a principal's reach over a case (`can_see`), who may see
//! personal data in full (`may_reveal`), and which lists each role may ask for.

use super::*;

/// How an operator's login starts; `:` is in no login (`is_code`), so no one signs in as one.
const OPERATOR: &str = "cli:";

/// Who is calling: the user behind the bearer token or session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: User,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor {
            user: self.user.login.clone(),
            role: self.user.role,
            org: self.user.org.clone(),
        }
    }

    pub(crate) fn role(&self) -> Role {
        self.user.role
    }

    /// Someone with a shell on the server, administering from the command line as the
    /// operating-system user `name`: an administrator whom no session or token stands for. The
    /// audit log records them as the command line's own events are (`operator`, `cli`).
    pub fn operator(name: &str) -> Principal {
        Principal {
            user: User {
                login: format!("{OPERATOR}{name}"),
                role: Role::Admin,
                org: None,
                name: name.to_string(),
            },
        }
    }

    /// Whether this is [`Principal::operator`].
    pub fn is_operator(&self) -> bool {
        self.user.login.starts_with(OPERATOR)
    }

    fn is_member(&self, case: &Case, party: &str) -> bool {
        case.parties.get(party).is_some_and(|members| {
            members
                .iter()
                .any(|m| *m == self.user.login || self.user.org.as_deref() == Some(m.as_str()))
        })
    }

    /// Whether the caller may see `case` at all.
    pub fn can_see(&self, case: &Case) -> bool {
        match self.role() {
            Role::Leader | Role::Staff | Role::Auditor => true,
            Role::Admin => false,
            // A department named on the case in any part (lead, co-handler, the body that
            // answers a petition's 复核) sees it: a workflow may give it a step to take.
            Role::Department => case.parties.keys().any(|p| self.is_member(case, p)),
            Role::Deputy => {
                party::DEPUTY.iter().any(|p| self.is_member(case, p))
                    || self.is_member(case, party::STATION)
            }
            Role::Mediator => self.is_member(case, party::MEDIATORS),
            Role::Court => self.is_member(case, party::COURT) || self.is_member(case, party::FILER),
        }
    }

    /// Whether the caller may see personal data in full (asking, with a reason): staff and
    /// leaders, the deputy who took the case on, and the department that must contact the person.
    pub fn may_reveal(&self, case: &Case) -> bool {
        match self.role() {
            Role::Leader | Role::Staff => true,
            Role::Deputy => self.is_member(case, party::FILER),
            Role::Department => self.is_member(case, party::LEAD_DEPARTMENT),
            Role::Mediator => self.is_member(case, party::MEDIATORS),
            Role::Court | Role::Auditor | Role::Admin => false,
        }
    }
}

impl<S: Store + Audit> Service<S> {
    pub(crate) async fn list_within_reach(
        &self,
        now: Timestamp,
        p: &Principal,
        params: &ListParams,
    ) -> Result<Listing> {
        let forbid = |detail: &str| {
            Err(Error::Forbidden {
                detail: detail.into(),
            })
        };
        let own_org = p.user.org.clone().unwrap_or_default();
        // A department, a deputy and a station narrow a committee list together: the first
        // chooses the list, the others are conditions on it.
        let party_lists: Vec<PartyList> = [
            params.department.clone().map(PartyList::Department),
            params.deputy.clone().map(PartyList::Deputy),
            params.station.clone().map(PartyList::Station),
        ]
        .into_iter()
        .flatten()
        .collect();
        let base = match p.role() {
            Role::Admin => return forbid("administrators manage accounts, not cases"),
            Role::Leader | Role::Staff | Role::Auditor => {
                if let Some(until) = params.due_before {
                    CaseQuery::DueBetween { from: now, until }
                } else if let (Some(d), true) = (&params.department, params.by_due) {
                    CaseQuery::DepartmentOpen {
                        department: d.clone(),
                    }
                } else if let Some(first) = party_lists.first() {
                    CaseQuery::Party(first.clone())
                } else if params.overdue {
                    CaseQuery::Overdue { now }
                } else if params.key {
                    CaseQuery::KeySuggestions
                } else {
                    CaseQuery::All
                }
            }
            Role::Department => {
                if params.department.as_ref().is_some_and(|d| *d != own_org)
                    || params.deputy.is_some()
                    || params.station.is_some()
                {
                    return forbid("a department lists only its own cases");
                }
                if params.by_due {
                    CaseQuery::DepartmentOpen {
                        department: own_org,
                    }
                } else {
                    CaseQuery::Party(PartyList::Department(own_org))
                }
            }
            Role::Deputy => {
                if params.department.is_some()
                    || params.deputy.as_ref().is_some_and(|d| *d != p.user.login)
                {
                    return forbid("a deputy lists only their own cases and their station's");
                }
                match &params.station {
                    Some(s) if *s == own_org => CaseQuery::Party(PartyList::Station(s.clone())),
                    Some(_) => return forbid("a deputy lists only their own station's cases"),
                    None => CaseQuery::Party(PartyList::Deputy(p.user.login.clone())),
                }
            }
            Role::Mediator | Role::Court => {
                if params.department.is_some()
                    || params.deputy.is_some()
                    || params.station.is_some()
                {
                    return forbid("this role lists only its own cases");
                }
                if p.role() == Role::Mediator {
                    CaseQuery::Party(PartyList::Mediator(p.user.login.clone()))
                } else {
                    CaseQuery::Party(PartyList::Court(own_org))
                }
            }
        };
        let committee = matches!(p.role(), Role::Leader | Role::Staff | Role::Auditor);
        // Whether a person has petitioned before comes from their ID number: the committee may
        // ask it of any list, a deputy only of the cases they filed or co-signed.
        if params.repeat && !committee && !matches!(&base, CaseQuery::Party(PartyList::Deputy(_))) {
            return forbid(
                "repeat filings are listed for the committee and for a deputy's own cases",
            );
        }
        let member_of = match &base {
            CaseQuery::Party(chosen) if committee => {
                party_lists.into_iter().filter(|l| l != chosen).collect()
            }
            _ => Vec::new(),
        };
        let search = match params.q.as_deref().map(str::trim) {
            Some(q) if !q.is_empty() => crate::find::search_terms(q)?,
            _ => Vec::new(),
        };
        let filter = ListFilter {
            kind: params.kind.clone(),
            state: params.state.clone(),
            year: params.year,
            overdue_at: (params.overdue && !matches!(base, CaseQuery::Overdue { .. }))
                .then_some(now),
            key_only: params.key && !matches!(base, CaseQuery::KeySuggestions),
            repeat: params.repeat,
            search,
            member_of,
        };
        let page = Page {
            after: params.after.clone(),
            before: params.before.clone(),
            limit: params.limit.clamp(1, 200),
            order: params.order,
        };
        Ok(self.store.list_filtered(&base, &filter, &page).await?)
    }
}
