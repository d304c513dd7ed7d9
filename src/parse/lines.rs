//! Reading an input line by line, for the line-oriented formats: line
//! numbers, CRLF, and the checks that refuse binary or non-UTF-8 data with
//! the line it was found on.

use std::io::BufRead;

use super::SinkError;
use crate::error::{Error, InputError};

/// The longest line read: a longer one is an error, not an unbounded
/// buffer (a binary file without newlines, a mangled dump).
pub const MAX_LINE: usize = 1 << 20;

/// Calls `on_line(number, line)` for each line of `reader` (1-based numbers,
/// line ends and a trailing CR removed) and returns the number of lines. An
/// error from `on_line` is tied to its line.
///
/// Lines are cut out of the reader's own buffer with memchr; only a line
/// that straddles two reads is copied.
pub fn each_line<R: BufRead>(
    mut reader: R,
    name: &str,
    utf8: &mut Utf8Repair,
    mut on_line: impl FnMut(u64, &str) -> Result<(), SinkError>,
) -> Result<u64, Error> {
    let mut carry: Vec<u8> = Vec::new();
    let mut number = 0u64;
    loop {
        let block = reader
            .fill_buf()
            .map_err(|err| InputError::whole(name, format!("cannot read: {err}")))?;
        if block.is_empty() {
            break;
        }
        let read = block.len();
        let mut start = 0;
        if !carry.is_empty() {
            let Some(end) = memchr::memchr(b'\n', block) else {
                carry.extend_from_slice(block);
                check_length(&carry, name, number + 1)?;
                reader.consume(read);
                continue;
            };
            carry.extend_from_slice(&block[..end]);
            check_length(&carry, name, number + 1)?;
            number += 1;
            raw_line(name, number, &carry, utf8, &mut on_line)?;
            carry.clear();
            start = end + 1;
        }
        if let Some(last) = memchr::memrchr(b'\n', &block[start..]) {
            let whole_lines = &block[start..start + last + 1];
            number = match whole_text(whole_lines) {
                Some(text) => each_checked_line(text, number, &mut on_line)
                    .map_err(|(number, err)| err.at_line(name, number))?,
                None => each_raw_line(name, whole_lines, number, utf8, &mut on_line)?,
            };
            start += last + 1;
        }
        carry.extend_from_slice(&block[start..]);
        check_length(&carry, name, number + 1)?;
        reader.consume(read);
    }
    if !carry.is_empty() {
        number += 1;
        raw_line(name, number, &carry, utf8, &mut on_line)?;
    }
    Ok(number)
}

/// The lines of `text`, which [`whole_text`] has checked, to `on_line`;
/// returns the last line number, or the failing line and its message.
fn each_checked_line(
    text: &str,
    mut number: u64,
    on_line: &mut impl FnMut(u64, &str) -> Result<(), SinkError>,
) -> Result<u64, (u64, SinkError)> {
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
        number += 1;
        // Cut next to ASCII newlines: always character boundaries.
        let line = &text[start..end];
        on_line(number, line.strip_suffix('\r').unwrap_or(line)).map_err(|m| (number, m))?;
        start = end + 1;
    }
    Ok(number)
}

/// The lines of `bytes` checked one by one (a block that failed the whole
/// check): the first bad line is reported with its number.
fn each_raw_line(
    name: &str,
    bytes: &[u8],
    mut number: u64,
    utf8: &mut Utf8Repair,
    on_line: &mut impl FnMut(u64, &str) -> Result<(), SinkError>,
) -> Result<u64, Error> {
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', bytes) {
        number += 1;
        raw_line(name, number, &bytes[start..end], utf8, on_line)?;
        start = end + 1;
    }
    Ok(number)
}

/// One line checked on its own, to `on_line`; with `--lossy`, bytes that
/// are not UTF-8 become U+FFFD (and are counted).
fn raw_line(
    name: &str,
    number: u64,
    bytes: &[u8],
    utf8: &mut Utf8Repair,
    on_line: &mut impl FnMut(u64, &str) -> Result<(), SinkError>,
) -> Result<(), Error> {
    let at_line = |message| InputError::at_line(name, number, message);
    let line = match text_of(bytes) {
        Ok(line) => std::borrow::Cow::Borrowed(line),
        Err(LineError::NotUtf8(_)) if utf8.lossy => {
            utf8.replace(number);
            let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            String::from_utf8_lossy(bytes)
        }
        Err(LineError::NotUtf8(message) | LineError::Binary(message)) => {
            return Err(at_line(message).into());
        }
    };
    on_line(number, &line).map_err(|err| err.at_line(name, number))
}

/// `--lossy`: read bytes that are not UTF-8 as U+FFFD instead of failing;
/// counts the lines so repaired, for a note.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Utf8Repair {
    /// Repair instead of failing.
    pub lossy: bool,
    /// Lines repaired.
    pub lines: u64,
    /// The first of them.
    pub first_line: Option<u64>,
}

