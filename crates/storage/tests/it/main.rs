//! The storage suites, one test binary: each scenario runs on SQLite and on PostgreSQL.

mod conformance;
mod crash;
mod history;
mod plans;
mod upgrade;

use duban_testkit::ts;

/// The `i`th of a run of plain audit records, a day apart from 2024-01-01.
pub fn audit_record(i: i64) -> duban_storage::AuditRecord {
    duban_storage::AuditRecord {
        at: ts(&format!("2024-01-0{}T09:00:00", i + 1)),
        actor: format!("user{i}"),
        role: "staff".into(),
        source: "cli".into(),
        action: "export".into(),
        target: "petition 2024".into(),
        outcome: "ok".into(),
        detail: String::new(),
    }
}
