//! FreeBSD and illumos lockstat(1) reports.
//!
//! ```text
//! Adaptive mutex spin: 287 events in 0.036 seconds (7944 events/sec)
//!
//! Count indv cuml rcnt     nsec Lock                   Caller
//! -------------------------------------------------------------------------------
//!   112  39%  39% 0.00     1051 vm_page_queue_free_mtx vm_page_alloc+0x23c
//! ```
//!
//! Each section's event type (`Adaptive mutex spin`, `R/W writer blocked
//! by writer`, ...) is the category, and decides the class: `spin` events
//! spin, `block` events sleep. `nsec` is the mean wait, so a row's total is
//! Count x nsec; lockstat gives no maximum, so the mean stands in for it.
//! The whole report is one sample. Stack and histogram lines under `-s`
//! are skipped and counted as lines, their frames kept as the row's call
//! stack.

use std::io::BufRead;

use super::SetApart;
use super::SinkError;
use super::format::{Format, NO_STATES};
use super::mail::{PastedLines, parse_pasted};
use super::stacked::StackedRows;
use super::{Events, ParseOptions, ParseStats, Row, RowWaits, Sink, fields};
use crate::error::shorten;

/// The event type of a section title line:
/// `Adaptive mutex spin: 287 events in 0.036 seconds (7944 events/sec)`,
/// or cut short (`Adaptive mutex spin: 513 events`, as manuals print it).
pub fn section_title(line: &str) -> Option<&str> {
    let (event, rest) = line.trim().split_once(": ")?;
    let mut words = rest.split_whitespace();
    let count = words.next()?;
    let is_title = count.bytes().all(|b| b.is_ascii_digit())
        && words.next() == Some("events")
        && matches!(words.next(), None | Some("in"));
    (is_title && !event.is_empty()).then_some(event)
}

/// The column header of a section's table (`genr` instead of `indv`
/// under `-g`).
pub fn is_table_header(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.len() >= 7
        && words[0] == "Count"
        && matches!(words[1], "indv" | "genr")
        && words[2..5] == ["cuml", "rcnt", "nsec"]
}

/// What a section's rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Lock waits: spins and blocks.
    Wait,
    /// How long locks were held (`-H`): not waits.
    Hold,
    /// Profiling interrupts (`-I`): where the CPUs were, not lock data.
    Profiling,
}

/// The kind of a section's event type. `Spin lock hold` is a hold.
fn kind_of(event: &str) -> Kind {
    let event = event.to_ascii_lowercase();
    if event.contains("profiling") {
        Kind::Profiling
    } else if event.contains("hold") {
        Kind::Hold
    } else {
        Kind::Wait
    }
}

/// The category of a table pasted without its section title.
pub const UNTITLED: &str = "(no title)";

/// The parser's state between lines.
struct Reader<'o> {
    options: &'o ParseOptions,
    section: Option<String>,
    /// Section titles of the current sample: one seen again is the next
    /// run pasted below the first.
    titles: Vec<String>,
    /// The kind of the current table's rows, once its header is read.
    table: Option<Kind>,
    /// Under `-s`: a histogram with a `Stack` column began, so its lines
    /// (and the frames wrapped below them) carry the row's stack.
    stack_column: bool,
    /// The last row's caller until its stack's first frame is read:
    /// FreeBSD's stacks begin at the caller's caller, illumos' at the
    /// caller, and a flame graph's top frame is the caller either way.
    caller_to_stack: Option<String>,
    stats: ParseStats,
}

/// Parses a lockstat report, reporting one sample per run to `sink` (its
/// sections are the kinds of event it watched; a section title seen again
/// lockstat as contend knows it.
pub const FORMAT: Format = Format {
    name: "lockstat",
    summary: "FreeBSD and illumos lockstat(1) reports",
    signature: "lockstat (`... N events in T seconds`)",
    signature_line: Some((1, is_signature_line)),
    lock_class,
    reads_mail: true,
    has_kernel_lock: false,
    waits_hint: "lockstat prints totals per lock, not single waits",
    states_hint: NO_STATES,
    parse: |reader, name, options, sink| parse(reader, name, options, sink),
};

