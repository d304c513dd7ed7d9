//! `contend`: a lock-contention trace analyzer.
//!
//! Bytes are read ([`ingest`]) through a format parser ([`parse`]) into
//! facts (rows folded per sample and key), the engine turns facts into an
//! [`engine::Analysis`] with plain folds, and renderers ([`report`],
//! [`export`]) format it.
//! docs/architecture.md has the picture.

#![warn(missing_docs)]

pub mod cli;
pub mod cmd;
pub mod dataset;
pub mod distribution;
pub mod draws;
pub mod engine;
pub mod error;
pub mod export;
pub mod facts;
pub mod hashing;
pub mod holders;
pub mod ingest;
pub mod memory;
pub mod notes;
pub mod output;
pub mod parse;
pub mod printable;
pub mod report;
pub mod states;
pub mod terminal;
pub mod vocabulary;

use clap::Parser as _;

use cli::{Cli, Command};
use error::Exit;

/// `--help`, `--version` or a usage error, as clap prints them; help
/// that cannot be written (`--help > /dev/full`) is an error, not a
/// silent success.
fn clap_exit(err: &clap::Error) -> anyhow::Result<Exit> {
    use clap::error::ErrorKind;
    match err.kind() {
        // On a terminal clap prints it, in colour; elsewhere written and
        // checked.
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            if std::io::IsTerminal::is_terminal(&std::io::stdout()) =>
        {
            err.print()?;
            Ok(Exit::Ok)
        }
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            output::write_stdout(&err.render().to_string())?;
            Ok(Exit::Ok)
        }
        // Usage errors go to stderr with clap's exit code 2 (a stderr that
        // cannot be written changes nothing).
        _ => {
            let _ = err.print();
            Ok(Exit::BadInput)
        }
    }
}

/// Parses the command line and runs the subcommand.
pub fn run() -> anyhow::Result<Exit> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return clap_exit(&err),
    };
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
