//! `contend export`: rows (streamed), groups or samples to a file or stdout.

use std::io::Write;

use crate::hashing::InputSet;
use anyhow::{Result, bail};

use super::read_inputs;
use crate::cli::ExportArgs;
use crate::engine::{self, Analysis, AnalysisOptions, Group, GroupKey, SortKey};
use crate::error::{Error, ErrorKind, Exit};
use crate::export::records::{
    each_group_record, each_sample_record, group_fields, group_keys, row_fields, sample_fields,
};
use crate::export::writer::{RecordWriter, WriterOptions, write_folded};
use crate::export::{ExportFormat, Value, What};
use crate::facts::filter::Hits;
use crate::facts::{Fold, InputFacts, folded_stack, read_site};
use crate::holders::holder_or_unknown;
use crate::ingest::{self, Consumer, source};
use crate::notes::{Notes, note_offsets, note_skipped};
use crate::output::{Destination, refuse_inputs};
use crate::parse::{InputFormat, ParseStats, Row, RowWaits, Sink, SinkError, State};

/// Groups exported unless `--top` says otherwise: all of them.
const EXPORT_TOP: usize = 0;

/// Runs the export. The output file appears only when everything was
/// written; a failure leaves none.
pub fn run(args: &ExportArgs) -> Result<Exit> {
    if let Some(dir) = &args.dataset {
        return dataset(args, dir);
    }
    check_combination(args)?;
    let options = WriterOptions {
        format: args.format,
        unit: args.output_unit,
        csv: args.csv.options(args.format == ExportFormat::Csv)?,
    };
    refuse_inputs(args.output.as_deref(), &args.input.inputs)?;
    let mut destination = Destination::open(args.output.as_deref())?;
    let exported = match args.what {
        What::Rows => export_rows(args, options, &mut destination),
        What::Groups | What::Samples => export_groups_or_samples(args, options, &mut destination),
    };
    // A write error the writer wrapped in its own (Parquet's "underlying
    // IO error") is told as the output's: `writing FILE: ...`.
    let skipped = exported.map_err(|err| destination.failure().map_or(err, anyhow::Error::from))?;
    destination.commit()?;
    let mut notes = Notes::default();
    note_skipped(
        &mut notes,
        skipped
            .iter()
            .map(|(label, stats, _)| (label.as_str(), *stats)),
    );
    for (label, _, stripped) in &skipped {
        note_offsets(&mut notes, label, stripped.iter().map(|s| &**s));
    }
    notes.print();
    Ok(Exit::Ok)
}

/// `--dataset DIR`: a fleet's dataset, where Parquet is built in.
#[cfg(feature = "parquet")]
fn dataset(args: &ExportArgs, dir: &std::path::Path) -> Result<Exit> {
    super::fleet::export(args, dir)
}

#[cfg(not(feature = "parquet"))]
fn dataset(_args: &ExportArgs, _dir: &std::path::Path) -> Result<Exit> {
    bail!("--dataset writes Parquet: this contend was built without it (cargo's `parquet` feature)")
}

/// `--what groups` or `samples`: reads every input, then writes.
fn export_groups_or_samples(
    args: &ExportArgs,
    options: WriterOptions,
    destination: &mut Destination,
) -> Result<Vec<ReadNotes>> {
    let inputs = read_inputs(&args.input, &args.analysis.by)?;
    let analysis_options = args.analysis.options(EXPORT_TOP, SortKey::Total);
    if args.what == What::Samples {
        // The samples' figures, without keeping a ranking nobody writes.
        let analysis = engine::analyze_paged(&inputs, &analysis_options, &mut |_, _| Ok(()))?;
        export_samples(&analysis, options, destination)?;
    } else {
        export_groups(&inputs, &analysis_options, options, destination)?;
    }
    Ok(inputs
        .into_iter()
        .map(|input| (input.label, input.stats, input.stripped_offsets))
        .collect())
}

fn check_combination(args: &ExportArgs) -> Result<()> {
    let delimited = matches!(args.format, ExportFormat::Csv | ExportFormat::Tsv);
    if args.csv.decimal_comma && !delimited {
        bail!("--decimal-comma is for --format csv or tsv (JSON numbers take a point)");
    }
    let ranking = &args.analysis;
    if args.what == What::Rows && (ranking.top.is_some() || ranking.sort.is_some()) {
        bail!(
            "--top and --sort rank groups; --what rows exports every row as read (--what \
             groups ranks them)"
        );
    }
    if args.format == ExportFormat::Parquet && args.output.is_none() {
        bail!("--format parquet needs -o FILE (Parquet is binary)");
    }
    if args.format == ExportFormat::Folded && args.what == What::Samples {
        bail!("--format folded exports rows or groups, not samples");
    }
    Ok(())
}