/// A section title or a table header: lines only lockstat prints.
fn is_signature_line(line: &str) -> bool {
    section_title(line).is_some() || is_table_header(line)
}

/// starts the next run's sample).
pub fn parse<R: BufRead>(
    reader: R,
    name: &str,
    options: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<ParseStats, crate::error::Error> {
    let state = Reader {
        options,
        section: None,
        titles: Vec::new(),
        table: None,
        stack_column: false,
        caller_to_stack: None,
        stats: ParseStats::default(),
    };
    sink.sample(Vec::new()).map_err(|err| err.whole(name))?;
    // `-s` prints each row's stack under it, beside its histogram.
    let mut stacked = StackedRows::new(sink);
    let stats = parse_pasted(reader, name, options.lossy, state, &mut stacked)?;
    stacked.flush().map_err(|err| err.whole(name))?;
    Ok(stats)
}

impl PastedLines for Reader<'_> {
    const NOTHING_FOUND: &'static str = "no lockstat section found (expected `Adaptive mutex spin: N events in T seconds`, \
             or a table header `Count indv cuml rcnt nsec Lock Caller`)";

    fn on_line(&mut self, number: u64, line: &str, sink: &mut dyn Sink) -> Result<(), SinkError> {
        self.line(number, line, sink)
    }

    fn stats(&mut self) -> &mut ParseStats {
        &mut self.stats
    }

    fn found(&self) -> bool {
        self.section.is_some() || self.stats.set_apart[SetApart::ProfilingRows].count > 0
    }
}

impl Reader<'_> {
    fn line(&mut self, number: u64, line: &str, sink: &mut dyn Sink) -> Result<(), SinkError> {
        let text = line.trim();
        if let Some(frame) = self.stack_frame(text) {
            if let Some(caller) = self.caller_to_stack.take() {
                if caller != frame {
                    sink.frame(Some(&caller));
                }
            }
            sink.frame(Some(frame));
        }
        if let Some(event) = section_title(text) {
            sink.frame(None);
            self.stack_column = false;
            if self.titles.iter().any(|seen| seen == event) {
                // A second run (before and after a patch): a sample of its own.
                self.stats.set_apart.add(SetApart::ExtraTables, number);
                self.titles.clear();
                sink.sample(Vec::new())?;
            }
            self.titles.push(event.to_string());
            self.section = Some(event.to_string());
            self.table = None;
            return Ok(());
        }
        if is_table_header(text) {
            sink.frame(None);
            self.stack_column = false;
            self.table = Some(self.table_kind(number, text));
            return Ok(());
        }
        if text.contains("Time Distribution") {
            self.stack_column = text.split_whitespace().last() == Some("Stack");
        }
        if text.is_empty() || text.bytes().all(|b| b == b'-') {
            return Ok(());
        }
        match (self.table, &self.section) {
            (Some(Kind::Profiling), Some(_)) if is_row(text) && self.options.strict => {
                Err(super::refused("a profiling row (lockstat -I), not lock data", text).into())
            }
            (Some(kind), Some(event)) if is_row(text) => {
                // A row ends the stack above; its own follows it.
                sink.frame(None);
                self.stack_column = false;
                let row = row(event, number, text)?;
                self.caller_to_stack = Some(row.caller.to_string());
                take(kind, self.options.events, &mut self.stats, &row, sink)
            }
            _ => self
                .stats
                .skip_or_refuse(number, text, self.options, "a lockstat report")
                .map_err(SinkError::from),
        }
    }

    /// The frame a line under a `-s` row gives its stack: the word after a
    /// histogram bucket's count (`256 |@@@@   5   tcp_rput_data+0x2b90`), or
    /// a line that is one frame alone (the stack goes on below the
    /// histogram). Lines are still counted as skipped: they are no rows.
    fn stack_frame<'t>(&self, text: &'t str) -> Option<&'t str> {
        if !self.stack_column || text.is_empty() {
            return None;
        }
        let is_frame = |word: &str| {
            word.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && word.chars().all(|c| !c.is_whitespace())
        };
        match text.split_once('|') {
            // A bucket: its bar of `@`, its count, then a frame, if any.
            Some((_, rest)) => {
                let mut words = rest.split_whitespace().filter(|w| !w.starts_with('@'));
                words.next()?;
                words.next().filter(|word| is_frame(word))
            }
            None if !text.contains(char::is_whitespace) && is_frame(text) => Some(text),
            None => None,
        }
    }

    /// The kind of the table whose header is `text`: a profiling table by
    /// its `CPU+PIL` column, else its section's; a table without a section
    /// title is read as waits of unknown kind, with a note.
    fn table_kind(&mut self, number: u64, text: &str) -> Kind {
        if text.contains("CPU+PIL") {
            return Kind::Profiling;
        }
        let event = self.section.get_or_insert_with(|| {
            self.stats.set_apart.add(SetApart::UntitledTables, number);
            UNTITLED.to_string()
        });
        kind_of(event)
    }
}

