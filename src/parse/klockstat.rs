//! BCC's `klockstat.py` and libbpf-tools' `klockstat`: kernel mutex (and,
//! in libbpf-tools, rw_semaphore) waits and hold times per caller.
//!
//! ```text
//!                                   Caller   Avg Spin  Count   Max spin Total spin
//!                       psi_avgs_work+0x2e       3675      5       5468      18379
//!
//!                                   Caller   Avg Hold  Count   Max hold Total hold
//!                      flush_to_ldisc+0x22      42558      2      76135      85116
//! ```
//!
//! BCC prints plain nanoseconds; libbpf-tools prints `%.1f` with a unit
//! (`4.8 us`, `3.0 s `, `5.4 m `, `491.2 h `) and names the columns `Avg
//! Wait ... Total Wait`. Rows are read from the right (total, max, count,
//! mean), so a caller or a comm with blanks (`IPC I/O Child`) stays whole.
//! Under `-P` the key is `Tid  Comm`: the comm is the caller. Under `-s` each
//! row is followed by its stack (one frame a line) and a `Max PID ...` line,
//! and libbpf-tools repeats the header before every row.
//!
//! The wait table (BCC calls it spin, but it times `mutex_lock` from entry
//! to return, sleep included) is category `mutex`, class sleep. The hold
//! table is not waits: set apart, or read alone with `--events hold`
//! (category `mutex hold`). A wait table after a hold table starts a new
//! sample: the next interval of `-i`. libbpf-tools does not reset its
//! counts between intervals unless run with `-R`: its intervals are then
//! running totals, which a note says (the output cannot tell).

use std::io::BufRead;

use super::SetApart;
use super::SinkError;
use super::format::{Format, NO_STATES};
use super::mail::{PastedLines, parse_pasted};
use super::stacked::StackedRows;
use super::{Events, ParseOptions, ParseStats, Row, RowWaits, Sink, fields};
use crate::error::shorten;

/// The category of the wait table's rows.
pub const WAIT: &str = "mutex";
/// The category of the hold table's rows.
pub const HOLD: &str = "mutex hold";

/// A table's kind and key, by its header line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Table {
    hold: bool,
    /// libbpf-tools' names (`Avg Wait`, `Avg Hold`), not BCC's.
    libbpf: bool,
    /// `Tid  Comm` (`-P`) instead of `Caller`.
    per_thread: bool,
}

/// The header of a wait or hold table.
fn table_header(line: &str) -> Option<Table> {
    let text = line.trim();
    let per_thread = text.starts_with("Tid") && text.contains("Comm");
    if !(text.starts_with("Caller") || per_thread) || !text.contains("Count") {
        return None;
    }
    // `Average Spin` and `Average Hold`: the first lockstat.py, before
    // BCC renamed it klockstat.
    let hold = text.contains("Avg Hold") || text.contains("Average Hold");
    let libbpf = text.contains("Avg Wait") || text.contains("Max Hold");
    let wait = ["Avg Spin", "Average Spin", "Avg Wait"]
        .iter()
        .any(|title| text.contains(title));
    (hold || wait).then_some(Table {
        hold,
        libbpf,
        per_thread,
    })
}

/// True for a table header, for format detection.
pub fn is_header_line(line: &str) -> bool {
    table_header(line).is_some()
}

/// The parser's state between lines.
struct Reader<'o> {
    options: &'o ParseOptions,
    table: Option<Table>,
    /// Rows read since the current table's header: a blank line after
    /// them ends the table.
    rows_in_table: u64,
    /// The table a blank line just ended: a row that fits it next carries
    /// it on (a blank line pasted inside a table).
    after_blank: Option<Table>,
    /// The current sample has had a hold table: a wait table starts the
    /// next one.
    hold_seen: bool,
    /// Rows of wait tables in the current sample: a BCC wait table after
    /// them starts the next one (BCC prints no header twice in a table).
    wait_rows: u64,
    started: bool,
    stats: ParseStats,
}

/// klockstat as contend knows it.
pub const FORMAT: Format = Format {
    name: "klockstat",
    summary: "BCC and libbpf-tools klockstat: mutex waits and holds per caller",
    signature: "klockstat (`Caller   Avg Spin  Count ...`)",
    signature_line: Some((2, is_header_line)),
    lock_class,
    reads_mail: true,
    has_kernel_lock: false,
    waits_hint: "klockstat prints totals per caller, not single waits",
    states_hint: NO_STATES,
    parse: |reader, name, options, sink| parse(reader, name, options, sink),
};

