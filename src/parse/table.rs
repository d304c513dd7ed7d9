//! The table format: lock tables copied out of Perfetto's UI by hand.
//!
//! ```text
//! Stopped 496.6ms
//! Running 4.384ms
//! dur       category  arg_set_id__symbol__  arg_set_id__caller__
//! 12417639  rwlock    kernel_map_store      vm_map_lock_ln
//! 1751151   kernel    kernel_lock           reaper
//! ```
//!
//! State lines come before a header whose first column is `dur`; rows are
//! split on runs of tabs or spaces. A blank line after rows, a state line or a
//! new header starts the next sample. Lines that are none of these (the prose
//! of a mail around the data) are skipped and counted, or are errors under
//! `--strict`.

use std::io::BufRead;

use super::SetApart;
use super::SinkError;
use super::class::openbsd_class;
use super::columns::{Role, role_of, row_waits};
use super::duration::parse_duration_with_unit;
use super::fields;
use super::format::Format;
use super::lines::{Utf8Repair, each_line};
use super::{ParseOptions, ParseStats, Row, RowWaits, Sink, State};
use crate::error::{InputError, shorten};

/// Tables copied out of Perfetto as contend knows them.
pub const FORMAT: Format = Format {
    name: "table",
    summary: "Tables copied out of Perfetto's UI: state lines, a `dur ...` header, rows split on tabs or spaces",
    signature: "a Perfetto table (a `dur category symbol caller` header)",
    signature_line: Some((4, is_signature_line)),
    lock_class: openbsd_class,
    reads_mail: false,
    has_kernel_lock: true,
    waits_hint: PIVOT_WAITS_HINT,
    states_hint: "put the thread's state lines above each table",
    parse: |reader, name, options, sink| parse(reader, name, options, sink),
};

/// Why the rows of a table or CSV have no single waits.
pub const PIVOT_WAITS_HINT: &str = "its rows are sums (a pivot table); a list of single waits \
                                    has a ts column, or say so with --rows-are-waits";

/// A lock table's header or a state line: lines only a table has.
fn is_signature_line(line: &str) -> bool {
    is_header_line(line) || is_state_line(line)
}

/// Parses a table-format input, reporting samples and rows to `sink`.
pub fn parse<R: BufRead>(
    reader: R,
    name: &str,
    options: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<ParseStats, crate::error::Error> {
    let end = parse_chunk(reader, name, options, ChunkState::default(), sink)?;
    finish_input(name, &end, sink)
}

/// The parser's state between two lines: where a chunk of an input starts
/// and where it ends, for reading one file in pieces on several cores.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkState {
    /// The header of the table being read; `None` between tables.
    header: Option<Header>,
    /// State totals read since the last table, for the next sample.
    pending_states: Vec<State>,
    /// Whether a table came before (only changes a `--strict` message).
    after_a_table: bool,
    /// The header of a table a blank line just closed: a row in its shape
    /// next carries the table on.
    after_blank: Option<Header>,
}

impl ChunkState {
    /// The state inside a table under this header line, if it is one.
    pub fn inside_table(header_line: &str) -> Option<ChunkState> {
        Header::parse(header_line).map(|header| ChunkState {
            header: Some(header),
            pending_states: Vec::new(),
            after_a_table: true,
            after_blank: None,
        })
    }

    /// True when the chunk starts inside a table, so its first rows belong
    /// to the sample the previous chunk ended in.
    pub fn continues_a_table(&self) -> bool {
        self.header.is_some() || self.after_blank.is_some()
    }
}

/// What a chunk's parse tells beyond its samples and rows.
#[derive(Debug, Clone, Default)]
pub struct ChunkEnd {
    /// The state after the chunk's last line.
    pub state: ChunkState,
    /// Lines in the chunk.
    pub lines: u64,
    /// Headers seen in the chunk.
    pub tables_seen: u64,
    /// Lines skipped, numbered within the chunk.
    pub stats: ParseStats,
}

