//! CSV and TSV with a header row: query results of Perfetto's
//! trace_processor_shell (every header and string quoted, `"[NULL]"` for
//! null) and tables saved from spreadsheets.
//!
//! ```text
//! "sample","running_ns","stopped_ns","dur","category","arg_set_id__symbol__","arg_set_id__caller__"
//! 1,4384000,496600000,12417639,"rwlock","kernel_map_store","vm_map_lock_ln"
//! ```
//!
//! Columns are found by the aliases of the table format; an optional
//! `sample` column splits the rows into samples (else the input is one
//! sample), and optional state columns (`running_ns`, `stopped_ns`,
//! `state_<Name>_ns`) give each sample's state totals, taken from its first
//! row.

use std::cell::Cell;
use std::io::{BufRead, Read};
use std::rc::Rc;

use super::SinkError;
use super::class::openbsd_class;
use super::columns::{Role, role_of, row_waits};
use super::format::Format;
use super::lines;
use super::{ParseOptions, ParseStats, Row, RowWaits, Sink, State, fields};
use crate::error::{InputError, shorten};

/// What a CSV column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    /// A column of a lock table (dur, a key, count, or unused).
    Table(Role),
    /// The sample number.
    Sample,
    /// A thread-state total of the row's sample, named as Perfetto names it.
    State(String),
}

impl Column {
    fn of(name: &str) -> Column {
        let lower = name.trim().to_ascii_lowercase();
        match lower.as_str() {
            "sample" | "sample_id" | "window" => return Column::Sample,
            "running_ns" => return Column::State("Running".into()),
            "stopped_ns" => return Column::State("Stopped".into()),
            _ => {}
        }
        let trimmed = name.trim();
        if let Some(state) = trimmed
            .strip_prefix("state_")
            .and_then(|rest| rest.strip_suffix("_ns"))
            .filter(|state| !state.is_empty())
        {
            return Column::State(state.to_string());
        }
        Column::Table(role_of(name))
    }
}

/// True when a header names columns only this format reads (a sample or a
/// state column), for detection.
pub fn has_csv_only_columns(names: &[&str]) -> bool {
    names
        .iter()
        .any(|name| matches!(Column::of(name), Column::Sample | Column::State(_)))
}

/// True when a header has a dur column and a key column, for detection.
pub fn is_lock_header(names: &[&str]) -> bool {
    let roles: Vec<Column> = names.iter().map(|name| Column::of(name)).collect();
    roles.contains(&Column::Table(Role::Dur))
        && roles
            .iter()
            .any(|column| matches!(column, Column::Table(role) if role.is_key()))
}

/// What a CSV header that [`is_lock_header`] refuses lacks, when it has
/// one of the two things it needs (a dur column, or a key column): for a
/// message that says what was found rather than "not CSV".
pub fn missing_columns(names: &[&str]) -> Option<String> {
    let roles: Vec<Column> = names.iter().map(|name| Column::of(name)).collect();
    let has_dur = roles.contains(&Column::Table(Role::Dur));
    let has_key = roles
        .iter()
        .any(|column| matches!(column, Column::Table(role) if role.is_key()));
    let dur_like = names
        .iter()
        .any(|name| name.to_ascii_lowercase().contains("dur"));
    let shown: Vec<&str> = names.iter().take(6).map(|name| name.trim()).collect();
    let columns = format!(
        "{} columns: {}{}",
        names.len(),
        shown.join(", "),
        if names.len() > shown.len() {
            ", ..."
        } else {
            ""
        }
    );
    match (has_dur, has_key) {
        (true, false) => Some(format!(
            "a CSV header with a dur column but no category, symbol or caller column to \
             group by ({columns}); name a key column so (`... AS symbol`)"
        )),
        (false, true) | (false, false) if dur_like => Some(format!(
            "a CSV header without a dur column ({columns}); name the wait duration \
             column `dur` (nanoseconds)"
        )),
        _ => None,
    }
}

/// The input with its first line read ahead (to tell the delimiter) put
/// back in front.
type AfterHeader<R> = std::io::Chain<std::io::Cursor<Vec<u8>>, R>;

/// The most of a first line read to tell its delimiter.
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// The delimiter of a CSV text: a tab when the header has tabs and no
/// commas, else a comma.
pub fn delimiter_of(header: &str) -> u8 {
    if header.contains('\t') && !header.contains(',') {
        b'\t'
    } else {
        b','
    }
}