/// Parses klockstat output.
pub fn parse<R: BufRead>(
    reader: R,
    name: &str,
    options: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<ParseStats, crate::error::Error> {
    let state = Reader {
        options,
        table: None,
        rows_in_table: 0,
        after_blank: None,
        hold_seen: false,
        wait_rows: 0,
        started: false,
        stats: ParseStats::default(),
    };
    // `-s` prints each row's stack under it.
    let mut stacked = StackedRows::new(sink);
    let stats = parse_pasted(reader, name, options.lossy, state, &mut stacked)?;
    stacked.flush().map_err(|err| err.whole(name))?;
    Ok(stats)
}

impl PastedLines for Reader<'_> {
    const NOTHING_FOUND: &'static str = "no klockstat table found (expected `Caller   Avg Spin  Count   Max spin \
             Total spin` or `... Avg Wait    Count   Max Wait   Total Wait`)";

    fn on_line(&mut self, number: u64, line: &str, sink: &mut dyn Sink) -> Result<(), SinkError> {
        self.line(number, line, sink)
    }

    fn stats(&mut self) -> &mut ParseStats {
        &mut self.stats
    }

    fn found(&self) -> bool {
        self.started
    }
}

impl Reader<'_> {
    fn line(&mut self, number: u64, line: &str, sink: &mut dyn Sink) -> Result<(), SinkError> {
        if let Some(table) = table_header(line) {
            return self.start(number, table, sink);
        }
        let text = line.trim();
        if text.is_empty() {
            if self.rows_in_table > 0 {
                self.after_blank = self.table.take().or(self.after_blank);
            }
            return Ok(());
        }
        if is_stack_or_footer(text) {
            let frame = !text.starts_with("Max PID ");
            if self.options.strict && frame && !looks_like_frame(text) {
                return Err(super::refused("not a stack frame of klockstat -s", text).into());
            }
            sink.frame(frame.then_some(text));
            return Ok(());
        }
        sink.frame(None);
        if let Some(table) = self.after_blank.take() {
            // A row's caller is one word: prose that ends in four numbers
            // ("... 96 cores, 10 20 30 40") is no row.
            let one_word_caller =
                |row: &Row<'_>| text.split_whitespace().next() == Some(row.caller);
            let fits = row(table, number, text).is_ok_and(|row| one_word_caller(&row));
            if self.table.is_none() && looks_like_row(text) && fits {
                self.stats.set_apart.add(SetApart::RowsAfterBlank, number);
                self.table = Some(table);
            }
        }
        let Some(table) = self.table.filter(|_| looks_like_row(text)) else {
            return self
                .stats
                .skip_or_refuse(number, text, self.options, "klockstat output")
                .map_err(SinkError::from);
        };
        let row = row(table, number, text)?;
        self.rows_in_table += 1;
        self.wait_rows += u64::from(!table.hold);
        match (table.hold, self.options.events) {
            (true, Events::Wait) => self
                .stats
                .set_apart_hold(number, row.dur_ns)
                .map_err(SinkError::from),
            (false, Events::Hold) => Ok(()),
            _ => sink.row(&row),
        }
    }

    /// A table header: the first starts a sample, and so does a wait
    /// table after a hold table (`-i`'s next interval) or, in BCC's
    /// output, after another wait table's rows (a mail's before and
    /// after); libbpf-tools' header repeated before each row under `-s`
    /// does not.
    fn start(&mut self, number: u64, table: Table, sink: &mut dyn Sink) -> Result<(), SinkError> {
        if self.started && !table.hold && self.hold_seen && table.libbpf {
            self.stats.set_apart.add(SetApart::RunningTotals, number);
        }
        let after_waits = !table.libbpf && self.wait_rows > 0;
        if self.started && !table.hold && !self.hold_seen && after_waits {
            self.stats.set_apart.add(SetApart::ExtraTables, number);
        }
        if !self.started || (!table.hold && (self.hold_seen || after_waits)) {
            sink.sample(Vec::new())?;
            self.started = true;
            self.hold_seen = false;
            self.wait_rows = 0;
        }
        self.hold_seen |= table.hold;
        self.table = Some(table);
        self.after_blank = None;
        self.rows_in_table = 0;
        Ok(())
    }
}

/// A stack frame line under a row (one word), or the `Max PID ...` line.
fn is_stack_or_footer(text: &str) -> bool {
    !text.contains(char::is_whitespace) || text.starts_with("Max PID ")
}

/// A stack frame as klockstat prints it, `func+0x1c` or `[unknown]`: one
/// word of a symbol's characters. Under `--strict` a word that is not
/// ("Thanks,") is prose, refused.
fn looks_like_frame(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.+-[]<>:/$@".contains(c))
}