/// Parses lines from `start`'s state on, numbering them from 1; leaves the
/// end-of-input checks to [`finish_input`].
pub fn parse_chunk<R: BufRead>(
    reader: R,
    name: &str,
    options: &ParseOptions,
    start: ChunkState,
    sink: &mut dyn Sink,
) -> Result<ChunkEnd, crate::error::Error> {
    let mut parser = TableParser::new(options.clone(), start);
    let mut utf8 = Utf8Repair::new(options.lossy);
    let lines = each_line(reader, name, &mut utf8, |number, line| {
        parser.line(number, line, sink)
    })?;
    utf8.record(&mut parser.stats);
    Ok(ChunkEnd {
        lines,
        tables_seen: parser.tables_seen,
        stats: parser.stats,
        state: ChunkState {
            header: parser.header,
            pending_states: parser.pending_states,
            after_a_table: parser.after_a_table,
            after_blank: parser.after_blank,
        },
    })
}

/// The checks at the end of an input: it had a table; state lines after
/// the last one form a sample of their own.
pub fn finish_input(
    name: &str,
    end: &ChunkEnd,
    sink: &mut dyn Sink,
) -> Result<ParseStats, crate::error::Error> {
    if !end.state.after_a_table && end.tables_seen == 0 {
        return Err(InputError::whole(
            name,
            "no lock table found (expected a header line such as \
             `dur category symbol caller`)",
        )
        .into());
    }
    if !end.state.pending_states.is_empty() {
        sink.sample(end.state.pending_states.clone())
            .map_err(|err| err.whole(name))?;
    }
    Ok(end.stats)
}

/// True for a header line this format reads (`dur category symbol caller`),
/// for format detection.
pub fn is_header_line(line: &str) -> bool {
    Header::parse(line).is_some()
}

/// True for a thread-state line (`Running 4.384ms`), for format detection.
pub fn is_state_line(line: &str) -> bool {
    parse_state_line(line).is_some()
}

/// Where each column of the current table's header sits.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    roles: Vec<Role>,
    /// What each row under it tells of single waits.
    waits: RowWaits<'static>,
    /// Every column after `dur` is a key, so the text after it is the key.
    keys_only_after_dur: bool,
    /// The header's columns are separated by tabs (as Perfetto copies
    /// them): a row after a blank line must be too, or it is prose.
    tabbed: bool,
}

impl Header {
    /// Reads a header line: first column a `dur` alias, at least one key
    /// column, every name an identifier, no role twice. `dur is duration in
    /// nanoseconds.` is prose: `duration` would be a second dur column.
    fn parse(line: &str) -> Option<Header> {
        // A header starts with `dur`: a state line or prose is told so
        // before anything is gathered (27 M state lines tried each).
        if role_of(line.split_whitespace().next()?) != Role::Dur {
            return None;
        }
        let names: Vec<&str> = line.split_whitespace().collect();
        let roles: Vec<Role> = names.iter().map(|name| role_of(name)).collect();
        if roles.first() != Some(&Role::Dur) || !roles.iter().any(|role| role.is_key()) {
            return None;
        }
        if !names.iter().all(|name| is_column_name(name)) {
            return None;
        }
        let known = roles.iter().filter(|&&role| role != Role::Other);
        let mut seen = Vec::new();
        for role in known {
            if seen.contains(role) {
                return None;
            }
            seen.push(*role);
        }
        let waits = row_waits(roles.iter().copied());
        let keys_only_after_dur = roles[1..].iter().all(|role| role.is_key());
        Some(Header {
            roles,
            waits,
            keys_only_after_dur,
            tabbed: line.contains('\t'),
        })
    }

    fn width(&self) -> usize {
        self.roles.len()
    }

    fn describe(&self) -> String {
        let names: Vec<&str> = self
            .roles
            .iter()
            .map(|role| match role {
                Role::Dur => "dur",
                Role::Category => "category",
                Role::Symbol => "symbol",
                Role::Caller => "caller",
                Role::Count => "count",
                Role::Start => "ts",
                Role::Other => "(unused)",
            })
            .collect();
        names.join(" ")
    }
}

/// A column name as trace_processor and spreadsheets write them: a
/// letter first, then letters (any script), digits and `_ . [ ] ( ) -`
/// (`arg_set_id__symbol__`, `count(1)`, `noté`).
fn is_column_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_alphabetic() || first == '_')
        && chars
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '(' | ')' | '-'))
}

