//! Input parsers: bytes in, events out.
//!
//! Each format has its own module, generic over `BufRead`, that knows nothing
//! of reports: it reports samples and rows to a [`Sink`], with line numbers.
//! [`InputFormat`] names the formats and carries what each knows: how to
//! parse it, its lines that detection looks for, its lock kinds' classes,
//! whether it has thread states. docs/architecture.md says how to add one.

pub mod btrace;
pub mod class;
pub mod columns;
pub mod csv;
pub mod detect;
pub mod duration;
pub mod fields;
pub mod format;
pub mod fxt;
pub mod klockstat;
pub mod lines;
pub mod lock_profiling;
pub mod lock_stat;
pub mod lockstat;
pub mod mail;
pub mod perf_lock;
pub mod perf_lock_report;
pub mod set_apart;
pub mod stacked;
pub mod table;

use std::io::BufRead;

use crate::distribution::Histogram;
use crate::error::InputError;
pub use btrace::MapKey;
pub use class::LockClass;
pub use duration::Unit;
pub use format::Format;
pub use set_apart::{SetApart, SetAparts};

/// One thread-state total of a sample, as `Stopped 496.6ms` says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The state's name as Perfetto prints it (`Running`, `Stopped`, ...).
    pub name: String,
    /// Time spent in the state, in nanoseconds.
    pub ns: u64,
}

/// One row of a lock table, borrowed from the parser's line buffer so the hot
/// path allocates nothing per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row<'a> {
    /// 1-based line number in the input.
    pub line: u64,
    /// Wait duration in nanoseconds (a sum, for a pre-aggregated row).
    pub dur_ns: u64,
    /// How many events the row stands for (1 unless a count column says).
    pub count: u64,
    /// The longest single wait in the row, when the format tells it (perf
    /// lock's `max wait`); else the row's duration.
    pub max_ns: u64,
    /// Lock type, e.g. `kernel`, `mutex`, `rwlock`.
    pub category: &'a str,
    /// Lock symbol, e.g. `kernel_lock`.
    pub symbol: &'a str,
    /// The waiting function.
    pub caller: &'a str,
    /// The row's text from which category, symbol and caller were read, when
    /// the parser has it in one piece (empty otherwise). The same text with
    /// the same [`Row::key_layout`] always gives the same keys, so a sink
    /// may cache on it.
    pub key_text: &'a str,
    /// Changes whenever the parser starts reading key texts another way (a
    /// header with other columns).
    pub key_layout: u64,
    /// What the row tells of single waits.
    pub waits: RowWaits<'a>,
    /// The call stack the wait was recorded with, as a folded stack (frames
    /// outermost first, joined by `;`, as read); empty where the input has
    /// none. Drawn by `--flame`, not part of the key.
    pub stack: &'a str,
    /// Who held the lock during the row's waits, where the input tells
    /// (`holders::holder_key`: the thread described, or `unknown`); empty
    /// where it does not.
    /// Part of the key only when grouping by holder.
    pub holder: &'a str,
}

/// What a row tells of the single waits it stands for: whether a
/// distribution (percentiles, a histogram) or a mean per event can be
/// read from it, or only sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RowWaits<'a> {
    /// A sum of an unknown number of waits: a pivot table's cell, a
    /// btrace `sum()` map's value.
    #[default]
    Unknown,
    /// A sum of `count` waits whose durations are not given (perf lock,
    /// lockstat, klockstat, a table with a count column).
    Counted,
    /// `count` events with no time at all (a btrace `count()` map): the
    /// row's zero duration is not a figure.
    Untimed,
    /// One wait (a slice list: one row per wait, with its start time).
    One,
    /// A sum of waits, each counted in the histogram (an FXT window).
    Each(&'a Histogram),
}

