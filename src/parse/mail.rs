//! Tables pasted into mails, read like plain ones: a reply's quote marks
//! (`> `, `> > `, `>> `) are removed, and a quoted-printable body's soft
//! line breaks (a line ending in `=`, the rest of it on the next physical
//! line without the quote marks) are joined, with `=3D` read as `=`.
//!
//! Soft breaks are always joined: none of the text formats ends a line
//! with a single `=` (perf's `=== owner stack trace ===` ends with `==`,
//! which quoted-printable would have written `=3D=3D`). `=XX` escapes are
//! decoded only once the input has shown it is quoted-printable (a soft
//! break or an `=3D`), since `total=12` in a plain perf debug line is not
//! an escape.

use super::lines::{MAX_LINE, Utf8Repair, each_line};
use super::{ParseStats, Sink, SinkError, Tally};
use crate::error::{Error, InputError};
use std::io::BufRead;

/// The state of a mail-aware line reader: a logical line still being
/// joined, and what was decoded.
#[derive(Debug, Default)]
pub struct MailText {
    quoted_printable: bool,
    pending: String,
    pending_line: u64,
    /// Lines whose quote marks were removed.
    pub quoted: Tally,
    /// Soft line breaks joined.
    pub soft_breaks: Tally,
}

impl MailText {
    /// Takes one physical line; calls `on_line` with each logical line it
    /// completes (numbered by its first physical line), quote marks
    /// removed.
    pub fn feed(
        &mut self,
        number: u64,
        line: &str,
        on_line: &mut impl FnMut(u64, &str) -> Result<(), SinkError>,
    ) -> Result<(), SinkError> {
        if self.pending.is_empty() && !self.is_soft_break(line) && !line.starts_with('>') {
            if !self.quoted_printable && !line.contains("=3D") {
                return on_line(number, line);
            }
            self.quoted_printable = true;
            let decoded = decode_escapes(line);
            return on_line(number, &decoded);
        }
        if self.pending.is_empty() {
            self.pending_line = number;
        }
        if self.pending.len() + line.len() > MAX_LINE {
            return Err(format!(
                "lines joined by quoted-printable soft breaks (`=` at the end) run over {} \
                 MiB; is this a text lock table?",
                MAX_LINE >> 20
            )
            .into());
        }
        if let Some(head) = line.strip_suffix('=').filter(|_| self.is_soft_break(line)) {
            self.quoted_printable = true;
            self.soft_breaks.add(number);
            self.pending.push_str(head);
            return Ok(());
        }
        self.pending.push_str(line);
        let joined = std::mem::take(&mut self.pending);
        self.emit(&joined, on_line)
    }

    /// Passes on a logical line cut short by the end of the input.
    pub fn finish(
        &mut self,
        on_line: &mut impl FnMut(u64, &str) -> Result<(), SinkError>,
    ) -> Result<(), SinkError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let joined = std::mem::take(&mut self.pending);
        self.emit(&joined, on_line)
    }

    fn emit(
        &mut self,
        joined: &str,
        on_line: &mut impl FnMut(u64, &str) -> Result<(), SinkError>,
    ) -> Result<(), SinkError> {
        let decoded;
        let text = if self.quoted_printable || joined.contains("=3D") {
            self.quoted_printable = true;
            decoded = decode_escapes(joined);
            decoded.as_str()
        } else {
            joined
        };
        let unquoted = strip_quote_marks(text);
        if unquoted.len() != text.len() {
            self.quoted.add(self.pending_line);
        }
        on_line(self.pending_line, unquoted)
    }

    /// Adds what was decoded to a parser's statistics.
    pub fn record(&self, stats: &mut ParseStats) {
        stats.quoted.merge(self.quoted);
        stats.soft_breaks.merge(self.soft_breaks);
    }
}

/// Reads a pasted format's lines as [`each_mail_line`] gives them, each
/// handed to `on_line` with the parser's `state`, then adds what the
/// reading noted (quote marks, soft breaks, repaired bytes) to the
/// state's statistics: the entry every mail-reading parser shares.
pub fn read_mail_lines<R: BufRead, S>(
    reader: R,
    name: &str,
    lossy: bool,
    state: &mut S,
    stats: fn(&mut S) -> &mut ParseStats,
    mut on_line: impl FnMut(&mut S, u64, &str) -> Result<(), SinkError>,
) -> Result<(), Error> {
    let read = each_mail_line(reader, name, lossy, |number, line| {
        on_line(state, number, line)
    })?;
    stats(state)
        .merge(&read)
        .map_err(|message| InputError::whole(name, message).into())
}

