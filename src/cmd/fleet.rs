//! A fleet's dataset from the command line: `export --dataset DIR` writes
//! one, `report DIR` reads one back.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, bail};

use crate::cli::{ExportArgs, ReportArgs, Split};
use crate::dataset::write::{Staging, partitions};
use crate::dataset::{Partition, read};
use crate::engine::fleet::{FleetBuilder, HostRun, KeyNames};
use crate::engine::{self, GroupKey, LockClass, SortKey};
use crate::error::Exit;
use crate::export::{ExportFormat, What};
use crate::facts::{FactsBuilder, Fold, InputFacts};
use crate::ingest::{self, source};
use crate::notes::note_inputs;
use crate::output::write_stdout;
use crate::parse::{ParseStats, Row, RowWaits, Sink, SinkError, State};
use crate::report::{self, Style};
use crate::terminal::{output_width, use_color, utf8_locale};
use crate::vocabulary::RUNNING;

/// Groups the fleet report shows unless `--top` says otherwise.
const FLEET_TOP: usize = 20;

/// `export --dataset DIR`: each input, one at a time, as a part file of
/// its host and build; the files appear in DIR only when all were read.
pub fn export(args: &ExportArgs, dir: &Path) -> Result<Exit> {
    check_export(args)?;
    let sources = source::sources(&args.input.inputs, &args.input.label)?;
    let targets = partitions(&sources, args.host.as_deref(), args.build.as_deref())?;
    let mut staging = Staging::begin(dir, &targets)?;
    let read_options = args.input.read.options(&GroupKey::ALL, false);
    // check_export made sure: every key, every group.
    let analysis_options = args.analysis.options(0, SortKey::Total);
    let mut inputs = Vec::new();
    for (source, partition) in sources.iter().zip(&targets) {
        let mut read = ingest::read_facts(std::slice::from_ref(source), &read_options)?;
        // A capture is one input per thread: each is a part of the host.
        for input in &read {
            let analysis = engine::analyze(std::slice::from_ref(input), &analysis_options)?;
            staging.write_part(partition, input, &analysis)?;
        }
        // What the notes need of an input, not its keys, names and waits:
        // a thousand hosts' inputs are not held at once.
        inputs.extend(read.drain(..).map(|input| InputFacts {
            label: input.label,
            stats: input.stats,
            stripped_offsets: input.stripped_offsets,
            ..InputFacts::default()
        }));
    }
    let moved = staging.commit()?;
    note_naming(args, &sources, &targets);
    if crate::notes::shows(crate::notes::Verbosity::Verbose) {
        crate::notes::say(format_args!(
            "contend: wrote {} partitions of {} inputs into {}",
            moved.len(),
            sources.len(),
            dir.display()
        ));
    }
    note_inputs(&inputs);
    Ok(Exit::Ok)
}

/// What `--dataset` cannot take: it writes every key, every sample, as
/// Parquet, to DIR.
fn check_export(args: &ExportArgs) -> Result<()> {
    if args.format != ExportFormat::Parquet {
        bail!("--dataset writes Parquet files: give --format parquet");
    }
    let ranking = &args.analysis;
    let refused = [
        (
            "-o",
            args.output.is_some(),
            "the files go to DIR/host=H/build=B/",
        ),
        (
            "--what groups or samples",
            args.what != What::Rows,
            "a dataset holds each input's samples and groups both",
        ),
        (
            "--top or --sort",
            ranking.top.is_some() || ranking.sort.is_some(),
            "a dataset keeps every group, for the fleet's ranking",
        ),
        (
            "--by",
            ranking.by != GroupKey::ALL,
            "a dataset keeps every key; `report DIR --by` groups them",
        ),
        (
            "--per-input",
            ranking.per_input,
            "each input is a part file of its own already",
        ),
    ];
    for (flag, given, why) in refused {
        if given {
            bail!("{flag} does not go with --dataset: {why}");
        }
    }
    Ok(())
}

/// Says how hosts and builds were named where the user did not name them.
fn note_naming(args: &ExportArgs, sources: &[source::Source], named: &[Partition]) {
    let from = match (args.host.is_some(), args.build.is_some()) {
        (true, true) => return,
        (false, true) => "the host from its name",
        (true, false) => "the build from its folder",
        (false, false) => "the host from its name, the build from its folder",
    };
    let (Some(source), Some(partition)) = (sources.first(), named.first()) else {
        return;
    };
    let others = named.len() - 1;
    let and_others = match others {
        0 => String::new(),
        1 => " (and likewise the other input)".to_string(),
        n => format!(" (and likewise the {n} other inputs)"),
    };
    if crate::notes::shows(crate::notes::Verbosity::Normal) {
        crate::notes::say(format_args!(
            "contend: {} is host={} build={}: {from}{and_others}; --host and --build name them",
            source.name, partition.host, partition.build,
        ));
    }
}