impl Row<'_> {
    /// An empty row read on `line`: no wait, one event, empty keys.
    pub fn new(line: u64) -> Self {
        Row {
            line,
            dur_ns: 0,
            count: 1,
            max_ns: 0,
            category: "",
            symbol: "",
            caller: "",
            key_text: "",
            key_layout: 0,
            waits: RowWaits::Unknown,
            stack: "",
            holder: "",
        }
    }

    /// The row with its duration as its longest wait, for formats that do
    /// not give one.
    pub fn with_max(mut self) -> Self {
        self.max_ns = self.dur_ns;
        self
    }
}

/// Receives what a parser reads. Errors are messages; the parser adds the
/// input name and line.
pub trait Sink {
    /// A new sample starts, with its state totals (possibly none).
    fn sample(&mut self, states: Vec<State>) -> Result<(), crate::parse::SinkError>;
    /// A row of the current sample.
    fn row(&mut self, row: &Row<'_>) -> Result<(), crate::parse::SinkError>;

    /// A row given by its duration and key text only (its keys are
    /// empty): folds it and returns true when the sink knows the text
    /// under this layout from an earlier row, which spares the parser
    /// splitting it; false asks for the whole row through [`Sink::row`].
    fn row_by_key_text(&mut self, _row: &Row<'_>) -> Result<bool, crate::parse::SinkError> {
        Ok(false)
    }

    /// A share of the current input's waits caused by a lock holder (perf
    /// lock's `-o` owner tables). Ignored by default.
    fn holder(
        &mut self,
        _share: crate::holders::HolderShare,
    ) -> Result<(), crate::parse::SinkError> {
        Ok(())
    }

    /// `Some`: a frame of the call stack printed under the last row,
    /// innermost first (perf lock `-v`, klockstat `-s`); `None`: a line
    /// that is no frame, which ends that stack. Kept by
    /// [`stacked::StackedRows`], ignored by default.
    fn frame(&mut self, _frame: Option<&str>) {}
}

/// Why a sink could not take a sample or a row, or a parser a line.
#[derive(Debug)]
pub enum SinkError {
    /// The input cannot be read so (a figure past 2^64, a limit, a line
    /// that is not what it should be): the line reader names the line.
    Input(String),
    /// What the sink writes as it goes (an export of rows) could not be
    /// written: the reading stops with the output's own error.
    Output(std::io::Error),
}

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SinkError::Input(message) => f.write_str(message),
            SinkError::Output(err) => write!(f, "cannot write the output: {err}"),
        }
    }
}

impl From<String> for SinkError {
    fn from(message: String) -> Self {
        SinkError::Input(message)
    }
}

impl From<&str> for SinkError {
    fn from(message: &str) -> Self {
        SinkError::Input(message.to_string())
    }
}

impl SinkError {
    /// The error of the input `name` this is, at `line` when it is about
    /// the input.
    pub fn at_line(self, name: &str, line: u64) -> crate::error::Error {
        match self {
            SinkError::Input(message) => InputError::at_line(name, line, message).into(),
            SinkError::Output(err) => crate::error::Error::output(err),
        }
    }

    /// The error of the input `name` this is, about the whole input.
    pub fn whole(self, name: &str) -> crate::error::Error {
        match self {
            SinkError::Input(message) => InputError::whole(name, message).into(),
            SinkError::Output(err) => crate::error::Error::output(err),
        }
    }
}

/// Options the parsers honour.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Unit of durations written without one.
    pub unit: Unit,
    /// Lines that are not part of a table are errors instead of skipped.
    pub strict: bool,
    /// btrace: what each map key is, in order; empty picks by key count.
    pub keys: Vec<MapKey>,
    /// btrace: which frame of a multi-line stack key is the caller, counted
    /// from the innermost (0); None: the first past the lock primitives.
    pub stack_frame: Option<usize>,
    /// FXT captures: threads, windows, leniency.
    pub capture: fxt::CaptureOptions,
    /// Read bytes that are not UTF-8 as U+FFFD instead of failing.
    pub lossy: bool,
    /// Waits, or hold times, where a report has both.
    pub events: Events,
    /// btrace: whether map values are times or event counts.
    pub values: Values,
    /// The format's name when it was detected from the input's first 64
    /// KiB (not named): a line only another format prints, past them, is
    /// then refused as detection refuses several formats.
    pub detected_as: Option<&'static str>,
}

