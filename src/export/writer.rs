//! Writing records: CSV and TSV (the `csv` crate), JSON and NDJSON, Parquet,
//! and folded-stack lines. Durations are integer nanoseconds, or exact
//! decimals in `--output-unit`.

use std::fmt::Write as _;
use std::io::Write;

use crate::error::Result;
use crate::refuse;

use super::{ExportFormat, Field, Kind, Value};
use crate::parse::Unit;

/// How to write records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterOptions {
    /// The format (never `Folded`: see [`write_folded`]).
    pub format: ExportFormat,
    /// Unit of duration fields.
    pub unit: Unit,
    /// How CSV (and TSV) look.
    pub csv: CsvOptions,
}

/// How CSV looks to a spreadsheet: the same options for `report`, `diff`
/// and `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    /// Field separator for CSV (`--delimiter`); TSV always uses a tab.
    pub delimiter: u8,
    /// CSV and TSV: decimals with a comma (`4,384`), for spreadsheets in
    /// locales that read them so.
    pub decimal_comma: bool,
    /// CSV: text exactly as read, even where a spreadsheet would take it
    /// for a formula (`--raw-text`); see [`spreadsheet_safe`].
    pub raw_text: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            decimal_comma: false,
            raw_text: false,
        }
    }
}

/// A text field as a spreadsheet can open it safely: one that starts like
/// a formula (`=`, `+`, `-`, `@`, a tab or a carriage return, and more
/// follows) gets a `'` in front, as OWASP advises for CSV meant for
/// spreadsheets (`=HYPERLINK(...)` or `@SUM(1+1)*cmd|...` in a lock name
/// would run in Calc or Excel). A lone `-` is no formula and stays.
pub fn spreadsheet_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let mut chars = text.chars();
    let formula = match chars.next() {
        Some('=' | '+' | '-' | '@') => chars.next().is_some(),
        Some('\t' | '\r') => true,
        _ => false,
    };
    if formula {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Writes records of one table, header first.
pub enum RecordWriter<'w> {
    /// CSV or TSV.
    Delimited {
        /// The writer, over the destination.
        csv: Box<csv::Writer<&'w mut dyn Write>>,
        /// Duration unit.
        unit: Unit,
        /// Reused text buffer for numbers.
        buffer: String,
        /// Decimals with a comma.
        decimal_comma: bool,
        /// Text fields made [`spreadsheet_safe`] (CSV without
        /// `--raw-text`).
        guard_formulas: bool,
    },
    /// A JSON array (`lines` false) or one object per line.
    Json {
        /// The destination.
        out: &'w mut dyn Write,
        /// `"name":` for each field, escaped once.
        keys: Vec<String>,
        /// Duration unit.
        unit: Unit,
        /// NDJSON rather than an array.
        lines: bool,
        /// Records written so far.
        written: u64,
        /// Reused text buffer for numbers.
        buffer: String,
    },
    /// Parquet, in row groups.
    #[cfg(feature = "parquet")]
    Parquet(Box<super::parquet::ParquetSink<'w>>),
}

impl<'w> RecordWriter<'w> {
    /// Starts a table with these fields on `out`.
    pub fn new(out: &'w mut dyn Write, fields: &[Field], options: WriterOptions) -> Result<Self> {
        let names: Vec<String> = fields
            .iter()
            .map(|field| header_name(field, options.unit))
            .collect();
        match options.format {
            ExportFormat::Csv | ExportFormat::Tsv => {
                let delimiter = if options.format == ExportFormat::Tsv {
                    b'\t'
                } else {
                    options.csv.delimiter
                };
                let mut csv = csv::WriterBuilder::new()
                    .delimiter(delimiter)
                    .from_writer(out);
                csv.write_record(&names)?;
                Ok(RecordWriter::Delimited {
                    csv: Box::new(csv),
                    unit: options.unit,
                    buffer: String::new(),
                    decimal_comma: options.csv.decimal_comma,
                    guard_formulas: options.format == ExportFormat::Csv && !options.csv.raw_text,
                })
            }
            ExportFormat::Json | ExportFormat::Ndjson => {
                let lines = options.format == ExportFormat::Ndjson;
                if !lines {
                    out.write_all(b"[")?;
                }
                let keys = names
                    .iter()
                    .map(|name| Ok(format!("{}:", serde_json::to_string(name)?)))
                    .collect::<Result<_>>()?;
                Ok(RecordWriter::Json {
                    out,
                    keys,
                    unit: options.unit,
                    lines,
                    written: 0,
                    buffer: String::new(),
                })
            }
            ExportFormat::Parquet => parquet_writer(out, fields, &names, options.unit),
            ExportFormat::Folded => refuse!("folded stacks are not records"),
        }
    }

    /// Writes one record, its values in field order.
    pub fn write(&mut self, values: &[Value<'_>]) -> Result<()> {
        match self {
            RecordWriter::Delimited {
                csv,
                unit,
                buffer,
                decimal_comma,
                guard_formulas,
            } => {
                for value in values {
                    buffer.clear();
                    let text = match value {
                        Value::Text(text) if *guard_formulas => {
                            buffer.push_str(&spreadsheet_safe(text));
                            buffer.as_str()
                        }
                        Value::Text(text) => text,
                        other => {
                            plain_number(other, *unit, buffer);
                            if *decimal_comma {
                                *buffer = buffer.replace('.', ",");
                            }
                            buffer.as_str()
                        }
                    };
                    csv.write_field(text)?;
                }
                csv.write_record(None::<&[u8]>)?;
                Ok(())
            }
            RecordWriter::Json {
                out,
                keys,
                unit,
                lines,
                written,
                buffer,
            } => {
                let separator: &[u8] = match (*lines, *written) {
                    (true, _) => b"",
                    (false, 0) => b"\n",
                    (false, _) => b",\n",
                };
                out.write_all(separator)?;
                buffer.clear();
                buffer.push('{');
                for (index, (key, value)) in keys.iter().zip(values).enumerate() {
                    if index > 0 {
                        buffer.push(',');
                    }
                    buffer.push_str(key);
                    match value {
                        Value::Text(text) => buffer.push_str(&serde_json::to_string(text)?),
                        Value::Null => buffer.push_str("null"),
                        other => plain_number(other, *unit, buffer),
                    }
                }
                buffer.push('}');
                if *lines {
                    buffer.push('\n');
                }
                out.write_all(buffer.as_bytes())?;
                *written += 1;
                Ok(())
            }
            #[cfg(feature = "parquet")]
            RecordWriter::Parquet(sink) => sink.write(values),
        }
    }

    /// Ends the table (closing bracket, footer) and flushes.
    pub fn finish(self) -> Result<()> {
        match self {
            RecordWriter::Delimited { mut csv, .. } => Ok(csv.flush()?),
            RecordWriter::Json {
                out,
                lines,
                written,
                ..
            } => {
                if !lines {
                    out.write_all(if written == 0 { b"]\n" } else { b"\n]\n" })?;
                }
                Ok(out.flush()?)
            }
            #[cfg(feature = "parquet")]
            RecordWriter::Parquet(sink) => sink.finish(),
        }
    }
}

#[cfg(feature = "parquet")]
fn parquet_writer<'w>(
    out: &'w mut dyn Write,
    fields: &[Field],
    names: &[String],
    unit: Unit,
) -> Result<RecordWriter<'w>> {
    let sink = super::parquet::ParquetSink::new(out, fields, names, unit)?;
    Ok(RecordWriter::Parquet(Box::new(sink)))
}

