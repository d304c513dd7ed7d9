//! `contend completions`: shell completions from the command-line
//! definition itself, so they never miss a flag.

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Exit;
use crate::output::write_stdout;

/// Writes the completion script for the shell to stdout.
pub fn run(args: &CompletionsArgs) -> Result<Exit> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "contend", &mut script);
    write_stdout(&String::from_utf8(script)?)?;
    Ok(Exit::Ok)
}