/// What btrace map values are: a printout does not say whether a map was
/// filled with `sum()` of times or with `count()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Values {
    /// Times, unless the script pasted with the output fills the map with
    /// `count()`.
    #[default]
    Auto,
    /// Wait times, in `--unit`.
    Time,
    /// Event counts (`count()`): ranked by events, no times.
    Count,
}

/// Which of a report's lock events are read: lockstat and klockstat print
/// hold times next to waits, and a hold is not a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Events {
    /// Lock waits (spinning or sleeping); hold times set apart.
    #[default]
    Wait,
    /// Lock hold times only (class `hold`); waits set apart.
    Hold,
}

/// How many times something happened while reading, and the first line
/// it happened on, for a note that points at it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// How many.
    pub count: u64,
    /// The first line (or the first one's line).
    pub first_line: Option<u64>,
}

impl Tally {
    /// A tally of `count` from `first_line`.
    pub fn of(count: u64, first_line: u64) -> Self {
        Tally {
            count,
            first_line: Some(first_line),
        }
    }

    /// Counts one, on `line`.
    pub fn add(&mut self, line: u64) {
        self.count += 1;
        self.first_line.get_or_insert(line);
    }

    /// Adds another tally of the same input.
    pub fn merge(&mut self, other: Tally) {
        self.count += other.count;
        self.first_line = self.first_line.or(other.first_line);
    }
}

/// `total + ns` of hold time, or the error that says it passed 2^64 ns.
fn add_hold_ns(total: u64, ns: u64) -> Result<u64, String> {
    total.checked_add(ns).ok_or_else(|| {
        "the lock hold times set apart add up to more than 2^64 ns (584 years); are the \
         durations in nanoseconds? (--unit)"
            .to_string()
    })
}

/// What a parser tells about an input beyond its samples and rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Lines skipped because they are not part of a table (prose).
    pub skipped_lines: u64,
    /// The first skipped line, to point the user at it.
    pub first_skipped_line: Option<u64>,
    /// Histogram printouts skipped (btrace `hist()`): counts per bucket,
    /// not wait sums.
    pub skipped_histograms: u64,
    /// The title line of the first skipped histogram.
    pub first_histogram_line: Option<u64>,
    /// FXT: where a truncated capture was cut (`--lenient`).
    pub truncated_at: Option<u64>,
    /// FXT: malformed records skipped (`--lenient`).
    pub skipped_records: u64,
    /// FXT: byte offset of the first skipped record.
    pub first_skipped_offset: Option<u64>,
    /// FXT: lock waits still open when the capture ended (left out).
    pub unended_waits: u64,
    /// FXT: lock-wait ends without a begin (left out).
    pub unmatched_ends: u64,
    /// FXT: records earlier than the thread's previous one (counted as 0 ns).
    pub out_of_order: u64,
    /// Lines whose bytes that are not UTF-8 were read as U+FFFD (`--lossy`).
    pub repaired_lines: u64,
    /// The first of them.
    pub first_repaired_line: Option<u64>,
    /// Lines read without a mail reply's quote marks (`> `).
    pub quoted: Tally,
    /// Quoted-printable soft line breaks joined.
    pub soft_breaks: Tally,
    /// What was set apart or read in a way to say, by kind
    /// ([`SetApart`]): each kind's note is printed when counted.
    pub set_apart: SetAparts,
    /// The summed time of the hold rows set apart.
    pub hold_ns: u64,
    /// The line of the pasted script that says `count()`, when that is how
    /// it was known.
    pub count_script_line: Option<u64>,
    /// The events that count rows count, summed.
    pub counted_events: u64,
}

impl ParseStats {
    /// Counts a skipped line.
    pub fn skip(&mut self, line: u64) {
        self.skipped_lines += 1;
        self.first_skipped_line.get_or_insert(line);
    }

