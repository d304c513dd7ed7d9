//! What contend knows of one input format, in one place: each format's
//! module defines its [`Format`] (`pub const FORMAT`), and
//! [`super::InputFormat::spec`] is the one list of them.

use std::io::BufRead;

use super::{LockClass, ParseOptions, ParseStats, Sink};
use crate::error::Error;

/// A format's parser: bytes in, samples and rows to the sink.
pub type ParseFn =
    fn(&mut dyn BufRead, &str, &ParseOptions, &mut dyn Sink) -> Result<ParseStats, Error>;

/// A test of one line: whether only this format prints it.
pub type LineTest = fn(&str) -> bool;

/// The states hint of the formats that print no thread states.
pub const NO_STATES: &str = "this format has no thread states";

/// Everything about one input format.
#[derive(Clone, Copy)]
pub struct Format {
    /// The name as `--input-format` spells it (and the JSON's `format`).
    pub name: &'static str,
    /// What it is, in a line: the `--input-format` help.
    pub summary: &'static str,
    /// What detection looks for, for the message that says none was found.
    pub signature: &'static str,
    /// For the formats detected line by line: whether a line is one only
    /// this format prints, and its rank among them (the most telling
    /// first: a perf lock header has a `wait` column a table's could have
    /// too). CSV (by its first line) and captures (by their first bytes)
    /// are detected apart.
    pub signature_line: Option<(u8, LineTest)>,
    /// The class of a lock kind (category), before `--spin` and `--sleep`.
    pub lock_class: fn(&str) -> LockClass,
    /// Whether the parser reads tables pasted into mails (quote marks,
    /// quoted-printable), through [`super::mail`].
    pub reads_mail: bool,
    /// Whether the format can show OpenBSD's `kernel_lock` (the big lock):
    /// Linux's and the lockstat tools' cannot, so their reports leave it
    /// out rather than print a 0 that means nothing.
    pub has_kernel_lock: bool,
    /// Why the format's rows have no single waits to spread, for a report
    /// asked for wait distributions.
    pub waits_hint: &'static str,
    /// Where the thread states (Running, Stopped) come from, for a verdict
    /// that has none.
    pub states_hint: &'static str,
    /// The parser.
    pub parse: ParseFn,
}

impl std::fmt::Debug for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::InputFormat;

    #[test]
    fn formats_detected_by_line_have_ranks_of_their_own() {
        let mut ranks: Vec<u8> = InputFormat::concrete()
            .filter_map(|format| format.spec().signature_line)
            .map(|(rank, _)| rank)
            .collect();
        let count = ranks.len();
        ranks.sort_unstable();
        ranks.dedup();
        assert_eq!(ranks.len(), count, "two formats share a detection rank");
        assert_eq!(count, 8);
    }
}