/// Reads a thread-state line in the shapes Perfetto's UI prints:
/// `Stopped 496.6ms`, `Running: 4.384ms`, `Sleeping 12.5ms (2.41%)`,
/// `Runnable (Preempted) 120µs`, `Uninterruptible Sleep 3 ms`.
fn parse_state_line(line: &str) -> Option<State> {
    let mut text = line.trim();
    if let Some(open) = text.rfind('(') {
        let tail = &text[open..];
        if tail.ends_with("%)") {
            text = text[..open].trim_end();
        }
    }
    let (rest, last) = text.rsplit_once(char::is_whitespace)?;
    let (name, duration) = match last {
        // `3 ms`: the unit stands alone after the number.
        "ns" | "us" | "µs" | "μs" | "ms" | "s" => {
            let (name, number) = rest.trim_end().rsplit_once(char::is_whitespace)?;
            (name, format!("{number}{last}"))
        }
        _ => (rest, last.to_string()),
    };
    let ns = parse_duration_with_unit(&duration)?;
    let name = name.trim().trim_end_matches(':').trim_end();
    is_state_name(name).then(|| State {
        name: name.to_string(),
        ns,
    })
}

/// The states Perfetto shows for threads, to tell a state line with a bad
/// duration (an error) from prose (skipped).
const KNOWN_STATES: [&str; 12] = [
    "Running",
    "Runnable",
    "Runnable (Preempted)",
    "Sleeping",
    "Stopped",
    "Uninterruptible Sleep",
    "Idle",
    "Dead",
    "Zombie",
    "Waking",
    "Parked",
    "Traced",
];

/// The error for a line that names a known state and a number that is not
/// a duration Perfetto writes (`Stopped 496.6fortnights`); None for any
/// other line.
fn malformed_state_line(line: &str) -> Option<String> {
    let (name, value) = line.trim().rsplit_once(char::is_whitespace)?;
    let name = name.trim().trim_end_matches(':').trim_end();
    let lower = value.to_ascii_lowercase();
    // A number, signed, or NaN and infinities: a bad duration, not prose.
    let numeric = value.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'))
        || lower.starts_with("nan")
        || lower.starts_with("inf");
    if !numeric || !KNOWN_STATES.contains(&name) {
        return None;
    }
    let why = match super::duration::parse_duration(value, super::Unit::Ns) {
        Err(super::duration::DurationError::Negative) => "is negative",
        Err(super::duration::DurationError::Overflow) => {
            "is too large (over 584 years in nanoseconds)"
        }
        _ => "is not a duration with a unit Perfetto writes (ns, us, µs, ms, s)",
    };
    Some(format!(
        "state {name}: \"{}\" {why}",
        crate::error::shorten(value)
    ))
}

/// Perfetto capitalises every word of a state name (`Runnable (Preempted)`,
/// `Uninterruptible Sleep`); prose rarely does, so this keeps `I waited 5ms`
/// out.
fn is_state_name(name: &str) -> bool {
    const MAX_WORDS: usize = 4;
    let words: Vec<&str> = name.split_whitespace().collect();
    let capitalised = |word: &&str| {
        word.trim_start_matches('(')
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase())
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '(' | ')' | '-' | '_');
    !words.is_empty()
        && words.len() <= MAX_WORDS
        && words.iter().all(capitalised)
        && name.chars().all(allowed)
}

/// The fields of a tabbed row: split on tabs (runs of them, as Perfetto
/// pads its columns), each without blanks around it.
fn tab_fields(line: &str) -> impl Iterator<Item = &str> {
    line.split('\t')
        .map(str::trim)
        .filter(|field| !field.is_empty())
}

/// A tabbed row one field short whose first field is no number: its dur
/// was lost (`\tmutex\tm\tbar`).
fn lost_its_dur(header: &Header, line: &str) -> bool {
    line.starts_with('\t')
        && tab_fields(line).count() + 1 == header.width()
        && !tab_fields(line).next().is_some_and(starts_like_number)
}

/// A rule drawn under a header or between rows: dashes (or `=`), with
/// blanks, `+`, `|` or `:` between them.
fn is_underline(line: &str) -> bool {
    let text = line.trim();
    // Three at least: `-- ` is a mail's signature line, which ends a table.
    (text.contains("---") || text.contains("==="))
        && text
            .chars()
            .all(|c| matches!(c, '-' | '=' | '+' | '|' | ':' | ' ' | '\t'))
}

/// True for a line whose first field starts like a number: a row, maybe a
/// malformed one, never prose to skip silently.
fn starts_like_number(line: &str) -> bool {
    let text = line.trim_start();
    let text = text.strip_prefix('-').unwrap_or(text);
    text.chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '.')
}