/// CSV and TSV as contend knows them.
pub const FORMAT: Format = Format {
    name: "csv",
    summary: "CSV or TSV with a header row (trace_processor_shell, spreadsheets)",
    signature: "CSV (a header row with a dur column)",
    signature_line: None,
    lock_class: openbsd_class,
    reads_mail: false,
    has_kernel_lock: true,
    waits_hint: super::table::PIVOT_WAITS_HINT,
    states_hint: "add running_ns and stopped_ns columns",
    parse: |reader, name, options, sink| parse(reader, name, options, sink),
};

/// Parses a CSV input, reporting samples and rows to `sink`.
pub fn parse<R: BufRead>(
    mut reader: R,
    name: &str,
    options: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<ParseStats, crate::error::Error> {
    // The whole first line: a reader's first buffer may hold only part of
    // it (the bytes peeked at for compression), which read a TSV header
    // as one comma-separated field.
    let mut first_line = Vec::new();
    (&mut reader)
        .take(MAX_HEADER_BYTES)
        .read_until(b'\n', &mut first_line)
        .map_err(|err| InputError::whole(name, format!("cannot read: {err}")))?;
    let delimiter = delimiter_of(&String::from_utf8_lossy(&first_line));
    let since_record = Rc::new(Cell::new(0usize));
    let bounded = BoundedRecords {
        inner: std::io::Cursor::new(first_line).chain(reader),
        since_record: Rc::clone(&since_record),
    };
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(bounded);
    let mut record = csv::StringRecord::new();
    let mut bytes = csv::ByteRecord::new();
    let mut stats = ParseStats::default();
    let line_of = |record: &csv::StringRecord| record.position().map_or(0, |p| p.line());
    let mut read = |csv: &mut csv::Reader<BoundedRecords<AfterHeader<R>>>,
                    record: &mut csv::StringRecord| {
        let starts_at = csv.position().line();
        let read = read_record(csv, record, &mut bytes, options.lossy, &mut stats);
        since_record.set(0);
        let more = read.map_err(|err| read_error(name, &err, starts_at))?;
        check_record(record, starts_at)
            .map_err(|message| InputError::at_line(name, starts_at, message))?;
        Ok::<bool, InputError>(more)
    };
    if !read(&mut csv, &mut record)? {
        return Err(InputError::whole(name, "empty input: expected a CSV header row").into());
    }
    let columns = header(&record).map_err(|err| err.at_line(name, 1))?;
    let waits = row_waits(columns.iter().filter_map(|column| match column {
        Column::Table(role) => Some(*role),
        _ => None,
    }));
    let mut current_sample: Option<String> = None;
    while read(&mut csv, &mut record)? {
        let line = line_of(&record);
        let result = csv_row(
            &columns,
            waits,
            &record,
            line,
            options,
            &mut current_sample,
            sink,
        );
        result.map_err(|err| err.at_line(name, line))?;
    }
    if current_sample.is_none() {
        sink.sample(Vec::new()).map_err(|err| err.whole(name))?;
    }
    Ok(stats)
}

/// Reads one record; with `lossy`, bytes that are not UTF-8 become
/// U+FFFD, counted.
fn read_record<R: std::io::Read>(
    csv: &mut csv::Reader<R>,
    record: &mut csv::StringRecord,
    bytes: &mut csv::ByteRecord,
    lossy: bool,
    stats: &mut ParseStats,
) -> Result<bool, csv::Error> {
    if !lossy {
        return csv.read_record(record);
    }
    let more = csv.read_byte_record(bytes)?;
    *record = match csv::StringRecord::from_byte_record(std::mem::take(bytes)) {
        Ok(text) => text,
        Err(err) => {
            let repaired = err.into_byte_record();
            let line = repaired.position().map_or(0, |p| p.line());
            stats.repaired_lines += 1;
            stats.first_repaired_line.get_or_insert(line);
            csv::StringRecord::from_byte_record_lossy(repaired)
        }
    };
    Ok(more)
}

/// No field of a lock table holds a line break or a control byte: a line
/// break means a quote opened and never closed (every row after it would
/// be one field), a control byte is binary data (and would reach the
/// terminal raw), as the other text formats refuse it.
fn check_record(record: &csv::StringRecord, line: u64) -> Result<(), String> {
    for (index, field) in record.iter().enumerate() {
        if field.contains(['\n', '\r']) {
            let lines = field.matches('\n').count() + 1;
            return Err(format!(
                "field {} runs over {lines} lines from here: a quote opened on line {line} \
                 and not closed?",
                index + 1
            ));
        }
        if let Some(byte) = field.bytes().find(|&b| lines::is_binary(b)) {
            return Err(format!(
                "binary data (byte 0x{byte:02x} in field {}); is this a CSV lock table?",
                index + 1
            ));
        }
    }
    Ok(())
}

/// Counts the bytes read since the parser last finished a record, so that
/// no record (an unterminated quote, a field of gigabytes) holds more than
/// [`lines::MAX_LINE`] bytes: past that (and the reader's read-ahead), an
/// error instead of an unbounded buffer.
struct BoundedRecords<R> {
    inner: R,
    since_record: Rc<Cell<usize>>,
}

/// Bytes read ahead of the record being parsed, at most: the reader's
/// buffer (256 KiB) and the CSV reader's.
const READ_AHEAD: usize = 512 * 1024;

impl<R: std::io::Read> std::io::Read for BoundedRecords<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        let total = self.since_record.get() + read;
        if total > lines::MAX_LINE + READ_AHEAD {
            return Err(std::io::Error::other(RECORD_TOO_LONG));
        }
        self.since_record.set(total);
        Ok(read)
    }
}