impl Utf8Repair {
    /// Fails on bytes that are not UTF-8, or (`lossy`) repairs them.
    pub fn new(lossy: bool) -> Self {
        Utf8Repair {
            lossy,
            ..Utf8Repair::default()
        }
    }

    fn replace(&mut self, line: u64) {
        self.lines += 1;
        self.first_line.get_or_insert(line);
    }

    /// Adds the count to a parser's statistics.
    pub fn record(&self, stats: &mut super::ParseStats) {
        stats.repaired_lines += self.lines;
        if stats.first_repaired_line.is_none() {
            stats.first_repaired_line = self.first_line;
        }
    }
}

/// Why a line is not text.
enum LineError {
    Binary(String),
    NotUtf8(String),
}

/// Whole lines as text when they hold no binary byte and are UTF-8: one
/// check per block instead of one per line.
fn whole_text(bytes: &[u8]) -> Option<&str> {
    if has_control_bytes(bytes) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

fn check_length(line: &[u8], name: &str, number: u64) -> Result<(), InputError> {
    if line.len() > MAX_LINE {
        return Err(InputError::at_line(
            name,
            number,
            format!(
                "line longer than {} MiB; is this a text lock table?",
                MAX_LINE >> 20
            ),
        ));
    }
    Ok(())
}

/// The line as text, without its line end; binary or non-UTF-8 bytes are an
/// error saying where.
fn text_of(line: &[u8]) -> Result<&str, LineError> {
    let bytes = line.strip_suffix(b"\r").unwrap_or(line);
    if has_control_bytes(bytes) {
        let column = bytes.iter().position(|&b| is_binary(b)).unwrap_or(0);
        return Err(LineError::Binary(format!(
            "binary data (byte 0x{:02x} at column {}); is this a text lock table?",
            bytes[column],
            column + 1
        )));
    }
    std::str::from_utf8(bytes).map_err(|err| {
        LineError::NotUtf8(format!(
            "not valid UTF-8 (byte {} of the line); --lossy reads such bytes as U+FFFD",
            err.valid_up_to() + 1
        ))
    })
}

/// Whether any byte is [`is_binary`] (newlines allowed, so a block of
/// whole lines is checked at once), in one branch-free pass the compiler
/// can vectorise: this runs on every byte of the input.
fn has_control_bytes(bytes: &[u8]) -> bool {
    let flagged = bytes.iter().fold(0u8, |flags, &b| {
        let control =
            u8::from(b < 0x20) & u8::from(b != b'\t') & u8::from(b != b'\r') & u8::from(b != b'\n');
        flags | control | u8::from(b == 0x7f)
    });
    flagged != 0
}

/// Control bytes no text table holds (tab, CR and LF aside).
pub fn is_binary(byte: u8) -> bool {
    byte < 0x20 && !matches!(byte, b'\t' | b'\r' | b'\n') || byte == 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Result<Vec<(u64, String)>, InputError> {
        let mut seen = Vec::new();
        each_line(input, "in", &mut Utf8Repair::default(), |number, line| {
            seen.push((number, line.to_string()));
            Ok(())
        })
        .map_err(crate::parse::testing::input_error)?;
        Ok(seen)
    }

    #[test]
    fn numbers_lines_and_drops_crlf() {
        let seen = lines(b"a\r\nb\n\nc").unwrap();
        assert_eq!(
            seen,
            [
                (1, "a".to_string()),
                (2, "b".to_string()),
                (3, String::new()),
                (4, "c".to_string())
            ]
        );
    }

    #[test]
    fn refuses_binary_and_bad_utf8_with_the_line() {
        let err = lines(b"ok\nx\x00y\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "in:2: binary data (byte 0x00 at column 2); is this a text lock table?"
        );
        let err = lines(b"ok\nok\nab\xff\n").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("not valid UTF-8 (byte 3"));
    }

    #[test]
    fn lines_across_reads_and_overlong_lines() {
        // A 3-byte buffer: every line straddles reads.
        let reader = std::io::BufReader::with_capacity(3, &b"alpha\nbeta\r\ngamma"[..]);
        let mut seen = Vec::new();
        each_line(reader, "in", &mut Utf8Repair::default(), |number, line| {
            seen.push((number, line.to_string()));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            seen,
            [
                (1, "alpha".to_string()),
                (2, "beta".to_string()),
                (3, "gamma".to_string())
            ]
        );
        let long = vec![b'x'; MAX_LINE + 10];
        let err = lines(&long).unwrap_err();
        assert_eq!(
            err.to_string(),
            "in:1: line longer than 1 MiB; is this a text lock table?"
        );
    }

    #[test]
    fn callback_errors_name_the_line() {
        let err = each_line(
            &b"a\nb\n"[..],
            "in",
            &mut Utf8Repair::default(),
            |number, _| {
                if number == 2 {
                    Err("bad".into())
                } else {
                    Ok(())
                }
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "in:2: bad");
    }
}
