//! Telling an input's format from its first bytes, for `--input-format
//! auto`: each format has a line only it prints.

use super::{InputFormat, csv, lines, mail};

/// How much of an input detection reads.
pub const HEAD_BYTES: usize = 64 * 1024;

/// The magic record that starts a Fuchsia trace (lltextract's output).
const FXT_MAGIC: [u8; 8] = [0x10, 0x00, 0x04, 0x46, 0x78, 0x54, 0x16, 0x00];

/// The format of an input whose first bytes are `head` (`complete` when
/// that is the whole input). Errors say what was tried.
pub fn detect(head: &[u8], complete: bool) -> Result<InputFormat, String> {
    let mut swapped = FXT_MAGIC;
    swapped.reverse();
    // A big-endian capture too: its reader says why it cannot read it.
    if head.starts_with(&FXT_MAGIC) || head.starts_with(&swapped) {
        return Ok(InputFormat::Fxt);
    }
    let binary = head.iter().position(|&b| lines::is_binary(b));
    let text = String::from_utf8_lossy(head);
    let mut lines: Vec<&str> = text.lines().collect();
    if !complete && !text.ends_with('\n') {
        lines.pop(); // cut off mid-line
    }
    if lines.is_empty() && !complete && binary.is_none() {
        return Err(format!(
            "the first line is longer than {} KiB, the most that format detection reads; \
             is this a text lock table? (--input-format names the format)",
            HEAD_BYTES / 1024
        ));
    }
    let found = signatures(&lines);
    match found.as_slice() {
        // A binary byte inside a table is reported by its parser with its
        // line; a file with no table at all is refused here.
        [] if binary.is_some() => {
            let at = binary.unwrap_or_default();
            Err(format!(
                "not a text trace (binary byte 0x{:02x} at offset {at})",
                head[at]
            ))
        }
        [] if text.trim().is_empty() => Err("no lock table found: the input is empty".into()),
        [] if csv_near_miss(&lines).is_some() => Err(format!(
            "no lock table found: {}",
            csv_near_miss(&lines).unwrap_or_default()
        )),
        [] => Err(format!(
            "no lock table found in the first {} lines: not {}; if it is one of these, name \
             it with --input-format",
            lines.len(),
            text_signatures()
        )),
        [(format, _)] => Ok(*format),
        several => {
            let seen: Vec<String> = several
                .iter()
                .map(|(format, line)| format!("{} (line {line})", format.name()))
                .collect();
            Err(format!(
                "the input looks like several formats: {}; name one with --input-format",
                seen.join(", ")
            ))
        }
    }
}

/// The text format other than `format` (by name) that only prints a line
/// like `text`, if any.
pub fn other_format_line(text: &str, format: &str) -> Option<InputFormat> {
    InputFormat::concrete()
        .filter(|other| other.name() != format)
        .find(|other| other.is_signature_line(text))
}

/// The formats whose signature lines appear, each with its first line.
/// The formats whose parsers read mails (quote marks, quoted-printable)
/// are also looked for in the lines as a mail reader gives them, so a
/// table quoted in a reply is found.
fn signatures(lines: &[&str]) -> Vec<(InputFormat, u64)> {
    let mut found: Vec<(InputFormat, u64)> = Vec::new();
    let mut add =
        |format: InputFormat, number: u64| match found.iter_mut().find(|(f, _)| *f == format) {
            Some((_, first)) => *first = (*first).min(number),
            None => found.push((format, number)),
        };
    let first_text = lines.iter().position(|line| !line.trim().is_empty());
    for (index, line) in lines.iter().enumerate() {
        let format = if Some(index) == first_text {
            csv_signature(line).or_else(|| line_signature(line))
        } else {
            line_signature(line)
        };
        if let Some(format) = format {
            add(format, index as u64 + 1);
        }
    }
    for (number, line) in mail::logical_lines(lines) {
        if let Some(format) = line_signature(&line).filter(|format| format.reads_mail()) {
            add(format, number);
        }
    }
    found.sort_by_key(|(_, line)| *line);
    found
}

/// The text formats detected line by line, in the order their signature
/// lines are tried: by each format's rank, the most telling first (a perf
/// lock header has a `wait` column a table's could have too).
static BY_LINE: std::sync::LazyLock<Vec<InputFormat>> = std::sync::LazyLock::new(|| {
    let mut by_line: Vec<InputFormat> = InputFormat::concrete()
        .filter(|format| format.spec().signature_line.is_some())
        .collect();
    by_line.sort_by_key(|format| format.spec().signature_line.map(|(rank, _)| rank));
    by_line
});

fn line_signature(line: &str) -> Option<InputFormat> {
    BY_LINE
        .iter()
        .copied()
        .find(|format| format.is_signature_line(line))
}