struct TableParser {
    options: ParseOptions,
    /// The header of the table being read; `None` between tables.
    header: Option<Header>,
    /// State totals read since the last table, for the next sample.
    pending_states: Vec<State>,
    /// A table came before this point of the input.
    after_a_table: bool,
    /// The table a blank line just closed, which a row next carries on.
    after_blank: Option<Header>,
    tables_seen: u64,
    stats: ParseStats,
    /// The columns of the last header, and a number that changes whenever
    /// they do: rows' key texts read the same way while it stays.
    last_roles: Vec<Role>,
    layout: u64,
}

impl TableParser {
    fn new(options: ParseOptions, start: ChunkState) -> Self {
        TableParser {
            options,
            last_roles: start
                .header
                .as_ref()
                .map_or(Vec::new(), |h| h.roles.clone()),
            layout: 0,
            header: start.header,
            pending_states: start.pending_states,
            after_a_table: start.after_a_table,
            after_blank: start.after_blank,
            tables_seen: 0,
            stats: ParseStats::default(),
        }
    }

    fn row(
        &self,
        header: &Header,
        number: u64,
        line: &str,
        sink: &mut dyn Sink,
    ) -> Result<(), SinkError> {
        // A tabbed row that starts with its tab lost its dur, unless the
        // tab indents it (one field more than the header).
        if header.tabbed && line.starts_with('\t') && lost_its_dur(header, line) {
            return Err(fields::duration("dur", "", self.options.unit)
                .unwrap_err()
                .into());
        }
        // A table indented (a Markdown code block, a mail) reads as one
        // that is not.
        let line = line.trim_start();
        if header.keys_only_after_dur && self.row_by_key_text(header, number, line, sink)? {
            return Ok(());
        }
        let row = parse_row(header, &self.options, number, line)?;
        sink.row(&Row {
            key_layout: self.layout,
            waits: header.waits,
            ..row.with_max()
        })
    }

    /// The hot path: a row whose text after `dur` the sink has seen is
    /// the same keys, and has the same number of fields, so only its `dur`
    /// is read. False when the sink does not know the text.
    fn row_by_key_text(
        &self,
        header: &Header,
        number: u64,
        line: &str,
        sink: &mut dyn Sink,
    ) -> Result<bool, SinkError> {
        let Some(dur_end) = line.bytes().position(|b| b.is_ascii_whitespace()) else {
            return Ok(false);
        };
        let key_start = line[dur_end..]
            .bytes()
            .position(|b| !b.is_ascii_whitespace())
            .map_or(line.len(), |at| dur_end + at);
        let key_text = &line[key_start..];
        if key_text.is_empty() {
            return Ok(false);
        }
        let row = Row {
            dur_ns: fields::duration("dur", &line[..dur_end], self.options.unit)?,
            key_text,
            key_layout: self.layout,
            waits: header.waits,
            ..Row::new(number)
        };
        sink.row_by_key_text(&row.with_max())
    }

    fn line(&mut self, number: u64, line: &str, sink: &mut dyn Sink) -> Result<(), SinkError> {
        // The hot path: inside a table, a line starting with a digit is a
        // row (headers and state lines start with letters).
        if let Some(header) = &self.header {
            if line.as_bytes().first().is_some_and(u8::is_ascii_digit) {
                return self.row(header, number, line, sink);
            }
        }
        if line.trim().is_empty() {
            // A blank line ends a table; between state lines and their
            // header (as in the seed's fifth sampling) it changes nothing.
            if let Some(header) = self.header.take() {
                self.after_blank = Some(header);
            }
            return Ok(());
        }
        if let Some(header) = self.after_blank.take() {
            // A row of the table's shape after a blank line: a blank line
            // pasted inside the table, not its end (skipped as prose, its
            // wait was lost).
            let same_separators = !header.tabbed || line.contains('\t');
            if starts_like_number(line)
                && same_separators
                && parse_row(&header, &self.options, number, line).is_ok()
            {
                self.stats.set_apart.add(SetApart::RowsAfterBlank, number);
                self.header = Some(header.clone());
                return self.row(&header, number, line, sink);
            }
        }
        if let Some(header) = Header::parse(line) {
            return self.start_table(header, sink);
        }
        if let Some(state) = parse_state_line(line) {
            self.header = None;
            return self.add_state(state, sink);
        }
        if is_underline(line) {
            // `----` under a header (a table pasted from a terminal tool or
            // Markdown): a rule, never data.
            return Ok(());
        }
        if let Some(header) = &self.header {
            let fields = line.split_whitespace().count();
            // A tabbed row whose dur was lost (`\tmutex\tm\tbar`) still has
            // the header's tabs: an error at its line, not the table's end
            // (its wait, and the rows after it, were lost without a word).
            let tabbed_row = header.tabbed
                && (tab_fields(line).count() == header.width() || lost_its_dur(header, line));
            if starts_like_number(line) || fields == header.width() || tabbed_row {
                return self.row(header, number, line, sink);
            }
            // Anything else after a table ends it (a signature, more prose).
            self.header = None;
        }
        // Not a row: a state line with a bad duration is an error, prose
        // is skipped.
        if let Some(message) = malformed_state_line(line) {
            return Err(message.into());
        }
        self.skip(number, line)
    }

