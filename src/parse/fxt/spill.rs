//! What each tracked thread did, kept until a capture is read, in bounded
//! memory.
//!
//! A capture's file order is not its time order, so the sampler keeps
//! every context switch and lock event of the threads it tracks, then
//! replays them per thread in time order. Kept in memory, that cost about
//! twice the capture's size (40 M context switches of one thread, 105 KB
//! of zstd: 1.27 GB). Past [`MEMORY_ENTRIES`] entries, the log sorts each
//! thread's entries and writes them to an unnamed temporary file as a run;
//! at the end, each thread's pieces are merged. A run is delta-encoded (a
//! thread's times rise, so an entry takes a few bytes on disk, not 16).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;

use crate::hashing::InputMap;

/// Entries kept in memory before a run is written: 32 MiB of them.
pub const MEMORY_ENTRIES: usize = 2 << 20;

/// Bytes read from a run at a time while merging.
const RUN_BUFFER: usize = 64 * 1024;

/// The most bytes one encoded entry takes: two varints of a u64.
const MAX_ENTRY_BYTES: usize = 2 * 10;

/// One thing a thread did: when, and what (the sampler's code).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Entry {
    /// When, in nanoseconds.
    pub ns: u64,
    /// What happened, as the sampler encodes it.
    pub code: u64,
}

/// Entries per thread in file order, given back sorted by thread and
/// time (entries of one thread and time keep their file order).
#[derive(Debug)]
pub struct EntryLog {
    memory: InputMap<u64, Vec<Entry>>,
    in_memory: usize,
    memory_limit: usize,
    spill: Option<Spill>,
    /// The first failure to write a run: reported by [`EntryLog::replay_sorted`].
    error: Option<String>,
}

impl Default for EntryLog {
    fn default() -> Self {
        EntryLog::with_memory_limit(MEMORY_ENTRIES)
    }
}

#[derive(Debug)]
struct Spill {
    file: File,
    /// Each run's pieces: a thread and the byte range of its entries.
    runs: Vec<Vec<(u64, u64, u64)>>,
    written: u64,
}

impl EntryLog {
    /// A log that writes a run each `memory_limit` entries.
    pub fn with_memory_limit(memory_limit: usize) -> Self {
        EntryLog {
            memory: InputMap::default(),
            in_memory: 0,
            memory_limit: memory_limit.max(1),
            spill: None,
            error: None,
        }
    }

    /// Keeps entries of one thread, next to each other: a run never
    /// separates them.
    pub fn push(&mut self, koid: u64, entries: &[Entry]) {
        if self.error.is_some() {
            return;
        }
        self.memory
            .entry(koid)
            .or_default()
            .extend_from_slice(entries);
        self.in_memory += entries.len();
        if self.in_memory >= self.memory_limit {
            if let Err(err) = self.write_run() {
                self.error = Some(format!(
                    "keeping the capture's events in a temporary file (in {}): {err}",
                    std::env::temp_dir().display()
                ));
                self.memory = InputMap::default();
            }
        }
    }

    /// Runs written to the temporary file so far.
    pub fn runs(&self) -> usize {
        self.spill.as_ref().map_or(0, |spill| spill.runs.len())
    }

    /// Sorts each thread's entries in memory and appends them to the file
    /// as a run, thread by thread.
    fn write_run(&mut self) -> std::io::Result<()> {
        if self.spill.is_none() {
            self.spill = Some(Spill {
                file: tempfile::tempfile()?,
                runs: Vec::new(),
                written: 0,
            });
        }
        let spill = self.spill.as_mut().expect("made above");
        let mut pieces = Vec::new();
        let mut bytes = Vec::with_capacity(RUN_BUFFER);
        for (&koid, entries) in self.memory.iter_mut() {
            if entries.is_empty() {
                continue;
            }
            sort(entries);
            let start = spill.written + bytes.len() as u64;
            let mut previous = Entry::default();
            for &entry in entries.iter() {
                encode(&mut bytes, previous, entry);
                previous = entry;
                if bytes.len() >= RUN_BUFFER {
                    spill.file.write_all(&bytes)?;
                    spill.written += bytes.len() as u64;
                    bytes.clear();
                }
            }
            pieces.push((koid, start, spill.written + bytes.len() as u64));
            // Kept allocated: the thread is likely to do as much again.
            entries.clear();
        }
        spill.file.write_all(&bytes)?;
        spill.written += bytes.len() as u64;
        spill.runs.push(pieces);
        self.in_memory = 0;
        Ok(())
    }

