//! The API's suites, one test binary: authorisation per object as a table, hostile input, and
//! the OpenAPI contract.

mod admin;
mod app;
mod as_of;
mod attachments;
mod co_handling;
mod contract;
mod extensions;
mod follow_up;
mod hostile;
mod joint;
mod matrix;
mod mediation;
mod petitions;
mod schema;
mod supervision;
