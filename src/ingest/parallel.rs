//! Reading one large table-format file on several cores.
//!
//! The file is cut into chunks at line starts; each chunk is parsed on its
//! own thread into its own facts, then the chunks are joined in order. A
//! chunk cannot know the parser's state at its first line (which table's
//! header is in effect), so it guesses: the last header line before it.
//! When the chunk before ends in another state (a different header, state
//! lines pending, between tables), the guess was wrong and the chunk is
//! read again from the right state. The result is always the one reading
//! the file from start to end gives; a test compares them.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::ReadOptions;
use super::source::Source;
use crate::error::{Error, InputError};
use crate::facts::{FactsBuilder, InputFacts};
use crate::parse::ParseStats;
use crate::parse::table::{self, ChunkEnd, ChunkState};

/// The most threads `--threads N` starts: more only cost their start and
/// their buffers.
pub const MAX_THREADS: usize = 64;

/// Below this size a chunk is not worth a thread (unless `--threads` asks).
pub const MIN_CHUNK_BYTES: u64 = 32 << 20;

/// How far back a chunk looks for the header in effect at its start.
const HEADER_LOOKBACK: u64 = 1 << 20;

const READ_BUFFER: usize = 256 * 1024;

/// The cores this process may use, asked once: the answer reads cgroup
/// files on Linux, and chunks count against one fixed number.
pub fn cores() -> usize {
    static CORES: std::sync::LazyLock<usize> =
        std::sync::LazyLock::new(|| std::thread::available_parallelism().map_or(1, usize::from));
    *CORES
}

/// Chunks being read now, in the whole process.
static CHUNKS_RUNNING: std::sync::Mutex<usize> = std::sync::Mutex::new(0);

/// Signalled when a chunk is read.
static CHUNK_DONE: std::sync::Condvar = std::sync::Condvar::new();

/// A core held by a chunk while it is read: at most one chunk a core is
/// read at a time, however many threads wait. diff reads two files at
/// once, each on every core: chunks time-sliced on one core would evict
/// each other's key index from its cache, and took 6 % more CPU time.
struct Core;

impl Core {
    /// Waits for a core.
    fn take() -> Core {
        let cores = cores();
        let mut running = CHUNKS_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= cores {
            running = CHUNK_DONE.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        Core
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        let mut running = CHUNKS_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        *running -= 1;
        CHUNK_DONE.notify_one();
    }
}

/// Reads the table-format file `path` into facts on `threads` threads,
/// with chunks of at least `min_chunk` bytes; None when the file is too
/// small to split.
pub fn read_table_file(
    path: &Path,
    source: &Source,
    options: &ReadOptions,
    threads: usize,
    min_chunk: u64,
) -> Result<Option<InputFacts>, Error> {
    let name = source.name.as_str();
    let io = |err: std::io::Error| InputError::whole(name, format!("cannot read: {err}"));
    let len = std::fs::metadata(path).map_err(io)?.len();
    let chunks = (len / min_chunk.max(1)).min(threads as u64);
    if chunks < 2 {
        return Ok(None);
    }
    let mut file = File::open(path).map_err(io)?;
    let bounds = chunk_bounds(&mut file, len, chunks).map_err(io)?;
    if bounds.len() < 3 {
        return Ok(None);
    }
    let Some(first_header) = first_header_line(&mut file).map_err(io)? else {
        // No table in the first MiB (state lines, prose): no chunk's start
        // could be guessed, and each would be read twice.
        return Ok(None);
    };
    let guesses: Vec<ChunkState> = bounds[1..bounds.len() - 1]
        .iter()
        .map(|&at| guess_state(&mut file, at, &first_header))
        .collect::<std::io::Result<_>>()
        .map_err(io)?;

    let ranges: Vec<(u64, u64)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
    let starts: Vec<ChunkState> = std::iter::once(ChunkState::default())
        .chain(guesses)
        .collect();
    let chunks: Vec<((u64, u64), &ChunkState)> = ranges.iter().copied().zip(&starts).collect();
    let results: Vec<ChunkResult> = super::on_threads(&chunks, |&(range, start)| {
        read_chunk(path, source, options, range, start.clone())
    });
    join_chunks(path, source, options, &ranges, &starts, results).map(Some)
}

/// One chunk read: its facts, whether its first sample was opened by a row,
/// and how it ended; or its error (lines numbered within the chunk).
type ChunkResult = Result<(InputFacts, bool, ChunkEnd), Error>;

fn read_chunk(
    path: &Path,
    source: &Source,
    options: &ReadOptions,
    (from, to): (u64, u64),
    start: ChunkState,
) -> ChunkResult {
    let _core = Core::take();
    let name = source.name.as_str();
    let io = |err: std::io::Error| InputError::whole(name, format!("cannot read: {err}"));
    let mut file = File::open(path).map_err(io)?;
    file.seek(SeekFrom::Start(from)).map_err(io)?;
    let reader = BufReader::with_capacity(READ_BUFFER, file.take(to - from));
    let mut builder = FactsBuilder::new(&source.label, &options.fold);
    let end = table::parse_chunk(reader, name, &options.parse, start, &mut builder)?;
    let (facts, opened_by_row) = builder.finish_chunk(end.stats);
    Ok((facts, opened_by_row, end))
}

/// Joins the chunks in order, reading again any chunk whose guessed start
/// state was not the state the chunk before it ended in.
fn join_chunks(
    path: &Path,
    source: &Source,
    options: &ReadOptions,
    ranges: &[(u64, u64)],
    starts: &[ChunkState],
    results: Vec<ChunkResult>,
) -> Result<InputFacts, Error> {
    let mut joined: Option<InputFacts> = None;
    let mut state = ChunkState::default();
    let mut lines_before = 0u64;
    let mut tables_seen = 0u64;
    for (index, result) in results.into_iter().enumerate() {
        let result = if starts[index] == state {
            result
        } else {
            // The wrong guess's facts go before the chunk is read again.
            drop(result);
            read_chunk(path, source, options, ranges[index], state.clone())
        };
        let (facts, opened_by_row, end) = result.map_err(|err| shift_line(err, lines_before))?;
        let continues = opened_by_row && state.continues_a_table();
        match joined.as_mut() {
            None => joined = Some(facts),
            Some(all) => all
                .append(facts, continues, lines_before)
                .map_err(|message| InputError::whole(&source.name, message))?,
        }
        lines_before += end.lines;
        tables_seen += end.tables_seen;
        state = end.state;
    }
    let mut all = joined.unwrap_or_default();
    // The chunks' strings are all in: their index goes, once.
    all.strings.seal();
    let end = ChunkEnd {
        state,
        lines: lines_before,
        tables_seen,
        stats: ParseStats::default(),
    };
    let mut builder = PendingSamples::default();
    table::finish_input(&source.name, &end, &mut builder)?;
    let samples = std::sync::Arc::make_mut(&mut all.samples);
    for states in &builder.samples {
        samples
            .push(states)
            .map_err(|message| InputError::whole(&source.name, message))?;
    }
    Ok(all)
}

/// Collects the sample `finish_input` adds for state lines after the last
/// table.
#[derive(Default)]
struct PendingSamples {
    samples: Vec<Vec<crate::parse::State>>,
}

impl crate::parse::Sink for PendingSamples {
    fn sample(&mut self, states: Vec<crate::parse::State>) -> Result<(), crate::parse::SinkError> {
        self.samples.push(states);
        Ok(())
    }

