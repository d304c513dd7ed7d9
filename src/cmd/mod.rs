//! One module per subcommand: what each command does. Reading inputs is
//! [`crate::ingest`]'s, notes are [`crate::notes`]', the terminal's settings
//! [`crate::terminal`]'s.

pub mod completions;
pub mod diff;
pub mod export;
#[cfg(feature = "parquet")]
pub mod fleet;
pub mod follow;
pub mod man;
pub mod plot;
pub mod report;

use anyhow::{Result, bail};

use crate::cli::{CsvArgs, InputArgs};
use crate::engine::GroupKey;
use crate::export::writer::CsvOptions;
use crate::facts::InputFacts;
use crate::ingest::{self, source};

/// Reads every input named by the flags into facts for a ranking grouped
/// `by`, in order. The first bad input stops the run with its error.
pub fn read_inputs(args: &InputArgs, by: &[GroupKey]) -> Result<Vec<InputFacts>> {
    let sources = source::sources(&args.inputs, &args.label)?;
    Ok(ingest::read_facts(&sources, &args.read.options(by, false))?)
}

/// The CSV flags of `report` and `diff`, checked: they shape `--format
/// csv` and are refused with another format, where they would do nothing.
pub fn csv_options(args: &CsvArgs, csv: bool) -> Result<CsvOptions> {
    if !csv && args.given() {
        bail!("--delimiter, --decimal-comma and --raw-text are for --format csv");
    }
    args.options(csv)
}
