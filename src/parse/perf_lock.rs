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
//! the caller (or the task's comm, or the cgroup) the caller; `contended`
//! is the row's event count and `max wait` its longest wait. Under `-l`
//! the lock type is printed after the symbol in parentheses
//! (`&task_struct (mutex)`): it becomes the category.
//!
//! Each table is a sample: a paste with a run before and after a patch
//! has two headers. The lock owners' stacks of `-o -v` (after `=== owner
//! stack trace ===`) look like rows but are not waits: they are counted
//! and left out; the `=== output for debug ===` footer is perf's own.
//! Tables quoted in a mail reply are read through [`super::mail`].

use std::io::BufRead;

use super::SetApart;
use super::SinkError;
use super::format::{Format, NO_STATES};
use super::mail::{PastedLines, parse_pasted};
use super::stacked::StackedRows;
use super::{ParseOptions, ParseStats, Row, RowWaits, Sink, fields};
use crate::error::shorten;
use crate::hashing::InputMap;
use crate::holders::{Doing, HoldEdge, HolderShare, HolderThread, holder_key};

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
    Owner,
    Cgroup,
    /// `-x SEP -v`: the stack in one field, `0x... frame+0x44: 0x... ...`.
    Stacktrace,
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
            // `-t -o` prints `comm` for the owner task, where `-t` names
            // the waiter: the command line tells them apart.
            "comm" => Column::Comm,
            "owner" => Column::Owner,
            "cgroup" => Column::Cgroup,
            "stacktrace" => Column::Stacktrace,
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
    // The names perf prints between `contended` and the keys: prose that
    // starts with "contended" and mentions a total wait is not a header.
    if !text.starts_with("contended") || !text.contains("total wait") || !text.contains("max wait")
    {
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
/// the columns. With `-F` the list is the chosen fields (`# output: total
/// wait, type, caller, stacktrace`); a total wait is always among them.
fn csv_header(line: &str) -> Option<(char, Vec<Column>)> {
    let names = line.trim().strip_prefix("# output:")?.trim();
    let first = names.split(|c: char| !c.is_ascii_alphabetic() && c != ' ');
    let first_name = first.clone().next()?;
    let separator = names[first_name.len()..].chars().next()?;
    let columns: Vec<Column> = names.split(separator).map(Column::of).collect();
    columns
        .contains(&Column::TotalWait)
        .then_some((separator, columns))
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

impl Layout {
    /// A line read as a row of this layout.
    fn row<'l>(&self, number: u64, text: &'l str) -> Result<Row<'l>, SinkError> {
        match self {
            Layout::Table(columns) => table_row(columns, number, text),
            Layout::Csv(separator, columns) => csv_row(columns, *separator, number, text),
        }
    }

    fn columns(&self) -> &[Column] {
        match self {
            Layout::Table(columns) | Layout::Csv(_, columns) => columns,
        }
    }

    /// The frames of a `-x SEP -v` row's stacktrace field, innermost first
    /// (`0xffffffff9d0401e4 _raw_spin_lock_irqsave+0x44: ...`: each entry
    /// an address and a symbol; perf ends a long stack with `...`).
    fn stack_frames<'l>(&self, text: &'l str) -> Vec<&'l str> {
        let Layout::Csv(separator, columns) = self else {
            return Vec::new();
        };
        let Some(index) = columns.iter().position(|c| *c == Column::Stacktrace) else {
            return Vec::new();
        };
        // The stack is the last field; its entries may hold the separator
        // only if it is `:`, which perf does not offer with -v.
        let Some(field) = text.splitn(columns.len(), *separator).nth(index) else {
            return Vec::new();
        };
        field
            .split(':')
            .filter_map(|entry| entry.split_whitespace().nth(1))
            .collect()
    }

    /// The `pid` field of a row, when the layout has one.
    fn pid<'l>(&self, text: &'l str) -> Option<&'l str> {
        let index = self.columns().iter().position(|c| *c == Column::Pid)?;
        match self {
            Layout::Csv(separator, _) => text.split(*separator).nth(index).map(str::trim),
            // Every column before pid is one word or a time of two.
            Layout::Table(columns) => {
                let words: usize = columns[..index]
                    .iter()
                    .map(|c| if c.is_time() { 2 } else { 1 })
                    .sum();
                text.split_whitespace().nth(words)
            }
        }
    }
}

