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
use crate::parse::{self, InputFormat, ParseStats, detect, fxt};

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
        let (reader, format) = open_source(args, source)?;
        if format == InputFormat::Fxt {
            all.extend(read_capture(args, source, reader)?);
            continue;
        }
        let mut builder = FactsBuilder::new(&source.label);
        let stats = parse::parse(
            reader,
            &source.name,
            format,
            &args.parse_options(),
            &mut builder,
        )?;
        let mut facts = builder.finish(stats);
        facts.format = format.name();
        all.push(facts);
    }
    Ok(all)
}

/// Reads an lltrace capture: each chosen thread becomes an input of its
/// own, labelled `LABEL:THREAD`, its windows the samples.
fn read_capture(
    args: &ReadArgs,
    source: &Source,
    reader: Box<dyn std::io::BufRead>,
) -> Result<Vec<InputFacts>> {
    let capture = fxt::read_capture(reader, &source.name, &args.parse_options().capture)?;
    let mut all = Vec::new();
    for (index, thread) in capture.threads.iter().enumerate() {
        let label = capture_label(&source.label, &thread.name);
        let mut builder = FactsBuilder::new(&label);
        thread
            .feed(&mut builder)
            .map_err(|message| InputError::whole(&source.name, message))?;
        // The capture's notes belong to it once, not to every thread.
        let stats = if index == 0 {
            capture.stats
        } else {
            ParseStats::default()
        };
        let mut facts = builder.finish(stats);
        facts.format = InputFormat::Fxt.name();
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

/// How a capture's thread is named as an input: `LABEL:THREAD`.
pub fn capture_label(source_label: &str, thread: &str) -> String {
    format!("{source_label}:{thread}")
}

/// Opens one input, decompressed, and tells its format (named, or
/// detected from its first bytes).
pub fn open_source(
    args: &ReadArgs,
    source: &Source,
) -> Result<(Box<dyn std::io::BufRead>, InputFormat)> {
    let reader = input::open_decoded(source)?;
    Ok(match args.input_format {
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
    })
}

/// Tells on stderr what was skipped, once per input, so no figure rests on
/// silently dropped lines.
pub fn note_skipped<'a>(inputs: impl IntoIterator<Item = (&'a str, ParseStats)>) {
    for (label, stats) in inputs {
        if let Some(first) = stats.first_histogram_line {
            let printouts = counted(stats.skipped_histograms, "histogram", "histograms");
            eprintln!(
                "contend: {label}: skipped {printouts} (first: line {first}): they count \
                 events per bucket, not wait time; print wait sums (`@w[...] = sum(...)`)"
            );
        }
        note_capture(label, &stats);
        if let Some(first) = stats.first_repaired_line {
            let lines = counted(stats.repaired_lines, "line", "lines");
            eprintln!(
                "contend: {label}: read bytes that are not UTF-8 as U+FFFD in {lines} \
                 (first: line {first}; --lossy)"
            );
        }
        if let Some(first) = stats.first_skipped_line {
            let lines = counted(stats.skipped_lines, "line that is", "lines that are");
            eprintln!(
                "contend: {label}: skipped {lines} not part of a table \
                 (first: line {first}); --strict to fail instead"
            );
        }
    }
}

/// `1 line`, `4 lines`.
fn counted(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// What a capture's reading left out, so no figure rests on it unsaid.
fn note_capture(label: &str, stats: &ParseStats) {
    if let Some(offset) = stats.truncated_at {
        eprintln!(
            "contend: {label}: the capture is cut short; read up to byte offset {offset} \
             (--lenient)"
        );
    }
    if let Some(offset) = stats.first_skipped_offset {
        eprintln!(
            "contend: {label}: skipped {} malformed records (first: byte offset {offset}; \
             --lenient)",
            stats.skipped_records
        );
    }
    if stats.unended_waits > 0 {
        eprintln!(
            "contend: {label}: left out {} lock waits still open when the capture ended",
            stats.unended_waits
        );
    }
    if stats.out_of_order > 0 {
        eprintln!(
            "contend: {label}: {} before {} begins; counted as 0 ns",
            counted(stats.out_of_order, "lock wait ends", "lock waits end"),
            if stats.out_of_order == 1 {
                "it"
            } else {
                "they"
            }
        );
    }
    if stats.unmatched_ends > 0 {
        eprintln!(
            "contend: {label}: left out {} lock-wait ends whose begin is not in the capture",
            stats.unmatched_ends
        );
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