/// `report DIR`: the fleet's report over every host's build in the
/// dataset, read one partition at a time.
pub fn report(args: &ReportArgs, dir: &Path) -> Result<Exit> {
    check_report(args)?;
    let csv = super::csv_options(&args.csv, args.format == report::ReportFormat::Csv)?;
    let by = crate::cli::unique_keys(&args.analysis.by);
    let mut builder = FleetBuilder::new(&by);
    for (partition, files) in read::partitions(dir, |_| true)? {
        let run = read::read_run(&partition, &files, builder.names_mut())?;
        builder.add(run);
    }
    let fleet = builder.finish(args.analysis.top.unwrap_or(FLEET_TOP));
    let style = Style {
        color: use_color(args.color),
        width: output_width(args.width),
        ascii: args.ascii || !utf8_locale(),
        all_samples: false,
        csv,
    };
    write_stdout(&report::fleet::render(&fleet, args.format, &style)?)?;
    Ok(Exit::Ok)
}

/// The report flags a dataset cannot honour: its waits were classed and
/// its rows read when it was exported.
fn check_report(args: &ReportArgs) -> Result<()> {
    let read = &args.input.read;
    let ranking = &args.analysis;
    const AT_EXPORT: &str = "the dataset's waits were read and classed when it was \
                             exported: give it to `contend export --dataset`";
    let refused = [
        ("--follow", args.follow, "a dataset is read whole"),
        (
            "--histogram",
            args.histogram,
            "the fleet's locks show p50 waits",
        ),
        (
            "--sort",
            ranking.sort.is_some(),
            "the fleet's locks are ranked by wait",
        ),
        (
            "--per-input",
            ranking.per_input,
            "the hosts table is per host",
        ),
        (
            "--spin or --sleep",
            !ranking.classes.spin.is_empty() || !ranking.classes.sleep.is_empty(),
            AT_EXPORT,
        ),
        (
            "--match, --exclude or --samples",
            !read.match_keys.is_empty() || !read.exclude_keys.is_empty() || read.samples.is_some(),
            AT_EXPORT,
        ),
        (
            "--label",
            !args.input.label.is_empty(),
            "hosts are named by the dataset",
        ),
        (
            "--by holder",
            ranking.by.contains(&GroupKey::Holder),
            "a dataset keeps no lock holders",
        ),
    ];
    for (flag, given, why) in refused {
        if given {
            bail!("{flag} does not go with a dataset folder: {why}");
        }
    }
    Ok(())
}

/// `diff DIR --split build=A,B`: each build's hosts as the samples of one
/// input (in host order), read from that build's partitions only, and the
/// classes the dataset was exported with, to give the comparison.
pub fn split_inputs(
    dir: &Path,
    split: &Split,
    fold: &Fold,
) -> Result<(Vec<InputFacts>, Vec<String>, Vec<String>)> {
    let mut classes: BTreeMap<String, LockClass> = BTreeMap::new();
    let mut names = KeyNames::default();
    let mut inputs = Vec::new();
    for build in [&split.before, &split.after] {
        let partitions = read::partitions(dir, |partition| partition.build == *build)?;
        if partitions.is_empty() {
            let builds = read::partitions(dir, |_| true)?
                .into_keys()
                .map(|partition| partition.build)
                .collect::<std::collections::BTreeSet<String>>();
            bail!(
                "{}: no host of build {build} (its builds: {})",
                dir.display(),
                builds.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
        let mut builder = FactsBuilder::new(build, fold);
        for (partition, files) in partitions {
            let run = read::read_run(&partition, &files, &mut names)?;
            host_as_sample(&run, &names, &mut builder)
                .map_err(|err| anyhow::anyhow!("{}: {err}", dir.display()))?;
            for lock in &run.locks {
                let category = names.name(lock.keys[0]).unwrap_or_default();
                classes.insert(category.to_string(), lock.figures.class);
            }
        }
        inputs.push(builder.finish(ParseStats::default()));
    }
    let named = |class: LockClass| -> Vec<String> {
        classes
            .iter()
            .filter(|(_, of)| **of == class)
            .map(|(category, _)| category.clone())
            .collect()
    };
    Ok((inputs, named(LockClass::Spin), named(LockClass::Sleep)))
}

/// One host's run as one sample: its Running and off-CPU time as states,
/// each of its lock keys as a row of its waits.
fn host_as_sample(run: &HostRun, names: &KeyNames, sink: &mut dyn Sink) -> Result<(), SinkError> {
    let totals = &run.totals;
    let mut states = Vec::new();
    if let Some(ns) = totals.running_ns {
        states.push(State {
            name: RUNNING.to_string(),
            ns,
        });
    }
    if let Some(ns) = totals.off_cpu_ns {
        states.push(State {
            name: "Off-CPU".to_string(),
            ns,
        });
    }
    sink.sample(states)?;
    for lock in &run.locks {
        let figures = &lock.figures;
        let row = Row {
            dur_ns: figures.total_ns.unwrap_or(0),
            count: figures.events.unwrap_or(figures.rows),
            max_ns: figures.max_ns.unwrap_or(0),
            category: names.name(lock.keys[0]).unwrap_or_default(),
            symbol: names.name(lock.keys[1]).unwrap_or_default(),
            caller: names.name(lock.keys[2]).unwrap_or_default(),
            waits: match (figures.total_ns, figures.events) {
                (None, _) => RowWaits::Untimed,
                (Some(_), Some(_)) => RowWaits::Counted,
                (Some(_), None) => RowWaits::Unknown,
            },
            ..Row::new(0)
        };
        sink.row(&row)?;
    }
    Ok(())
}
