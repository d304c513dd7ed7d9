//! Parquet through polars' own writer, in row groups, so exporting many rows
//! holds one row group in memory, not the whole table.

use std::io::Write;

use crate::error::{Error, Result};
use crate::refuse;
use polars::prelude::{Column, DataFrame, DataType, PolarsError, Schema};
use polars_io::parquet::write::{BatchedWriter, ParquetWriter};

use super::{Field, Kind, Value};
use crate::parse::Unit;

/// Rows per row group.
const ROW_GROUP: usize = 64 * 1024;

/// Values of one column awaiting the next row group.
enum Buffer {
    Text(Vec<Option<String>>),
    Unsigned(Vec<Option<u64>>),
    Signed(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
}

/// Collects records into row groups and writes them.
pub struct ParquetSink<'w> {
    writer: BatchedWriter<&'w mut dyn Write>,
    names: Vec<String>,
    columns: Vec<Buffer>,
    unit: Unit,
    buffered: usize,
}

impl<'w> ParquetSink<'w> {
    /// Starts a Parquet file with these fields (named `names`).
    pub fn new(
        out: &'w mut dyn Write,
        fields: &[Field],
        names: &[String],
        unit: Unit,
    ) -> Result<Self> {
        let columns: Vec<Buffer> = fields.iter().map(|f| empty_buffer(f.kind, unit)).collect();
        let schema: Schema = names
            .iter()
            .zip(&columns)
            .map(|(name, column)| (name.as_str().into(), dtype(column)))
            .collect();
        let writer = ParquetWriter::new(out).batched(&schema)?;
        Ok(ParquetSink {
            writer,
            names: names.to_vec(),
            columns,
            unit,
            buffered: 0,
        })
    }

    /// Adds a record; writes a row group when one is full.
    pub fn write(&mut self, values: &[Value<'_>]) -> Result<()> {
        let scale = self.unit.ns() as f64;
        for (column, value) in self.columns.iter_mut().zip(values) {
            match (column, *value) {
                (Buffer::Text(v), Value::Text(text)) => v.push(Some(text.to_string())),
                (Buffer::Unsigned(v), Value::Count(n) | Value::Duration(n)) => v.push(Some(n)),
                (Buffer::Signed(v), Value::SignedDuration(n)) => match i64::try_from(n) {
                    Ok(n) => v.push(Some(n)),
                    Err(_) => refuse!(
                        "work of {n} ns passes Parquet's signed 64-bit column (292 years); \
                         --output-unit s writes it as a float"
                    ),
                },
                (Buffer::Float(v), Value::Share(share)) => v.push(Some(share)),
                (Buffer::Float(v), Value::Duration(ns)) => v.push(Some(ns as f64 / scale)),
                (Buffer::Float(v), Value::SignedDuration(ns)) => v.push(Some(ns as f64 / scale)),
                (Buffer::Text(v), Value::Null) => v.push(None),
                (Buffer::Unsigned(v), Value::Null) => v.push(None),
                (Buffer::Signed(v), Value::Null) => v.push(None),
                (Buffer::Float(v), Value::Null) => v.push(None),
                (_, value) => refuse!("internal: {value:?} does not fit its Parquet column"),
            }
        }
        self.buffered += 1;
        if self.buffered >= ROW_GROUP {
            self.flush_row_group()?;
        }
        Ok(())
    }

    /// Writes what is buffered and the file footer.
    pub fn finish(mut self) -> Result<()> {
        self.flush_row_group()?;
        self.writer.finish()?;
        Ok(())
    }

    fn flush_row_group(&mut self) -> Result<()> {
        if self.buffered == 0 {
            return Ok(());
        }
        let columns: Vec<Column> = self
            .names
            .iter()
            .zip(self.columns.iter_mut())
            .map(|(name, buffer)| take_column(name, buffer))
            .collect();
        self.writer
            .write_batch(&DataFrame::new_infer_height(columns)?)?;
        self.buffered = 0;
        Ok(())
    }
}

fn empty_buffer(kind: Kind, unit: Unit) -> Buffer {
    match kind {
        Kind::Text => Buffer::Text(Vec::new()),
        Kind::Count => Buffer::Unsigned(Vec::new()),
        Kind::Share => Buffer::Float(Vec::new()),
        Kind::Duration | Kind::SignedDuration if unit != Unit::Ns => Buffer::Float(Vec::new()),
        Kind::Duration => Buffer::Unsigned(Vec::new()),
        Kind::SignedDuration => Buffer::Signed(Vec::new()),
    }
}

fn dtype(buffer: &Buffer) -> DataType {
    match buffer {
        Buffer::Text(_) => DataType::String,
        Buffer::Unsigned(_) => DataType::UInt64,
        Buffer::Signed(_) => DataType::Int64,
        Buffer::Float(_) => DataType::Float64,
    }
}

fn take_column(name: &str, buffer: &mut Buffer) -> Column {
    let name = name.into();
    match buffer {
        Buffer::Text(v) => Column::new(name, std::mem::take(v)),
        Buffer::Unsigned(v) => Column::new(name, std::mem::take(v)),
        Buffer::Signed(v) => Column::new(name, std::mem::take(v)),
        Buffer::Float(v) => Column::new(name, std::mem::take(v)),
    }
}

impl From<PolarsError> for Error {
    /// The Parquet writer's error; one that wraps the output's own I/O
    /// error is told as the output's by the command (`writing FILE: ...`).
    fn from(err: PolarsError) -> Self {
        match err {
            PolarsError::IO { error, .. } => match std::sync::Arc::try_unwrap(error) {
                Ok(io) => Error::output(io),
                Err(shared) => {
                    Error::output(std::io::Error::new(shared.kind(), shared.to_string()))
                }
            },
            other => Error::output(std::io::Error::other(other.to_string())),
        }
    }
}