/// Streams every row of every input to the output as it is parsed.
fn export_rows(
    args: &ExportArgs,
    options: WriterOptions,
    out: &mut dyn Write,
) -> Result<Vec<ReadNotes>> {
    let by = args.analysis.options(EXPORT_TOP, SortKey::Total).by;
    let by_holder = by.contains(&GroupKey::Holder);
    // Rows are split by holder only when asked: a split wait is a row
    // per holder.
    let read_options = args
        .input
        .read
        .options(if by_holder { &by } else { &[] }, false);
    let target = if args.format == ExportFormat::Folded {
        RowTarget::Folded { out, by }
    } else {
        let fields = row_fields(by_holder);
        RowTarget::Records(Box::new(RecordWriter::new(out, &fields, options)?))
    };
    let mut consumer = RowConsumer {
        label: String::new(),
        sample: 0,
        target,
        read: Vec::new(),
        fold: read_options.fold.clone(),
        stripped_offsets: InputSet::default(),
        hits: Hits::default(),
        skipping: false,
        holders_recorded: false,
    };
    let sources = source::sources(&args.input.inputs, &args.input.label)?;
    // An output error stops the parser with that error: the caller tells
    // it as the output's.
    ingest::read(&sources, &read_options, &mut consumer)?;
    let filters = &consumer.fold.filters;
    if filters.on_keys() {
        filters
            .check_hits(&consumer.hits)
            .map_err(anyhow::Error::msg)?;
    }
    if let RowTarget::Records(writer) = consumer.target {
        writer.finish()?;
    }
    Ok(consumer.read)
}

/// Where streamed rows go.
enum RowTarget<'w> {
    Records(Box<RecordWriter<'w>>),
    Folded {
        out: &'w mut dyn Write,
        by: Vec<GroupKey>,
    },
}

/// What the notes tell of an input: its label, its parser's statistics,
/// the symbols and callers read without their offsets.
type ReadNotes = (String, ParseStats, InputSet<Box<str>>);

/// Reads each input into the output as it comes (`--what rows`): the
/// parser's sink and the reader's consumer.
struct RowConsumer<'w> {
    label: String,
    sample: u64,
    target: RowTarget<'w>,
    /// The output error that stopped the parser, kept whole.
    /// Each input's label, parse statistics and stripped offsets, for the
    /// notes.
    read: Vec<ReadNotes>,
    /// `--keep-offsets`, `--match`, `--exclude`, `--samples`.
    fold: Fold,
    /// The symbols and callers written without their offsets.
    stripped_offsets: InputSet<Box<str>>,
    /// Which filters matched a row.
    hits: Hits,
    /// The current sample is one `--samples` leaves out.
    skipping: bool,
    /// The current input named a lock holder (`--by holder`'s note).
    holders_recorded: bool,
}

impl RowConsumer<'_> {
    /// A symbol or caller as the other commands read it.
    fn site<'r>(&mut self, text: &'r str) -> &'r str {
        read_site(text, self.fold.keep_offsets, &mut self.stripped_offsets)
    }

    fn write_row(&mut self, row: &Row<'_>) -> crate::error::Result<()> {
        let row = Row {
            symbol: self.site(row.symbol),
            caller: self.site(row.caller),
            ..*row
        };
        let filters = &self.fold.filters;
        if self.skipping
            || (filters.on_keys()
                && !filters.keeps([row.category, row.symbol, row.caller], &mut self.hits))
        {
            return Ok(());
        }
        match &mut self.target {
            RowTarget::Records(writer) => {
                let mut values = vec![
                    Value::Text(&self.label),
                    Value::Count(self.sample.max(1)),
                    Value::Text(row.category),
                    Value::Text(row.symbol),
                    Value::Text(row.caller),
                    row_time(&row).map_or(Value::Null, Value::Duration),
                    row_events(&row).map_or(Value::Null, Value::Count),
                ];
                if self.fold.by.contains(&GroupKey::Holder) {
                    values.push(Value::Text(holder_or_unknown(row.holder)));
                }
                writer.write(&values)
            }
            RowTarget::Folded { out, .. } if !row.stack.is_empty() => {
                // The whole call stack where the input recorded one.
                let stack = folded_stack(row.stack, self.fold.keep_offsets);
                let frames: Vec<&str> = stack.split(';').collect();
                let weight = row_time(&row).unwrap_or(row.count);
                Ok(write_folded(*out, &frames, &[weight])?)
            }
            RowTarget::Folded { out, by } => {
                let keys: Vec<&str> = by
                    .iter()
                    .map(|key| match key {
                        GroupKey::Category => row.category,
                        GroupKey::Symbol => row.symbol,
                        GroupKey::Caller => row.caller,
                        GroupKey::Holder => holder_or_unknown(row.holder),
                    })
                    .collect();
                // A count() map's stacks weigh their events, as
                // flamegraph.pl's users of `count()` folds expect.
                let weight = row_time(&row).unwrap_or(row.count);
                Ok(write_folded(*out, &keys, &[weight])?)
            }
        }
    }
}