/// Where in the output a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Before any header.
    Before,
    /// A table's rows.
    Waits,
    /// After the blank line that ends a table's rows: prose until the next
    /// header, even where it starts with a number (`6 files changed`).
    After,
    /// `=== owner stack trace ===` (`-o -v`): the lock owners' stacks, in
    /// rows shaped like waits.
    OwnerStacks,
    /// `=== output for debug ===` (`-v`): perf's own counters.
    Debug,
}

/// The parser's state between lines.
struct Reader<'o> {
    layout: Option<Layout>,
    /// The pasted command line asked for lock owners (`-o`): a `comm`
    /// column names the owner, not the waiter.
    owners: bool,
    /// Under `-t`, each thread name's first pid.
    thread_pids: InputMap<String, String>,
    /// A lock owner's stack row (`-o -v`), held until its frames are read.
    owner_stack: Option<OwnerRow>,
    part: Part,
    rows_in_table: u64,
    stats: ParseStats,
    options: &'o ParseOptions,
}

/// Parses `perf lock contention` output: each table (each header line) is
/// `perf lock contention` as contend knows it.
pub const FORMAT: Format = Format {
    name: "perf-lock",
    summary: "Linux `perf lock contention` output, also its `-x ,` CSV",
    signature: "perf lock contention (`contended  total wait ...`)",
    signature_line: Some((0, is_header_line)),
    lock_class,
    reads_mail: true,
    has_kernel_lock: false,
    waits_hint: "perf lock contention prints totals per lock, not single waits",
    states_hint: NO_STATES,
    parse: |reader, name, options, sink| parse(reader, name, options, sink),
};

/// a sample, as each is a run of perf.
pub fn parse<R: BufRead>(
    reader: R,
    name: &str,
    options: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<ParseStats, crate::error::Error> {
    let state = Reader {
        layout: None,
        owners: false,
        thread_pids: InputMap::default(),
        owner_stack: None,
        part: Part::Before,
        rows_in_table: 0,
        stats: ParseStats::default(),
        options,
    };
    // `-v` prints each row's stack under it.
    let mut stacked = StackedRows::new(sink);
    let stats = parse_pasted(reader, name, options.lossy, state, &mut stacked)?;
    stacked.flush().map_err(|err| err.whole(name))?;
    Ok(stats)
}

impl PastedLines for Reader<'_> {
    const NOTHING_FOUND: &'static str = "no perf lock contention header found (expected `contended   total wait   \
             max wait   avg wait ...` or `# output: contended, ...`)";

    fn on_line(&mut self, number: u64, line: &str, sink: &mut dyn Sink) -> Result<(), SinkError> {
        self.line(number, line, sink)
    }

    fn stats(&mut self) -> &mut ParseStats {
        &mut self.stats
    }

    fn found(&self) -> bool {
        self.layout.is_some()
    }

    fn finish(&mut self, sink: &mut dyn Sink) -> Result<(), SinkError> {
        self.pass_owner_stack(sink)
    }
}

