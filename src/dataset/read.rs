//! Reading a dataset back: its files found by walking the folder, grouped
//! by partition, and each partition read into one host's run. Only the
//! partitions asked for are opened (the path says which a file is), and
//! of each file only the columns used: a fleet of a thousand hosts is read
//! one host at a time.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame, StringChunked, UInt64Chunked};
use polars_io::SerReader;
use polars_io::parquet::read::ParquetReader;

use super::{Partition, VERSION, record};
use crate::distribution::{Histogram, StoredBucket};
use crate::engine::LockClass;
use crate::engine::fleet::{HostLock, HostRun, KeyIds, KeyNames, LockFigures, SampleTimes};
use crate::error::{InputError, Result};
use crate::hashing::InputMap;
use crate::refuse;

/// The text columns a fleet report reads.
const TEXTS: [&str; 5] = ["record", "category", "symbol", "caller", "class"];

/// The part files of a dataset by partition, those `keep` accepts.
pub fn partitions(
    dir: &Path,
    keep: impl Fn(&Partition) -> bool,
) -> Result<BTreeMap<Partition, Vec<PathBuf>>> {
    let mut files = Vec::new();
    walk(dir, &mut files)
        .map_err(|err| InputError::whole(&dir.display().to_string(), err.to_string()))?;
    if files.is_empty() {
        return Err(InputError::whole(
            &dir.display().to_string(),
            "is a directory, not a trace, and holds no dataset's Parquet files (`contend \
             export --dataset DIR` writes them)",
        )
        .into());
    }
    let mut by_partition: BTreeMap<Partition, Vec<PathBuf>> = BTreeMap::new();
    for file in files {
        let Some(partition) = Partition::of_file(&file, dir) else {
            return Err(InputError::whole(
                &file.display().to_string(),
                "not in a host=H/build=B folder of the dataset",
            )
            .into());
        };
        if keep(&partition) {
            by_partition.entry(partition).or_default().push(file);
        }
    }
    Ok(by_partition)
}

/// Folder levels walked below the dataset's (its partitions are two): a
/// symlink that leads back up cannot walk forever.
const MAX_DEPTH: usize = 8;

/// The `.parquet` files under `dir`, sorted; folders and files whose
/// names start with `.` or `_` are skipped, as Spark and Hive skip them
/// (an export's staging folder among them). Symlinks are followed: a
/// dataset gathered from several machines' exports may link their hosts.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    walk_below(dir, files, MAX_DEPTH)
}

fn walk_below(dir: &Path, files: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            if depth > 0 {
                walk_below(&path, files, depth - 1)?;
            }
        } else if name.ends_with(".parquet") {
            files.push(path);
        }
    }
    Ok(())
}

/// Reads one partition's part files into its run, its keys named in
/// `names`.
pub fn read_run(partition: &Partition, files: &[PathBuf], names: &mut KeyNames) -> Result<HostRun> {
    let mut run = HostRun {
        partition: partition.clone(),
        parts: files.len(),
        ..HostRun::default()
    };
    let mut locks: InputMap<KeyIds, LockFigures> = InputMap::default();
    for file in files {
        let name = file.display().to_string();
        let frame = read_frame(file, &name)?;
        let mut file_records = FileRecords {
            name: &name,
            run: &mut run,
            locks: &mut locks,
            names,
        };
        file_records.add(&frame)?;
    }
    run.locks = locks
        .into_iter()
        .map(|(keys, figures)| HostLock { keys, figures })
        .collect();
    Ok(run)
}

fn read_frame(file: &Path, name: &str) -> Result<DataFrame> {
    let not_ours = |err: &dyn std::fmt::Display| {
        InputError::whole(
            name,
            format!("not a Parquet file of a contend dataset: {err}"),
        )
    };
    let opened = File::open(file).map_err(|err| InputError::whole(name, err.to_string()))?;
    let frame = ParquetReader::new(opened)
        .with_columns(Some(
            TEXTS
                .iter()
                .chain(&NUMBERS)
                .map(|name| name.to_string())
                .collect(),
        ))
        .finish()
        .map_err(|err| not_ours(&err))?;
    Ok(frame)
}

