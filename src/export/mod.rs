//! Export: rows, groups or samples as records, written as CSV, TSV, JSON,
//! NDJSON, folded stacks or Parquet. Records are plain values; writers only
//! format them.

pub mod records;
pub mod writer;

#[cfg(feature = "parquet")]
pub mod parquet;

/// Which table to export (`--what`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum What {
    /// The normalized rows, one per parsed row, streamed.
    #[default]
    Rows,
    /// The ranking of `report`, at `--by`, with all its columns.
    Groups,
    /// One record per sample, with each thread state as a column.
    Samples,
}

/// The export formats (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    /// Comma-separated, RFC 4180 quoting, header row.
    #[default]
    Csv,
    /// Tab-separated, header row.
    Tsv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// `key;key;key total_ns` lines for inferno or flamegraph.pl.
    Folded,
    /// Apache Parquet (needs -o FILE).
    Parquet,
}

/// What a field holds, which decides how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text.
    Text,
    /// A whole number that is not a duration.
    Count,
    /// Nanoseconds, written in `--output-unit`.
    Duration,
    /// Nanoseconds that may be negative.
    SignedDuration,
    /// A fraction 0..1.
    Share,
}

/// One column of an exported table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its name, with `_ns` for durations (renamed for `--output-unit`).
    pub name: String,
    /// What it holds.
    pub kind: Kind,
}

impl Field {
    /// A field of the given name and kind.
    pub fn new(name: impl Into<String>, kind: Kind) -> Self {
        Field {
            name: name.into(),
            kind,
        }
    }
}

/// One value of a record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Text.
    Text(&'a str),
    /// A whole number.
    Count(u64),
    /// Nanoseconds.
    Duration(u64),
    /// Nanoseconds, maybe negative.
    SignedDuration(i128),
    /// A fraction.
    Share(f64),
    /// Unknown.
    Null,
}