impl Reader<'_> {
    fn line(&mut self, number: u64, line: &str, sink: &mut dyn Sink) -> Result<(), SinkError> {
        let text = line.trim();
        if is_stack_line(text) {
            // `0xffffffff81a5f2b4  do_exit+0x1a2`: the frame is the symbol.
            let frame = text.split_whitespace().nth(1).unwrap_or("");
            match &mut self.owner_stack {
                Some(owner) if !frame.is_empty() => owner.frames.push(frame.to_string()),
                Some(_) => {}
                None => sink.frame(Some(frame)),
            }
            return Ok(());
        }
        sink.frame(None);
        self.pass_owner_stack(sink)?;
        if let Some(columns) = table_header(text) {
            return self.start(number, Layout::Table(columns), sink);
        }
        if let Some((separator, columns)) = csv_header(text) {
            return self.start(number, Layout::Csv(separator, columns), sink);
        }
        if let Some(part) = section_marker(text) {
            self.part = part;
            return Ok(());
        }
        if is_owner_command(text) {
            self.owners = true;
        }
        if text.is_empty() {
            if self.part == Part::Waits && self.rows_in_table > 0 {
                self.part = Part::After;
            }
            return Ok(());
        }
        if text.starts_with("# ") {
            return Ok(());
        }
        match (self.part, &self.layout) {
            (Part::Debug, _) => Ok(()),
            (Part::OwnerStacks, Some(layout)) if starts_with_digit(text) => {
                let Ok(row) = layout.row(number, text) else {
                    // Not in the table's shape (`6 files changed`): prose.
                    return self
                        .stats
                        .skip_or_refuse(number, text, self.options, "perf lock output")
                        .map_err(SinkError::from);
                };
                self.stats.set_apart.add(SetApart::OwnerRows, number);
                self.owner_stack = Some(OwnerRow::of(&row, layout.stack_frames(text)));
                Ok(())
            }
            (Part::Waits, Some(layout)) if starts_with_digit(text) => {
                self.rows_in_table += 1;
                let (row, pid) = (layout.row(number, text)?, layout.pid(text));
                let frames = layout.stack_frames(text);
                self.emit(number, row, pid, sink)?;
                for frame in frames {
                    sink.frame(Some(frame));
                }
                Ok(())
            }
            // After a blank line, a line that reads as a row of the table
            // is one (a blank line pasted inside the table); one that does
            // not (`6 files changed`) is prose.
            (Part::After, Some(layout)) if starts_with_digit(text) => {
                match layout.row(number, text) {
                    Ok(row) => {
                        let pid = layout.pid(text);
                        self.part = Part::Waits;
                        self.rows_in_table += 1;
                        self.stats.set_apart.add(SetApart::RowsAfterBlank, number);
                        self.emit(number, row, pid, sink)
                    }
                    Err(_) => self
                        .stats
                        .skip_or_refuse(number, text, self.options, "perf lock output")
                        .map_err(SinkError::from),
                }
            }
            _ => self
                .stats
                .skip_or_refuse(number, text, self.options, "perf lock output")
                .map_err(SinkError::from),
        }
    }

    /// Hands a row on: an owner table's row (`-o`) is a wait whose lock
    /// owner is a holder, not its caller; a task row (`-t`) is keyed by
    /// its comm and pid (`EventManager_De[316167]`): threads of one name
    /// are as many rows as perf printed, not one, and a later row of a
    /// name another pid had is counted for the note.
    fn emit(
        &mut self,
        number: u64,
        mut row: Row<'_>,
        pid: Option<&str>,
        sink: &mut dyn Sink,
    ) -> Result<(), SinkError> {
        let columns = self.layout.as_ref().map_or(&[][..], Layout::columns);
        let owner_table =
            columns.contains(&Column::Owner) || (self.owners && columns.contains(&Column::Comm));
        if owner_table {
            let holder = holder_of(row.caller, pid);
            let holder_text = holder_key(holder.as_ref());
            row.caller = "";
            sink.row(&Row {
                holder: &holder_text,
                ..row
            })?;
            return sink.holder(HolderShare {
                lock: [
                    row.category.to_string(),
                    row.symbol.to_string(),
                    String::new(),
                ],
                holder,
                taken_in: String::new(),
                edge: HoldEdge::Whole,
                doing: Doing::Unknown,
                ns: row.dur_ns,
            });
        }
        match pid.filter(|_| columns.contains(&Column::Comm)) {
            Some(pid) => {
                match self.thread_pids.get(row.caller) {
                    Some(first_pid) if first_pid != pid => self
                        .stats
                        .set_apart
                        .add(SetApart::SharedThreadNames, number),
                    Some(_) => {}
                    None => {
                        self.thread_pids
                            .insert(row.caller.to_string(), pid.to_string());
                    }
                }
                let keyed = format!("{}[{pid}]", row.caller);
                let mut row = row;
                row.caller = &keyed;
                sink.row(&row)
            }
            None => sink.row(&row),
        }
    }

    /// Passes on the lock owner's stack row held back, its frames read.
    fn pass_owner_stack(&mut self, sink: &mut dyn Sink) -> Result<(), SinkError> {
        match self.owner_stack.take() {
            Some(owner) => sink.holder(owner.share()),
            None => Ok(()),
        }
    }

    /// A header: a new table, so a new sample (a mail showing a run
    /// before and after a patch has two).
    fn start(&mut self, number: u64, layout: Layout, sink: &mut dyn Sink) -> Result<(), SinkError> {
        if self.layout.is_some() {
            self.stats.set_apart.add(SetApart::ExtraTables, number);
        }
        sink.sample(Vec::new())?;
        self.layout = Some(layout);
        self.part = Part::Waits;
        self.rows_in_table = 0;
        Ok(())
    }
}

