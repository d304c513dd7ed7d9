//! Linux `perf lock contention` output, in its table shapes and its `-x ,`
//! CSV shape.
//!
//! ```text
//!  contended   total wait     max wait     avg wait         type   caller
//!
//!          5      2.04 ms    720.55 us    408.86 us     spinlock   _raw_spin_lock+0x1a
//! ```
//!
//! The key columns after `avg wait` vary with the options: `type caller`
//! (default), `address symbol` (`-l`), `pid comm` (`-t`). Under `-v` each
//! row is followed by its stack (`0xffffffff81a5f2b4  do_exit+0x1a2`),
//! whose top frame is the caller already printed. With `-x SEP` a comment
//! `# output: contended, total wait, ...` names the columns and durations
//! are nanoseconds without a unit.
//!
//! `type` becomes the category, the lock symbol (or address) the symbol,
//! the caller (or the task's comm) the caller; `contended` is the row's
//! event count and `max wait` its longest wait. The whole output is one
//! sample.

use std::io::BufRead;

use super::lines::{Utf8Repair, each_line};
use super::{ParseOptions, ParseStats, Row, Sink, fields};
use crate::error::{InputError, shorten};

/// A column of the output, by its header name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Contended,
    TotalWait,
    MaxWait,
    AvgWait,
    MinWait,
    Type,
    Caller,
    Address,
    Symbol,
    Pid,
    Comm,
    Other,
}

impl Column {
    fn of(name: &str) -> Column {
        match name.trim() {
            "contended" => Column::Contended,
            "total wait" => Column::TotalWait,
            "max wait" => Column::MaxWait,
            "avg wait" => Column::AvgWait,
            "min wait" => Column::MinWait,
            "type" => Column::Type,
            "caller" => Column::Caller,
            "address" => Column::Address,
            "symbol" => Column::Symbol,
            "pid" => Column::Pid,
            "comm" => Column::Comm,
            _ => Column::Other,
        }
    }

    fn is_time(self) -> bool {
        matches!(
            self,
            Column::TotalWait | Column::MaxWait | Column::AvgWait | Column::MinWait
        )
    }
}

/// The columns the header line names. The times have two-word names, so
/// the header is read as names, not split on blanks.
fn table_header(line: &str) -> Option<Vec<Column>> {
    let text = line.trim();
    if !text.starts_with("contended") || !text.contains("total wait") {
        return None;
    }
    let mut columns = Vec::new();
    let mut words = text.split_whitespace().peekable();
    while let Some(word) = words.next() {
        let two = match (word, words.peek()) {
            ("total" | "max" | "avg" | "min", Some(&"wait")) => {
                words.next();
                format!("{word} wait")
            }
            _ => word.to_string(),
        };
        columns.push(Column::of(&two));
    }
    Some(columns)
}

/// `# output: contended, total wait, ...` of `-x SEP`: the separator and
/// the columns.
fn csv_header(line: &str) -> Option<(char, Vec<Column>)> {
    let names = line.trim().strip_prefix("# output:")?.trim();
    let rest = names.strip_prefix("contended")?;
    let separator = rest.trim_start().chars().next()?;
    let columns = names.split(separator).map(Column::of).collect();
    Some((separator, columns))
}

/// True for the header of either shape, for format detection.
pub fn is_header_line(line: &str) -> bool {
    table_header(line).is_some() || csv_header(line).is_some()
}

/// How the rows are laid out, once a header has been read.
enum Layout {
    Table(Vec<Column>),
    Csv(char, Vec<Column>),
}