    fn start_table(&mut self, header: Header, sink: &mut dyn Sink) -> Result<(), SinkError> {
        sink.sample(std::mem::take(&mut self.pending_states))?;
        if header.roles != self.last_roles {
            self.layout += 1;
            self.last_roles = header.roles.clone();
        }
        self.header = Some(header);
        self.tables_seen += 1;
        self.after_a_table = true;
        Ok(())
    }

    /// Adds a state total to the next sample. A state named twice means the
    /// earlier states belonged to a sampling with no lock table of its own.
    fn add_state(&mut self, state: State, sink: &mut dyn Sink) -> Result<(), SinkError> {
        if self.pending_states.iter().any(|s| s.name == state.name) {
            sink.sample(std::mem::take(&mut self.pending_states))?;
        }
        self.pending_states.push(state);
        Ok(())
    }

    fn skip(&mut self, number: u64, line: &str) -> Result<(), SinkError> {
        super::refuse_another_format(line.trim(), &self.options)?;
        if self.options.strict {
            let what = if !starts_like_number(line) {
                "not part of a lock table"
            } else if !self.after_a_table {
                "a row before any header line"
            } else {
                "a row outside a table (a blank line ended the table above)"
            };
            return Err(format!("{what}: \"{}\" (--strict)", shorten(line.trim())).into());
        }
        self.stats.skip(number);
        Ok(())
    }
}

