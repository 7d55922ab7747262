//! The fixed set of roles people act in. Which role may take which action is workflow data.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::OrgKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Committee chair and vice-chairs (主任/副主任): supervise, take personal charge of key items.
    Leader,
    /// Working-committee staff (工作委员会): register, assign, approve.
    Staff,
    /// A people's congress deputy (人大代表).
    Deputy,
    /// A clerk of a handling department (承办单位).
    Department,
    /// A deputy mediator in the mediation room.
    Mediator,
    /// A court clerk who refers cases for pre-litigation mediation.
    Court,
    /// Reads everything, changes nothing.
    Auditor,
    /// Runs the installation.
    Admin,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Leader,
        Role::Staff,
        Role::Deputy,
        Role::Department,
        Role::Mediator,
        Role::Court,
        Role::Auditor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Staff => "staff",
            Role::Deputy => "deputy",
            Role::Department => "department",
            Role::Mediator => "mediator",
            Role::Court => "court",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether a person in this role may belong to an organisation of `kind` (`None`: to
    /// none), with the reason in Chinese when not. Department and court clerks act for theirs,
    /// so they must have one of that kind; a deputy may belong to a station (their 联络站);
    /// the committee's people may belong to any.
    pub fn may_belong_to(self, kind: Option<OrgKind>) -> Result<(), &'static str> {
        match (self, kind) {
            (Role::Department, None) => Err("承办单位工作人员须属于一个承办单位"),
            (Role::Court, None) => Err("法院工作人员须属于一个法院"),
            (Role::Department, Some(k)) if k != OrgKind::Department => {
                Err("承办单位工作人员只能属于承办单位")
            }
            (Role::Court, Some(k)) if k != OrgKind::Court => Err("法院工作人员只能属于法院"),
            (Role::Deputy, Some(k)) if k != OrgKind::Station => Err("代表只能属于代表之家或联络站"),
            _ => Ok(()),
        }
    }

    /// Auditors may read everything and change nothing, so no action can be theirs.
    pub fn may_act(self) -> bool {
        self != Role::Auditor
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
