//! `contend report`: the verdict, the samples and the ranking.

use anyhow::Result;

use super::{csv_options, read_inputs};
use crate::cli::ReportArgs;
use crate::engine;
use crate::engine::SortKey;
use crate::error::Exit;
use crate::facts::InputFacts;
use crate::notes::{Verbosity, note_inputs, shows, warn};
use crate::output::write_stdout;
use crate::report::{self, ReportFormat, Style};
use crate::terminal::{output_width, use_color, use_color_on_stderr, utf8_locale};

/// Groups the report shows unless `--top` says otherwise.
const REPORT_TOP: usize = 20;

/// Runs the report.
pub fn run(args: &ReportArgs) -> Result<Exit> {
    if let Some(dir) = dataset_folder(&args.input.inputs) {
        return fleet(args, dir);
    }
    if args.follow {
        return super::follow::run(args);
    }
    csv_options(&args.csv, args.format == ReportFormat::Csv)?;
    let inputs = read_inputs(&args.input, &args.analysis.by)?;
    show(args, &inputs)?;
    Ok(Exit::Ok)
}

/// The folder of a dataset when it is the one input (`report DIR`); a
/// folder among other inputs is refused by the reader as not a trace.
fn dataset_folder(inputs: &[std::path::PathBuf]) -> Option<&std::path::Path> {
    match inputs {
        [dir] if crate::dataset::is_dataset(dir) => Some(dir),
        _ => None,
    }
}

#[cfg(feature = "parquet")]
fn fleet(args: &ReportArgs, dir: &std::path::Path) -> Result<Exit> {
    super::fleet::report(args, dir)
}

#[cfg(not(feature = "parquet"))]
fn fleet(_args: &ReportArgs, dir: &std::path::Path) -> Result<Exit> {
    anyhow::bail!(
        "{}: a folder is a fleet's dataset, read with Parquet: this contend was built \
         without it (cargo's `parquet` feature)",
        dir.display()
    )
}

/// Prints the report of `inputs` as `args` ask, then its warnings and the
/// notes on reading them.
pub fn show(args: &ReportArgs, inputs: &[InputFacts]) -> Result<()> {
    let csv = csv_options(&args.csv, args.format == ReportFormat::Csv)?;
    // The terminal answers where the CPU goes; JSON and CSV keep the
    // order scripts have read since the first version.
    let sort = match args.format {
        ReportFormat::Table | ReportFormat::Markdown => SortKey::Running,
        _ => SortKey::Total,
    };
    let options = engine::AnalysisOptions {
        histogram: args.histogram,
        ..args.analysis.options(REPORT_TOP, sort)
    };
    let analysis = engine::analyze(inputs, &options)?;
    let style = Style {
        color: use_color(args.color),
        width: output_width(args.width),
        ascii: args.ascii || !utf8_locale(),
        all_samples: args.input.read.samples.as_ref().is_some_and(|s| s.is_all()),
        csv,
    };
    let text = report::render(&analysis, args.format, &style)?;
    write_stdout(&text)?;
    // After the report, so the verdict is the first line on a terminal.
    let yellow = use_color_on_stderr(args.color);
    for line in report::verdict::warning_lines(&analysis.warnings, shows(Verbosity::Verbose)) {
        warn(&format!("contend: {line}"), yellow);
    }
    note_inputs(inputs);
    Ok(())
}
