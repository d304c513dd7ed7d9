//! Reading inputs, whatever they are: the sources named on the command
//! line ([`source`]: files or stdin, decompressed), each one's format
//! (named, or detected from its first bytes), then its parser, into one
//! sink per input ([`Consumer`]). A capture gives one input per thread; a
//! large plain table file is read on several cores ([`parallel`]) when the
//! consumer keeps facts.
//!
//! Commands call [`read_facts`] (report, plot, export of groups),
//! [`read_facts_side_by_side`] (diff) or [`read`] with a consumer of their
//! own (export of rows, streamed).

pub mod follow;
pub mod parallel;
pub mod source;

use std::io::{BufRead, Read};
use std::path::Path;

use crate::error::Result;
use crate::refuse;

use crate::facts::filter::{Filters, Hits};

use crate::error::InputError;
use crate::facts::{FactsBuilder, Fold, InputFacts};
use crate::holders::{HolderFacts, Holders};
use crate::parse::{self, InputFormat, ParseOptions, ParseStats, Sink, detect, fxt};
pub use source::Source;

/// How to read inputs, built once from the command line.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The format the user named; `Auto` detects each input's.
    pub format: InputFormat,
    /// What the parsers honour.
    pub parse: ParseOptions,
    /// Threads for one large table file: 0 one per core for files of
    /// [`parallel::MIN_CHUNK_BYTES`] a thread and more; N any file in N.
    pub threads: usize,
    /// How rows are folded into facts.
    pub fold: Fold,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: InputFormat::Auto,
            parse: ParseOptions::default(),
            threads: 0,
            fold: Fold::default(),
        }
    }
}

/// What inputs are read into: one sink per input, in order.
pub trait Consumer {
    /// The input labelled `label`, read in `format`, begins; its samples
    /// and rows go to [`Consumer::sink`] until [`Consumer::end`].
    fn begin(&mut self, label: &str, format: InputFormat) -> Result<()>;
    /// Where the current input's samples and rows go.
    fn sink(&mut self) -> &mut dyn Sink;
    /// The current input is read; `stats` is its parser's account of it
    /// (a capture's goes with its first thread).
    fn end(&mut self, stats: ParseStats) -> Result<()>;
    /// Who held the locks the current input waited on (a capture's
    /// thread): given before [`Consumer::end`]. Ignored by default.
    fn holders(&mut self, _facts: HolderFacts) {}
    /// Where a consumer that keeps facts keeps them: a large table file
    /// is then read on several cores straight into facts. None (the
    /// default) parses every input into the sink.
    fn facts(&mut self) -> Option<&mut Vec<InputFacts>> {
        None
    }
}

/// Reads every source into `consumer`, in order. The first bad input
/// stops the run with its error.
pub fn read(sources: &[Source], options: &ReadOptions, consumer: &mut dyn Consumer) -> Result<()> {
    for source in sources {
        crate::memory::reading(&source.name);
        if let Some(kept) = consumer.facts() {
            // A file read in pieces that fails is read again from start
            // to end: the error then names the line it would name read
            // whole (an overflow found merging two pieces has no line).
            if let Ok(Some(facts)) = read_in_parallel(options, source) {
                kept.push(facts);
                continue;
            }
        }
        let (reader, format) = open(options, source)?;
        if format == InputFormat::Fxt {
            read_capture(options, source, reader, consumer)?;
            continue;
        }
        consumer.begin(&source.label, format)?;
        let parse_options = parse::ParseOptions {
            detected_as: detected_as(options, format),
            ..options.parse.clone()
        };
        let parsed = parse::parse(
            reader,
            &source.name,
            format,
            &parse_options,
            consumer.sink(),
        );
        consumer.end(parsed?)?;
    }
    Ok(())
}

/// Reads every source into facts, one per input, in order.
pub fn read_facts(sources: &[Source], options: &ReadOptions) -> Result<Vec<InputFacts>> {
    let inputs = read_unchecked(sources, options)?;
    check_filters(&options.fold.filters, &inputs)?;
    Ok(inputs)
}