    /// Hands every entry of the threads `wanted` takes to `each` with its
    /// thread, by thread and time; stops at the first error (`each`'s, or
    /// the temporary file's). The log is kept: a second pass may follow.
    pub fn replay_sorted(
        &mut self,
        wanted: impl Fn(u64) -> bool,
        mut each: impl FnMut(u64, Entry) -> Result<(), String>,
    ) -> Result<(), String> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        let mut koids: Vec<u64> = self.memory.keys().copied().collect();
        if let Some(spill) = &self.spill {
            koids.extend(spill.runs.iter().flatten().map(|piece| piece.0));
        }
        koids.sort_unstable();
        koids.dedup();
        koids.retain(|&koid| wanted(koid));
        for koid in koids {
            let memory: &[Entry] = match self.memory.get_mut(&koid) {
                Some(entries) => {
                    sort(entries);
                    entries
                }
                None => &[],
            };
            match &self.spill {
                None => memory.iter().try_for_each(|&entry| each(koid, entry))?,
                Some(spill) => merge(spill, koid, memory, &mut |entry| each(koid, entry))?,
            }
        }
        Ok(())
    }
}

/// By time; stable, so equal times keep their file order. A thread's
/// entries are a few rising stretches (one per CPU buffer lltextract
/// wrote), which the sort finds and merges.
fn sort(entries: &mut [Entry]) {
    entries.sort_by_key(|entry| entry.ns);
}

/// Merges one thread's pieces of the file's runs and its entries still in
/// memory (the newest run): on a tie the earlier run goes first, which
/// keeps file order.
fn merge(
    spill: &Spill,
    koid: u64,
    memory: &[Entry],
    each: &mut impl FnMut(Entry) -> Result<(), String>,
) -> Result<(), String> {
    let mut sources: Vec<Source> = spill
        .runs
        .iter()
        .filter_map(|pieces| pieces.iter().find(|piece| piece.0 == koid))
        .map(|&(_, start, end)| Source::Run(RunReader::new(start, end)))
        .collect();
    sources.push(Source::Memory(memory.iter()));
    let mut heads = vec![Entry::default(); sources.len()];
    // The earliest (time, run) first.
    let mut order: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    for (run, source) in sources.iter_mut().enumerate() {
        if let Some(entry) = source.next(&spill.file)? {
            heads[run] = entry;
            order.push(Reverse((entry.ns, run)));
        }
    }
    while let Some(Reverse((_, run))) = order.pop() {
        each(heads[run])?;
        // The same run again while it stays first: no heap work.
        let limit = order.peek().map_or((u64::MAX, usize::MAX), |next| next.0);
        loop {
            match sources[run].next(&spill.file)? {
                Some(entry) if (entry.ns, run) < limit => each(entry)?,
                Some(entry) => {
                    heads[run] = entry;
                    order.push(Reverse((entry.ns, run)));
                    break;
                }
                None => break,
            }
        }
    }
    Ok(())
}

/// A sorted run: a piece of the file, or the last one, still in memory.
enum Source<'a> {
    Run(RunReader),
    Memory(std::slice::Iter<'a, Entry>),
}

impl Source<'_> {
    fn next(&mut self, file: &File) -> Result<Option<Entry>, String> {
        match self {
            Source::Run(reader) => reader
                .next(file)
                .map_err(|err| format!("reading back the capture's events: {err}")),
            Source::Memory(entries) => Ok(entries.next().copied()),
        }
    }
}

/// Reads one thread's piece of a run back, entry by entry.
#[derive(Debug)]
struct RunReader {
    next_offset: u64,
    end: u64,
    buffer: Vec<u8>,
    position: usize,
    previous: Entry,
}

impl RunReader {
    fn new(start: u64, end: u64) -> Self {
        RunReader {
            next_offset: start,
            end,
            buffer: Vec::new(),
            position: 0,
            previous: Entry::default(),
        }
    }

    fn next(&mut self, file: &File) -> std::io::Result<Option<Entry>> {
        if self.buffer.len() - self.position < MAX_ENTRY_BYTES && self.next_offset < self.end {
            self.refill(file)?;
        }
        if self.position >= self.buffer.len() {
            return Ok(None);
        }
        let (entry, used) =
            decode(&self.buffer[self.position..], self.previous).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "a run ends inside an entry",
                )
            })?;
        self.position += used;
        self.previous = entry;
        Ok(Some(entry))
    }

    /// Keeps the unread bytes and reads the next stretch of the piece.
    fn refill(&mut self, file: &File) -> std::io::Result<()> {
        self.buffer.drain(..self.position);
        self.position = 0;
        let wanted = (self.end - self.next_offset).min(RUN_BUFFER as u64) as usize;
        let kept = self.buffer.len();
        self.buffer.resize(kept + wanted, 0);
        file.read_exact_at(&mut self.buffer[kept..], self.next_offset)?;
        self.next_offset += wanted as u64;
        Ok(())
    }
}

