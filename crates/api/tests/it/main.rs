//! The API's suites, one test binary: authorisation per object as a table, and hostile input.

mod hostile;
mod matrix;