/// [`read_facts`] with every source read on a thread of its own, all at
/// once, when each is a regular file: what `diff` does with its two files,
/// so that the core one file's reading leaves idle (its start, the uneven
/// ends of its chunks, their join) reads the other. The inputs, their
/// order and the error reported (the first source's before the second's)
/// are those of [`read_facts`]; a bad file is reported once the others are
/// read too. With stdin or anything but regular files (a pipe, a missing
/// file), the sources are read one after the other, once every named file
/// has opened: a missing file stops the run before stdin is read.
pub fn read_facts_side_by_side(
    sources: &[Source],
    options: &ReadOptions,
) -> Result<Vec<InputFacts>> {
    if sources.len() < 2 || !sources.iter().all(is_regular_file) {
        // A missing file stops the run before stdin is read; checked
        // without opening: opening a named pipe and closing it again
        // would lose what its writer sent.
        for source in sources {
            source::check_exists(source)?;
        }
        return read_facts(sources, options);
    }
    let results = on_threads(sources, |source| {
        read_unchecked(std::slice::from_ref(source), options)
    });
    let mut inputs = Vec::new();
    for result in results {
        inputs.extend(result?);
    }
    check_filters(&options.fold.filters, &inputs)?;
    Ok(inputs)
}

fn is_regular_file(source: &Source) -> bool {
    source
        .path
        .as_deref()
        .is_some_and(|path| std::fs::metadata(path).is_ok_and(|meta| meta.is_file()))
}

/// `work` done on each item, each on a thread of its own, all at once;
/// the results in the items' order. A thread's panic goes on in the
/// caller, with its own message.
fn on_threads<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = items
            .iter()
            .map(|item| scope.spawn(move || work(item)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Reads the sources into facts without checking that the filters picked
/// something (a filter may pick rows of one input only).
fn read_unchecked(sources: &[Source], options: &ReadOptions) -> Result<Vec<InputFacts>> {
    let mut consumer = FactsConsumer {
        fold: options.fold.clone(),
        ..FactsConsumer::default()
    };
    read(sources, options, &mut consumer)?;
    Ok(consumer.inputs)
}

/// A filter that picks nothing is an error that names it.
pub fn check_filters(filters: &Filters, inputs: &[InputFacts]) -> Result<()> {
    let mut hits = Hits::default();
    for input in inputs {
        hits.merge(&input.filter_hits);
        if let Some(picked) = &filters.samples {
            if picked.names_past(input.samples_read) && !input.samples.is_empty() {
                crate::notes::note_samples_past_end(&input.label, picked, input.samples_read);
            }
            if input.samples.is_empty() {
                refuse!(
                    "--samples {picked} picks none of the {} samples of {}",
                    input.samples_read,
                    input.label
                );
            }
        }
    }
    if filters.on_keys() {
        filters
            .check_hits(&hits)
            .map_err(crate::error::Error::request)?;
    }
    Ok(())
}

/// How a capture's thread is named as an input: `LABEL:THREAD`.
pub fn capture_label(source_label: &str, thread: &str) -> String {
    format!("{source_label}:{thread}")
}

/// Keeps each input as facts.
#[derive(Default)]
struct FactsConsumer {
    fold: Fold,
    inputs: Vec<InputFacts>,
    current: Option<(FactsBuilder, InputFormat)>,
    holders: Holders,
}

impl Consumer for FactsConsumer {
    fn begin(&mut self, label: &str, format: InputFormat) -> Result<()> {
        self.current = Some((FactsBuilder::new(label, &self.fold), format));
        Ok(())
    }

    fn sink(&mut self) -> &mut dyn Sink {
        let (builder, _) = self.current.as_mut().expect("an input begun");
        builder
    }

    fn end(&mut self, stats: ParseStats) -> Result<()> {
        let (builder, format) = self.current.take().expect("an input begun");
        let mut facts = builder.finish(stats);
        facts.format = format;
        if let Holders::Known(known) = std::mem::take(&mut self.holders) {
            facts.holders = Holders::Known(known);
        }
        self.inputs.push(facts);
        Ok(())
    }

    fn facts(&mut self) -> Option<&mut Vec<InputFacts>> {
        Some(&mut self.inputs)
    }

    fn holders(&mut self, facts: HolderFacts) {
        self.holders = Holders::Known(facts);
    }
}

/// Reads an lltrace capture: each chosen thread becomes an input of its
/// own, labelled `LABEL:THREAD`, its windows the samples.
fn read_capture(
    options: &ReadOptions,
    source: &Source,
    reader: Box<dyn BufRead>,
    consumer: &mut dyn Consumer,
) -> Result<()> {
    let capture = fxt::read_capture(reader, &source.name, &options.parse.capture)?;
    // Threads that share a name (user threads are named after their
    // process) get labels apart, `LABEL:make`, `LABEL:make#2`, as files do:
    // the engine tells inputs apart by label.
    let mut labels: Vec<String> = Vec::new();
    for (index, thread) in capture.threads.iter().enumerate() {
        let label = source::label_apart(capture_label(&source.label, &thread.name), |taken| {
            labels.iter().any(|label| label == taken)
        });
        labels.push(label.clone());
        consumer.begin(&label, InputFormat::Fxt)?;
        let fed = thread.feed(consumer.sink());
        fed.map_err(|err| err.whole(&source.name))?;
        if let Some(holders) = &thread.holders {
            consumer.holders(holders.clone());
        }
        // The capture's notes belong to it once, not to every thread.
        consumer.end(if index == 0 {
            capture.stats
        } else {
            ParseStats::default()
        })?;
    }
    Ok(())
}

/// Reads a large plain table-format file on several cores; None when the
/// input is not one (stdin, compressed, another format, too small).
fn read_in_parallel(options: &ReadOptions, source: &Source) -> Result<Option<InputFacts>> {
    let threads = match options.threads {
        0 => parallel::cores(),
        given => given.min(parallel::MAX_THREADS),
    };
    let min_chunk = if options.threads == 0 {
        parallel::MIN_CHUNK_BYTES
    } else {
        1
    };
    let Some(path) = source.path.as_deref() else {
        return Ok(None);
    };
    let big_enough = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() >= 2 * min_chunk);
    // Chunks cannot tell which sample of the file they begin in.
    let picks_samples = options.fold.filters.samples.is_some();
    if threads < 2 || !big_enough || picks_samples || !is_plain_table(options, path) {
        return Ok(None);
    }
    let mut options = options.clone();
    options.parse.detected_as = detected_as(&options, InputFormat::Table);
    let facts = parallel::read_table_file(path, source, &options, threads, min_chunk)?;
    Ok(facts.map(|mut facts| {
        facts.format = InputFormat::Table;
        facts
    }))
}

/// The format's name when the input's format was detected, not named.
pub fn detected_as(options: &ReadOptions, format: InputFormat) -> Option<&'static str> {
    (options.format == InputFormat::Auto).then_some(format.name())
}