const RECORD_TOO_LONG: &str = "a CSV record longer than 1 MiB";

fn read_error(name: &str, err: &csv::Error, record_line: u64) -> InputError {
    let line = err.position().map(|p| p.line());
    let message = match err.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!(
            "not valid UTF-8 (field {}); --lossy reads such bytes as U+FFFD",
            err.field() + 1
        ),
        csv::ErrorKind::Io(io) if io.to_string() == RECORD_TOO_LONG => {
            let message = format!(
                "{RECORD_TOO_LONG} begins here (a quote opened and not closed, or no \
                 line breaks?); is this a CSV lock table?"
            );
            return InputError::at_line(name, record_line, message);
        }
        csv::ErrorKind::Io(io) => format!("cannot read: {io}"),
        _ => format!("not valid CSV: {err}"),
    };
    match line {
        Some(line) => InputError::at_line(name, line, message),
        None => InputError::whole(name, message),
    }
}

fn header(record: &csv::StringRecord) -> Result<Vec<Column>, SinkError> {
    let names: Vec<&str> = record.iter().collect();
    if !is_lock_header(&names) {
        return Err(format!(
            "the CSV header needs a dur column and a category, symbol or caller column; \
             found \"{}\"",
            shorten(&names.join(","))
        )
        .into());
    }
    let columns: Vec<Column> = names.iter().map(|name| Column::of(name)).collect();
    // Two columns that say the same thing (`running_ns` and
    // `state_Running_ns`, `dur` twice): summing them or letting one win
    // would give a figure neither says.
    for (second, column) in columns.iter().enumerate() {
        if *column == Column::Table(Role::Other) {
            continue;
        }
        if let Some(first) = columns[..second].iter().position(|c| c == column) {
            return Err(format!(
                "the CSV header has \"{}\" and \"{}\" (columns {} and {}), which say the \
                 same thing; keep one",
                shorten(names[first]),
                shorten(names[second]),
                first + 1,
                second + 1
            )
            .into());
        }
    }
    Ok(columns)
}

/// One record as a row; `waits` is what the header says of its rows.
fn csv_row(
    columns: &[Column],
    waits: RowWaits<'static>,
    record: &csv::StringRecord,
    line: u64,
    options: &ParseOptions,
    current_sample: &mut Option<String>,
    sink: &mut dyn Sink,
) -> Result<(), SinkError> {
    if record.len() != columns.len() {
        return Err(format!(
            "expected {} fields like the header, found {}: \"{}\"",
            columns.len(),
            record.len(),
            shorten(&record.iter().collect::<Vec<_>>().join(","))
        )
        .into());
    }
    let sample = columns
        .iter()
        .position(|c| *c == Column::Sample)
        .map(|index| record[index].trim().to_string())
        .unwrap_or_default();
    if current_sample.as_deref() != Some(sample.as_str()) {
        sink.sample(states(columns, record, options)?)?;
        *current_sample = Some(sample);
    }
    let mut row = Row::new(line);
    for (column, field) in columns.iter().zip(record.iter()) {
        match column {
            Column::Table(Role::Dur) => {
                row.dur_ns = fields::duration("dur", field.trim(), options.unit)?;
            }
            Column::Table(Role::Category) => row.category = fields::key(field),
            Column::Table(Role::Symbol) => row.symbol = fields::key(field),
            Column::Table(Role::Caller) => row.caller = fields::key(field),
            Column::Table(Role::Count) => row.count = fields::count("count", field)?,
            Column::Table(Role::Other | Role::Start) | Column::Sample | Column::State(_) => {}
        }
    }
    row.waits = waits;
    sink.row(&row.with_max())
}

