//! The ranking as CSV: one row per group, the JSON contract's group fields
//! as columns, durations in integer nanoseconds, shares as fractions. It
//! is `export --what groups --format csv`'s table, written by the same
//! writer.

use crate::error::Result;

use crate::engine::Analysis;
use crate::export::ExportFormat;
use crate::export::records::{each_group_record, group_fields};
use crate::export::writer::{CsvOptions, RecordWriter, WriterOptions};
use crate::parse::Unit;

/// Renders the ranking as CSV with a header row.
pub fn groups(analysis: &Analysis, csv: CsvOptions) -> Result<String> {
    let mut out = Vec::new();
    let options = WriterOptions {
        format: ExportFormat::Csv,
        unit: Unit::Ns,
        csv,
    };
    let mut writer = RecordWriter::new(&mut out, &group_fields(analysis), options)?;
    each_group_record(&analysis.groups, &analysis.by, |record| {
        writer.write(record)
    })?;
    writer.finish()?;
    Ok(String::from_utf8(out)?)
}