/// Whether the file is the table format, uncompressed (named, or detected
/// from its first bytes).
fn is_plain_table(options: &ReadOptions, path: &Path) -> bool {
    let mut head = Vec::new();
    let read = std::fs::File::open(path)
        .and_then(|file| file.take(detect::HEAD_BYTES as u64).read_to_end(&mut head));
    // Compressed, or starting with a byte-order mark: read in one piece.
    if read.is_err()
        || source::Compression::of(&head).is_some()
        || head.starts_with(&source::BYTE_ORDER_MARK)
    {
        return false;
    }
    match options.format {
        InputFormat::Table => true,
        InputFormat::Auto => {
            let complete = head.len() < detect::HEAD_BYTES;
            detect::detect(&head, complete) == Ok(InputFormat::Table)
        }
        _ => false,
    }
}

/// Opens one input, decompressed, and tells its format (named, or
/// detected from its first bytes).
fn open(options: &ReadOptions, source: &Source) -> Result<(Box<dyn BufRead>, InputFormat)> {
    let reader = source::open_decoded(source)?;
    Ok(match options.format {
        InputFormat::Auto => {
            let cannot = |err: std::io::Error| {
                InputError::whole(&source.name, format!("cannot read: {err}"))
            };
            let (head, complete, reader) =
                source::peek(reader, detect::HEAD_BYTES).map_err(cannot)?;
            let format = detect::detect(&head, complete)
                .map_err(|message| InputError::whole(&source.name, message))?;
            (reader, format)
        }
        given => (reader, given),
    })
}