    /// A line that is not part of the format's output (`what` names the
    /// output): skipped and counted, or under `--strict` an error; in an
    /// input whose format was detected, a line only another format prints
    /// is an error (a second format past what detection read).
    pub fn skip_or_refuse(
        &mut self,
        line: u64,
        text: &str,
        options: &ParseOptions,
        what: &str,
    ) -> Result<(), String> {
        refuse_another_format(text, options)?;
        if options.strict {
            return Err(format!(
                "not part of {what}: \"{}\" (--strict)",
                crate::error::shorten(text)
            ));
        }
        self.skip(line);
        Ok(())
    }

    /// Adds the line counts of the next chunk of the same input, whose
    /// lines are numbered from 1 after `line_offset` lines.
    pub fn absorb_chunk(&mut self, chunk: &ParseStats, line_offset: u64) -> Result<(), String> {
        let shift = |line: Option<u64>| line.map(|line| line + line_offset);
        self.skipped_lines += chunk.skipped_lines;
        self.first_skipped_line = self.first_skipped_line.or(shift(chunk.first_skipped_line));
        self.repaired_lines += chunk.repaired_lines;
        self.first_repaired_line = self
            .first_repaired_line
            .or(shift(chunk.first_repaired_line));
        let shifted = |tally: Tally| Tally {
            count: tally.count,
            first_line: shift(tally.first_line),
        };
        self.quoted.merge(shifted(chunk.quoted));
        self.soft_breaks.merge(shifted(chunk.soft_breaks));
        self.set_apart.merge(&chunk.set_apart, shifted);
        self.hold_ns = add_hold_ns(self.hold_ns, chunk.hold_ns)?;
        self.counted_events = self.counted_events.saturating_add(chunk.counted_events);
        self.count_script_line = self.count_script_line.or(shift(chunk.count_script_line));
        Ok(())
    }

    /// Adds what another reading of the same lines noted (the mail
    /// reader's decoding, repaired bytes).
    pub fn merge(&mut self, other: &ParseStats) -> Result<(), String> {
        self.absorb_chunk(other, 0)
    }

    /// Sets apart a row of lock hold time (`lockstat -H`, klockstat's hold
    /// tables) while reading waits: counted, and its time summed for the
    /// note, an overflow of which is an error like any other sum's.
    pub fn set_apart_hold(&mut self, line: u64, ns: u64) -> Result<(), String> {
        self.set_apart.add(SetApart::HoldRows, line);
        self.hold_ns = add_hold_ns(self.hold_ns, ns)?;
        Ok(())
    }

    /// Counts a skipped histogram, by its title line; under `--strict`
    /// the error (`--strict` refuses whatever it would skip).
    pub fn skip_histogram(&mut self, line: u64, strict: bool, text: &str) -> Result<(), String> {
        if strict {
            return Err(refused("a histogram printout, not wait times", text));
        }
        self.skipped_histograms += 1;
        self.first_histogram_line.get_or_insert(line);
        Ok(())
    }
}

/// The error `--strict` gives for a line read as something other than
/// lock waits, which it would otherwise skip or set apart with a note.
pub fn refused(what: &str, text: &str) -> String {
    format!("{what}: \"{}\" (--strict)", crate::error::shorten(text))
}

/// In an input whose format was detected, an error for a line only
/// another format prints: a second format past the head detection read
/// (inside it, detection refuses the input as several formats).
pub fn refuse_another_format(text: &str, options: &ParseOptions) -> Result<(), String> {
    let Some(detected) = options.detected_as else {
        return Ok(());
    };
    match detect::other_format_line(text, detected) {
        Some(other) => Err(format!(
            "a line of {} output, past the first {} KiB that detection read as {detected}: \
             \"{}\"; an input in several formats is refused: split it, or name one with \
             --input-format",
            other.name(),
            detect::HEAD_BYTES / 1024,
            crate::error::shorten(text)
        )),
        None => Ok(()),
    }
}