/// A row ends in a number or a unit: its total.
fn looks_like_row(text: &str) -> bool {
    let mut words = text.split_whitespace().rev();
    let last = words.next().unwrap_or("");
    // A number then a short word is a time with a unit, a known one or
    // not: a row, whose unknown unit is an error, never prose to skip (its
    // wait was lost without a word).
    let unit_like =
        |word: &str| (1..=3).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_alphabetic());
    let after_a_number = words
        .next()
        .is_some_and(|word| word.starts_with(|c: char| c.is_ascii_digit()));
    last.starts_with(|c: char| c.is_ascii_digit())
        || unit_factor(last).is_some()
        || (unit_like(last) && after_a_number)
}

/// Nanoseconds per unit of libbpf-tools' `print_time`.
fn unit_factor(unit: &str) -> Option<u64> {
    match unit {
        "ns" => Some(1),
        "us" => Some(1_000),
        "ms" => Some(1_000_000),
        "s" => Some(1_000_000_000),
        "m" => Some(60_000_000_000),
        "h" => Some(3_600_000_000_000),
        _ => None,
    }
}

/// A row, read from the right: total, max, count, mean, then the key.
fn row<'l>(table: Table, number: u64, text: &'l str) -> Result<Row<'l>, SinkError> {
    let mut rest = text.trim_end();
    let total = take_time(&mut rest, "total", text)?;
    let max = take_time(&mut rest, "max", text)?;
    let count_text = take_word(&mut rest);
    let count = fields::count("Count", count_text)?;
    take_time(&mut rest, "mean", text)?;
    let mut key = rest.trim();
    if table.per_thread {
        // `8428   IPDL Background`: the tid, then the comm.
        key = key
            .split_once(char::is_whitespace)
            .map_or("", |(_, comm)| comm.trim());
    }
    if key.is_empty() {
        return Err(format!(
            "expected a caller before the figures: \"{}\"",
            shorten(text)
        )
        .into());
    }
    Ok(Row {
        dur_ns: total,
        count,
        max_ns: max,
        category: if table.hold { HOLD } else { WAIT },
        caller: key,
        waits: RowWaits::Counted,
        ..Row::new(number)
    })
}

/// The last word of `rest`, which loses it.
fn take_word<'l>(rest: &mut &'l str) -> &'l str {
    let text = rest.trim_end();
    // The blank may be any width in UTF-8 (a no-break space from a web mail).
    let (head, word) = text.rsplit_once(char::is_whitespace).unwrap_or(("", text));
    *rest = head;
    word
}

/// A time at the end of `rest`: `18379` (BCC, ns) or `3.0 s` (libbpf-tools).
fn take_time(rest: &mut &str, what: &str, line: &str) -> Result<u64, SinkError> {
    let word = take_word(rest);
    let Some(factor) = unit_factor(word) else {
        return fields::duration(what, word, super::Unit::Ns).map_err(SinkError::from);
    };
    let number = take_word(rest);
    let value: f64 = number
        .parse()
        .ok()
        .filter(|value: &f64| value.is_finite() && *value >= 0.0)
        .ok_or_else(|| {
            format!(
                "{what} \"{number} {word}\" is not a time: \"{}\"",
                shorten(line)
            )
        })?;
    let ns = (value * factor as f64).round();
    if ns >= u64::MAX as f64 {
        return Err(format!("{what} \"{number} {word}\" is too large").into());
    }
    Ok(ns as u64)
}

