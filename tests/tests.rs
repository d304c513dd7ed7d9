//! Integration tests: one binary, one module per command; each runs the
//! built `contend` the way a user would.

mod fxt_encode;
mod util;

mod bad_input;
mod capture;
mod diff;
mod doc_examples;
mod errors;
mod export;
mod fleet;
mod follow;
mod formats;
mod holders;
mod hostile;
mod hostile_figures;
mod hostile_memory;
mod hostile_output;
mod hostile_text;
mod parallel;
mod pictures;
mod plot;
mod properties;
mod real_outputs;
mod report;
mod shell;
mod terminal;
mod verdicts;
