//! Linux `perf lock report`: the older table of `perf lock`, from lockdep's
//! tracepoints (and, since 2022, the contention tracepoints), before
//! `perf lock contention` existed.
//!
//! ```text
//!                 Name   acquired  contended     avg wait   total wait     max wait     min wait
//!
//!         jiffies_lock        433         32      2.78 us     88.91 us     13.57 us       692 ns
//!     pcpu_alloc_mutex   10959650   10959650      7.10 us      1.30 m       3.76 ms       313 ns
//! ```
//!
//! Until mid-2022 the time columns are plain nanoseconds (`avg wait (ns)`);
//! since, a figure and a unit (`ns`, `us`, `ms`, `s`, `m`, `h`). `-F`
//! picks and orders the columns. The name is right-aligned in 20 columns
//! (longer ones cut to 16 characters and `...`) and may be empty (a lock
//! with no symbol at its address) or hold blanks (`-t`: thread comms,
//! `CPU 3/KVM`), so rows are read from the right.
//!
//! perf prints no lock type: the rows are of no known class, ranked by
//! total wait. `total wait` is the row's dur, `contended` its events,
//! `max wait` its max. A row with no contention has no wait: left out,
//! counted in a note (perf lists every lock acquired). Under `-t` (known
//! from the command line above the table) the names are threads: the
//! caller, as `perf lock contention -t`'s comms are.

use std::io::BufRead;

use super::SetApart;
use super::SinkError;
use super::format::{Format, NO_STATES};
use super::mail::{PastedLines, parse_pasted};
use super::{LockClass, ParseOptions, ParseStats, Row, RowWaits, Sink, fields};
use crate::error::shorten;

/// A column after `Name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Acquired,
    Contended,
    AvgWait,
    TotalWait,
    MaxWait,
    MinWait,
}

impl Column {
    fn is_time(self) -> bool {
        !matches!(self, Column::Acquired | Column::Contended)
    }
}

/// A table's columns, by its header line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    columns: Vec<Column>,
    /// Times as plain nanoseconds (`avg wait (ns)`), not with units.
    nanoseconds: bool,
}

/// The header: `Name` then the columns perf names.
fn header(line: &str) -> Option<Header> {
    let rest = line.trim().strip_prefix("Name")?;
    let mut words = rest.split_whitespace().peekable();
    let mut columns = Vec::new();
    let mut nanoseconds = false;
    while let Some(word) = words.next() {
        let column = match word {
            "acquired" => Column::Acquired,
            "contended" => Column::Contended,
            "avg" | "total" | "max" | "min" => {
                if words.next() != Some("wait") {
                    return None;
                }
                nanoseconds |= words.next_if_eq(&"(ns)").is_some();
                match word {
                    "avg" => Column::AvgWait,
                    "total" => Column::TotalWait,
                    "max" => Column::MaxWait,
                    _ => Column::MinWait,
                }
            }
            _ => return None,
        };
        columns.push(column);
    }
    let known = columns
        .iter()
        .any(|c| matches!(c, Column::Acquired | Column::Contended));
    (known && columns.iter().any(|c| c.is_time())).then_some(Header {
        columns,
        nanoseconds,
    })
}

/// True for a table header, for format detection.
pub fn is_header_line(line: &str) -> bool {
    header(line).is_some()
}

/// `perf lock report` as contend knows it.
pub const FORMAT: Format = Format {
    name: "perf-lock-report",
    summary: "Linux `perf lock report`: the older `Name acquired contended ...` table",
    signature: "perf lock report (`Name   acquired  contended ...`)",
    signature_line: Some((5, is_header_line)),
    lock_class: |_| LockClass::Other,
    reads_mail: true,
    has_kernel_lock: false,
    waits_hint: "perf lock report prints totals per lock, not single waits",
    states_hint: NO_STATES,
    parse: |reader, name, options, sink| parse(reader, name, options, sink),
};