#[cfg(not(feature = "parquet"))]
fn parquet_writer<'w>(
    _out: &'w mut dyn Write,
    _fields: &[Field],
    _names: &[String],
    _unit: Unit,
) -> Result<RecordWriter<'w>> {
    refuse!("this contend was built without Parquet support (cargo feature `parquet`)")
}

/// Writes one folded-stack line, `key;key;key count`, as inferno and
/// flamegraph.pl read them (two counts, before and after, for differential
/// flame graphs). Empty keys read `[unknown]` (a frame must have a name);
/// counts are integer nanoseconds whatever the unit.
pub fn write_folded(out: &mut dyn Write, keys: &[&str], counts: &[u64]) -> std::io::Result<()> {
    for (index, key) in keys.iter().enumerate() {
        if index > 0 {
            out.write_all(b";")?;
        }
        let key = if key.is_empty() { "[unknown]" } else { key };
        out.write_all(folded_frame(key).as_bytes())?;
    }
    for count in counts {
        write!(out, " {count}")?;
    }
    writeln!(out)
}

/// A key as one frame of a folded stack: `;` separates frames and a line
/// ends the record, so a `;` in a key becomes `:` and a line break or any
/// other control character a space (folded stacks have no escapes).
fn folded_frame(key: &str) -> std::borrow::Cow<'_, str> {
    if !key.contains(|c: char| c == ';' || c.is_control()) {
        return std::borrow::Cow::Borrowed(key);
    }
    key.chars()
        .map(|c| match c {
            ';' => ':',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect::<String>()
        .into()
}

/// The column name in this unit: `dur_ns` becomes `dur_us` for `--output-unit us`.
pub fn header_name(field: &Field, unit: Unit) -> String {
    let is_duration = matches!(field.kind, Kind::Duration | Kind::SignedDuration);
    match field.name.strip_suffix("_ns") {
        Some(stem) if is_duration && unit != Unit::Ns => format!("{stem}_{}", unit_suffix(unit)),
        _ => field.name.clone(),
    }
}

fn unit_suffix(unit: Unit) -> &'static str {
    match unit {
        Unit::Ns => "ns",
        Unit::Us => "us",
        Unit::Ms => "ms",
        Unit::S => "s",
    }
}

