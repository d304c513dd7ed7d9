//! `export --dataset DIR`: each input's samples, lock keys and wait
//! buckets as one Parquet file of its host and build's partition. The files
//! are written into a hidden folder in DIR and moved into place only when
//! every input was read: a failed run adds nothing to DIR.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{Partition, VERSION, fields, record};
use crate::distribution::{Histogram, StoredBucket};
use crate::engine::{Analysis, Group, LockClass, Metrics};
use crate::error::{Error, Result};
use crate::export::Value;
use crate::export::parquet::ParquetSink;
use crate::facts::InputFacts;
use crate::hashing::InputMap;
use crate::ingest::source::Source;
use crate::parse::Unit;
use crate::refuse;

/// The partition of each source: `--host` or the source's label (the
/// file's stem), `--build` or the name of the folder holding the file.
pub fn partitions(
    sources: &[Source],
    host: Option<&str>,
    build: Option<&str>,
) -> Result<Vec<Partition>> {
    sources
        .iter()
        .map(|source| {
            let folder = || source.path.as_deref().and_then(folder_name);
            let build_named = match build {
                Some(build) => build.to_string(),
                None => match folder() {
                    Some(name) => name,
                    None => refuse!(
                        "{}: --dataset needs --build B: the build is taken from the folder \
                         holding a file, and {} has none",
                        source.name,
                        source.name
                    ),
                },
            };
            let host_named = match host {
                Some(host) => host.to_string(),
                None if source.path.is_none() => refuse!(
                    "--dataset needs --host H to name the host of standard input (a file's \
                     host is its name)"
                ),
                None => source.label.clone(),
            };
            for (flag, value) in [("host", &host_named), ("build", &build_named)] {
                if value.is_empty() {
                    refuse!("{}: an empty --{flag} cannot name a partition", source.name);
                }
            }
            Ok(Partition {
                host: host_named,
                build: build_named,
            })
        })
        .collect()
}

/// The name of the folder holding `file` (through `..` and `.`).
fn folder_name(file: &Path) -> Option<String> {
    let absolute = std::path::absolute(file).ok()?;
    let mut folders: Vec<&std::ffi::OsStr> = Vec::new();
    for part in absolute.parent()?.components() {
        match part {
            std::path::Component::Normal(name) => folders.push(name),
            std::path::Component::ParentDir => {
                folders.pop();
            }
            _ => {}
        }
    }
    folders
        .last()
        .map(|name| name.to_string_lossy().into_owned())
}

/// A dataset being written: the part files go to a hidden folder in the
/// dataset's, renamed into their partitions by [`Staging::commit`].
pub struct Staging {
    dir: PathBuf,
    /// The hidden folder the parts are written into (None once dropped).
    temp: Option<tempfile::TempDir>,
    /// DIR was made by this run: a run that fails removes it again.
    made_dir: bool,
    /// Part files written per partition.
    parts: BTreeMap<Partition, usize>,
}

impl Staging {
    /// Starts writing into `dir` (made if missing). A partition that
    /// already holds files is refused before anything is read: two exports
    /// of one host and build would count its waits twice.
    pub fn begin(dir: &Path, partitions: &[Partition]) -> Result<Staging> {
        if dir.exists() && !dir.is_dir() {
            refuse!(
                "--dataset {}: not a folder (a dataset is a folder of Parquet files)",
                dir.display()
            );
        }
        for partition in partitions {
            let folder = partition.folder(dir);
            if folder.exists() {
                refuse!(
                    "--dataset {}: {} is there already (host {}, build {}); contend adds a \
                     host's build once, so that its waits are not counted twice: remove that \
                     folder, or name another --build",
                    dir.display(),
                    folder.display(),
                    partition.host,
                    partition.build
                );
            }
        }
        let made_dir = !dir.exists();
        std::fs::create_dir_all(dir).map_err(|err| in_dir(err, dir))?;
        let temp = tempfile::Builder::new()
            .prefix(".contend-")
            .suffix(".partial")
            .tempdir_in(dir)
            .map_err(|err| in_dir(err, dir))?;
        crate::output::partial::remember(temp.path());
        crate::output::partial::watch();
        Ok(Staging {
            dir: dir.to_path_buf(),
            temp: Some(temp),
            made_dir,
            parts: BTreeMap::new(),
        })
    }

