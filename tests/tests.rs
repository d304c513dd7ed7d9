//! Integration tests: one binary, one module per command; each runs the
//! built `contend` the way a user would.

mod util;

mod diff;
mod doc_examples;
mod errors;
mod export;
mod formats;
mod parallel;
mod plot;
mod report;
mod shell;