/// Parses `perf lock contention` output, reporting one sample to `sink`.
pub fn parse<R: BufRead>(
    reader: R,
    name: &str,
    options: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<ParseStats, InputError> {
    let mut layout: Option<Layout> = None;
    let mut stats = ParseStats::default();
    let mut utf8 = Utf8Repair::new(options.lossy);
    each_line(reader, name, &mut utf8, |number, line| {
        let text = line.trim();
        if let Some(columns) = table_header(text) {
            return start(&mut layout, Layout::Table(columns), sink);
        }
        if let Some((separator, columns)) = csv_header(text) {
            return start(&mut layout, Layout::Csv(separator, columns), sink);
        }
        if text.is_empty() || is_stack_line(text) || text.starts_with("# ") {
            return Ok(());
        }
        match &layout {
            Some(Layout::Table(columns)) if starts_with_digit(text) => {
                sink.row(&table_row(columns, number, text)?)
            }
            Some(Layout::Csv(separator, columns)) if starts_with_digit(text) => {
                sink.row(&csv_row(columns, *separator, number, text)?)
            }
            _ => stats.skip_or_refuse(number, text, options.strict, "perf lock output"),
        }
    })?;
    utf8.record(&mut stats);
    if layout.is_none() {
        return Err(InputError::whole(
            name,
            "no perf lock contention header found (expected `contended   total wait   \
             max wait   avg wait ...` or `# output: contended, ...`)",
        ));
    }
    Ok(stats)
}

fn start(layout: &mut Option<Layout>, new: Layout, sink: &mut dyn Sink) -> Result<(), String> {
    // Several runs pasted one after another: still one sample, as perf
    // prints one table per run and a header repeated changes nothing.
    if layout.is_none() {
        sink.sample(Vec::new())?;
    }
    *layout = Some(new);
    Ok(())
}

/// A `-v` stack line: `0xffffffff81a5f2b4  do_exit+0x1a2`.
fn is_stack_line(text: &str) -> bool {
    text.starts_with("0x") && text.split_whitespace().count() <= 2
}

/// A row starts with its count: a digit, or a sign before one (`-1` is a
/// bad row to refuse, not prose to skip).
fn starts_with_digit(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    unsigned.starts_with(|c: char| c.is_ascii_digit())
}

/// A row of the table shape: the counts and times (each a number and a
/// unit), then the keys; the last key takes the rest of the line.
fn table_row<'l>(columns: &[Column], number: u64, text: &'l str) -> Result<Row<'l>, String> {
    let mut rest = text;
    let mut row = Row::new(number);
    for (index, column) in columns.iter().enumerate() {
        let last = index + 1 == columns.len();
        let (field, tail) = if column.is_time() {
            take_words(rest, 2)
        } else if last {
            (rest.trim(), "")
        } else {
            take_words(rest, 1)
        };
        if field.is_empty() && !last {
            return Err(format!(
                "expected {} columns, found fewer: \"{}\"",
                columns.len(),
                shorten(text)
            ));
        }
        set(&mut row, *column, field)?;
        rest = tail;
    }
    Ok(finish(row))
}

/// The first `n` blank-separated words of `text`, and what follows them.
fn take_words(text: &str, n: usize) -> (&str, &str) {
    let text = text.trim_start();
    let mut end = 0;
    for _ in 0..n {
        let rest = &text[end..];
        let start = end + (rest.len() - rest.trim_start().len());
        let word_len = text[start..]
            .find(char::is_whitespace)
            .unwrap_or(text.len() - start);
        end = start + word_len;
    }
    (&text[..end], &text[end..])
}

fn csv_row<'l>(
    columns: &[Column],
    separator: char,
    number: u64,
    text: &'l str,
) -> Result<Row<'l>, String> {
    let fields: Vec<&str> = text.split(separator).map(str::trim).collect();
    if fields.len() != columns.len() {
        return Err(format!(
            "expected {} fields like `# output:`, found {}: \"{}\"",
            columns.len(),
            fields.len(),
            shorten(text)
        ));
    }
    let mut row = Row::new(number);
    for (column, field) in columns.iter().zip(fields) {
        set(&mut row, *column, field)?;
    }
    Ok(finish(row))
}

fn set<'l>(row: &mut Row<'l>, column: Column, field: &'l str) -> Result<(), String> {
    match column {
        Column::Contended => row.count = fields::count("contended", field)?,
        Column::TotalWait => row.dur_ns = wait("total wait", field)?,
        Column::MaxWait => row.max_ns = wait("max wait", field)?,
        // Checked, not kept: it is total / contended.
        Column::AvgWait => {
            wait("avg wait", field)?;
        }
        Column::MinWait | Column::Pid | Column::Other => {}
        Column::Type => row.category = field,
        Column::Caller | Column::Comm => row.caller = field,
        // `-l` prints the address, then the symbol when it has one.
        Column::Address if row.symbol.is_empty() => row.symbol = field,
        Column::Address => {}
        Column::Symbol if !field.is_empty() => row.symbol = field,
        Column::Symbol => {}
    }
    Ok(())
}

