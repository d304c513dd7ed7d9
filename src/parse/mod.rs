//! Input parsers: bytes in, events out.
//!
//! Each format has its own module, generic over `BufRead`, that knows nothing
//! of reports: it reports samples and rows to a [`Sink`], with line numbers.
//! Adding a format means adding a module and a line in [`detect`].

pub mod columns;
pub mod duration;
pub mod table;

use std::io::BufRead;

use crate::error::InputError;
pub use duration::Unit;

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
    /// Lock type, e.g. `kernel`, `mutex`, `rwlock`.
    pub category: &'a str,
    /// Lock symbol, e.g. `kernel_lock`.
    pub symbol: &'a str,
    /// The waiting function.
    pub caller: &'a str,
}

/// Receives what a parser reads. Errors are messages; the parser adds the
/// input name and line.
pub trait Sink {
    /// A new sample starts, with its state totals (possibly none).
    fn sample(&mut self, states: Vec<State>) -> Result<(), String>;
    /// A row of the current sample.
    fn row(&mut self, row: &Row<'_>) -> Result<(), String>;
}

/// Options every parser honours.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions {
    /// Unit of durations written without one.
    pub unit: Unit,
    /// Lines that are not part of a table are errors instead of skipped.
    pub strict: bool,
}

/// What a parser tells about an input beyond its samples and rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Lines skipped because they are not part of a table (prose).
    pub skipped_lines: u64,
    /// The first skipped line, to point the user at it.
    pub first_skipped_line: Option<u64>,
}

/// The input formats `contend` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// Detect the format from the input's content.
    Auto,
    /// Tables copied out of Perfetto's UI: state lines, a `dur ...` header,
    /// rows split on tabs or spaces.
    Table,
}

impl InputFormat {
    /// The format's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::Table => "table",
        }
    }
}

/// Parses one input in the given format. `Auto` reads the table format, the
/// only one so far; the table parser reports an input with no table in it.
pub fn parse<R: BufRead>(
    reader: R,
    name: &str,
    format: InputFormat,
    options: ParseOptions,
    sink: &mut dyn Sink,
) -> Result<ParseStats, InputError> {
    match format {
        InputFormat::Table | InputFormat::Auto => table::parse(reader, name, options, sink),
    }
}
