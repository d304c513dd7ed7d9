//! `contend diff`: before/after comparison of two builds.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::csv_options;
use crate::cli::DiffArgs;
use crate::engine::GroupKey;
use crate::engine::diff::{DEFAULT_LIMIT, Diff, Metric, MetricDiff, Threshold, compare};
use crate::error::Exit;
use crate::facts::InputFacts;
use crate::ingest::{self, source};
use crate::notes::{Verbosity, note_inputs, say, shows, warn};
use crate::output::write_stdout;
use crate::output::{Destination, refuse_inputs};
use crate::report::diff::{DiffFormat, DiffTable, fail_line, inconclusive_line, render};
use crate::report::verdict::warning_lines;
use crate::report::{Style, flame};
use crate::terminal::{output_width, use_color, use_color_on_stderr, utf8_locale};

/// The differential flame graph's width in pixels (FlameGraph's).
const FLAME_WIDTH: u32 = 1200;

/// Runs the comparison; exit 1 when `--fail-above` found a regression
/// (or, with `--fail-inconclusive`, a watched metric it could not tell).
pub fn run(args: &DiffArgs) -> Result<Exit> {
    let csv = csv_options(&args.csv, args.format == DiffFormat::Csv)?;
    if args.what != DiffTable::Groups && args.format != DiffFormat::Csv {
        bail!("--what picks the table of --format csv (the JSON has both)");
    }
    if args.alpha.is_nan() || args.alpha <= 0.0 || args.alpha > 1.0 {
        bail!(
            "--alpha must be above 0 and at most 1 (1 counts every change), not {}",
            args.alpha
        );
    }
    if args.fail_above.is_none() && !args.metric.is_empty() && shows(Verbosity::Normal) {
        say(format_args!(
            "contend: --metric names what --fail-above watches; without --fail-above \
             nothing fails"
        ));
    }
    if let (Some(Threshold::Points(_)), Some(metric)) = (
        args.fail_above,
        args.metric.iter().find(|metric| !metric.is_share()),
    ) {
        bail!(
            "--fail-above in points (pt) is for shares (spin_share); {} changes in percent",
            metric.name()
        );
    }
    let paths: Vec<PathBuf> = [Some(&args.before), args.after.as_ref()]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    if let Some(flame) = &args.flame {
        if flame == Path::new("-") {
            bail!("--flame FILE: stdout has the report; name a file (`--flame diff.svg`)");
        }
        refuse_inputs(Some(flame), &paths)?;
    }
    let mut options = args.options();
    let inputs = match &args.split {
        Some(split) => split_inputs(args, split, &mut options)?,
        None => read_two(args, &paths)?,
    };
    if inputs.len() > 2 {
        let labels: Vec<&str> = inputs.iter().map(|input| input.label.as_str()).collect();
        bail!(
            "a capture gives one input per thread ({}); diff compares one with one: \
             pick the thread with --thread or --tid",
            labels.join(", ")
        );
    }
    refuse_counts_only(&inputs)?;
    let diff = compare(&inputs, &options)?;
    if let Some(path) = &args.flame {
        write_flame(path, &diff, &inputs, FLAME_WIDTH)?;
    }
    let style = Style {
        color: use_color(args.color),
        width: output_width(args.width),
        ascii: !utf8_locale(),
        all_samples: false,
        csv,
    };
    let text = render(&diff, args.format, args.what, &style, args.top)?;
    write_stdout(&text)?;
    note_inputs(&inputs);
    let yellow = use_color_on_stderr(args.color);
    for line in warning_lines(&diff.warnings, shows(Verbosity::Verbose)) {
        warn(&format!("contend: {line}"), yellow);
    }
    // Why the gate fails or could not test, on stderr: a CI log shows it
    // with stdout sent to /dev/null.
    let limit = args.fail_above.unwrap_or(DEFAULT_LIMIT);
    let gated = |names: &[Metric]| -> Vec<&MetricDiff> {
        names
            .iter()
            .filter_map(|name| diff.metrics.iter().find(|m| m.metric == *name))
            .collect()
    };
    for m in gated(&diff.regressions) {
        say(format_args!("contend: {}", fail_line(m, limit, diff.alpha)));
    }
    for m in gated(&diff.inconclusive) {
        say(format_args!(
            "contend: {}",
            inconclusive_line(m, limit, args.fail_inconclusive)
        ));
    }
    Ok(gate_exit(&diff, args.fail_inconclusive))
}