/// The parser's state between lines.
struct Reader<'o> {
    header: Option<Header>,
    /// The names are threads: a `perf lock report -t` command line was
    /// seen above the table.
    threads: bool,
    /// In perf's `=== output for debug===` footer.
    in_footer: bool,
    options: &'o ParseOptions,
    stats: ParseStats,
}

/// Parses `perf lock report` output: each table a sample.
pub fn parse<R: BufRead>(
    reader: R,
    name: &str,
    options: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<ParseStats, crate::error::Error> {
    let state = Reader {
        header: None,
        threads: false,
        in_footer: false,
        options,
        stats: ParseStats::default(),
    };
    parse_pasted(reader, name, options.lossy, state, sink)
}

impl PastedLines for Reader<'_> {
    const NOTHING_FOUND: &'static str = "no perf lock report table found (expected `Name   acquired  contended   avg \
             wait ...`)";

    fn on_line(&mut self, number: u64, line: &str, sink: &mut dyn Sink) -> Result<(), SinkError> {
        self.line(number, line, sink)
    }

    fn stats(&mut self) -> &mut ParseStats {
        &mut self.stats
    }

    fn found(&self) -> bool {
        self.header.is_some()
    }
}

impl Reader<'_> {
    fn line(&mut self, number: u64, line: &str, sink: &mut dyn Sink) -> Result<(), SinkError> {
        let text = line.trim();
        if text.is_empty() {
            return Ok(());
        }
        if let Some(header) = header(text) {
            return self.start(number, header, text, sink);
        }
        if let Some(command) = text.split("perf lock report").nth(1) {
            self.threads = names_threads(command);
            return self.skip(number, text);
        }
        if text.starts_with("=== output for debug") {
            self.in_footer = true;
            return Ok(());
        }
        if self.in_footer && is_footer_line(text) {
            return Ok(());
        }
        self.in_footer = false;
        let Some(header) = &self.header else {
            return self.skip(number, text);
        };
        match row(header, self.threads, number, text) {
            Some(row) => {
                let row = row?;
                if row.count == 0 && row.dur_ns == 0 {
                    self.stats.set_apart.add(SetApart::UncontendedRows, number);
                    return Ok(());
                }
                sink.row(&row)
            }
            None => self.skip(number, text),
        }
    }

    /// A header: a sample of its own (each table is a run of perf).
    fn start(
        &mut self,
        number: u64,
        header: Header,
        text: &str,
        sink: &mut dyn Sink,
    ) -> Result<(), SinkError> {
        if !header.columns.contains(&Column::TotalWait) {
            return Err(format!(
                "a perf lock report table without `total wait`, the wait to rank by: \"{}\"; \
                 run perf lock report without -F, or with -F ...,wait_total",
                shorten(text)
            )
            .into());
        }
        if self.header.is_some() {
            self.stats.set_apart.add(SetApart::ExtraTables, number);
        }
        sink.sample(Vec::new())?;
        self.header = Some(header);
        self.in_footer = false;
        Ok(())
    }

    fn skip(&mut self, number: u64, text: &str) -> Result<(), SinkError> {
        self.stats
            .skip_or_refuse(number, text, self.options, "perf lock report output")
            .map_err(SinkError::from)
    }
}

/// Whether a `perf lock report` command line's options have `-t`
/// (`--threads`): its table names threads, not locks.
fn names_threads(options: &str) -> bool {
    options
        .split_whitespace()
        .filter(|word| word.starts_with('-'))
        .any(|word| word == "--threads" || (!word.starts_with("--") && word.contains('t')))
}

/// perf's counters under `=== output for debug===`: `bad: 10, total: 13`,
/// `bad rate: 76.92 %`, `histogram of events caused bad sequence`,
/// `acquire: 0`.
fn is_footer_line(text: &str) -> bool {
    text.starts_with("bad")
        || text.starts_with("histogram of events")
        || text.split_once(':').is_some_and(|(word, count)| {
            !word.contains(' ') && count.trim().bytes().all(|b| b.is_ascii_digit())
        })
}