/// A value as a plain number (no thousands separators), appended to `out`;
/// Null appends nothing.
fn plain_number(value: &Value<'_>, unit: Unit, out: &mut String) {
    match *value {
        Value::Count(n) => write!(out, "{n}").expect("writing to a String"),
        Value::Duration(ns) => decimal(ns, false, unit, out),
        // A difference of two 64-bit times: its size fits 64 bits.
        Value::SignedDuration(ns) => decimal(
            u64::try_from(ns.unsigned_abs()).unwrap_or(u64::MAX),
            ns < 0,
            unit,
            out,
        ),
        Value::Share(share) => write!(out, "{share}").expect("writing to a String"),
        Value::Text(text) => out.push_str(text),
        Value::Null => {}
    }
}

/// Nanoseconds as an exact decimal in `unit`: 12417639 ns is `12417.639` µs.
pub fn decimal(ns: u64, negative: bool, unit: Unit, out: &mut String) {
    if negative {
        out.push('-');
    }
    let places = unit.exponent() as usize;
    if places == 0 {
        write!(out, "{ns}").expect("writing to a String");
    } else {
        let scale = unit.ns();
        write!(out, "{}.{:0places$}", ns / scale, ns % scale).expect("writing to a String");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_exact_decimals() {
        let text = |ns, negative, unit| {
            let mut out = String::new();
            decimal(ns, negative, unit, &mut out);
            out
        };
        assert_eq!(text(12_417_639, false, Unit::Ns), "12417639");
        assert_eq!(text(12_417_639, false, Unit::Us), "12417.639");
        assert_eq!(text(12_417_639, false, Unit::Ms), "12.417639");
        assert_eq!(text(684, false, Unit::Ms), "0.000684");
        assert_eq!(text(1_500, true, Unit::Us), "-1.500");
    }

    #[test]
    fn duration_columns_are_renamed_for_the_unit() {
        let dur = Field::new("dur_ns", Kind::Duration);
        assert_eq!(header_name(&dur, Unit::Ns), "dur_ns");
        assert_eq!(header_name(&dur, Unit::Ms), "dur_ms");
        let rows = Field::new("rows", Kind::Count);
        assert_eq!(header_name(&rows, Unit::Ms), "rows");
    }

    #[test]
    fn folded_lines_name_every_frame() {
        let mut out = Vec::new();
        write_folded(&mut out, &["kernel", "", "reaper"], &[42]).unwrap();
        assert_eq!(out, b"kernel;[unknown];reaper 42\n");
    }

    #[test]
    fn a_key_cannot_add_frames_or_records() {
        let mut out = Vec::new();
        write_folded(&mut out, &["kernel", "a;b", "line\nbreak"], &[7, 8]).unwrap();
        assert_eq!(out, b"kernel;a:b;line break 7 8\n");
    }

    fn written(format: ExportFormat, unit: Unit) -> String {
        let fields = [
            Field::new("input", Kind::Text),
            Field::new("dur_ns", Kind::Duration),
            Field::new("share", Kind::Share),
        ];
        let options = WriterOptions {
            format,
            unit,
            csv: CsvOptions::default(),
        };
        let mut out: Vec<u8> = Vec::new();
        let mut writer = RecordWriter::new(&mut out, &fields, options).unwrap();
        writer
            .write(&[
                Value::Text("a \"b\", c"),
                Value::Duration(1_500),
                Value::Null,
            ])
            .unwrap();
        writer
            .write(&[Value::Text("d"), Value::Duration(7), Value::Share(0.25)])
            .unwrap();
        writer.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_text_format() {
        assert_eq!(
            written(ExportFormat::Csv, Unit::Ns),
            "input,dur_ns,share\n\"a \"\"b\"\", c\",1500,\nd,7,0.25\n"
        );
        assert_eq!(
            written(ExportFormat::Tsv, Unit::Us),
            "input\tdur_us\tshare\n\"a \"\"b\"\", c\"\t1.500\t\nd\t0.007\t0.25\n"
        );
        assert_eq!(
            written(ExportFormat::Json, Unit::Ns),
            "[\n{\"input\":\"a \\\"b\\\", c\",\"dur_ns\":1500,\"share\":null},\n\
             {\"input\":\"d\",\"dur_ns\":7,\"share\":0.25}\n]\n"
        );
        assert_eq!(
            written(ExportFormat::Ndjson, Unit::Ms),
            "{\"input\":\"a \\\"b\\\", c\",\"dur_ms\":0.001500,\"share\":null}\n\
             {\"input\":\"d\",\"dur_ms\":0.000007,\"share\":0.25}\n"
        );
    }
}
