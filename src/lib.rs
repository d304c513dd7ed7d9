//! `contend`: a lock-contention trace analyzer.
//!
//! Bytes are read ([`ingest`]) through a format parser ([`parse`]) into
//! facts (rows folded per sample and key), the engine turns facts into an
//! [`engine::Analysis`] with polars, and renderers ([`report`],
//! [`export`]) format it. docs/architecture.md has the picture.

pub mod cli;
pub mod cmd;
pub mod detail;
pub mod distribution;
pub mod effect;
pub mod engine;
pub mod error;
pub mod export;
pub mod facts;
pub mod filter;
pub mod ingest;
pub mod notes;
pub mod output;
pub mod parse;
pub mod report;
pub mod stats;
pub mod terminal;
pub mod text_index;

use clap::Parser;

use cli::{Cli, Command};
use error::Exit;

/// Parses the command line and runs the subcommand.
pub fn run() -> anyhow::Result<Exit> {
    let cli = Cli::parse();
    notes::set_verbosity(match (cli.quiet, cli.verbose) {
        (true, _) => notes::Verbosity::Quiet,
        (_, true) => notes::Verbosity::Verbose,
        _ => notes::Verbosity::Normal,
    });
    match &cli.command {
        Command::Report(args) => cmd::report::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Plot(args) => cmd::plot::run(args),
        Command::Completions(args) => cmd::completions::run(args),
        Command::Man(args) => cmd::man::run(args),
    }
}