/// A row to the sink, or set apart as not a wait (or, under `--events
/// hold`, not a hold).
fn take(
    kind: Kind,
    events: Events,
    stats: &mut ParseStats,
    row: &Row<'_>,
    sink: &mut dyn Sink,
) -> Result<(), SinkError> {
    match (kind, events) {
        (Kind::Profiling, _) => stats.set_apart.add(SetApart::ProfilingRows, row.line),
        (Kind::Hold, Events::Wait) => {
            stats.set_apart_hold(row.line, row.dur_ns)?;
        }
        (Kind::Wait, Events::Hold) => {}
        (Kind::Wait, Events::Wait) | (Kind::Hold, Events::Hold) => sink.row(row)?,
    }
    Ok(())
}

/// `Count indv cuml rcnt nsec Lock Caller`: two percentages after the
/// count. A bad count, or a row cut short (after its nsec), makes it a
/// malformed row (an error), not prose whose wait would be lost.
fn is_row(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.len() >= 3 && words[1].ends_with('%') && (words[2].ends_with('%') || words[2] == "----")
}

/// A row: five numbers, the lock (FreeBSD's lock names have blanks:
/// `vm page free queue`), the caller (one word, `func+0x12`).
fn row<'l>(event: &'l str, number: u64, text: &'l str) -> Result<Row<'l>, SinkError> {
    let words = word_spans(text);
    if words.len() < 7 {
        return Err(format!(
            "expected 7 fields (Count indv cuml rcnt nsec Lock Caller), found {}: \"{}\"",
            words.len(),
            shorten(text)
        )
        .into());
    }
    let word = |index: usize| &text[words[index].0..words[index].1];
    let count = fields::count("Count", word(0))?;
    let mean = fields::duration("nsec", word(4), super::Unit::Ns)?;
    let total = count.checked_mul(mean).ok_or_else(|| {
        format!(
            "Count x nsec overflows 64-bit nanoseconds: \"{}\"",
            shorten(text)
        )
    })?;
    let last = words.len() - 1;
    Ok(Row {
        dur_ns: total,
        count,
        max_ns: mean,
        category: event,
        symbol: &text[words[5].0..words[last - 1].1],
        caller: word(last),
        waits: RowWaits::Counted,
        ..Row::new(number)
    })
}

/// Byte ranges of the blank-separated words of `text`.
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (index, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(from)) => {
                spans.push((from, index));
                start = None;
            }
            (false, None) => start = Some(index),
            _ => {}
        }
    }
    if let Some(from) = start {
        spans.push((from, text.len()));
    }
    spans
}

