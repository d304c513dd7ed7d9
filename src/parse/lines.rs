//! Reading an input line by line, for the line-oriented formats: line
//! numbers, CRLF, and the checks that refuse binary or non-UTF-8 data with
//! the line it was found on.

use std::io::BufRead;

use crate::error::InputError;

/// Calls `on_line(number, line)` for each line of `reader` (1-based numbers,
/// line ends and a trailing CR removed). An error from `on_line` is tied to
/// its line.
pub fn each_line<R: BufRead>(
    mut reader: R,
    name: &str,
    mut on_line: impl FnMut(u64, &str) -> Result<(), String>,
) -> Result<(), InputError> {
    let mut buffer = Vec::with_capacity(256);
    let mut number = 0u64;
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .map_err(|err| InputError::whole(name, format!("cannot read: {err}")))?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        let line =
            text_of(&buffer).map_err(|message| InputError::at_line(name, number, message))?;
        on_line(number, line).map_err(|message| InputError::at_line(name, number, message))?;
    }
}

/// The line as text, without its line end; binary or non-UTF-8 bytes are an
/// error saying where.
fn text_of(buffer: &[u8]) -> Result<&str, String> {
    let bytes = trim_line_end(buffer);
    if let Some(column) = bytes.iter().position(|&b| is_binary(b)) {
        return Err(format!(
            "binary data (byte 0x{:02x} at column {}); is this a text lock table?",
            bytes[column],
            column + 1
        ));
    }
    std::str::from_utf8(bytes).map_err(|err| {
        format!(
            "not valid UTF-8 (byte {} of the line); is this a text lock table?",
            err.valid_up_to() + 1
        )
    })
}

/// Control bytes no text table holds (tab, CR and LF aside).
pub fn is_binary(byte: u8) -> bool {
    byte < 0x20 && !matches!(byte, b'\t' | b'\r' | b'\n') || byte == 0x7f
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Result<Vec<(u64, String)>, InputError> {
        let mut seen = Vec::new();
        each_line(input, "in", |number, line| {
            seen.push((number, line.to_string()));
            Ok(())
        })?;
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
    fn callback_errors_name_the_line() {
        let err = each_line(&b"a\nb\n"[..], "in", |number, _| {
            if number == 2 {
                Err("bad".into())
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "in:2: bad");
    }
}
