//! The end-to-end suites of the `duban` binary, one test binary: each runs the built binary (or
//! `duban serve`) as a user would, plus the tidy checks of the repository's conventions.

mod common;

mod api_e2e;
mod attachments;
mod audit;
mod backup;
mod browser;
mod canary;
mod channels;
mod cli;
mod config;
mod crash_loop;
mod demo;
mod keys;
mod logs;
mod metrics;
mod office_sheets;
mod passwords;
mod proxy;
mod rating_links;
mod security;
mod sheets;
mod tidy;
mod web_pages;