/// Writes `entry` after `previous` (the piece's previous entry): the time
/// as a rise, then the code.
fn encode(bytes: &mut Vec<u8>, previous: Entry, entry: Entry) {
    varint(bytes, entry.ns - previous.ns);
    varint(bytes, entry.code);
}

fn decode(bytes: &[u8], previous: Entry) -> Option<(Entry, usize)> {
    let (rise, first) = read_varint(bytes)?;
    let (code, second) = read_varint(&bytes[first..])?;
    let entry = Entry {
        ns: previous.ns + rise,
        code,
    };
    Some((entry, first + second))
}

/// LEB128: seven bits a byte, low first.
fn varint(bytes: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        bytes.push((value as u8) | 0x80);
        value >>= 7;
    }
    bytes.push(value as u8);
}

fn read_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (index, &byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Some((value, index + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drained(mut log: EntryLog) -> Vec<(u64, Entry)> {
        let mut out = Vec::new();
        log.replay_sorted(
            |_| true,
            |koid, entry| {
                out.push((koid, entry));
                Ok(())
            },
        )
        .unwrap();
        let mut again = Vec::new();
        log.replay_sorted(
            |koid| koid != 4,
            |koid, entry| {
                again.push((koid, entry));
                Ok(())
            },
        )
        .unwrap();
        let kept: Vec<(u64, Entry)> = out.iter().copied().filter(|(k, _)| *k != 4).collect();
        assert_eq!(again, kept, "a second pass gives the first again");
        out
    }

    /// Entries of few threads and times, so that ties are many; `code` is
    /// the file position, to check the order of ties.
    fn entries(count: u64, seed: u64) -> Vec<(u64, Entry)> {
        let mut draws = crate::draws::Draws(seed);
        (0..count)
            .map(|position| {
                let koid = draws.below(4) * 1_000_003;
                let ns = draws.below(50) * 977 + (u64::MAX - 50 * 977) * draws.below(2);
                (koid, Entry { ns, code: position })
            })
            .collect()
    }

    #[test]
    fn runs_merged_from_the_file_give_the_stable_sort_of_all_entries() {
        for (count, limit, seed) in [(1000, 7, 1), (1000, 1, 2), (5000, 333, 3), (10, 100, 4)] {
            let input = entries(count, seed);
            let mut log = EntryLog::with_memory_limit(limit);
            for (koid, entry) in &input {
                log.push(*koid, &[*entry]);
            }
            assert_eq!(log.runs(), count as usize / limit, "{count} / {limit}");
            let mut expected = input.clone();
            expected.sort_by_key(|(koid, entry)| (*koid, entry.ns));
            assert_eq!(drained(log), expected, "{count} entries, runs of {limit}");
        }
    }

    #[test]
    fn entries_pushed_together_stay_together() {
        let mut log = EntryLog::with_memory_limit(3);
        let pair = [Entry { ns: 5, code: 1 }, Entry { ns: 5, code: 2 }];
        log.push(9, &[Entry { ns: 5, code: 0 }]);
        log.push(9, &pair);
        log.push(3, &[Entry { ns: 1, code: 7 }]);
        log.push(4, &[Entry { ns: 1, code: 8 }]);
        log.push(9, &[Entry { ns: 5, code: 3 }]);
        let codes: Vec<(u64, u64)> = drained(log)
            .into_iter()
            .map(|(koid, entry)| (koid, entry.code))
            .collect();
        assert_eq!(codes, [(3, 7), (4, 8), (9, 0), (9, 1), (9, 2), (9, 3)]);
    }

    #[test]
    fn an_entry_at_the_same_time_takes_two_bytes_in_a_run() {
        let mut bytes = Vec::new();
        let entry = Entry { ns: 7, code: 1 };
        encode(&mut bytes, entry, entry);
        assert_eq!(bytes, [0, 1]);
        assert_eq!(decode(&bytes, entry), Some((entry, 2)));
    }

    #[test]
    fn a_run_cut_inside_an_entry_is_an_error_not_a_guess() {
        assert_eq!(decode(&[0x80], Entry::default()), None);
        assert_eq!(read_varint(&[0xff; 11]), None);
    }
}