/// A row without `max wait` (a custom field list) has its total as max.
fn finish(row: Row<'_>) -> Row<'_> {
    if row.max_ns == 0 { row.with_max() } else { row }
}

/// A perf time: `2.04 ms`, `692 ns`, `1.50 m ` (minutes), `2.00 h `, or
/// plain nanoseconds (`-x`).
fn wait(column: &str, field: &str) -> Result<u64, String> {
    let (number, unit) = field.split_once(' ').unwrap_or((field, ""));
    let (suffix, minutes_or_hours) = match unit.trim() {
        "" => ("", 1),
        unit @ ("ns" | "us" | "ms" | "s") => (unit, 1),
        "m" => ("s", 60),
        "h" => ("s", 3_600),
        other => {
            return Err(format!(
                "{column} \"{}\" has an unknown unit \"{}\" (perf prints ns, us, ms, s, m, h)",
                shorten(field),
                shorten(other)
            ));
        }
    };
    fields::duration(column, &format!("{number}{suffix}"), super::Unit::Ns)?
        .checked_mul(minutes_or_hours)
        .ok_or_else(|| format!("{column} \"{}\" is too large", shorten(field)))
}

/// Linux's lock types, as `perf lock contention` names them.
const LINUX_SPIN: [&str; 2] = ["spinlock", "rwlock"];
const LINUX_SLEEP: [&str; 6] = [
    "mutex",
    "rwsem",
    "semaphore",
    "percpu-rwsem",
    "rtmutex",
    "pcpu-sem",
];

/// The default class of a perf lock type, its `:R`/`:W` flavour dropped
/// (`rwsem:R` is `rwsem`).
pub fn lock_class(category: &str) -> super::LockClass {
    let base = category.split(':').next().unwrap_or(category);
    super::class::listed_class(base, &LINUX_SPIN, &LINUX_SLEEP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::InputFormat;
    use crate::parse::testing::{collect, row};

    const DEFAULT: &str = "\
 contended   total wait     max wait     avg wait         type   caller

         5      2.04 ms    720.55 us    408.86 us     spinlock   _raw_spin_lock+0x1a
         2     10.27 us      6.17 us      5.13 us      rwsem:R   __flush_work.isra.0+0x1a
                        0xffffffff81a5f2b4  __flush_work.isra.0+0x1a
                        0xffffffff81a5f300  flush_work+0x10
         1       692 ns       692 ns       692 ns        mutex   pipe_read+0x57
";

    #[test]
    fn default_table_with_units_and_stacks() {
        let (sink, stats) =
            collect(DEFAULT, InputFormat::PerfLock, &ParseOptions::default()).unwrap();
        assert_eq!(stats, ParseStats::default());
        assert_eq!(sink.samples.len(), 1);
        assert_eq!(
            sink.samples[0].1,
            [
                row(
                    3,
                    2_040_000,
                    5,
                    720_550,
                    ["spinlock", "", "_raw_spin_lock+0x1a"]
                ),
                row(
                    4,
                    10_270,
                    2,
                    6_170,
                    ["rwsem:R", "", "__flush_work.isra.0+0x1a"]
                ),
                row(7, 692, 1, 692, ["mutex", "", "pipe_read+0x57"]),
            ]
        );
    }

    #[test]
    fn lock_address_and_task_shapes() {
        let text = " contended   total wait     max wait     avg wait            address   symbol\n\n\
                    \x20        3     88.91 us     13.57 us     29.64 us   ffffffff8c40f120   jiffies_lock\n\
                    \x20        1      1.41 us      1.41 us      1.41 us   ffff9d1a0b7c8e40\n";
        let (sink, _) = collect(text, InputFormat::PerfLock, &ParseOptions::default()).unwrap();
        assert_eq!(sink.samples[0].1[0].5, "jiffies_lock");
        assert_eq!(sink.samples[0].1[1].5, "ffff9d1a0b7c8e40");
        let text = " contended   total wait     max wait     avg wait          pid   comm\n\
                    \x20        4      1.50 m      1.00 m     22.50 s         4711   cc1 plus\n";
        let (sink, _) = collect(text, InputFormat::PerfLock, &ParseOptions::default()).unwrap();
        assert_eq!(
            sink.samples[0].1,
            [row(
                2,
                90_000_000_000,
                4,
                60_000_000_000,
                ["", "", "cc1 plus"]
            )]
        );
    }

    #[test]
    fn csv_shape_in_nanoseconds() {
        let text = "# output: contended, total wait, max wait, avg wait, type, caller\n\
                    5, 2040000, 720550, 408000, spinlock, _raw_spin_lock+0x1a\n\
                    # debug: total=8, bad=0\n";
        let (sink, _) = collect(text, InputFormat::PerfLock, &ParseOptions::default()).unwrap();
        assert_eq!(
            sink.samples[0].1,
            [row(
                2,
                2_040_000,
                5,
                720_550,
                ["spinlock", "", "_raw_spin_lock+0x1a"]
            )]
        );
    }

    #[test]
    fn bad_rows_are_errors() {
        let options = ParseOptions::default();
        let text =
            "contended total wait max wait avg wait type caller\n5 2.04 xs 1 us 1 us spinlock f\n";
        let err = collect(text, InputFormat::PerfLock, &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.txt:2: total wait \"2.04 xs\" has an unknown unit \"xs\" (perf prints ns, us, ms, s, m, h)"
        );
        let text = "# output: contended, total wait, max wait, avg wait, type, caller\n5, 7\n";
        let err = collect(text, InputFormat::PerfLock, &options).unwrap_err();
        assert!(
            err.to_string().starts_with("t.txt:2: expected 6 fields"),
            "{err}"
        );
        let err = collect("hello\n", InputFormat::PerfLock, &options).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.txt: no perf lock contention header")
        );
    }
}
