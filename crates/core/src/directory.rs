//! Who Duban knows: the organisations cases are assigned to and the people who sign in.

use serde::{Deserialize, Serialize};

use crate::Role;
use crate::vocabulary::OrgKind;

/// An organisation: a department, a station, a court.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub code: String,
    pub kind: OrgKind,
    pub name: String,
}

/// A person who signs in: a leader, staff member, deputy, department clerk, mediator …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub login: String,
    pub role: Role,
    pub org: Option<String>,
    pub name: String,
}
