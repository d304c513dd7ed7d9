//! Notes on stderr: what an input's reading skipped, set apart or could
//! not read, once per input, so that no figure rests on it unsaid.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::facts::InputFacts;
use crate::parse::ParseStats;
use crate::printable::printable;

/// Writes one line to stderr, with what came from an input (a key, a
/// label, a file name, a quoted line) shown escaped: a carriage return or
/// an escape sequence in it cannot rewrite the line or the terminal. A
/// stderr that cannot be written (a full disk, `2>/dev/full`, a closed
/// pipe) is ignored: a note never stops a run, and never panics.
pub fn say(line: std::fmt::Arguments<'_>) {
    let line = line.to_string();
    let _ = writeln!(std::io::stderr().lock(), "{}", printable(&line));
}

/// How many notes reach stderr (`-q`, `-v`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// No notes.
    Quiet = 0,
    /// Notes on what was read in a way the user might not expect.
    Normal = 1,
    /// Also the lines skipped as prose.
    Verbose = 2,
}

static VERBOSITY: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);

/// Sets how many notes reach stderr, once, from the command line.
pub fn set_verbosity(verbosity: Verbosity) {
    VERBOSITY.store(verbosity as u8, Ordering::Relaxed);
}

/// Whether notes of `level` are shown.
pub fn shows(level: Verbosity) -> bool {
    VERBOSITY.load(Ordering::Relaxed) >= level as u8
}

/// `note!("contend: ...")`: [`say`] with `format!`'s arguments, unless
/// `-q`.
macro_rules! note {
    ($($arg:tt)*) => {
        if shows(Verbosity::Normal) {
            say(format_args!($($arg)*))
        }
    };
}