/// The typed columns of one file, each looked up once.
struct Columns<'f> {
    record: &'f StringChunked,
    keys: [&'f StringChunked; 3],
    class: &'f StringChunked,
    numbers: [Option<&'f UInt64Chunked>; NUMBERS.len()],
}

/// The numeric columns read, in the order of [`Columns::numbers`].
const NUMBERS: [&str; 17] = [
    "dataset_version",
    "running_ns",
    "off_cpu_ns",
    "spin_ns",
    "sleep_wait_ns",
    "kernel_lock_ns",
    "total_ns",
    "rows",
    "events",
    "max_ns",
    "wait_min_ns",
    "wait_max_ns",
    "bucket",
    "bucket_low_ns",
    "bucket_high_ns",
    "bucket_count",
    "bucket_sum_ns",
];

/// The place of each numeric column in [`NUMBERS`].
mod at {
    pub const DATASET_VERSION: usize = 0;
    pub const RUNNING_NS: usize = 1;
    pub const OFF_CPU_NS: usize = 2;
    pub const SPIN_NS: usize = 3;
    pub const SLEEP_WAIT_NS: usize = 4;
    pub const KERNEL_LOCK_NS: usize = 5;
    pub const TOTAL_NS: usize = 6;
    pub const ROWS: usize = 7;
    pub const EVENTS: usize = 8;
    pub const MAX_NS: usize = 9;
    pub const WAIT_MIN_NS: usize = 10;
    pub const WAIT_MAX_NS: usize = 11;
    pub const BUCKET: usize = 12;
    pub const BUCKET_LOW_NS: usize = 13;
    pub const BUCKET_HIGH_NS: usize = 14;
    pub const BUCKET_COUNT: usize = 15;
    pub const BUCKET_SUM_NS: usize = 16;
}

impl<'f> Columns<'f> {
    fn of(frame: &'f DataFrame, name: &str) -> Result<Self> {
        let column = |column: &str| -> Result<&'f Column> {
            frame.column(column).map_err(|err| {
                InputError::whole(name, format!("not a contend dataset file: {err}")).into()
            })
        };
        let text = |at: &str| -> Result<&'f StringChunked> {
            column(at)?
                .str()
                .map_err(|err| InputError::whole(name, format!("column {at}: {err}")).into())
        };
        let mut numbers = [None; NUMBERS.len()];
        for (slot, at) in numbers.iter_mut().zip(NUMBERS) {
            *slot = column(at)?.u64().ok();
        }
        Ok(Columns {
            record: text("record")?,
            keys: [text("category")?, text("symbol")?, text("caller")?],
            class: text("class")?,
            numbers,
        })
    }

    /// The value of the numeric column at `column` (a place in
    /// [`NUMBERS`], from [`at`]).
    fn number(&self, column: usize, row: usize) -> Option<u64> {
        self.numbers[column].and_then(|values| values.get(row))
    }

    fn keys(&self, row: usize, names: &mut KeyNames) -> Option<KeyIds> {
        let [category, symbol, caller] = self.keys;
        Some([
            names.id(category.get(row)?),
            names.id(symbol.get(row)?),
            names.id(caller.get(row)?),
        ])
    }
}

/// What one file's records go into.
struct FileRecords<'r> {
    name: &'r str,
    run: &'r mut HostRun,
    locks: &'r mut InputMap<KeyIds, LockFigures>,
    names: &'r mut KeyNames,
}

