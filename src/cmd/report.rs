//! `contend report`: the verdict, the samples and the ranking.

use anyhow::Result;

use super::{note_skipped, output_width, read_inputs, use_color, write_stdout};
use crate::cli::ReportArgs;
use crate::engine;
use crate::error::Exit;
use crate::report::{self, Style};

/// Runs the report.
pub fn run(args: &ReportArgs) -> Result<Exit> {
    let inputs = read_inputs(&args.input)?;
    let analysis = engine::analyze(&inputs, &args.analysis.options())?;
    let style = Style {
        color: use_color(args.color),
        width: output_width(),
    };
    let text = report::render(&analysis, args.format, &style)?;
    write_stdout(&text)?;
    // After the report, so the verdict is the first line on a terminal.
    note_skipped(&inputs);
    Ok(Exit::Ok)
}
