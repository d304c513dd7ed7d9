//! `contend man`: manual pages rendered from the command-line definition,
//! the same text `--help` prints, so the manual cannot drift from the
//! program.

use anyhow::{Result, bail};
use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::error::Exit;
use crate::output::write_stdout;

/// Writes contend(1), or contend-SUBCOMMAND(1), as roff to stdout.
pub fn run(args: &ManArgs) -> Result<Exit> {
    let top = Cli::command();
    let command = match args.subcommand.as_deref() {
        None => top,
        Some(name) => {
            let Some(sub) = top.find_subcommand(name).cloned() else {
                let names: Vec<&str> = top.get_subcommands().map(|c| c.get_name()).collect();
                bail!("no subcommand `{name}` (one of: {})", names.join(", "));
            };
            let full = format!("contend-{name}");
            sub.name(full.clone())
                .bin_name(format!("contend {name}"))
                .display_name(full)
                .version(top.get_version().unwrap_or_default().to_string())
        }
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    write_stdout(&String::from_utf8(page)?)?;
    Ok(Exit::Ok)
}