/// A row of `=== owner stack trace ===`: the wait that owners caused while
/// in a stack, of an owner not named.
struct OwnerRow {
    lock: [String; 3],
    ns: u64,
    caller: String,
    /// Innermost first: the `-x` stacktrace field's, then any printed
    /// under the row.
    frames: Vec<String>,
}

impl OwnerRow {
    fn of(row: &Row<'_>, frames: Vec<&str>) -> OwnerRow {
        OwnerRow {
            lock: [row.category, row.symbol, ""].map(str::to_string),
            ns: row.dur_ns,
            caller: row.caller.to_string(),
            frames: frames.into_iter().map(str::to_string).collect(),
        }
    }

    /// The holders' doing: in its frames; with none printed, its caller is
    /// its one frame; keyed by lock (`-l`) with no frame, not known.
    fn share(self) -> HolderShare {
        let mut frames = self.frames;
        if frames.is_empty() && !self.caller.is_empty() {
            frames.push(self.caller);
        }
        let doing = if frames.is_empty() {
            Doing::Unknown
        } else {
            Doing::InStack(frames)
        };
        HolderShare {
            lock: self.lock,
            holder: None,
            taken_in: String::new(),
            edge: HoldEdge::Whole,
            doing,
            ns: self.ns,
        }
    }
}

/// A pasted `perf lock con(tention)` command line that asks for lock
/// owners: `-o`, `--lock-owner`, or `o` in a cluster of short flags
/// (`-abto`).
fn is_owner_command(text: &str) -> bool {
    let text = text.trim_start_matches(['$', '#', ' ']);
    let Some(at) = text.find("perf lock con") else {
        return false;
    };
    // Flags end at `--`: what follows is the command perf runs.
    let mut words = text[at..]
        .split_whitespace()
        .skip(3)
        .take_while(|word| *word != "--");
    words.any(|word| {
        word == "--lock-owner"
            || (word.starts_with('-')
                && !word.starts_with("--")
                && word[1..].chars().all(|c| c.is_ascii_alphabetic())
                && word.contains('o'))
    })
}

/// The holder a row of an owner table names: none for perf's `-1
/// Unknown`.
fn holder_of(name: &str, pid: Option<&str>) -> Option<HolderThread> {
    let tid = pid.and_then(|pid| pid.parse::<u64>().ok())?;
    Some(HolderThread {
        thread: name.to_string(),
        tid,
        pid: None,
        process: None,
    })
}

/// `=== owner stack trace ===` and `=== output for debug ===`, or their
/// `-x` forms, comments: `# owner stack trace:`.
fn section_marker(text: &str) -> Option<Part> {
    let title = match text.strip_prefix("# ") {
        Some(comment) => comment.strip_suffix(':')?.trim(),
        None => text.strip_prefix("===")?.strip_suffix("===")?.trim(),
    };
    match title {
        "owner stack trace" => Some(Part::OwnerStacks),
        "output for debug" => Some(Part::Debug),
        _ => None,
    }
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
fn table_row<'l>(columns: &[Column], number: u64, text: &'l str) -> Result<Row<'l>, SinkError> {
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
            )
            .into());
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
) -> Result<Row<'l>, SinkError> {
    let fields: Vec<&str> = text.split(separator).map(str::trim).collect();
    if fields.len() != columns.len() {
        return Err(format!(
            "expected {} fields like `# output:`, found {}: \"{}\"",
            columns.len(),
            fields.len(),
            shorten(text)
        )
        .into());
    }
    let mut row = Row::new(number);
    for (column, field) in columns.iter().zip(fields) {
        set(&mut row, *column, field)?;
    }
    Ok(finish(row))
}