/// A pasted format's parser, fed its logical lines one by one: what
/// [`parse_pasted`] needs of it.
pub trait PastedLines {
    /// The error when the input held nothing of the format.
    const NOTHING_FOUND: &'static str;
    /// Takes one logical line.
    fn on_line(&mut self, number: u64, line: &str, sink: &mut dyn Sink) -> Result<(), SinkError>;
    /// What the parser noted so far.
    fn stats(&mut self) -> &mut ParseStats;
    /// Whether the input held the format at all.
    fn found(&self) -> bool;
    /// Ends the input: what a line still held back is passed on.
    fn finish(&mut self, _sink: &mut dyn Sink) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Parses a pasted format through [`read_mail_lines`]: an input with
/// nothing of it is the error [`PastedLines::NOTHING_FOUND`].
pub fn parse_pasted<R: BufRead, P: PastedLines>(
    reader: R,
    name: &str,
    lossy: bool,
    mut parser: P,
    sink: &mut dyn Sink,
) -> Result<ParseStats, Error> {
    read_mail_lines(
        reader,
        name,
        lossy,
        &mut parser,
        P::stats,
        |parser, number, line| parser.on_line(number, line, sink),
    )?;
    parser.finish(sink).map_err(|err| err.whole(name))?;
    if !parser.found() {
        return Err(InputError::whole(name, P::NOTHING_FOUND).into());
    }
    Ok(*parser.stats())
}

/// [`each_line`] through [`MailText`]: the logical lines of a text that
/// may be a quoted or quoted-printable mail (bytes that are not UTF-8
/// repaired under `lossy`). Returns what the reading itself noted: the
/// mail's decoding and the repaired lines, for [`ParseStats::merge`].
pub fn each_mail_line<R: BufRead>(
    reader: R,
    name: &str,
    lossy: bool,
    mut on_line: impl FnMut(u64, &str) -> Result<(), SinkError>,
) -> Result<ParseStats, Error> {
    let mut mail = MailText::default();
    let mut utf8 = Utf8Repair::new(lossy);
    each_line(reader, name, &mut utf8, |number, line| {
        mail.feed(number, line, &mut on_line)
    })?;
    let last = mail.pending_line;
    mail.finish(&mut on_line)
        .map_err(|err| err.at_line(name, last))?;
    let mut read = ParseStats::default();
    mail.record(&mut read);
    utf8.record(&mut read);
    Ok(read)
}

/// The lines of a text head (format detection), as a mail reader gives
/// them, each with its (first) line number.
pub fn logical_lines(lines: &[&str]) -> Vec<(u64, String)> {
    let mut mail = MailText::default();
    let mut out = Vec::with_capacity(lines.len());
    let mut keep = |number: u64, line: &str| {
        out.push((number, line.to_string()));
        Ok(())
    };
    for (index, line) in lines.iter().enumerate() {
        let _ = mail.feed(index as u64 + 1, line, &mut keep);
    }
    let _ = mail.finish(&mut keep);
    out
}

impl MailText {
    /// A quoted-printable soft line break: one `=` at the end (two are
    /// text: quoted-printable writes a literal `=` as `=3D`). Until the
    /// input has shown it is quoted-printable, only on a line as long as
    /// encoders fill them (76 characters, a few less before an escape):
    /// a short line ending in ` =` is prose (`the script: @w[kstack] =`),
    /// and joining the map line under it lost that line's wait.
    fn is_soft_break(&self, line: &str) -> bool {
        line.ends_with('=')
            && !line.ends_with("==")
            && (self.quoted_printable || line.chars().count() >= FIRST_SOFT_BREAK_CHARS)
    }
}

/// The shortest line read as the first soft break of an input.
const FIRST_SOFT_BREAK_CHARS: usize = 60;

/// A line without its leading quote marks: each `>` with the one blank
/// after it.
pub fn strip_quote_marks(line: &str) -> &str {
    let mut rest = line;
    while let Some(after) = rest.strip_prefix('>') {
        rest = after.strip_prefix(' ').unwrap_or(after);
    }
    rest
}

/// `=3D` as `=`, `=20` as a blank: quoted-printable escapes of printable
/// ASCII decoded; any other `=` kept as it is (a broken escape is prose).
fn decode_escapes(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'=')
            .then(|| line.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .filter(|byte| (0x20..0x7f).contains(byte));
        match escaped {
            Some(byte) => {
                out.push(char::from(byte));
                index += 3;
            }
            None => {
                let c = line[index..].chars().next().unwrap_or('\u{fffd}');
                out.push(c);
                index += c.len_utf8();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<(u64, String)>, ParseStats) {
        let mut seen = Vec::new();
        let stats = each_mail_line(text.as_bytes(), "m", false, |number, line| {
            seen.push((number, line.to_string()));
            Ok(())
        })
        .unwrap();
        (seen, stats)
    }

    #[test]
    fn quote_marks_and_soft_breaks() {
        // A soft break where an encoder puts it: at 76 characters.
        let text = "> >  contended   total wait     max wait     avg wait         type   cal=\n\
                    ler\n>> a=3Db\n>\nplain\n";
        let (seen, stats) = read(text);
        let header = " contended   total wait     max wait     avg wait         type   caller";
        assert_eq!(
            seen,
            [
                (1, header.to_string()),
                (3, "a=b".to_string()),
                (4, String::new()),
                (5, "plain".to_string()),
            ]
        );
        assert_eq!(stats.quoted, Tally::of(3, 1));
        assert_eq!(stats.soft_breaks, Tally::of(1, 1));
    }

    #[test]
    fn plain_text_keeps_its_equal_signs() {
        let (seen, stats) = read("# debug: total=12, bad=0\n");
        assert_eq!(seen[0].1, "# debug: total=12, bad=0");
        assert_eq!(stats, ParseStats::default());
        // Once the text is quoted-printable, escapes are decoded.
        let (seen, _) = read("a =\nb\n=3D=3D=3D x =3D=3D=3D\n");
        assert_eq!(seen[2].1, "=== x ===");
    }

    #[test]
    fn a_short_line_ending_in_an_equal_sign_is_prose_until_the_text_is_quoted_printable() {
        // The map line under it (the largest wait) was joined into prose.
        let (seen, stats) = read("the script: @w[kstack] =\n@w[foo]: 5000\n");
        assert_eq!(seen[0], (1, "the script: @w[kstack] =".to_string()));
        assert_eq!(seen[1], (2, "@w[foo]: 5000".to_string()));
        assert_eq!(stats.soft_breaks, Tally::default());
        // After an `=3D` the text is quoted-printable: short breaks join.
        let (seen, _) = read("x =3D 1\na =\nb\n");
        assert_eq!(seen[1], (2, "a b".to_string()));
    }

    #[test]
    fn perf_section_markers_are_not_soft_breaks() {
        let (seen, stats) = read("> >  === owner stack trace ===\n> > 3 x\n");
        assert_eq!(seen[0], (1, " === owner stack trace ===".to_string()));
        assert_eq!(stats.soft_breaks, Tally::default());
    }

    #[test]
    fn joined_lines_are_bounded_like_lines() {
        let text = format!("{}=\n", "0123456789abcdef".repeat(4)).repeat(MAX_LINE / 64 + 10);
        let err = each_mail_line(text.as_bytes(), "m", false, |_, _| Ok(())).unwrap_err();
        assert!(err.to_string().contains("run over 1 MiB"), "{err}");
    }

    #[test]
    fn a_soft_break_at_the_end_is_kept() {
        let tail = "t".repeat(70);
        let (seen, _) = read(&format!("> {tail} ="));
        assert_eq!(seen, [(1, format!("{tail} "))]);
    }

    #[test]
    fn utf8_escapes_of_other_bytes_stay_as_written() {
        assert_eq!(decode_escapes("10:15=E2=80=AFPM"), "10:15=E2=80=AFPM");
        assert_eq!(decode_escapes("x=3"), "x=3");
        assert_eq!(decode_escapes("é=20"), "é ");
    }
}
