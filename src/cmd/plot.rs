//! `contend plot`: the per-sample chart, written atomically.

use std::io::Write;
use std::path::Path;

use anyhow::{Result, bail};

use super::read_inputs;
use crate::cli::PlotArgs;
use crate::engine::{AnalysisOptions, analyze};
use crate::error::Exit;
use crate::notes::{Verbosity, note_inputs, say, shows};
use crate::output::{Destination, refuse_inputs};
use crate::report::{flame, over_time, plot};

/// Reads the inputs and writes the chart.
pub fn run(args: &PlotArgs) -> Result<Exit> {
    let extension = args.output.extension().and_then(|e| e.to_str());
    let to_stdout = args.output == Path::new("-");
    if !to_stdout && !extension.is_some_and(|e| e.eq_ignore_ascii_case("svg")) {
        bail!(
            "{}: contend plot writes SVG; name the file `.svg` (PNG is not built in: \
             convert the SVG, e.g. `rsvg-convert -o chart.png chart.svg`)",
            args.output.display()
        );
    }
    let options = AnalysisOptions {
        classes: args.classes.classes(),
        ..AnalysisOptions::default()
    };
    let output = (!to_stdout).then_some(args.output.as_path());
    refuse_inputs(output, &args.input.inputs)?;
    let inputs = read_inputs(&args.input, &options.by)?;
    let (width, height) = args.size;
    if args.flame {
        let svg = flame::svg(&inputs, width)?;
        let mut out = Destination::open(output)?;
        out.write_all(svg.as_bytes())?;
        out.commit()?;
        note_inputs(&inputs);
        return Ok(Exit::Ok);
    }
    let analysis = analyze(&inputs, &options)?;
    let (svg, shown) = if args.over_time {
        (
            over_time::svg(&analysis, width, height)?,
            plot::Shown::States,
        )
    } else {
        plot::svg(&analysis, width, height)?
    };
    let mut out = Destination::open(output)?;
    out.write_all(svg.as_bytes())?;
    out.commit()?;
    if shown == plot::Shown::WaitsOnly && shows(Verbosity::Normal) {
        say(format_args!(
            "contend: the inputs have no thread states: the chart shows lock waits per sample, \
             not where Running time goes"
        ));
    }
    note_inputs(&inputs);
    Ok(Exit::Ok)
}
