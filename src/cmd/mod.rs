//! One module per subcommand; the shared steps of reading inputs live here.

pub mod completions;
pub mod diff;
pub mod export;
pub mod man;
pub mod plot;
pub mod report;

use std::io::{IsTerminal, Write};

use anyhow::Result;

use crate::cli::{ColorChoice, InputArgs, ReadArgs};
use crate::error::InputError;
use crate::facts::{FactsBuilder, InputFacts};
use crate::input::{self, Source};
use crate::parallel;
use crate::parse::{self, InputFormat, ParseStats, Sink, detect};

/// Reads every input named by the flags into facts, in order. The first
/// bad input stops the run with its error.
pub fn read_inputs(args: &InputArgs) -> Result<Vec<InputFacts>> {
    read_sources(&args.read, &input::sources(&args.inputs, &args.label)?)
}

/// Reads the given sources into facts, in order.
pub fn read_sources(args: &ReadArgs, sources: &[Source]) -> Result<Vec<InputFacts>> {
    let mut all = Vec::new();
    for source in sources {
        if let Some(facts) = read_in_parallel(args, source)? {
            all.push(facts);
            continue;
        }
        let mut builder = FactsBuilder::new(&source.label);
        let (stats, format) = parse_source(args, source, &mut builder)?;
        let mut facts = builder.finish(stats);
        facts.format = format.name();
        all.push(facts);
    }
    Ok(all)
}

/// Reads a large plain table-format file on several cores; None when the
/// input is not one (stdin, compressed, another format, too small).
fn read_in_parallel(args: &ReadArgs, source: &Source) -> Result<Option<InputFacts>> {
    let threads = match args.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        given => given,
    };
    let min_chunk = if args.threads == 0 {
        parallel::MIN_CHUNK_BYTES
    } else {
        1
    };
    let Some(path) = source.path.as_deref() else {
        return Ok(None);
    };
    let big_enough = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() >= 2 * min_chunk);
    if threads < 2 || !big_enough || !is_plain_table(args, path) {
        return Ok(None);
    }
    let facts = parallel::read_table_file(path, source, &args.parse_options(), threads, min_chunk)?;
    Ok(facts.map(|mut facts| {
        facts.format = InputFormat::Table.name();
        facts
    }))
}

/// Whether the file is the table format, uncompressed (named, or detected
/// from its first bytes).
fn is_plain_table(args: &ReadArgs, path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    let read = std::fs::File::open(path)
        .and_then(|file| file.take(detect::HEAD_BYTES as u64).read_to_end(&mut head));
    if read.is_err() || input::Compression::of(&head).is_some() {
        return false;
    }
    match args.input_format {
        InputFormat::Table => true,
        InputFormat::Auto => {
            let complete = head.len() < detect::HEAD_BYTES;
            detect::detect(&head, complete) == Ok(InputFormat::Table)
        }
        _ => false,
    }
}

/// Opens one input and parses it into `sink`; returns what the parser
/// skipped and the format it read.
pub fn parse_source(
    args: &ReadArgs,
    source: &Source,
    sink: &mut dyn Sink,
) -> Result<(ParseStats, InputFormat)> {
    let reader = input::open_decoded(source)?;
    let (reader, format) = match args.input_format {
        InputFormat::Auto => {
            let cannot = |err: std::io::Error| {
                InputError::whole(&source.name, format!("cannot read: {err}"))
            };
            let (head, complete, reader) =
                input::peek(reader, detect::HEAD_BYTES).map_err(cannot)?;
            let format = detect::detect(&head, complete)
                .map_err(|message| InputError::whole(&source.name, message))?;
            (reader, format)
        }
        given => (reader, given),
    };
    let stats = parse::parse(reader, &source.name, format, &args.parse_options(), sink)?;
    Ok((stats, format))
}

/// Tells on stderr what was skipped, once per input, so no figure rests on
/// silently dropped lines.
pub fn note_skipped<'a>(inputs: impl IntoIterator<Item = (&'a str, ParseStats)>) {
    for (label, stats) in inputs {
        if let Some(first) = stats.first_histogram_line {
            let printouts = if stats.skipped_histograms == 1 {
                "histogram"
            } else {
                "histograms"
            };
            eprintln!(
                "contend: {label}: skipped {} {printouts} (first: line {first}): they count \
                 events per bucket, not wait time; print wait sums (`@w[...] = sum(...)`)",
                stats.skipped_histograms
            );
        }
        if let Some(first) = stats.first_skipped_line {
            let lines = if stats.skipped_lines == 1 {
                "line that is"
            } else {
                "lines that are"
            };
            eprintln!(
                "contend: {label}: skipped {} {lines} not part of a table \
                 (first: line {first}); --strict to fail instead",
                stats.skipped_lines
            );
        }
    }
}

/// The labels and parse statistics of facts, for [`note_skipped`].
pub fn skipped_of(inputs: &[InputFacts]) -> impl Iterator<Item = (&str, ParseStats)> {
    inputs
        .iter()
        .map(|input| (input.label.as_str(), input.stats))
}

/// Whether to colour stdout: `--color`, then NO_COLOR, then "is it a
/// terminal".
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !no_color && std::io::stdout().is_terminal()
        }
    }
}

/// The width to fit tables to: `COLUMNS` when set, else the terminal's;
/// None when stdout is not a terminal.
pub fn output_width() -> Option<u16> {
    if let Some(columns) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(columns);
    }
    if std::io::stdout().is_terminal() {
        return comfy_table::Table::new().width();
    }
    None
}

/// Whether the terminal takes UTF-8: the first of LC_ALL, LC_CTYPE, LANG
/// that is set says so; none set counts as yes (today's default).
pub fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .is_none_or(|locale| {
            let lower = locale.to_ascii_lowercase();
            lower.contains("utf-8") || lower.contains("utf8")
        })
}

/// Writes the whole output to stdout at once and flushes it.
pub fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