/// A row, read from the right by the header's columns; None when the line
/// does not end in them (prose), or what is left could not be a name
/// (perf cuts names to 20 columns).
fn row<'l>(
    header: &Header,
    threads: bool,
    number: u64,
    text: &'l str,
) -> Option<Result<Row<'l>, String>> {
    let mut rest = text.trim_end();
    let mut figures = Figures::default();
    for &column in header.columns.iter().rev() {
        let figure = match take_figure(&mut rest, column, header.nanoseconds)? {
            Ok(figure) => figure,
            Err(message) => return Some(Err(format!("{message}: \"{}\"", shorten(text)))),
        };
        figures.set(column, figure);
    }
    let name = rest.trim();
    if name.chars().count() > 20 {
        return None;
    }
    let (symbol, caller) = if threads { ("", name) } else { (name, "") };
    let total = figures.total.unwrap_or(0);
    Some(Ok(Row {
        dur_ns: total,
        // Without `contended` (-F), `acquired`: perf counts contended
        // acquisitions there since it reads the contention tracepoints.
        count: figures.contended.or(figures.acquired).unwrap_or(1),
        max_ns: figures.max.unwrap_or(total),
        symbol,
        caller,
        waits: RowWaits::Counted,
        ..Row::new(number)
    }))
}

/// The figures of a row that contend reads.
#[derive(Debug, Default)]
struct Figures {
    acquired: Option<u64>,
    contended: Option<u64>,
    total: Option<u64>,
    max: Option<u64>,
}

impl Figures {
    fn set(&mut self, column: Column, figure: u64) {
        match column {
            Column::Acquired => self.acquired = Some(figure),
            Column::Contended => self.contended = Some(figure),
            Column::TotalWait => self.total = Some(figure),
            Column::MaxWait => self.max = Some(figure),
            // Checked as figures, not used: avg is total / contended.
            Column::AvgWait | Column::MinWait => {}
        }
    }
}

/// The last word of `rest`, which loses it.
fn take_word<'l>(rest: &mut &'l str) -> &'l str {
    let text = rest.trim_end();
    let (head, word) = text.rsplit_once(char::is_whitespace).unwrap_or(("", text));
    *rest = head;
    word
}

/// A column's figure at the end of `rest`: a count, a time in nanoseconds
/// (`88908`), or a time with a unit (`88.91 us`, `1.30 m`). None when it
/// is not one (the line is prose); an error when it is one too large.
fn take_figure(rest: &mut &str, column: Column, nanoseconds: bool) -> Option<Result<u64, String>> {
    let word = take_word(rest);
    if !column.is_time() || nanoseconds {
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return Some(fields::count(column.name(), word));
    }
    let factor: u128 = match word {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    };
    let number = take_word(rest);
    Some(
        scaled(number, factor)
            .ok_or_else(|| format!("{} \"{number} {word}\" is past 2^64 ns", column.name())),
    )
    .filter(|_| is_decimal(number))
}

/// `digits[.digits]`, as perf prints its figures.
fn is_decimal(text: &str) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// A decimal figure times `factor` nanoseconds, exactly (rounded half up
/// past the nanosecond); None past 2^64.
fn scaled(number: &str, factor: u128) -> Option<u64> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if fraction.len() > 18 || whole.len() > 30 {
        return None;
    }
    let digits: u128 = format!("{whole}{fraction}").parse().ok()?;
    let scale = 10u128.pow(fraction.len() as u32);
    let ns = digits.checked_mul(factor)?.checked_add(scale / 2)? / scale;
    u64::try_from(ns).ok()
}