/// The input formats `contend` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputFormat {
    /// Detect the format from the input's content.
    #[default]
    Auto,
    /// Tables copied out of Perfetto's UI: state lines, a `dur ...` header,
    /// rows split on tabs or spaces.
    Table,
    /// CSV or TSV with a header row (trace_processor_shell, spreadsheets).
    Csv,
    /// btrace(8) and bpftrace map printouts: `@name[key, key]: value`.
    Btrace,
    /// Linux `perf lock contention` output, also its `-x ,` CSV.
    PerfLock,
    /// Linux `perf lock report`: the older `Name acquired contended ...`
    /// table.
    PerfLockReport,
    /// FreeBSD and illumos lockstat(1) reports.
    Lockstat,
    /// BCC and libbpf-tools klockstat: mutex waits and holds per caller.
    Klockstat,
    /// Linux `/proc/lock_stat` (CONFIG_LOCK_STAT): waits and holds per
    /// lock class.
    LockStat,
    /// FreeBSD LOCK_PROFILING(9): `sysctl debug.lock.prof.stats`, waits
    /// and holds per acquisition point.
    LockProfiling,
    /// OpenBSD lltrace captures converted by lltextract(1): the Fuchsia
    /// Trace Format (binary), cut into samples by thread and window.
    Fxt,
}

impl InputFormat {
    /// Every variant, in the order declared (the order of the formats in
    /// messages and in `--input-format`'s help).
    pub const ALL: [InputFormat; 11] = [
        InputFormat::Auto,
        InputFormat::Table,
        InputFormat::Csv,
        InputFormat::Btrace,
        InputFormat::PerfLock,
        InputFormat::PerfLockReport,
        InputFormat::Lockstat,
        InputFormat::Klockstat,
        InputFormat::LockStat,
        InputFormat::LockProfiling,
        InputFormat::Fxt,
    ];

    /// Every format a file can be in (not `Auto`), in the order declared.
    pub fn concrete() -> impl Iterator<Item = InputFormat> {
        Self::ALL
            .into_iter()
            .filter(|format| *format != InputFormat::Auto)
    }

    /// Everything about the format, in its module: the one place that
    /// lists the formats' modules.
    pub fn spec(self) -> &'static Format {
        match self {
            InputFormat::Auto => &AUTO,
            InputFormat::Table => &table::FORMAT,
            InputFormat::Csv => &csv::FORMAT,
            InputFormat::Btrace => &btrace::FORMAT,
            InputFormat::PerfLock => &perf_lock::FORMAT,
            InputFormat::PerfLockReport => &perf_lock_report::FORMAT,
            InputFormat::Lockstat => &lockstat::FORMAT,
            InputFormat::Klockstat => &klockstat::FORMAT,
            InputFormat::LockStat => &lock_stat::FORMAT,
            InputFormat::LockProfiling => &lock_profiling::FORMAT,
            InputFormat::Fxt => &fxt::FORMAT,
        }
    }

    /// The format's name as the command line spells it.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// What detection looks for in the format, for the message that says
    /// none was found.
    pub fn signature(self) -> &'static str {
        self.spec().signature
    }

    /// Whether `line` is one that only this format prints (for the formats
    /// detected line by line; CSV by its first line and captures by their
    /// first bytes are detected apart).
    pub fn is_signature_line(self, line: &str) -> bool {
        self.spec()
            .signature_line
            .is_some_and(|(_, is_signature)| is_signature(line))
    }

    /// The class of a lock kind (category) in this format, before the
    /// user's `--spin` and `--sleep`.
    pub fn lock_class(self, category: &str) -> LockClass {
        (self.spec().lock_class)(category)
    }

    /// Whether the format's parser reads tables pasted into mails (quote
    /// marks, quoted-printable), through [`mail`].
    pub fn reads_mail(self) -> bool {
        self.spec().reads_mail
    }

    /// Whether the format can show OpenBSD's `kernel_lock` (the big lock).
    pub fn has_kernel_lock(self) -> bool {
        self.spec().has_kernel_lock
    }

    /// Why this format's rows have no single waits to spread, for a
    /// report asked for wait distributions.
    pub fn waits_hint(self) -> &'static str {
        self.spec().waits_hint
    }

    /// Where the thread states (Running, Stopped) come from in this
    /// format, for a verdict that has none.
    pub fn states_hint(self) -> &'static str {
        self.spec().states_hint
    }
}

