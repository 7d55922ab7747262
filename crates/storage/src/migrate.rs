//! The schema migrations, compiled in, and the small runner that applies them once each.
//!
//! sqlx's own migrator needs its macros crate; ours is a table of applied versions and a loop,
//! run in one transaction under a lock so that several processes starting at once agree.

/// One migration: its version, name and SQL for each dialect.
#[derive(Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sqlite: include_str!("../../../migrations/sqlite/0001_initial.sql"),
        postgres: include_str!("../../../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "tokens_inbox_access",
        sqlite: include_str!("../../../migrations/sqlite/0002_tokens_inbox_access.sql"),
        postgres: include_str!("../../../migrations/postgres/0002_tokens_inbox_access.sql"),
    },
    Migration {
        version: 3,
        name: "deliveries",
        sqlite: include_str!("../../../migrations/sqlite/0003_deliveries.sql"),
        postgres: include_str!("../../../migrations/postgres/0003_deliveries.sql"),
    },
    Migration {
        version: 4,
        name: "audit",
        sqlite: include_str!("../../../migrations/sqlite/0004_audit.sql"),
        postgres: include_str!("../../../migrations/postgres/0004_audit.sql"),
    },
    Migration {
        version: 5,
        name: "audit_anchor",
        sqlite: include_str!("../../../migrations/sqlite/0005_audit_anchor.sql"),
        postgres: include_str!("../../../migrations/postgres/0005_audit_anchor.sql"),
    },
    Migration {
        version: 6,
        name: "web_sign_in",
        sqlite: include_str!("../../../migrations/sqlite/0006_web_sign_in.sql"),
        postgres: include_str!("../../../migrations/postgres/0006_web_sign_in.sql"),
    },
    Migration {
        version: 7,
        name: "case_figures",
        sqlite: include_str!("../../../migrations/sqlite/0007_case_figures.sql"),
        postgres: include_str!("../../../migrations/postgres/0007_case_figures.sql"),
    },
    Migration {
        version: 8,
        name: "inbox_copy",
        sqlite: include_str!("../../../migrations/sqlite/0008_inbox_copy.sql"),
        postgres: include_str!("../../../migrations/postgres/0008_inbox_copy.sql"),
    },
    Migration {
        version: 9,
        name: "reminders_apply_when_due",
        sqlite: include_str!("../../../migrations/sqlite/0009_reminders_apply_when_due.sql"),
        postgres: include_str!("../../../migrations/postgres/0009_reminders_apply_when_due.sql"),
    },
];