fn set<'l>(row: &mut Row<'l>, column: Column, field: &'l str) -> Result<(), SinkError> {
    match column {
        Column::Contended => {
            row.count = fields::count("contended", field)?;
            row.waits = RowWaits::Counted;
        }
        Column::TotalWait => row.dur_ns = wait("total wait", field)?,
        Column::MaxWait => row.max_ns = wait("max wait", field)?,
        // Checked, not kept: it is total / contended.
        Column::AvgWait => {
            wait("avg wait", field)?;
        }
        Column::MinWait | Column::Pid | Column::Stacktrace | Column::Other => {}
        Column::Type => row.category = field,
        Column::Caller | Column::Comm | Column::Owner | Column::Cgroup => row.caller = field,
        // `-l` prints the address, then the symbol when it has one.
        Column::Address if row.symbol.is_empty() => row.symbol = field,
        Column::Address => {}
        Column::Symbol => {
            let (symbol, lock_type) = symbol_and_type(field);
            if !symbol.is_empty() {
                row.symbol = symbol;
            }
            if let Some(lock_type) = lock_type {
                row.category = lock_type;
            }
        }
    }
    Ok(())
}

/// `-l`'s symbol text, `&task_struct (mutex)`: the name and the lock type
/// perf adds in parentheses (the name may be empty: ` (mutex)`).
fn symbol_and_type(field: &str) -> (&str, Option<&str>) {
    let text = field.trim();
    let typed = text
        .strip_suffix(')')
        .and_then(|head| head.rsplit_once('('))
        .filter(|(name, lock_type)| {
            (name.is_empty() || name.ends_with(' ')) && !lock_type.contains(' ')
        });
    match typed {
        Some((name, lock_type)) => (name.trim_end(), Some(lock_type)),
        None => (text, None),
    }
}

/// A row without `max wait` (a custom field list) has its total as max.
fn finish(row: Row<'_>) -> Row<'_> {
    if row.max_ns == 0 { row.with_max() } else { row }
}

/// A perf time: `2.04 ms`, `692 ns`, `1.50 m ` (minutes), `2.00 h `, or
/// plain nanoseconds (`-x`).
fn wait(column: &str, field: &str) -> Result<u64, SinkError> {
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
            )
            .into());
        }
    };
    fields::duration(column, &format!("{number}{suffix}"), super::Unit::Ns)?
        .checked_mul(minutes_or_hours)
        .ok_or_else(|| format!("{column} \"{}\" is too large", shorten(field)))
        .map_err(SinkError::from)
}

