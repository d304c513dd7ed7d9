//! `contend`: a lock-contention trace analyzer.
//!
//! Bytes go through a format parser into facts (rows folded per sample and
//! key), the engine turns facts into an [`engine::Analysis`] with polars,
//! and renderers format it. See DESIGN.md and docs/.

pub mod cli;
pub mod cmd;
pub mod engine;
pub mod error;
pub mod export;
pub mod facts;
pub mod input;
pub mod output;
pub mod parallel;
pub mod parse;
pub mod report;
pub mod stats;

use clap::Parser;

use cli::{Cli, Command};
use error::Exit;

/// Parses the command line and runs the subcommand.
pub fn run() -> anyhow::Result<Exit> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Report(args) => cmd::report::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Plot(args) => cmd::plot::run(args),
        Command::Completions(args) => cmd::completions::run(args),
        Command::Man(args) => cmd::man::run(args),
    }
}