    fn row(&mut self, _row: &crate::parse::Row<'_>) -> Result<(), crate::parse::SinkError> {
        Ok(())
    }
}

fn shift_line(mut err: Error, lines_before: u64) -> Error {
    if let Some(InputError {
        line: Some(line), ..
    }) = err.input_mut()
    {
        *line += lines_before;
    }
    err
}

/// `chunks + 1` offsets: 0, the start of the line at or after each
/// `i * len / chunks`, and `len`; chunks without a line start drop out.
fn chunk_bounds(file: &mut File, len: u64, chunks: u64) -> std::io::Result<Vec<u64>> {
    let mut bounds = vec![0];
    for index in 1..chunks {
        let at = next_line_start(file, index * len / chunks, len)?;
        if at < len && at > *bounds.last().unwrap_or(&0) {
            bounds.push(at);
        }
    }
    bounds.push(len);
    Ok(bounds)
}

/// The offset just after the first newline at or after `from - 1` (so a
/// line starting exactly at `from` is kept whole).
fn next_line_start(file: &mut File, from: u64, len: u64) -> std::io::Result<u64> {
    let mut at = from.saturating_sub(1);
    let mut window = vec![0u8; 64 * 1024];
    while at < len {
        file.seek(SeekFrom::Start(at))?;
        let read = file.read(&mut window)?;
        if read == 0 {
            break;
        }
        if let Some(newline) = memchr::memchr(b'\n', &window[..read]) {
            return Ok(at + newline as u64 + 1);
        }
        at += read as u64;
    }
    Ok(len)
}

/// The first header line of the file, looked for in its first MiB.
fn first_header_line(file: &mut File) -> std::io::Result<Option<String>> {
    file.seek(SeekFrom::Start(0))?;
    let mut head = Vec::new();
    file.by_ref().take(HEADER_LOOKBACK).read_to_end(&mut head)?;
    let text = String::from_utf8_lossy(&head);
    Ok(text
        .lines()
        .find(|line| table::is_header_line(line))
        .map(String::from))
}

/// The guessed state at `at`: inside the table of the last header before
/// it, when only rows come between; else the file's first header (a long
/// table), or nothing (the chunk will be read again if that is wrong).
fn guess_state(file: &mut File, at: u64, first_header: &str) -> std::io::Result<ChunkState> {
    let from = at.saturating_sub(HEADER_LOOKBACK);
    file.seek(SeekFrom::Start(from))?;
    let mut before = Vec::new();
    file.by_ref().take(at - from).read_to_end(&mut before)?;
    // The window's first line is cut unless the window starts the file.
    let whole_lines = match memchr::memchr(b'\n', &before) {
        Some(newline) if from > 0 => &before[newline + 1..],
        _ => &before[..],
    };
    let text = String::from_utf8_lossy(whole_lines);
    for line in text.lines().rev() {
        if line.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            continue;
        }
        return Ok(ChunkState::inside_table(line).unwrap_or_default());
    }
    Ok(ChunkState::inside_table(first_header).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn no_more_chunks_are_read_at_once_than_there_are_cores() {
        let cores = cores();
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let threads: Vec<usize> = (0..cores * 3).collect();
        super::super::on_threads(&threads, |_| {
            let _core = Core::take();
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(20));
            running.fetch_sub(1, Ordering::SeqCst);
        });
        // Every thread ran, never more than a core each at once (other
        // tests' chunks hold cores too, so fewer is possible).
        assert_eq!(running.load(Ordering::SeqCst), 0);
        let most = most.load(Ordering::SeqCst);
        assert!(
            (1..=cores).contains(&most),
            "{most} at once on {cores} cores"
        );
    }
}
