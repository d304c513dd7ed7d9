//! A fleet's dataset: each host's analysis as Parquet files in a folder
//! partitioned the Hive way (`DIR/host=H/build=B/part-N.parquet`), which
//! Spark, DuckDB, BigQuery, Trino and polars read as a table whose `host`
//! and `build` columns come from the path. docs/fleet.md is the schema's
//! user-facing description; this module is its one definition.

#[cfg(feature = "parquet")]
pub mod read;
#[cfg(feature = "parquet")]
pub mod write;

use std::path::{Path, PathBuf};

use crate::export::{Field, Kind};

/// The schema's version, written in every record (`dataset_version`):
/// readers refuse a version they do not know.
pub const VERSION: u64 = 1;

/// What a record is (the `record` column).
pub mod record {
    /// One sample of a host's input: its state and wait totals.
    pub const SAMPLE: &str = "sample";
    /// One lock key of a host: its waits over the whole input.
    pub const GROUP: &str = "group";
    /// One bucket of a key's single waits, for percentiles merged across
    /// hosts.
    pub const BUCKET: &str = "bucket";
}

/// Every column of the dataset, in order: one schema for its three kinds
/// of record, a column a record does not use being null.
pub fn fields() -> Vec<Field> {
    [
        ("dataset_version", Kind::Count),
        ("record", Kind::Text),
        ("input", Kind::Text),
        ("sample", Kind::Count),
        ("category", Kind::Text),
        ("symbol", Kind::Text),
        ("caller", Kind::Text),
        ("class", Kind::Text),
        ("running_ns", Kind::Duration),
        ("off_cpu_ns", Kind::Duration),
        ("spin_ns", Kind::Duration),
        ("sleep_wait_ns", Kind::Duration),
        ("kernel_lock_ns", Kind::Duration),
        ("total_ns", Kind::Duration),
        ("rows", Kind::Count),
        ("events", Kind::Count),
        ("samples_seen", Kind::Count),
        ("max_ns", Kind::Duration),
        ("wait_min_ns", Kind::Duration),
        ("wait_max_ns", Kind::Duration),
        ("bucket", Kind::Count),
        ("bucket_low_ns", Kind::Duration),
        ("bucket_high_ns", Kind::Duration),
        ("bucket_count", Kind::Count),
        ("bucket_sum_ns", Kind::Duration),
    ]
    .map(|(name, kind)| Field::new(name, kind))
    .to_vec()
}

/// The host and build of a partition: the values of its path.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Partition {
    /// The machine the dump came from.
    pub host: String,
    /// The kernel build it ran.
    pub build: String,
}

impl Partition {
    /// The partition's folder under `dir`: `dir/host=H/build=B`.
    pub fn folder(&self, dir: &Path) -> PathBuf {
        dir.join(format!("host={}", escape(&self.host)))
            .join(format!("build={}", escape(&self.build)))
    }

    /// The partition a file's path names (`.../host=H/build=B/part-0.parquet`,
    /// below `dir`): None where either value is missing.
    pub fn of_file(file: &Path, dir: &Path) -> Option<Partition> {
        let (mut host, mut build) = (None, None);
        for part in file.strip_prefix(dir).ok()?.parent()?.components() {
            let part = part.as_os_str().to_str()?;
            if let Some(value) = part.strip_prefix("host=") {
                host = Some(unescape(value)?);
            } else if let Some(value) = part.strip_prefix("build=") {
                build = Some(unescape(value)?);
            }
        }
        Some(Partition {
            host: host?,
            build: build?,
        })
    }
}

/// A partition value as a path component, as Hive escapes it: every byte
/// but letters, digits, `.`, `_` and `-` as `%XX` (so `/`, `=` and a
/// leading `.` that would hide the folder cannot appear).
pub fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for (at, byte) in value.bytes().enumerate() {
        let plain = byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-';
        if plain || (byte == b'.' && at > 0) {
            escaped.push(char::from(byte));
        } else {
            escaped.push_str(&format!("%{byte:02X}"));
        }
    }
    escaped
}

/// The value a path component escapes; None where it is no valid escape.
pub fn unescape(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// Whether `path` is a dataset to read rather than a dump: a folder.
pub fn is_dataset(path: &Path) -> bool {
    path.is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_survive_their_path() {
        let dir = Path::new("/data/fleet");
        for (host, build) in [
            ("web01", "6.8.0-rc1"),
            ("db/7", "a=b"),
            (".hidden", "100% sure"),
            ("höst", "x%2Fy"),
        ] {
            let partition = Partition {
                host: host.into(),
                build: build.into(),
            };
            let file = partition.folder(dir).join("part-0.parquet");
            assert_eq!(Partition::of_file(&file, dir), Some(partition.clone()));
            // One component per value: no `/` or leading `.` escapes them.
            assert_eq!(file.strip_prefix(dir).unwrap().components().count(), 3);
        }
        assert_eq!(
            Partition {
                host: "web01".into(),
                build: "v1.2".into()
            }
            .folder(dir),
            Path::new("/data/fleet/host=web01/build=v1.2")
        );
    }

    #[test]
    fn bad_escapes_are_no_partition() {
        assert_eq!(unescape("a%2"), None);
        assert_eq!(unescape("a%zz"), None);
        assert_eq!(unescape("%FF"), None);
        assert_eq!(unescape("a%2Fb").as_deref(), Some("a/b"));
        let dir = Path::new("/d");
        assert_eq!(
            Partition::of_file(Path::new("/d/host=a/part-0.parquet"), dir),
            None
        );
    }
}
