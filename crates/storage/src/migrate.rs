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

/// A migration from its version, written as in its files' names, and its name: the files are
/// `migrations/{sqlite,postgres}/NNNN_name.sql`.
macro_rules! migration {
    ($version:literal, $number:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!(
                "../../../migrations/sqlite/",
                $number,
                "_",
                $name,
                ".sql"
            )),
            postgres: include_str!(concat!(
                "../../../migrations/postgres/",
                $number,
                "_",
                $name,
                ".sql"
            )),
        }
    };
}

pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001", "initial"),
    migration!(2, "0002", "tokens_inbox_access"),
    migration!(3, "0003", "deliveries"),
    migration!(4, "0004", "audit"),
    migration!(5, "0005", "audit_anchor"),
    migration!(6, "0006", "web_sign_in"),
    migration!(7, "0007", "case_figures"),
    migration!(8, "0008", "inbox_copy"),
    migration!(9, "0009", "reminders_apply_when_due"),
    migration!(10, "0010", "inbox_copy_in_statement"),
    migration!(11, "0011", "no_event_time_index"),
    migration!(12, "0012", "audit_chain_keyed"),
    migration!(13, "0013", "remask_personal_data"),
    migration!(14, "0014", "sign_in_guards"),
    migration!(15, "0015", "numbers_search_queues"),
    migration!(16, "0016", "case_deliveries"),
    migration!(17, "0017", "robots_sms"),
    migration!(18, "0018", "administration"),
    migration!(19, "0019", "attachments"),
    migration!(20, "0020", "late_extensions"),
    migration!(21, "0021", "figures_by_state"),
    migration!(22, "0022", "deputy_ratings"),
    migration!(23, "0023", "report_steps"),
    migration!(24, "0024", "party_in_member_indexes"),
    migration!(25, "0025", "search_filing_order"),
    migration!(26, "0026", "search_rowids_by_filing"),
];