/// The two inputs named, read side by side.
fn read_two(args: &DiffArgs, paths: &[PathBuf]) -> Result<Vec<InputFacts>> {
    let mut sources = source::sources(paths, &[])?;
    for (source, label) in sources
        .iter_mut()
        .zip([&args.label_before, &args.label_after])
    {
        if let Some(label) = label {
            source.label = label.clone();
        }
    }
    let mut options = args.read.options(&args.by, true);
    // One thread has other ids in another capture: holders are compared
    // by name.
    options.fold.holder_names = true;
    let inputs = ingest::read_facts_side_by_side(&sources, &options)?;
    if args.by.contains(&GroupKey::Holder) {
        crate::notes::say(format_args!(
            "contend: holders are compared by thread name: a thread's ids differ between \
             captures"
        ));
    }
    super::note_no_holders(&inputs, &args.by);
    Ok(inputs)
}

/// `--split build=A,B`: the dataset's hosts of each build as the samples
/// of one input, classed as they were when exported (and as `--spin` and
/// `--sleep` add).
#[cfg(feature = "parquet")]
fn split_inputs(
    args: &DiffArgs,
    split: &crate::cli::Split,
    options: &mut crate::engine::diff::DiffOptions,
) -> Result<Vec<InputFacts>> {
    if !crate::dataset::is_dataset(&args.before) {
        bail!(
            "--split compares two builds of a dataset: {} is not a folder (`contend export \
             --dataset DIR` writes one)",
            args.before.display()
        );
    }
    if args.label_before.is_some() || args.label_after.is_some() {
        bail!("--label-before and --label-after do not go with --split: the builds name the sides");
    }
    if args.by.contains(&GroupKey::Holder) {
        bail!("--by holder does not go with --split: a dataset keeps no lock holders");
    }
    let fold = args.read.options(&args.by, true).fold;
    let (inputs, spin, sleep) = super::fleet::split_inputs(&args.before, split, &fold)?;
    // The user's --spin and --sleep win over the dataset's classes.
    let named = |category: &String| {
        let flags = args.classes.spin.iter().chain(&args.classes.sleep);
        flags
            .clone()
            .any(|flag| flag.eq_ignore_ascii_case(category))
    };
    let with_flags = |flags: &[String], from_dataset: Vec<String>| -> Vec<String> {
        let kept = from_dataset.into_iter().filter(|category| !named(category));
        flags.iter().cloned().chain(kept).collect()
    };
    options.classes = crate::engine::ClassMap::with_overrides(
        &with_flags(&args.classes.spin, spin),
        &with_flags(&args.classes.sleep, sleep),
    );
    Ok(inputs)
}

#[cfg(not(feature = "parquet"))]
fn split_inputs(
    _args: &DiffArgs,
    _split: &crate::cli::Split,
    _options: &mut crate::engine::diff::DiffOptions,
) -> Result<Vec<InputFacts>> {
    bail!(
        "--split reads a dataset's Parquet: this contend was built without it (cargo's `parquet` feature)"
    )
}

/// 1 when a watched metric regressed, or (with `--fail-inconclusive`)
/// could not be told; else 0.
fn gate_exit(diff: &Diff, fail_inconclusive: bool) -> Exit {
    if !diff.regressions.is_empty() || (fail_inconclusive && !diff.inconclusive.is_empty()) {
        Exit::Regression
    } else {
        Exit::Ok
    }
}

/// Writes the differential flame graph to `path` (`-`: stdout is the
/// report's, so a file is needed), whole or not at all.
fn write_flame(path: &Path, diff: &Diff, inputs: &[InputFacts], width: u32) -> Result<()> {
    use std::io::Write;
    let svg = flame::diff_svg(diff, &inputs[0], &inputs[1], width)?;
    let mut out = Destination::open(Some(path))?;
    out.write_all(svg.as_bytes())?;
    Ok(out.commit()?)
}

/// An input of event counts with no time (count() maps) has nothing the
/// diff's metrics or groups compare: every figure would be `0 ns`.
fn refuse_counts_only(inputs: &[InputFacts]) -> Result<()> {
    let counts_only: Vec<&str> = inputs
        .iter()
        .filter(|input| {
            input.stats.counted_events > 0
                && input.keys.iter().all(|key| key.total_ns == 0)
                && input.samples.all_ns().next().is_none()
        })
        .map(|input| input.label.as_str())
        .collect();
    if counts_only.is_empty() {
        return Ok(());
    }
    bail!(
        "{}: event counts (count() values) with no times: diff compares wait times; \
         `contend report` ranks both by events",
        counts_only.join(", ")
    )
}
