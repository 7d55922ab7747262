//! The fixed set of roles people act in. Which role may take which action is workflow data.

use std::fmt;

use serde::{Deserialize, Serialize};

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
