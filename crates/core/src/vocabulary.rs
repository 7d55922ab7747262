//! The names the shipped procedures and the code agree on, defined once: the parties a case is
//! related to that code reads (authorisation, lists, the inbox, the report), and the kinds of
//! case the work report speaks of by name. A workflow may declare parties of its own; the code
//! reads only these.

/// Parties of a case (`parties` in the workflow files).
pub mod party {
    /// Whoever filed the case, or the deputy staff registered it for.
    pub const FILER: &str = "filer";
    /// Deputies who co-signed a suggestion.
    pub const COSIGNERS: &str = "cosigners";
    /// The deputy home or liaison station a petition was taken on at.
    pub const STATION: &str = "station";
    /// The department that must answer.
    pub const LEAD_DEPARTMENT: &str = "lead_department";
    /// Departments that handle it with the lead.
    pub const CO_DEPARTMENTS: &str = "co_departments";
    /// The leader supervising a key suggestion (领衔督办).
    pub const SUPERVISOR: &str = "supervisor";
    /// The deputy mediators of a mediation.
    pub const MEDIATORS: &str = "mediators";
    /// The court that referred a mediation.
    pub const COURT: &str = "court";
    /// The parties a department is on a case as: what its inbox lists.
    pub const DEPARTMENTS: [&str; 2] = [LEAD_DEPARTMENT, CO_DEPARTMENTS];
    /// The parties a deputy's own list covers.
    pub const DEPUTY: [&str; 2] = [FILER, COSIGNERS];
    /// Whose move it is: kept by the engine from the state's `waits_on` and the requests
    /// pending, never declared by a workflow. Its members are logins, organisation codes and
    /// `role:NAME`; a person's queue is the open cases that wait on any of theirs.
    pub const AWAITING: &str = "awaiting";
    /// The parties whose rows carry copies of the case's open flag and deadline kept up to
    /// date with it: what the inbox and the queues sort by.
    pub const COPIES_FOLLOW: [&str; 3] = [LEAD_DEPARTMENT, CO_DEPARTMENTS, AWAITING];
}

/// Kinds of organisation (`orgs.kind`, and `org_kind` on a workflow's fields).
pub mod org_kind {
    pub const DEPARTMENT: &str = "department";
    pub const STATION: &str = "station";
    pub const COURT: &str = "court";
    pub const COMMITTEE: &str = "committee";
    pub const ALL: [&str; 4] = [DEPARTMENT, STATION, COURT, COMMITTEE];
}

/// A kind of organisation, as a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// A government department handling items (承办单位).
    Department,
    /// A deputy home or liaison station (代表之家/联络站).
    Station,
    /// A court referring cases for mediation.
    Court,
    /// The standing committee and its working bodies.
    Committee,
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Department => org_kind::DEPARTMENT,
            OrgKind::Station => org_kind::STATION,
            OrgKind::Court => org_kind::COURT,
            OrgKind::Committee => org_kind::COMMITTEE,
        }
    }

    pub fn parse(s: &str) -> Option<OrgKind> {
        [
            OrgKind::Department,
            OrgKind::Station,
            OrgKind::Court,
            OrgKind::Committee,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Kinds of case (`kind` in the workflow files) the work report names.
pub mod kind {
    pub const SUGGESTION: &str = "suggestion";
    pub const PETITION: &str = "petition";
    pub const MEDIATION: &str = "mediation";
    pub const DELIBERATION: &str = "deliberation";
    pub const LIVELIHOOD: &str = "livelihood";
    pub const LIAISON: &str = "liaison";
    /// In the order the work report speaks of them.
    pub const REPORTED: [&str; 6] = [
        SUGGESTION,
        PETITION,
        MEDIATION,
        DELIBERATION,
        LIVELIHOOD,
        LIAISON,
    ];

    /// A kind's place in the work report's order; kinds it does not name come after.
    pub fn report_order(kind: &str) -> usize {
        REPORTED
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(REPORTED.len())
    }
}