/// The class of klockstat's categories: mutexes and semaphores sleep.
pub fn lock_class(category: &str) -> super::LockClass {
    match category {
        WAIT => super::LockClass::Sleep,
        HOLD => super::LockClass::Hold,
        _ => super::LockClass::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testing::{collect, row as owned};
    use crate::parse::{InputFormat, Tally};

    const INTERVALS: &str = "\
Tracing lock events... Hit Ctrl-C to end.

                                  Caller   Avg Spin  Count   Max spin Total spin
                      psi_avgs_work+0x2e       3822     15       5650      57338

                                  Caller   Avg Hold  Count   Max hold Total hold
                      psi_avgs_work+0x2e      12155     15      15739     182329

                                  Caller   Avg Spin  Count   Max spin Total spin
                      psi_avgs_work+0x2e       3715     17       4374      63163
                          pipe_wait+0xa9
^C
";

    #[test]
    fn bcc_intervals_are_samples_and_holds_are_set_apart() {
        let (sink, stats) =
            collect(INTERVALS, InputFormat::Klockstat, &ParseOptions::default()).unwrap();
        assert_eq!(sink.samples.len(), 2);
        assert_eq!(
            sink.samples[0].1,
            [owned(
                4,
                57_338,
                15,
                5_650,
                [WAIT, "", "psi_avgs_work+0x2e"]
            )]
        );
        assert_eq!(sink.samples[1].1[0].dur_ns, 63_163);
        assert_eq!(stats.set_apart[SetApart::HoldRows], Tally::of(1, 7));
        assert_eq!(stats.hold_ns, 182_329);
        // `Tracing lock events...`; `^C` is one word, like a stack frame.
        assert_eq!(stats.skipped_lines, 1);
    }

    #[test]
    fn libbpf_units_threads_and_repeated_headers() {
        let text = "\
                Tid              Comm  Avg Wait    Count   Max Wait   Total Wait
               8369    IPC I/O Parent    2.0 us      889   194.5 us       1.8 ms

                               Caller  Avg Wait    Count   Max Wait   Total Wait
                     rtnl_dumpit+0x74    1.7 us        1     1.7 us       1.7 us
                   netlink_dump+0x138
                              Max PID 1124, COMM bird, Lock rtnl_mutex (0xffffffff9e422b60) nltype RTM_GETLINK

                               Caller  Avg Hold    Count   Max Hold   Total Hold
              down_write_killable+0x5    5.4 m      5421   491.2 h      491.2 h 
";
        let holds = ParseOptions {
            events: Events::Hold,
            ..ParseOptions::default()
        };
        let (sink, _) = collect(text, InputFormat::Klockstat, &ParseOptions::default()).unwrap();
        assert_eq!(sink.samples.len(), 1);
        assert_eq!(
            sink.samples[0].1,
            [
                owned(2, 1_800_000, 889, 194_500, [WAIT, "", "IPC I/O Parent"]),
                owned(5, 1_700, 1, 1_700, [WAIT, "", "rtnl_dumpit+0x74"]),
            ]
        );
        let (sink, _) = collect(text, InputFormat::Klockstat, &holds).unwrap();
        assert_eq!(
            sink.samples[0].1,
            [owned(
                10,
                1_768_320_000_000_000,
                5_421,
                1_768_320_000_000_000,
                [HOLD, "", "down_write_killable+0x5"]
            )]
        );
        assert_eq!(lock_class(WAIT), crate::parse::LockClass::Sleep);
        assert_eq!(lock_class(HOLD), crate::parse::LockClass::Hold);
    }

    #[test]
    fn prose_after_a_table_and_odd_blanks() {
        let text = "Caller   Avg Spin  Count   Max spin Total spin\n\
                    \x20 f+0x2e  3822  15  5650\u{a0}57338\n\n\
                    Tested on a 2 socket box with 96 cores, 10 20 30 40\n";
        let (sink, stats) =
            collect(text, InputFormat::Klockstat, &ParseOptions::default()).unwrap();
        assert_eq!(
            sink.samples[0].1,
            [owned(2, 57_338, 15, 5_650, [WAIT, "", "f+0x2e"])]
        );
        assert_eq!(stats.skipped_lines, 1);
    }

    #[test]
    fn libbpf_intervals_are_flagged_as_running_totals() {
        let interval = "Caller  Avg Wait    Count   Max Wait   Total Wait\n\
                        \x20 rtnl_dumpit+0x74    1.0 us        1     1.0 us       1.0 us\n\n\
                        Caller  Avg Hold    Count   Max Hold   Total Hold\n\
                        \x20 rtnl_dumpit+0x74    2.0 us        1     2.0 us       2.0 us\n\n";
        let text = format!("{interval}{interval}");
        let (sink, stats) =
            collect(&text, InputFormat::Klockstat, &ParseOptions::default()).unwrap();
        assert_eq!(sink.samples.len(), 2);
        assert_eq!(stats.set_apart[SetApart::RunningTotals], Tally::of(1, 7));
        // BCC resets its maps every interval: no such note.
        let (_, stats) =
            collect(INTERVALS, InputFormat::Klockstat, &ParseOptions::default()).unwrap();
        assert_eq!(stats.set_apart[SetApart::RunningTotals], Tally::default());
    }

    #[test]
    fn bad_rows_are_errors() {
        let options = ParseOptions::default();
        let header = "Caller   Avg Spin  Count   Max spin Total spin\n";
        let err = collect(
            &format!("{header}f 1 x 2 3\n"),
            InputFormat::Klockstat,
            &options,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.txt:2: Count \"x\" is not a whole number"
        );
        let err = collect(
            &format!("{header}1 2 3 4\n"),
            InputFormat::Klockstat,
            &options,
        )
        .unwrap_err();
        assert!(err.to_string().contains("expected a caller"), "{err}");
        let err = collect("hello\n", InputFormat::Klockstat, &options).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.txt: no klockstat table found")
        );
    }
}