/// Linux's lock types, as `perf lock contention` names them.
const LINUX_SPIN: [&str; 2] = ["spinlock", "rwlock"];
const LINUX_SLEEP: [&str; 8] = [
    "mutex",
    "rwsem",
    "semaphore",
    "percpu-rwsem",
    "rtmutex",
    "pcpu-sem",
    // PREEMPT_RT: rt_mutex-based locks sleep, rwlocks too.
    "rt-mutex",
    "rwlock-rt",
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
        assert_eq!(sink.samples[0].1[0].symbol, "jiffies_lock");
        assert_eq!(sink.samples[0].1[1].symbol, "ffff9d1a0b7c8e40");
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
                ["", "", "cc1 plus[4711]"]
            )]
        );
    }

    #[test]
    fn a_command_line_asking_for_owners_makes_comm_the_owner() {
        let table = " contended   total wait     max wait     avg wait          pid   comm\n\n\
                     \x20        1    199.45 us    199.45 us    199.45 us      1091507   kworker/2:0\n\
                     \x20      146     63.42 us     12.50 us       434 ns           -1   Unknown\n";
        let options = ParseOptions::default();
        for (command, owners) in [
            ("# perf lock con -abto -Y mutex sleep 1\n", true),
            ("$ perf lock contention -ab --lock-owner\n", true),
            ("$ perf lock con -abt -- cc -o x.o x.c\n", false),
            ("", false),
        ] {
            let text = format!("{command}{table}");
            let (sink, _) = collect(&text, InputFormat::PerfLock, &options).unwrap();
            assert_eq!(sink.holders.len(), if owners { 2 } else { 0 }, "{command}");
            if owners {
                assert_eq!(sink.samples[0].1[0].caller, "");
                assert_eq!(sink.holders[1].holder, None, "pid -1 is no holder");
                assert_eq!(sink.holders[1].ns, 63_420);
            } else {
                assert_eq!(sink.samples[0].1[0].caller, "kworker/2:0[1091507]");
            }
        }
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
    fn each_table_is_a_sample_and_prose_after_one_is_not_a_row() {
        let text = "Before:\n contended   total wait     max wait     avg wait         type   caller\n\n\
                    \x20        5      2.04 ms    720.55 us    408.86 us     spinlock   f+0x1\n\n\
                    6 files changed, 267 insertions(+)\n\
                    After:\n contended   total wait     max wait     avg wait         type   caller\n\n\
                    \x20        1       692 ns       692 ns       692 ns        mutex   f+0x1\n";
        let (sink, stats) = collect(text, InputFormat::PerfLock, &ParseOptions::default()).unwrap();
        assert_eq!(sink.samples.len(), 2);
        assert_eq!(
            sink.samples[0].1,
            [row(4, 2_040_000, 5, 720_550, ["spinlock", "", "f+0x1"])]
        );
        assert_eq!(
            sink.samples[1].1,
            [row(10, 692, 1, 692, ["mutex", "", "f+0x1"])]
        );
        assert_eq!(
            stats.set_apart[SetApart::ExtraTables],
            crate::parse::Tally::of(1, 8)
        );
        assert_eq!(stats.skipped_lines, 3);
    }

    #[test]
    fn lock_types_after_symbols_and_owner_stacks() {
        let text = " contended   total wait     max wait     avg wait            address   symbol\n\n\
                    \x20        2      1.95 us      1.77 us       975 ns   ffff9d5e852d3498   &task_struct (mutex)\n\
                    \x20        1      1.41 us      1.41 us      1.41 us   ffff9d1a0b7c8e40    (rwlock)\n\
                    \x20        1       900 ns       900 ns       900 ns   ffff9d1a0b7c8e80   f (x) y\n\n\
                    \x20=== owner stack trace ===\n\n\
                    \x20        3     31.24 us     15.27 us     10.41 us   ffff9d1a0b7c8e40    (mutex)\n";
        let (sink, stats) = collect(text, InputFormat::PerfLock, &ParseOptions::default()).unwrap();
        assert_eq!(
            sink.samples[0].1,
            [
                row(3, 1_950, 2, 1_770, ["mutex", "&task_struct", ""]),
                row(4, 1_410, 1, 1_410, ["rwlock", "ffff9d1a0b7c8e40", ""]),
                row(5, 900, 1, 900, ["", "f (x) y", ""]),
            ]
        );
        assert_eq!(
            stats.set_apart[SetApart::OwnerRows],
            crate::parse::Tally::of(1, 9)
        );
        // Read as what the owners of that mutex did: no frame printed.
        let owners = &sink.holders[0];
        assert_eq!(
            owners.lock,
            ["mutex", "ffff9d1a0b7c8e40", ""].map(String::from)
        );
        assert_eq!((owners.holder.as_ref(), owners.ns), (None, 31_240));
        assert_eq!(owners.doing, Doing::Unknown);
    }

    #[test]
    fn owner_stack_rows_are_the_owners_doings_with_the_frames_under_them() {
        let text = " contended   total wait     max wait     avg wait         type   caller

                           171      1.55 ms     20.26 us      9.06 us        mutex   pipe_read+0x57
                                             0xffffffffac6318e7  pipe_read+0x57
                                             0xffffffffac623862  vfs_read+0x332

                     === owner stack trace ===

                             3     31.24 us     15.27 us     10.41 us        mutex   pipe_read+0x348
                                             0xffffffffac631bd8  pipe_read+0x348
                                             0xffffffffac623862  vfs_read+0x332
                             2      2.00 us      1.50 us      1.00 us        mutex   pipe_write+0x50
";
        let (sink, stats) = collect(text, InputFormat::PerfLock, &ParseOptions::default()).unwrap();
        // One wait; the owners' rows and frames are theirs.
        assert_eq!(sink.samples[0].1.len(), 1);
        let doings: Vec<(&Doing, u64)> = sink.holders.iter().map(|h| (&h.doing, h.ns)).collect();
        let stack =
            |frames: &[&str]| Doing::InStack(frames.iter().map(|f| f.to_string()).collect());
        assert_eq!(
            doings,
            [
                (&stack(&["pipe_read+0x348", "vfs_read+0x332"]), 31_240),
                // The last row, at the input's end, with no frame under it:
                // its caller.
                (&stack(&["pipe_write+0x50"]), 2_000),
            ]
        );
        assert_eq!(stats.set_apart[SetApart::OwnerRows].count, 2);
        // A line after them that starts with a digit but is no row: prose.
        let prose = format!("{text}\n 6 files changed, 40 insertions(+)\n");
        let (sink, stats) =
            collect(&prose, InputFormat::PerfLock, &ParseOptions::default()).unwrap();
        assert_eq!((sink.holders.len(), stats.skipped_lines), (2, 1));
    }

    #[test]
    fn csv_owner_stacks_owner_tasks_and_rt_types() {
        let text = "# output: contended, total wait, max wait, avg wait, type, caller\n\
                    5, 2040000, 720550, 408000, mutex, pipe_write+0x57\n\
                    # owner stack trace:\n\
                    3, 31240, 15270, 10410, mutex, pipe_read+0x348\n";
        let (sink, stats) = collect(text, InputFormat::PerfLock, &ParseOptions::default()).unwrap();
        assert_eq!(sink.samples[0].1.len(), 1);
        assert_eq!(
            stats.set_apart[SetApart::OwnerRows],
            crate::parse::Tally::of(1, 4)
        );
        assert_eq!(
            sink.holders[0].doing,
            Doing::InStack(vec!["pipe_read+0x348".to_string()])
        );
        assert_eq!(sink.holders[0].ns, 31_240);
        let text = " contended   total wait     max wait     avg wait          pid   owner\n\
                    \x20        1     1.00 ms      1.00 ms      1.00 ms         4711   cc1\n";
        let (sink, _) = collect(text, InputFormat::PerfLock, &ParseOptions::default()).unwrap();
        assert_eq!(sink.samples[0].1[0].caller, "");
        let holder = sink.holders[0].holder.as_ref().unwrap();
        assert_eq!((holder.thread.as_str(), holder.tid), ("cc1", 4711));
        assert_eq!(sink.holders[0].ns, 1_000_000);
        assert_eq!(lock_class("rt-mutex"), crate::parse::LockClass::Sleep);
        assert_eq!(lock_class("rwlock-rt:W"), crate::parse::LockClass::Sleep);
        // Prose that starts like a header is not one.
        assert!(!is_header_line(
            "contended spinlocks dominate, total wait time is 2 ms; numbers below:"
        ));
    }

    #[test]
    fn chosen_fields_in_csv() {
        let text = "# output: total wait, type, caller, stacktrace\n\
                    37134, spinlock, rcu_core+0xd4, 0xffffffff9d0401e4 _raw_spin_lock+0x44: ...\n";
        let (sink, _) = collect(text, InputFormat::PerfLock, &ParseOptions::default()).unwrap();
        assert_eq!(
            sink.samples[0].1,
            [row(2, 37_134, 1, 37_134, ["spinlock", "", "rcu_core+0xd4"])]
        );
        assert!(is_header_line("# output: total wait, type, caller"));
        assert!(!is_header_line("# output: type, caller"));
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