/// The state totals a sample's first row carries; empty fields are absent
/// states.
fn states(
    columns: &[Column],
    record: &csv::StringRecord,
    options: &ParseOptions,
) -> Result<Vec<State>, SinkError> {
    let mut states = Vec::new();
    for (column, field) in columns.iter().zip(record.iter()) {
        let Column::State(name) = column else {
            continue;
        };
        let field = fields::key(field);
        if field.is_empty() {
            continue;
        }
        let column_name = format!("{}_ns", name.to_ascii_lowercase());
        states.push(State {
            name: name.clone(),
            ns: fields::duration(&column_name, field, options.unit)?,
        });
    }
    Ok(states)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::InputFormat;
    use crate::parse::testing::{collect, row};

    fn state(name: &str, ns: u64) -> State {
        State {
            name: name.into(),
            ns,
        }
    }

    #[test]
    fn trace_processor_output_with_samples_and_states() {
        let text = "\"sample\",\"running_ns\",\"stopped_ns\",\"dur\",\"category\",\
                    \"arg_set_id__symbol__\",\"arg_set_id__caller__\"\n\
                    1,4384000,496600000,12417639,\"rwlock\",\"kernel_map_store\",\"vm_map_lock_ln\"\n\
                    1,4384000,496600000,1751151,\"kernel\",\"kernel_lock\",\"reaper\"\n\
                    2,3236000,450600000,155688,\"kernel\",\"[NULL]\",\"reaper\"\n";
        let (sink, _) = collect(text, InputFormat::Csv, &ParseOptions::default()).unwrap();
        assert_eq!(sink.samples.len(), 2);
        assert_eq!(
            sink.samples[0].0,
            [state("Running", 4_384_000), state("Stopped", 496_600_000)]
        );
        assert_eq!(
            sink.samples[0].1[1],
            row(
                3,
                1_751_151,
                1,
                1_751_151,
                ["kernel", "kernel_lock", "reaper"]
            )
        );
        assert_eq!(
            sink.samples[1].1,
            [row(4, 155_688, 1, 155_688, ["kernel", "", "reaper"])]
        );
    }

    #[test]
    fn spreadsheet_tsv_without_samples_is_one_sample() {
        let text = "caller\tDuration\tlock\tstate_Runnable (Preempted)_ns\n\
                    reaper\t1.5\tkernel_lock\t\nwakeup_n\t2\tsched_lock\t\n";
        let options = ParseOptions {
            unit: crate::parse::Unit::Us,
            ..ParseOptions::default()
        };
        let (sink, _) = collect(text, InputFormat::Csv, &options).unwrap();
        assert_eq!(sink.samples.len(), 1);
        assert!(sink.samples[0].0.is_empty());
        assert_eq!(
            sink.samples[0].1[0],
            row(2, 1_500, 1, 1_500, ["", "kernel_lock", "reaper"])
        );
    }

    #[test]
    fn state_columns_of_any_name() {
        assert_eq!(
            Column::of("state_Runnable (Preempted)_ns"),
            Column::State("Runnable (Preempted)".into())
        );
        assert_eq!(Column::of("Sample"), Column::Sample);
    }

    #[test]
    fn errors_name_the_line() {
        let options = ParseOptions::default();
        let err = collect("dur,symbol\n5,a\n6\n", InputFormat::Csv, &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.txt:3: expected 2 fields like the header, found 1: \"6\""
        );
        let err = collect("dur,symbol\n5,a\nx5,b\n", InputFormat::Csv, &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.txt:3: dur \"x5\" is not a number of nanoseconds"
        );
        let err = collect("ts,symbol\n5,a\n", InputFormat::Csv, &options).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.txt:1: the CSV header needs a dur column")
        );
        let err = collect("", InputFormat::Csv, &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.txt: empty input: expected a CSV header row"
        );
    }
}