/// lockstat's event types say their class themselves: `Adaptive mutex
/// spin`, `R/W writer blocked by readers`; `hold` events are not waits.
pub fn lock_class(event: &str) -> super::LockClass {
    if kind_of(event) == Kind::Hold {
        return super::LockClass::Hold;
    }
    let event = event.to_ascii_lowercase();
    if event.contains("spin") {
        super::LockClass::Spin
    } else if event.contains("block") {
        super::LockClass::Sleep
    } else {
        super::LockClass::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::InputFormat;
    use crate::parse::testing::{collect, row as owned};

    const REPORT: &str = "\
Adaptive mutex spin: 287 events in 0.036 seconds (7944 events/sec)

Count indv cuml rcnt     nsec Lock                   Caller
-------------------------------------------------------------------------------
  112  39%  39% 0.00     1051 0xfffffe0003ef3c00     vm_page_alloc+0x23c
   60  21%  60% 0.00      935 vm_page_queue_free_mtx vm_page_free_toq+0x4f
-------------------------------------------------------------------------------

R/W writer blocked by readers: 3 events in 0.036 seconds (83 events/sec)

Count indv cuml rcnt     nsec Lock                   Caller
-------------------------------------------------------------------------------
    3 100% 100% 0.00   120500 vm_object_lock         vm_fault+0x1a0

      nsec ------ Time Distribution ------ count     Stack
     65536 |@@@@@@@@@@                     1         vm_fault_trap+0x6c
";

    #[test]
    fn sections_are_categories_and_totals_are_count_times_mean() {
        let (sink, stats) =
            collect(REPORT, InputFormat::Lockstat, &ParseOptions::default()).unwrap();
        assert_eq!(
            sink.samples[0].1,
            [
                owned(
                    5,
                    112 * 1051,
                    112,
                    1051,
                    [
                        "Adaptive mutex spin",
                        "0xfffffe0003ef3c00",
                        "vm_page_alloc+0x23c"
                    ]
                ),
                owned(
                    6,
                    60 * 935,
                    60,
                    935,
                    [
                        "Adaptive mutex spin",
                        "vm_page_queue_free_mtx",
                        "vm_page_free_toq+0x4f"
                    ]
                ),
                owned(
                    13,
                    361_500,
                    3,
                    120_500,
                    [
                        "R/W writer blocked by readers",
                        "vm_object_lock",
                        "vm_fault+0x1a0"
                    ]
                ),
            ]
        );
        // The -s histogram: its header and one bucket line.
        assert_eq!(stats.skipped_lines, 2);
        assert_eq!(stats.first_skipped_line, Some(15));
    }

    #[test]
    fn lock_names_with_blanks() {
        let text = "Spin lock spin: 405 events in 5.018 seconds (81 events/sec)\n\
                    Count indv cuml rcnt     nsec Lock                   Caller\n\
                    \x20 405 100% 100% 0.00      227 sched lock 1           sched_add+0x5c\n";
        let (sink, _) = collect(text, InputFormat::Lockstat, &ParseOptions::default()).unwrap();
        assert_eq!(
            sink.samples[0].1,
            [owned(
                3,
                405 * 227,
                405,
                227,
                ["Spin lock spin", "sched lock 1", "sched_add+0x5c"]
            )]
        );
    }

    const HOLD_AND_PROFILING: &str = "\
Adaptive mutex spin: 2 events in 1.0 seconds (2 events/sec)
Count indv cuml rcnt     nsec Lock                   Caller
    2 100% 100% 0.00      100 lock_a                 f+0x1
Spin lock hold: 3 events
Count indv cuml rcnt     nsec Lock                   Caller
    3 100% 100% 0.00     1000 lock_b                 g+0x2
Profiling interrupt: 80 events in 0.412 seconds (194 events/sec)
Count genr cuml rcnt     nsec Hottest CPU+PIL     Caller
   80 100% ---- 1.00      310 cpu[1]              lockstat_intr
";

    #[test]
    fn holds_are_set_apart_and_profiling_is_skipped() {
        let (sink, stats) = collect(
            HOLD_AND_PROFILING,
            InputFormat::Lockstat,
            &ParseOptions::default(),
        )
        .unwrap();
        assert_eq!(
            sink.samples[0].1,
            [owned(
                3,
                200,
                2,
                100,
                ["Adaptive mutex spin", "lock_a", "f+0x1"]
            )]
        );
        assert_eq!(
            stats.set_apart[SetApart::HoldRows],
            crate::parse::Tally::of(1, 6)
        );
        assert_eq!(stats.hold_ns, 3_000);
        assert_eq!(
            stats.set_apart[SetApart::ProfilingRows],
            crate::parse::Tally::of(1, 9)
        );
        let holds = ParseOptions {
            events: Events::Hold,
            ..ParseOptions::default()
        };
        let (sink, stats) = collect(HOLD_AND_PROFILING, InputFormat::Lockstat, &holds).unwrap();
        assert_eq!(
            sink.samples[0].1,
            [owned(
                6,
                3_000,
                3,
                1_000,
                ["Spin lock hold", "lock_b", "g+0x2"]
            )]
        );
        assert_eq!(stats.set_apart[SetApart::HoldRows].count, 0);
        assert_eq!(lock_class("Spin lock hold"), crate::parse::LockClass::Hold);
    }

    #[test]
    fn a_second_run_is_a_second_sample() {
        let run = "Adaptive mutex spin: 112 events in 1.0 seconds (112 events/sec)\n\
                   Count indv cuml rcnt     nsec Lock                   Caller\n\
                   \x20 112 100% 100% 0.00     1000 lock_a                 f+0x1\n";
        let text = format!("Before:\n{run}After:\n{run}");
        let (sink, stats) =
            collect(&text, InputFormat::Lockstat, &ParseOptions::default()).unwrap();
        assert_eq!(sink.samples.len(), 2);
        assert_eq!(sink.samples[1].1[0].line, 8);
        assert_eq!(
            stats.set_apart[SetApart::ExtraTables],
            crate::parse::Tally::of(1, 6)
        );
    }

    #[test]
    fn a_table_without_its_title() {
        let text = "    Count indv cuml rcnt     nsec Lock                   Caller\n\
                    \x20   -------------------------------------------------------------\n\
                    \x20   4191777  47%  47% 0.00    67709 ARC_mfu+0x58           remove_reference+0x63\n";
        let (sink, stats) = collect(text, InputFormat::Lockstat, &ParseOptions::default()).unwrap();
        assert_eq!(
            sink.samples[0].1,
            [owned(
                3,
                4_191_777 * 67_709,
                4_191_777,
                67_709,
                [UNTITLED, "ARC_mfu+0x58", "remove_reference+0x63"]
            )]
        );
        assert_eq!(
            stats.set_apart[SetApart::UntitledTables],
            crate::parse::Tally::of(1, 1)
        );
    }

    #[test]
    fn errors() {
        let options = ParseOptions::default();
        let text = "Spin lock spin: 1 events in 1.0 seconds (1 events/sec)\n\
                    Count indv cuml rcnt nsec Lock Caller\n1 100% 100% 0.00 12 lock\n";
        let err = collect(text, InputFormat::Lockstat, &options).unwrap_err();
        assert!(
            err.to_string().starts_with("t.txt:3: expected 7 fields"),
            "{err}"
        );
        let text = "Spin lock spin: 1 events in 1.0 seconds (1 events/sec)\n\
                    Count indv cuml rcnt nsec Lock Caller\n1 100% 100% 0.00 12x lock f\n";
        let err = collect(text, InputFormat::Lockstat, &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.txt:3: nsec \"12x\" is not a number of nanoseconds"
        );
        let err = collect("hi\n", InputFormat::Lockstat, &options).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.txt: no lockstat section found")
        );
    }
}
