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
use crate::holders::Holders;
use crate::ingest::{self, source};

/// Reads every input named by the flags into facts for a ranking grouped
/// `by`, in order. The first bad input stops the run with its error.
pub fn read_inputs(args: &InputArgs, by: &[GroupKey]) -> Result<Vec<InputFacts>> {
    let sources = source::sources(&args.inputs, &args.label)?;
    let inputs = ingest::read_facts(&sources, &args.read.options(by, false))?;
    note_no_holders(&inputs, by);
    Ok(inputs)
}

/// With `--by holder`, says which inputs record no holders: their waits
/// are all under `unknown`, which is no finding about the locks.
pub fn note_no_holders(inputs: &[InputFacts], by: &[GroupKey]) {
    if !by.contains(&GroupKey::Holder) {
        return;
    }
    for input in inputs {
        if input.holders == Holders::NotRecorded {
            note_no_holders_in(&input.label);
        }
    }
}

/// The note of [`note_no_holders`] for one input.
pub fn note_no_holders_in(label: &str) {
    crate::notes::say(format_args!(
        "contend: {}: no lock holders recorded, so its waits are all under holder `unknown` \
         (captures read with --thread record them, and perf lock contention -o)",
        crate::printable::printable(label)
    ));
}

/// The CSV flags of `report` and `diff`, checked: they shape `--format
/// csv` and are refused with another format, where they would do nothing.
pub fn csv_options(args: &CsvArgs, csv: bool) -> Result<CsvOptions> {
    if !csv && args.given() {
        bail!("--delimiter, --decimal-comma and --raw-text are for --format csv");
    }
    args.options(csv)
}