    /// Writes one input's records as the next part file of `partition`.
    pub fn write_part(
        &mut self,
        partition: &Partition,
        input: &InputFacts,
        analysis: &Analysis,
    ) -> Result<()> {
        let folder = partition.folder(self.staged());
        let number = self.parts.entry(partition.clone()).or_default();
        std::fs::create_dir_all(&folder).map_err(|err| in_dir(err, &self.dir))?;
        let path = folder.join(format!("part-{number}.parquet"));
        *number += 1;
        let file = File::create(&path).map_err(|err| in_dir(err, &self.dir))?;
        let mut out = BufWriter::new(file);
        write_records(&mut out, input, analysis).map_err(|err| self.named(err))?;
        out.flush().map_err(|err| self.named(Error::output(err)))?;
        Ok(())
    }

    /// Moves every partition written into the dataset's folder: the files
    /// of the run appear, each whole.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        let mut moved = Vec::new();
        for partition in self.parts.keys() {
            let target = partition.folder(&self.dir);
            let parent = target.parent().unwrap_or(&self.dir);
            std::fs::create_dir_all(parent).map_err(|err| in_dir(err, &self.dir))?;
            std::fs::rename(partition.folder(self.staged()), &target)
                .map_err(|err| in_dir(err, &self.dir))?;
            moved.push(target);
        }
        crate::output::partial::forget();
        self.made_dir = false;
        Ok(moved)
    }

    fn staged(&self) -> &Path {
        self.temp
            .as_ref()
            .map_or(&self.dir, tempfile::TempDir::path)
    }

    /// A write error told as the dataset's (`writing DIR: ...`).
    fn named(&self, err: Error) -> Error {
        match err.into_kind() {
            crate::error::ErrorKind::Output(io) => in_dir(io, &self.dir),
            other => Error::from_kind(other),
        }
    }
}