impl Column {
    /// perf's name of the column, for messages.
    fn name(self) -> &'static str {
        match self {
            Column::Acquired => "acquired",
            Column::Contended => "contended",
            Column::AvgWait => "avg wait",
            Column::TotalWait => "total wait",
            Column::MaxWait => "max wait",
            Column::MinWait => "min wait",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::InputFormat::PerfLockReport as PERF_LOCK_REPORT;
    use crate::parse::testing::{collect, row as owned};

    const UNITS: &str = "\
                Name   acquired  contended     avg wait   total wait     max wait     min wait

        jiffies_lock        433         32      2.78 us     88.91 us     13.57 us       692 ns
                       15042346   15042346      3.82 us     57.40 s       4.00 ms       316 ns
           CPU 3/KVM     154017     154017     62.19 us      1.30 m     101.01 us      1.49 us
         rcu_preempt       2954          0         0 ns         0 ns         0 ns         0 ns
";

    #[test]
    fn rows_are_read_from_the_right_with_units_names_with_blanks_and_empty_names() {
        let (sink, stats) = collect(UNITS, PERF_LOCK_REPORT, &ParseOptions::default()).unwrap();
        assert_eq!(sink.samples.len(), 1);
        assert_eq!(
            sink.samples[0].1,
            [
                owned(3, 88_910, 32, 13_570, ["", "jiffies_lock", ""]),
                owned(4, 57_400_000_000, 15_042_346, 4_000_000, ["", "", ""]),
                owned(5, 78_000_000_000, 154_017, 101_010, ["", "CPU 3/KVM", ""]),
            ]
        );
        assert_eq!(stats.set_apart[SetApart::UncontendedRows].count, 1);
        assert_eq!(
            stats.set_apart[SetApart::UncontendedRows].first_line,
            Some(6)
        );
    }

    #[test]
    fn a_command_line_with_t_makes_the_names_threads() {
        let text = format!("# perf lock report -k wait_total -t\n{UNITS}");
        let (sink, _) = collect(&text, PERF_LOCK_REPORT, &ParseOptions::default()).unwrap();
        let thread = owned(6, 78_000_000_000, 154_017, 101_010, ["", "", "CPU 3/KVM"]);
        assert_eq!(sink.samples[0].1[2], thread);
        assert!(!names_threads(" -c -k wait_total"));
        assert!(names_threads(" --threads"));
        assert!(names_threads(" -ct"));
    }

    #[test]
    fn headers_of_every_version_and_what_is_not_one() {
        let old = header("Name   acquired  contended   avg wait (ns) total wait (ns)   max wait (ns)   min wait (ns)").unwrap();
        assert!(old.nanoseconds);
        assert_eq!(old.columns.len(), 6);
        let picked = header("Name   acquired  contended     avg wait   total wait ").unwrap();
        assert_eq!(
            picked.columns,
            [
                Column::Acquired,
                Column::Contended,
                Column::AvgWait,
                Column::TotalWait
            ]
        );
        assert!(!picked.nanoseconds);
        assert_eq!(header("Name of the game: total wait"), None);
        assert_eq!(header("Name   total wait"), None);
    }

    #[test]
    fn figures_scale_exactly_and_past_2_64_is_an_error() {
        assert_eq!(
            scaled("5124095.50", 3_600_000_000_000),
            Some(18_446_743_800_000_000_000)
        );
        assert_eq!(scaled("88.91", 1_000), Some(88_910));
        assert_eq!(scaled("5124096", 3_600_000_000_000), None);
        let line = "lock 1 1 1.00 us 5124096.00 h 1.00 us 1.00 us";
        let header =
            header("Name acquired contended avg wait total wait max wait min wait").unwrap();
        let error = row(&header, false, 1, line).unwrap().unwrap_err();
        assert_eq!(
            error,
            format!("total wait \"5124096.00 h\" is past 2^64 ns: \"{line}\"")
        );
    }

    #[test]
    fn prose_that_ends_in_figures_is_not_a_row() {
        let header = header("Name acquired contended total wait (ns)").unwrap();
        assert!(row(&header, false, 1, "we measured it on 96 cores, 10 20 30").is_none());
        assert!(row(&header, false, 1, "bad: 10, total: 13").is_none());
        assert!(row(&header, false, 1, "lock 1 2 3").is_some());
    }
}