/// Reads one row of a table; a row that does not fit its header is an error,
/// never skipped, because a dropped row is a wrong figure.
fn parse_row<'l>(
    header: &Header,
    options: &ParseOptions,
    number: u64,
    line: &'l str,
) -> Result<Row<'l>, SinkError> {
    let mut row = Row::new(number);
    let mut found = 0;
    // A tabbed row whose tabs give the header's fields splits on them, so
    // that keys keep their blanks (`Adaptive mutex`); others on blanks.
    let by_tabs = header.tabbed && tab_fields(line).count() == header.width();
    let fields: Box<dyn Iterator<Item = &str>> = if by_tabs {
        Box::new(tab_fields(line))
    } else {
        Box::new(line.split_ascii_whitespace())
    };
    for (index, field) in fields.enumerate() {
        found += 1;
        let key = if field == "NULL" { "" } else { field };
        if index == 1 && header.keys_only_after_dur {
            // Everything after dur (always the first column): the same
            // text is the same key, which lets the sink skip hashing the
            // three keys apart. Not with other columns there: a `ts`
            // would make every text new.
            row.key_text = &line[field.as_ptr() as usize - line.as_ptr() as usize..];
        }
        match header.roles.get(index) {
            Some(Role::Dur) => row.dur_ns = fields::duration("dur", field, options.unit)?,
            Some(Role::Category) => row.category = key,
            Some(Role::Symbol) => row.symbol = key,
            Some(Role::Caller) => row.caller = key,
            Some(Role::Count) => row.count = fields::count("count", field)?,
            Some(Role::Other | Role::Start) | None => {}
        }
    }
    if found != header.width() {
        return Err(format!(
            "expected {} fields ({}), found {found}: \"{}\"",
            header.width(),
            header.describe(),
            shorten(line.trim())
        )
        .into());
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{InputFormat, Unit, testing};

    fn parse_str(
        text: &str,
        options: ParseOptions,
    ) -> Result<(testing::Collect, ParseStats), InputError> {
        testing::collect(text, InputFormat::Table, &options)
    }

    fn state(name: &str, ns: u64) -> State {
        State {
            name: name.to_string(),
            ns,
        }
    }

    #[test]
    fn state_lines_in_every_perfetto_shape() {
        assert_eq!(
            parse_state_line("Stopped\t496.6ms"),
            Some(state("Stopped", 496_600_000))
        );
        assert_eq!(
            parse_state_line("Running: 4.384ms"),
            Some(state("Running", 4_384_000))
        );
        assert_eq!(
            parse_state_line("Sleeping 12.5ms (2.41%)"),
            Some(state("Sleeping", 12_500_000))
        );
        assert_eq!(
            parse_state_line("Runnable (Preempted) 120µs"),
            Some(state("Runnable (Preempted)", 120_000))
        );
        assert_eq!(
            parse_state_line("Uninterruptible Sleep 3 ms"),
            Some(state("Uninterruptible Sleep", 3_000_000))
        );
        assert_eq!(
            parse_state_line("Running 2s"),
            Some(state("Running", 2_000_000_000))
        );
    }

    #[test]
    fn prose_is_not_a_state_line() {
        assert_eq!(parse_state_line("dur is duration in nanoseconds."), None);
        assert_eq!(parse_state_line("I waited 5ms"), None);
        assert_eq!(parse_state_line("Running"), None);
        assert_eq!(parse_state_line("Running 4.384"), None);
        assert_eq!(parse_state_line("A B C D E 5ms"), None);
        assert_eq!(
            malformed_state_line("Stopped\t496.6fortnights").as_deref(),
            Some(
                "state Stopped: \"496.6fortnights\" is not a duration with a unit Perfetto \
                 writes (ns, us, µs, ms, s)"
            )
        );
        assert!(malformed_state_line("Running 4.384").is_some());
        assert_eq!(malformed_state_line("Running late today"), None);
        assert_eq!(malformed_state_line("I waited 5 fortnights"), None);
    }

    #[test]
    fn headers_by_alias_and_not_prose() {
        let header = Header::parse("dur\t\tcategory\targ_set_id__symbol__\targ_set_id__caller__");
        assert_eq!(
            header.map(|h| h.roles),
            Some(vec![Role::Dur, Role::Category, Role::Symbol, Role::Caller])
        );
        let header = Header::parse("dur arg__set__id_91caller_93 cat");
        assert_eq!(
            header.map(|h| h.roles),
            Some(vec![Role::Dur, Role::Caller, Role::Category])
        );
        assert_eq!(Header::parse("dur is duration in nanoseconds."), None);
        assert_eq!(Header::parse("dur symbol symbol"), None);
        assert_eq!(Header::parse("category dur symbol"), None);
        assert_eq!(Header::parse("dur"), None);
    }

    #[test]
    fn samples_split_on_blank_lines_states_and_headers() {
        let text = "prose\nStopped 1ms\nRunning 2ms\n\ndur cat symbol caller\n\
                    10 kernel kernel_lock reaper\n20 mutex sched_lock wakeup_n\n\n\
                    Running 3ms\ndur cat symbol caller\n5 mutex uvm pool_get\n\
                    dur cat symbol caller\n7 kernel kernel_lock reaper\n";
        let (sink, stats) = parse_str(text, ParseOptions::default()).unwrap();
        assert_eq!(sink.samples.len(), 3);
        assert_eq!(
            sink.samples[0].0,
            vec![state("Stopped", 1_000_000), state("Running", 2_000_000)]
        );
        assert_eq!(sink.samples[0].1.len(), 2);
        assert_eq!(
            sink.samples[0].1[1],
            testing::row(7, 20, 1, 20, ["mutex", "sched_lock", "wakeup_n"])
        );
        assert_eq!(sink.samples[1].0, vec![state("Running", 3_000_000)]);
        assert_eq!(sink.samples[2].0, vec![]);
        assert_eq!(sink.samples[2].1[0].dur_ns, 7);
        assert_eq!(stats.skipped_lines, 1);
        assert_eq!(stats.first_skipped_line, Some(1));
    }

    #[test]
    fn states_without_a_table_form_their_own_sample() {
        let text = "Running 1ms\nStopped 2ms\nRunning 3ms\ndur symbol\n5 kernel_lock\n";
        let (sink, _) = parse_str(text, ParseOptions::default()).unwrap();
        assert_eq!(sink.samples.len(), 2);
        assert!(sink.samples[0].1.is_empty());
        assert_eq!(sink.samples[1].0, vec![state("Running", 3_000_000)]);
    }

    #[test]
    fn crlf_null_keys_and_units() {
        let text = "Running 1ms\r\ndur category symbol caller\r\n1.5 kernel NULL reaper\r\n";
        let options = ParseOptions {
            unit: Unit::Us,
            ..ParseOptions::default()
        };
        let (sink, _) = parse_str(text, options).unwrap();
        assert_eq!(
            sink.samples[0].1[0],
            testing::row(3, 1_500, 1, 1_500, ["kernel", "", "reaper"])
        );
    }

    #[test]
    fn count_column_sets_rows() {
        let mut sink = crate::facts::FactsBuilder::new("t", &Default::default());
        let text = "dur count symbol\n100 7 kernel_lock\n";
        parse(text.as_bytes(), "t", &ParseOptions::default(), &mut sink).unwrap();
        let facts = sink.finish(Default::default());
        assert_eq!(facts.keys[0].rows, 7);
    }

    #[test]
    fn the_same_key_text_under_another_header_is_another_key() {
        let mut sink = crate::facts::FactsBuilder::new("t", &Default::default());
        let text = "dur category symbol caller\n10 kernel kernel_lock reaper\n\n\
                    dur category symbol caller\n5 kernel kernel_lock reaper\n\n\
                    dur caller symbol category\n20 kernel kernel_lock reaper\n";
        parse(text.as_bytes(), "t", &ParseOptions::default(), &mut sink).unwrap();
        let facts = sink.finish(Default::default());
        let keys: Vec<(&str, u64, u32)> = facts
            .keys
            .iter()
            .map(|key| (facts.key(key.caller), key.total_ns, key.seen.count))
            .collect();
        assert_eq!(keys, [("reaper", 15, 2), ("kernel", 20, 1)]);
    }

    #[test]
    fn malformed_rows_are_errors_in_both_modes() {
        let text = "dur category symbol caller\n12x4 kernel kernel_lock reaper\n";
        let err = parse_str(text, ParseOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.txt:2: dur \"12x4\" is not a number of nanoseconds"
        );

        let text = "dur category symbol caller\n12 kernel kernel_lock\n";
        let err = parse_str(text, ParseOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.txt:2: expected 4 fields (dur category symbol caller), found 3: \"12 kernel kernel_lock\""
        );

        let text = "dur category symbol caller\n-12 kernel kernel_lock reaper\n";
        let err = parse_str(text, ParseOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "t.txt:2: dur \"-12\" is negative");

        let text = "dur category symbol caller\nabc kernel kernel_lock reaper\n";
        let err = parse_str(text, ParseOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.txt:2: dur \"abc\" is not a number of nanoseconds"
        );
    }

    #[test]
    fn prose_after_a_table_ends_it() {
        let text = "dur symbol\n5 kernel_lock\n-- \n:wq Claudio\n";
        let (sink, stats) = parse_str(text, ParseOptions::default()).unwrap();
        assert_eq!(sink.samples[0].1.len(), 1);
        assert_eq!(stats.skipped_lines, 2);
    }

    #[test]
    fn strict_mode_refuses_prose_and_stray_rows() {
        let strict = ParseOptions {
            strict: true,
            ..ParseOptions::default()
        };
        let err = parse_str("hello\ndur symbol\n5 x\n", strict.clone()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.txt:1: not part of a lock table: \"hello\" (--strict)"
        );
        let err = parse_str("5 kernel_lock\ndur symbol\n5 x\n", strict).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.txt:1: a row before any header line: \"5 kernel_lock\" (--strict)"
        );
    }

    #[test]
    fn no_table_and_bad_bytes_are_errors() {
        let err = parse_str("just a mail\n", ParseOptions::default()).unwrap_err();
        assert!(err.to_string().starts_with("t.txt: no lock table found"));
        let mut sink = testing::Collect::default();
        let err = parse(
            &b"dur symbol\n5 k\xffx\n"[..],
            "t.txt",
            &ParseOptions::default(),
            &mut sink,
        )
        .map_err(testing::input_error)
        .unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("not valid UTF-8"));
    }
}