impl FileRecords<'_> {
    /// Adds a file's records to the run: its samples' times, its locks,
    /// the buckets of their single waits.
    fn add(&mut self, frame: &DataFrame) -> Result<()> {
        let name = self.name;
        let columns = Columns::of(frame, name)?;
        let bad = |row: usize, what: &str| -> crate::error::Error {
            InputError::whole(name, format!("record {}: {what}", row + 1)).into()
        };
        let mut buckets: Vec<(KeyIds, StoredBucket)> = Vec::new();
        let mut bounds: InputMap<KeyIds, (u64, u64)> = InputMap::default();
        for row in 0..frame.height() {
            match columns.number(at::DATASET_VERSION, row) {
                Some(VERSION) => {}
                Some(other) => refuse!(
                    "{name}: dataset version {other}; this contend reads version {VERSION} (a \
                 newer contend wrote it)"
                ),
                None => return Err(bad(row, "no dataset_version")),
            }
            match columns.record.get(row) {
                Some(record::SAMPLE) => {
                    self.run.samples += 1;
                    self.run.totals.add_sample(SampleTimes {
                        running_ns: columns.number(at::RUNNING_NS, row),
                        off_cpu_ns: columns.number(at::OFF_CPU_NS, row),
                        spin_ns: columns.number(at::SPIN_NS, row).unwrap_or(0),
                        kernel_lock_ns: columns.number(at::KERNEL_LOCK_NS, row).unwrap_or(0),
                        sleep_wait_ns: columns.number(at::SLEEP_WAIT_NS, row).unwrap_or(0),
                    });
                }
                Some(record::GROUP) => {
                    let keys = columns
                        .keys(row, self.names)
                        .ok_or_else(|| bad(row, "a group without keys"))?;
                    let class = columns
                        .class
                        .get(row)
                        .and_then(LockClass::from_name)
                        .ok_or_else(|| bad(row, "a group without a class"))?;
                    if let (Some(min), Some(max)) = (
                        columns.number(at::WAIT_MIN_NS, row),
                        columns.number(at::WAIT_MAX_NS, row),
                    ) {
                        bounds.insert(keys, (min, max));
                    }
                    let figures = LockFigures {
                        class,
                        total_ns: columns.number(at::TOTAL_NS, row),
                        spin_ns: columns.number(at::SPIN_NS, row).unwrap_or(0),
                        rows: columns.number(at::ROWS, row).unwrap_or(0),
                        events: columns.number(at::EVENTS, row),
                        max_ns: columns.number(at::MAX_NS, row),
                        waits: None,
                    };
                    merge_lock(self.locks, keys, figures);
                }
                Some(record::BUCKET) => {
                    let keys = columns
                        .keys(row, self.names)
                        .ok_or_else(|| bad(row, "a bucket without keys"))?;
                    let number = |column: usize| {
                        columns.number(column, row).ok_or_else(|| {
                            bad(row, &format!("a bucket without {}", NUMBERS[column]))
                        })
                    };
                    let index = u16::try_from(number(at::BUCKET)?)
                        .map_err(|_| bad(row, "a bucket number past 65535"))?;
                    buckets.push((
                        keys,
                        StoredBucket {
                            index,
                            low_ns: number(at::BUCKET_LOW_NS)?,
                            high_ns: number(at::BUCKET_HIGH_NS)?,
                            count: number(at::BUCKET_COUNT)?,
                            sum_ns: number(at::BUCKET_SUM_NS)?,
                        },
                    ));
                }
                // A record of a kind a later version adds: not this reader's.
                _ => {}
            }
        }
        add_buckets(self.locks, buckets, &bounds).map_err(|what| InputError::whole(name, what))?;
        Ok(())
    }
}

/// The buckets of each key's single waits, as one histogram per key of
/// this file, merged into the run's.
fn add_buckets(
    locks: &mut InputMap<KeyIds, LockFigures>,
    buckets: Vec<(KeyIds, StoredBucket)>,
    bounds: &InputMap<KeyIds, (u64, u64)>,
) -> std::result::Result<(), String> {
    let mut histograms: InputMap<KeyIds, Histogram> = InputMap::default();
    for (keys, bucket) in buckets {
        let Some(&(min, max)) = bounds.get(&keys) else {
            return Err(format!(
                "bucket {} without its group's wait_min_ns",
                bucket.index
            ));
        };
        histograms
            .entry(keys)
            .or_default()
            .add_stored(bucket, min, max)
            .ok_or_else(|| format!("bucket {} is no bucket contend makes", bucket.index))?;
    }
    for (keys, waits) in histograms {
        if let Some(lock) = locks.get_mut(&keys) {
            match &mut lock.waits {
                Some(mine) => mine.merge(&waits),
                None => lock.waits = Some(waits),
            }
        }
    }
    Ok(())
}

fn merge_lock(locks: &mut InputMap<KeyIds, LockFigures>, keys: KeyIds, figures: LockFigures) {
    match locks.get_mut(&keys) {
        Some(lock) => lock.merge(figures),
        None => {
            locks.insert(keys, figures);
        }
    }
}
