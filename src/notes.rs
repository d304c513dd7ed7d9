//! Notes on stderr: what an input's reading skipped, set apart or could
//! not read, once per input, so that no figure rests on it unsaid.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::facts::InputFacts;
use crate::parse::ParseStats;
use crate::parse::set_apart::counted;
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

/// Writes a warning to stderr as [`say`] does, yellow when `color`: the
/// escapes are added after the line's own text is made printable.
pub fn warn(line: &str, color: bool) {
    let line = printable(line);
    let line = if color {
        format!("\x1b[33m{line}\x1b[0m")
    } else {
        line.into_owned()
    };
    let _ = writeln!(std::io::stderr().lock(), "{line}");
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

/// `note!(notes, label, "...")`: a note on input `label`, with
/// `format!`'s arguments, kept in `notes` under its kind (the call site)
/// until [`Notes::print`], unless `-q`.
macro_rules! note {
    ($notes:expr, $label:expr, $($arg:tt)*) => {
        if shows(Verbosity::Normal) {
            $notes.add(concat!(file!(), ":", line!()), $label, format!($($arg)*))
        }
    };
}

/// Notes of one kind name at most this many other inputs on the first
/// input's line.
const INPUTS_NAMED: usize = 3;

/// Notes gathered over all inputs before any is printed, so that a kind
/// met in many inputs (every side of a diff, a fleet of dumps) is one
/// line, not one per input. `-v` prints each.
#[derive(Debug, Default)]
pub struct Notes {
    /// (kind, input label, text) in the order they were added.
    lines: Vec<(&'static str, String, String)>,
}

impl Notes {
    fn add(&mut self, kind: &'static str, label: &str, text: String) {
        self.lines.push((kind, label.to_string(), text));
    }

    /// The notes as lines, a kind's first line standing for the inputs
    /// with the same kind of note unless `-v`.
    fn lines(&self) -> Vec<String> {
        let every = shows(Verbosity::Verbose);
        let mut kinds: Vec<&'static str> = Vec::new();
        for (kind, ..) in &self.lines {
            if !kinds.contains(kind) {
                kinds.push(kind);
            }
        }
        let mut out = Vec::new();
        for kind in kinds {
            let of_kind: Vec<_> = self.lines.iter().filter(|(k, ..)| *k == kind).collect();
            if every || of_kind.len() == 1 {
                out.extend(
                    of_kind
                        .iter()
                        .map(|(_, label, text)| format!("contend: {label}: {text}")),
                );
                continue;
            }
            let (_, first, text) = of_kind[0];
            let others: Vec<&str> = of_kind[1..].iter().map(|(_, l, _)| l.as_str()).collect();
            let named = others[..others.len().min(INPUTS_NAMED)].join(", ");
            let more = others.len().saturating_sub(INPUTS_NAMED);
            let rest = if more > 0 {
                format!("{named} and {more} more")
            } else {
                named
            };
            out.push(format!(
                "contend: {first}: {text} (likewise in {rest}; -v says each)"
            ));
        }
        out
    }

    /// Prints the notes on stderr, each kind once.
    pub fn print(&self) {
        for line in self.lines() {
            say(format_args!("{line}"));
        }
    }
}

/// Notes what was skipped, once per input, so no figure rests on silently
/// dropped lines.
pub fn note_skipped<'a>(
    notes: &mut Notes,
    inputs: impl IntoIterator<Item = (&'a str, ParseStats)>,
) {
    for (label, stats) in inputs {
        if let Some(first) = stats.first_histogram_line {
            let printouts = counted(stats.skipped_histograms, "histogram", "histograms");
            note!(
                notes,
                label,
                "skipped {printouts} (first: line {first}): they count \
                 events per bucket, not wait time; print wait sums (`@w[...] = sum(...)`)"
            );
        }
        note_capture(notes, label, &stats);
        note_set_apart(notes, label, &stats);
        if let Some(first) = stats.first_repaired_line {
            let lines = counted(stats.repaired_lines, "line", "lines");
            note!(
                notes,
                label,
                "read bytes that are not UTF-8 as U+FFFD in {lines} \
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
                notes,
                label,
                "skipped {lines} not part of a table \
                 (first: line {first}); --strict to fail instead"
            );
        }
    }
}

/// What was read in a way the user might not expect: a mail's quoting
/// removed, then each kind of thing its parser set apart ([`crate::parse::SetApart`]:
/// tables split into samples, rows that are not waits), in one loop.
fn note_set_apart(notes: &mut Notes, label: &str, stats: &ParseStats) {
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
        note!(notes, label, "read as a mail: {how} (first: line {first})");
    }
    if shows(Verbosity::Normal) {
        for (kind, tally) in stats.set_apart.counted() {
            notes.add(kind.name(), label, kind.note(tally, stats));
        }
    }
}

/// What a capture's reading left out, so no figure rests on it unsaid.
fn note_capture(notes: &mut Notes, label: &str, stats: &ParseStats) {
    if let Some(offset) = stats.truncated_at {
        note!(
            notes,
            label,
            "the capture is cut short; read up to byte offset {offset} \
             (--lenient)"
        );
    }
    if let Some(offset) = stats.first_skipped_offset {
        note!(
            notes,
            label,
            "skipped {} malformed records (first: byte offset {offset}; \
             --lenient)",
            stats.skipped_records
        );
    }
    if stats.unended_waits > 0 {
        note!(
            notes,
            label,
            "left out {} lock waits still open when the capture ended",
            stats.unended_waits
        );
    }
    if stats.out_of_order > 0 {
        note!(
            notes,
            label,
            "{} before {} begins; counted as 0 ns",
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
            notes,
            label,
            "left out {} lock-wait ends whose begin is not in the capture",
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
pub fn note_offsets<'a>(
    notes: &mut Notes,
    label: &str,
    stripped: impl IntoIterator<Item = &'a str>,
) {
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
        notes,
        label,
        "read {sites} without the {offset} (e.g. `{example}` as `{}`): \
         call sites in one function are one group; --keep-offsets keeps them apart",
        crate::facts::strip_offset(example)
    );
}

/// `--samples` named samples an input does not have: they are left out,
/// said rather than silent.
pub fn note_samples_past_end(label: &str, picked: &crate::facts::filter::SampleList, count: u32) {
    if shows(Verbosity::Normal) {
        say(format_args!(
            "contend: {label}: --samples {picked} names samples past its last, {count}: those \
             are left out"
        ));
    }
}

/// Prints the notes on what reading the inputs skipped, set apart and
/// stripped of offsets, each kind once.
pub fn note_inputs(inputs: &[InputFacts]) {
    let mut notes = Notes::default();
    note_skipped(&mut notes, skipped_of(inputs));
    for input in inputs {
        note_offsets(
            &mut notes,
            &input.label,
            input.stripped_offsets.iter().map(|s| &**s),
        );
    }
    notes.print();
}