/// An I/O error of the dataset, named as docs/errors.md promises
/// (`writing DIR: No space left on device (os error 28)`).
impl Drop for Staging {
    /// A run that did not commit leaves DIR as it found it: the staging
    /// folder goes, and DIR too if this run made it.
    fn drop(&mut self) {
        drop(self.temp.take());
        if self.made_dir {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

fn in_dir(err: std::io::Error, dir: &Path) -> Error {
    Error::output(std::io::Error::new(
        err.kind(),
        format!("writing {}: {err}", dir.display()),
    ))
}

/// Writes the records of one input: its samples, its lock keys, and the
/// buckets of their single waits.
fn write_records(out: &mut dyn Write, input: &InputFacts, analysis: &Analysis) -> Result<()> {
    let fields = fields();
    let names: Vec<String> = fields.iter().map(|field| field.name.clone()).collect();
    let mut sink = ParquetSink::new(out, &fields, &names, Unit::Ns)?;
    for sample in analysis.samples.iter() {
        sink.write(&Record::of_sample(&sample.input, sample.sample, &sample.metrics).values())?;
    }
    let histograms = histograms_by_key(input);
    for group in &analysis.groups {
        let keys = group.key_values(&analysis.by);
        let waits = histograms.get(&[keys[0], keys[1], keys[2]]).copied();
        sink.write(&Record::of_group(&input.label, group, &keys, waits).values())?;
        for bucket in waits.into_iter().flat_map(Histogram::buckets) {
            sink.write(&Record::of_bucket(&input.label, &keys, bucket).values())?;
        }
    }
    sink.finish()
}

/// The input's histograms of single waits by their keys' text.
fn histograms_by_key(input: &InputFacts) -> InputMap<[&str; 3], &Histogram> {
    input
        .histograms
        .iter()
        .map(|(&key, waits)| {
            let ids = input.keys[key as usize].ids();
            ([0, 1, 2].map(|at| input.key(ids[at])), waits)
        })
        .collect()
}

/// One record of the dataset, its columns named; unset ones are null.
#[derive(Default)]
struct Record<'a> {
    record: &'a str,
    input: &'a str,
    sample: Option<u64>,
    keys: Option<[&'a str; 3]>,
    class: Option<&'a str>,
    running_ns: Option<u64>,
    off_cpu_ns: Option<u64>,
    spin_ns: Option<u64>,
    sleep_wait_ns: Option<u64>,
    kernel_lock_ns: Option<u64>,
    total_ns: Option<u64>,
    rows: Option<u64>,
    events: Option<u64>,
    samples_seen: Option<u64>,
    max_ns: Option<u64>,
    wait_min_ns: Option<u64>,
    wait_max_ns: Option<u64>,
    bucket: Option<StoredBucket>,
}

impl<'a> Record<'a> {
    fn of_sample(input: &'a str, sample: u32, metrics: &Metrics) -> Self {
        Record {
            record: record::SAMPLE,
            input,
            sample: Some(u64::from(sample)),
            running_ns: metrics.running_ns,
            off_cpu_ns: metrics.off_cpu_ns,
            spin_ns: Some(metrics.spin_ns),
            sleep_wait_ns: Some(metrics.sleep_wait_ns),
            kernel_lock_ns: Some(metrics.kernel_lock_ns),
            ..Record::default()
        }
    }

    fn of_group(
        input: &'a str,
        group: &'a Group,
        keys: &[&'a str],
        waits: Option<&Histogram>,
    ) -> Self {
        // Grouped by every key, a group is of one category: its waits
        // are all spin or all sleep.
        let of_class =
            |class: LockClass| (group.class == class).then_some(group.total_ns.unwrap_or(0));
        Record {
            record: record::GROUP,
            input,
            keys: Some([keys[0], keys[1], keys[2]]),
            class: Some(group.class.name()),
            spin_ns: Some(of_class(LockClass::Spin).unwrap_or(0)),
            sleep_wait_ns: Some(of_class(LockClass::Sleep).unwrap_or(0)),
            total_ns: group.total_ns,
            rows: Some(group.rows),
            events: group.events,
            samples_seen: Some(u64::from(group.samples_seen)),
            max_ns: group.max_ns,
            wait_min_ns: waits.map(Histogram::min_ns),
            wait_max_ns: waits.map(Histogram::max_ns),
            ..Record::default()
        }
    }

    fn of_bucket(input: &'a str, keys: &[&'a str], bucket: StoredBucket) -> Self {
        Record {
            record: record::BUCKET,
            input,
            keys: Some([keys[0], keys[1], keys[2]]),
            bucket: Some(bucket),
            ..Record::default()
        }
    }

    /// The values in the order of [`fields`].
    fn values(&self) -> [Value<'a>; 25] {
        let count = |n: Option<u64>| n.map_or(Value::Null, Value::Count);
        let ns = |n: Option<u64>| n.map_or(Value::Null, Value::Duration);
        let key = |at: usize| self.keys.map_or(Value::Null, |keys| Value::Text(keys[at]));
        let bucket = self.bucket;
        [
            Value::Count(VERSION),
            Value::Text(self.record),
            Value::Text(self.input),
            count(self.sample),
            key(0),
            key(1),
            key(2),
            self.class.map_or(Value::Null, Value::Text),
            ns(self.running_ns),
            ns(self.off_cpu_ns),
            ns(self.spin_ns),
            ns(self.sleep_wait_ns),
            ns(self.kernel_lock_ns),
            ns(self.total_ns),
            count(self.rows),
            count(self.events),
            count(self.samples_seen),
            ns(self.max_ns),
            ns(self.wait_min_ns),
            ns(self.wait_max_ns),
            count(bucket.map(|b| u64::from(b.index))),
            ns(bucket.map(|b| b.low_ns)),
            ns(bucket.map(|b| b.high_ns)),
            count(bucket.map(|b| b.count)),
            ns(bucket.map(|b| b.sum_ns)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_files_folder_names_its_build() {
        assert_eq!(
            folder_name(Path::new("/dumps/v6.8/web01.txt")).as_deref(),
            Some("v6.8")
        );
        assert_eq!(
            folder_name(Path::new("/dumps/v6.8/x/../web01.txt")).as_deref(),
            Some("v6.8")
        );
        assert_eq!(folder_name(Path::new("/web01.txt")), None);
    }

    #[test]
    fn records_have_a_value_per_field() {
        let record = Record::default();
        assert_eq!(record.values().len(), fields().len());
    }
}