/// `--input-format auto` before detection resolves it: read as a table.
const AUTO: Format = Format {
    name: "auto",
    summary: "Detect the format from the input's content",
    signature: "",
    signature_line: None,
    states_hint: format::NO_STATES,
    ..table::FORMAT
};

impl serde::Serialize for InputFormat {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Parses one input in the given format (`Auto` must be resolved first, by
/// [`detect::detect`]).
pub fn parse<R: BufRead>(
    mut reader: R,
    name: &str,
    format: InputFormat,
    options: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<ParseStats, crate::error::Error> {
    (format.spec().parse)(&mut reader, name, options, sink)
}

/// A [`Sink`] that keeps everything as plain data, for parser tests.
#[cfg(test)]
pub mod testing {
    use super::*;

    /// A row as plain data.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct OwnedRow {
        /// 1-based line number.
        pub line: u64,
        /// Duration, nanoseconds.
        pub dur_ns: u64,
        /// Events the row stands for.
        pub count: u64,
        /// Longest single wait, nanoseconds.
        pub max_ns: u64,
        /// Lock type.
        pub category: String,
        /// Lock symbol.
        pub symbol: String,
        /// Waiting function.
        pub caller: String,
    }

    /// Collects samples and rows.
    #[derive(Default, Debug)]
    pub struct Collect {
        /// Each sample's states and rows.
        pub samples: Vec<(Vec<State>, Vec<OwnedRow>)>,
        /// The holders the parser named.
        pub holders: Vec<crate::holders::HolderShare>,
    }

    impl Sink for Collect {
        fn sample(&mut self, states: Vec<State>) -> Result<(), crate::parse::SinkError> {
            self.samples.push((states, Vec::new()));
            Ok(())
        }
        fn row(&mut self, row: &Row<'_>) -> Result<(), crate::parse::SinkError> {
            if self.samples.is_empty() {
                self.samples.push((Vec::new(), Vec::new()));
            }
            self.samples.last_mut().unwrap().1.push(OwnedRow {
                line: row.line,
                dur_ns: row.dur_ns,
                count: row.count,
                max_ns: row.max_ns,
                category: row.category.to_string(),
                symbol: row.symbol.to_string(),
                caller: row.caller.to_string(),
            });
            Ok(())
        }
        fn holder(
            &mut self,
            share: crate::holders::HolderShare,
        ) -> Result<(), crate::parse::SinkError> {
            self.holders.push(share);
            Ok(())
        }
    }

    /// The input error a parse into a test sink gives (it writes nothing,
    /// so no output error can come).
    pub fn input_error(err: crate::error::Error) -> InputError {
        match err.into_kind() {
            crate::error::ErrorKind::Input(err) => err,
            other => panic!("a parser gives input errors only: {other:?}"),
        }
    }

    /// Parses `text` in `format` into a [`Collect`].
    pub fn collect(
        text: &str,
        format: InputFormat,
        options: &ParseOptions,
    ) -> Result<(Collect, ParseStats), InputError> {
        let mut sink = Collect::default();
        let stats =
            parse(text.as_bytes(), "t.txt", format, options, &mut sink).map_err(input_error)?;
        Ok((sink, stats))
    }

    /// A row as plain data.
    pub fn row(line: u64, dur_ns: u64, count: u64, max_ns: u64, keys: [&str; 3]) -> OwnedRow {
        let [category, symbol, caller] = keys.map(str::to_string);
        OwnedRow {
            line,
            dur_ns,
            count,
            max_ns,
            category,
            symbol,
            caller,
        }
    }
}