/// `a Perfetto table (...), CSV (...), ... or lockstat (...)`: the text
/// formats and what detection looks for in each.
fn text_signatures() -> String {
    let text: Vec<&str> = InputFormat::concrete()
        .filter(|format| *format != InputFormat::Fxt)
        .map(|format| format.signature())
        .collect();
    match text.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => text.join(""),
    }
}

/// What a first line that is almost a CSV lock header lacks.
fn csv_near_miss(lines: &[&str]) -> Option<String> {
    let first = lines.iter().find(|line| !line.trim().is_empty())?;
    let record = csv_header(first)?;
    let names: Vec<&str> = record.iter().collect();
    csv::missing_columns(&names)
}

/// A line read as a CSV header (comma- or tab-separated, quotes honoured),
/// when it has two fields or more.
fn csv_header(line: &str) -> Option<::csv::StringRecord> {
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(csv::delimiter_of(line))
        .has_headers(false)
        .from_reader(line.as_bytes());
    let record = reader.records().next()?.ok()?;
    (record.len() >= 2).then_some(record)
}

/// A first line that is a CSV header with a dur column. A tab-separated
/// one is read by the table format unless it has columns only CSV knows
/// (sample, states).
fn csv_signature(line: &str) -> Option<InputFormat> {
    let record = csv_header(line)?;
    let names: Vec<&str> = record.iter().collect();
    if !csv::is_lock_header(&names) {
        return None;
    }
    let tab_table = csv::delimiter_of(line) == b'\t' && !csv::has_csv_only_columns(&names);
    Some(if tab_table {
        InputFormat::Table
    } else {
        InputFormat::Csv
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format_of(text: &str) -> Result<InputFormat, String> {
        detect(text.as_bytes(), true)
    }

    #[test]
    fn each_format_by_its_signature() {
        let seed = "Reaper samplings\n\nStopped\t496.6ms\nRunning\t4.384ms\n\
                    dur\t\tcategory\targ_set_id__symbol__\targ_set_id__caller__\n";
        assert_eq!(format_of(seed), Ok(InputFormat::Table));
        assert_eq!(
            format_of("\"dur\",\"category\",\"arg_set_id__symbol__\"\n1,\"a\",\"b\"\n"),
            Ok(InputFormat::Csv)
        );
        assert_eq!(
            format_of("sample\tdur\tsymbol\n1\t5\tx\n"),
            Ok(InputFormat::Csv)
        );
        assert_eq!(format_of("dur\tsymbol\n5\tx\n"), Ok(InputFormat::Table));
        assert_eq!(
            format_of("Attaching 1 probe...\n@wait[kernel_lock, reaper]: 5\n"),
            Ok(InputFormat::Btrace)
        );
        assert_eq!(
            format_of(" contended   total wait     max wait     avg wait         type   caller\n"),
            Ok(InputFormat::PerfLock)
        );
        assert_eq!(
            format_of("# output: contended, total wait, max wait, avg wait, type, caller\n"),
            Ok(InputFormat::PerfLock)
        );
        assert_eq!(
            format_of("\nAdaptive mutex spin: 287 events in 0.036 seconds (7944 events/sec)\n"),
            Ok(InputFormat::Lockstat)
        );
    }

    #[test]
    fn refusals_say_why() {
        assert!(format_of("").unwrap_err().contains("the input is empty"));
        let none = format_of("Hi,\nno numbers here\n").unwrap_err();
        assert!(
            none.starts_with("no lock table found in the first 2 lines"),
            "{none}"
        );
        assert!(none.contains("--input-format"));
        let both = format_of("dur symbol\n5 x\n@wait[x]: 5\n").unwrap_err();
        assert_eq!(
            both,
            "the input looks like several formats: table (line 1), btrace (line 3); \
             name one with --input-format"
        );
        let binary = detect(b"\x00\x00\x00\x00", true).unwrap_err();
        assert_eq!(binary, "not a text trace (binary byte 0x00 at offset 0)");
        // A table with a bad byte is the table parser's to report, by line.
        assert_eq!(
            detect(b"dur symbol\n5 \x00\x01", true),
            Ok(InputFormat::Table)
        );
        let fxt = detect(&[0x10, 0x00, 0x04, 0x46, 0x78, 0x54, 0x16, 0x00, 1], true);
        assert_eq!(fxt, Ok(InputFormat::Fxt));
    }

    #[test]
    fn a_cut_last_line_is_not_read() {
        // 64 KiB of prose, then a header cut by the end of the head.
        assert!(detect(b"Hi\ndur category sym", false).is_err());
        assert_eq!(
            detect(b"Hi\ndur category symbol\n", false),
            Ok(InputFormat::Table)
        );
    }
}