/// Tells on stderr what was skipped, once per input, so no figure rests on
/// silently dropped lines.
pub fn note_skipped<'a>(inputs: impl IntoIterator<Item = (&'a str, ParseStats)>) {
    for (label, stats) in inputs {
        if let Some(first) = stats.first_histogram_line {
            let printouts = counted(stats.skipped_histograms, "histogram", "histograms");
            note!(
                "contend: {label}: skipped {printouts} (first: line {first}): they count \
                 events per bucket, not wait time; print wait sums (`@w[...] = sum(...)`)"
            );
        }
        note_capture(label, &stats);
        note_set_apart(label, &stats);
        if let Some(first) = stats.first_repaired_line {
            let lines = counted(stats.repaired_lines, "line", "lines");
            note!(
                "contend: {label}: read bytes that are not UTF-8 as U+FFFD in {lines} \
                 (first: line {first}; --lossy)"
            );
        }
        // Prose around the tables is what a pasted mail has: counted with -v.
        if let Some(first) = stats
            .first_skipped_line
            .filter(|_| shows(Verbosity::Verbose))
        {
            let lines = counted(stats.skipped_lines, "line that is", "lines that are");
            note!(
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

/// What was read in a way the user might not expect: a mail's quoting
/// removed, tables split into samples, rows set apart as not waits.
fn note_set_apart(label: &str, stats: &ParseStats) {
    if let Some(first) = stats.quoted.first_line.or(stats.soft_breaks.first_line) {
        let how = match (stats.quoted.count, stats.soft_breaks.count) {
            (0, breaks) => format!(
                "joined {}",
                counted(breaks, "soft line break", "soft line breaks")
            ),
            (quoted, 0) => format!(
                "read {} without their `>` quote marks",
                counted(quoted, "line", "lines")
            ),
            (quoted, breaks) => format!(
                "read {} without their `>` quote marks and joined {}",
                counted(quoted, "line", "lines"),
                counted(breaks, "soft line break", "soft line breaks")
            ),
        };
        note!("contend: {label}: read as a mail: {how} (first: line {first})");
    }
    if let Some(first) = stats.extra_tables.first_line {
        note!(
            "contend: {label}: {} tables, each read as a sample of its own (the second's header: \
             line {first})",
            stats.extra_tables.count + 1
        );
    }
    if let Some(first) = stats.rows_after_blank.first_line {
        note!(
            "contend: {label}: read {} after a blank line as part of the table above \
             (first: line {first})",
            counted(stats.rows_after_blank.count, "row", "rows")
        );
    }
    if let Some(first) = stats.running_totals.first_line {
        note!(
            "contend: {label}: {} klockstat intervals read as samples (the second: line \
             {first}); libbpf-tools klockstat keeps counting across intervals unless run with \
             -R, and then each sample is a running total that the report adds up: keep only \
             the last interval, or record with -R",
            stats.running_totals.count + 1
        );
    }
    if let Some(first) = stats.owner_rows.first_line {
        note!(
            "contend: {label}: left out {} of `=== owner stack trace ===` (first: line \
             {first}): they are the lock owners' stacks, not waits",
            counted(stats.owner_rows.count, "row", "rows")
        );
    }
    if let Some(first) = stats.uncontended_rows.first_line {
        note!(
            "contend: {label}: left out {} with no contention (first: line {first}): \
             acquired without a wait",
            counted(stats.uncontended_rows.count, "row", "rows")
        );
    }
    if let Some(first) = stats.contention_points.first_line {
        note!(
            "contend: {label}: counted {} (first: line {first}): they count contentions per \
             caller, but lock_stat times only whole classes, so they are not ranked",
            counted(
                stats.contention_points.count,
                "contention point",
                "contention points"
            )
        );
    }
    if let Some(first) = stats.unsure_values.first_line {
        note!(
            "contend: {label}: read {} of stack keys as nanoseconds (first: line {first}), \
             though no script above them says sum(); if the map was filled with count() \
             (`@[kstack] = count()`), they are event counts: --values count",
            counted(stats.unsure_values.count, "map value", "map values")
        );
    }
    if let Some(first) = stats.count_rows.first_line {
        let why = match stats.count_script_line {
            Some(line) => format!("the script on line {line} fills the map with count()"),
            None => "--values count".to_string(),
        };
        note!(
            "contend: {label}: read {} as event counts, not times (first: line {first}; {why}): \
             ranked by events",
            counted(stats.count_rows.count, "map value", "map values")
        );
    }
    if let Some(first) = stats.hold_rows.first_line {
        note!(
            "contend: {label}: set apart {} of lock hold time (first: line {first}): holds are \
             not waits; --events hold ranks them",
            counted(stats.hold_rows.count, "row", "rows")
        );
    }
    if let Some(first) = stats.profiling_rows.first_line {
        note!(
            "contend: {label}: skipped {} of profiling interrupts (first: line {first}): \
             not lock data",
            counted(stats.profiling_rows.count, "row", "rows")
        );
    }
    if let Some(first) = stats.untitled_tables.first_line {
        note!(
            "contend: {label}: {} without a section title (first: line {first}): read as \
             lock events of unknown kind, category `(no title)`; --spin '(no title)' or \
             --sleep '(no title)' says which",
            counted(stats.untitled_tables.count, "table", "tables")
        );
    }
}

/// What a capture's reading left out, so no figure rests on it unsaid.
fn note_capture(label: &str, stats: &ParseStats) {
    if let Some(offset) = stats.truncated_at {
        note!(
            "contend: {label}: the capture is cut short; read up to byte offset {offset} \
             (--lenient)"
        );
    }
    if let Some(offset) = stats.first_skipped_offset {
        note!(
            "contend: {label}: skipped {} malformed records (first: byte offset {offset}; \
             --lenient)",
            stats.skipped_records
        );
    }
    if stats.unended_waits > 0 {
        note!(
            "contend: {label}: left out {} lock waits still open when the capture ended",
            stats.unended_waits
        );
    }
    if stats.out_of_order > 0 {
        note!(
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
        note!(
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

/// Tells which symbols and callers were read without their `+0x..`
/// offsets: the figures of call sites in one function are then one group's.
pub fn note_offsets<'a>(label: &str, stripped: impl IntoIterator<Item = &'a str>) {
    let mut count = 0usize;
    let mut example: Option<&str> = None;
    for text in stripped {
        count += 1;
        example = Some(example.map_or(text, |first| first.min(text)));
    }
    let Some(example) = example else {
        return;
    };
    let sites = counted(count as u64, "symbol or caller", "symbols and callers");
    // bpftrace prints decimal offsets (`xfs_ilock+125`).
    let offset = if example.contains("+0x") {
        "+0x offset"
    } else {
        "offset"
    };
    note!(
        "contend: {label}: read {sites} without the {offset} (e.g. `{example}` as `{}`): \
         call sites in one function are one group; --keep-offsets keeps them apart",
        crate::facts::strip_offset(example)
    );
}

/// `--samples` named samples an input does not have: they are left out,
/// said rather than silent.
pub fn note_samples_past_end(label: &str, picked: &crate::filter::SampleList, count: u32) {
    note!(
        "contend: {}: --samples {picked} names samples past its last, {count}: those are left out",
        crate::printable::printable(label)
    );
}

/// [`note_offsets`] for each input read into facts.
pub fn note_offsets_of(inputs: &[InputFacts]) {
    for input in inputs {
        note_offsets(&input.label, input.stripped_offsets.iter().map(|s| &**s));
    }
}
