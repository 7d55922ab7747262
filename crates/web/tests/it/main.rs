//! The web pages in process, as one test binary: the shared application, and a suite per area.

mod admin;
mod app;
mod as_of;
mod exchange;
mod export;
mod files;
mod inbox;
mod links;
mod pages;
mod print;
mod repeats;
