//! Integration tests: one binary, one module per command; each runs the
//! built `contend` the way a user would.

mod util;

mod errors;
mod export;
mod report;