/// A row's wait time; none for a count() map's row, whose zero is not a
/// figure.
fn row_time(row: &Row<'_>) -> Option<u64> {
    (!matches!(row.waits, RowWaits::Untimed)).then_some(row.dur_ns)
}

/// The events a row counts; none where it is a sum of an unknown number
/// of them (a pivot table's cell, a `sum()` map's value).
fn row_events(row: &Row<'_>) -> Option<u64> {
    (!matches!(row.waits, RowWaits::Unknown)).then_some(row.count)
}

impl Consumer for RowConsumer<'_> {
    fn begin(&mut self, label: &str, _format: InputFormat) -> crate::error::Result<()> {
        self.label = label.to_string();
        self.sample = 0;
        self.holders_recorded = false;
        // Rows before any sample's start are the first sample's.
        self.skipping = self.fold.filters.skips_sample(1);
        Ok(())
    }

    fn sink(&mut self) -> &mut dyn Sink {
        self
    }

    fn end(&mut self, stats: ParseStats) -> crate::error::Result<()> {
        let stripped = std::mem::take(&mut self.stripped_offsets);
        self.read.push((self.label.clone(), stats, stripped));
        if self.fold.by.contains(&GroupKey::Holder) && !self.holders_recorded {
            super::note_no_holders_in(&self.label);
        }
        Ok(())
    }

    fn holders(&mut self, _facts: crate::holders::HolderFacts) {
        self.holders_recorded = true;
    }
}

impl Sink for RowConsumer<'_> {
    fn sample(&mut self, _states: Vec<State>) -> Result<(), SinkError> {
        self.sample += 1;
        self.skipping = self.fold.filters.skips_sample(self.sample as u32);
        Ok(())
    }

    fn holder(&mut self, _share: crate::holders::HolderShare) -> Result<(), SinkError> {
        self.holders_recorded = true;
        Ok(())
    }

    fn row(&mut self, row: &Row<'_>) -> Result<(), SinkError> {
        self.write_row(row).map_err(|err| match err.into_kind() {
            ErrorKind::Output(io) => SinkError::Output(io),
            other => SinkError::Input(Error::from_kind(other).to_string()),
        })
    }
}

/// Writes the samples of an analysis.
fn export_samples(
    analysis: &Analysis,
    options: WriterOptions,
    out: &mut dyn Write,
) -> crate::error::Result<()> {
    let mut writer = RecordWriter::new(out, &sample_fields(analysis), options)?;
    each_sample_record(analysis, |record| writer.write(record))?;
    writer.finish()
}

/// Writes the ranking's groups as the engine hands them over, a page at a
/// time; nothing is written before the analysis could be made.
fn export_groups(
    inputs: &[InputFacts],
    analysis_options: &AnalysisOptions,
    options: WriterOptions,
    out: &mut dyn Write,
) -> crate::error::Result<()> {
    // The output goes to the target when the first page comes, or after
    // the analysis when there is none.
    let mut out = Some(out);
    let mut target: Option<GroupTarget<'_>> = None;
    let analysis = engine::analyze_paged(inputs, analysis_options, &mut |analysis, page| {
        if let Some(out) = out.take() {
            target = Some(GroupTarget::new(analysis, options, out)?);
        }
        match &mut target {
            Some(target) => target.write(&page, &analysis.by),
            None => Ok(()),
        }
    })?;
    if let Some(out) = out.take() {
        target = Some(GroupTarget::new(&analysis, options, out)?);
    }
    target.map_or(Ok(()), GroupTarget::finish)
}

/// Where groups go: folded lines, or records.
enum GroupTarget<'w> {
    Folded(&'w mut dyn Write),
    Records(RecordWriter<'w>),
}

impl<'w> GroupTarget<'w> {
    /// The target for `options`' format, its header written.
    fn new(
        analysis: &Analysis,
        options: WriterOptions,
        out: &'w mut dyn Write,
    ) -> crate::error::Result<Self> {
        Ok(if options.format == ExportFormat::Folded {
            GroupTarget::Folded(out)
        } else {
            GroupTarget::Records(RecordWriter::new(out, &group_fields(analysis), options)?)
        })
    }

    fn write(&mut self, groups: &[Group], by: &[GroupKey]) -> crate::error::Result<()> {
        match self {
            GroupTarget::Folded(out) => {
                for group in groups {
                    let weight = group.total_ns.unwrap_or(group.rows);
                    write_folded(out, &group_keys(group, by), &[weight])
                        .map_err(crate::error::Error::output)?;
                }
                Ok(())
            }
            GroupTarget::Records(writer) => {
                each_group_record(groups, by, |record| writer.write(record))
            }
        }
    }

    fn finish(self) -> crate::error::Result<()> {
        match self {
            GroupTarget::Folded(_) => Ok(()),
            GroupTarget::Records(writer) => writer.finish(),
        }
    }
}
