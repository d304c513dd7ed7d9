//! OpenBSD lltrace captures, as lltextract(1) writes them: the Fuchsia Trace
//! Format (FXT), read record by record ([`records`]) and cut into samples
//! per thread and time window ([`sampler`]).
//!
//! Each chosen thread becomes one input of its own (`LABEL:THREAD`), each
//! window one of its samples: the time in each scheduler state (Perfetto's
//! names: `Running`, `Stopped`, `Sleeping`, `Runnable`, ...) and the lock
//! waits, the `acquire-start` slices by category (lock type), `symbol` and
//! `caller` arguments. A wait counts in the window where it began.

pub mod holders;
pub mod records;
pub mod sampler;
pub mod spill;

use std::io::Read;

use super::class::openbsd_class;
use super::format::{Format, NO_STATES};
use super::{ParseStats, Row, RowWaits, Sink, State};
use crate::distribution::Histogram;
use crate::error::InputError;
use crate::hashing::InputMap;
use crate::holders::{Doing, HoldTimes, HolderFacts, HolderShare, HolderThread, holder_key};
use crate::parse::SinkError;
use crate::vocabulary::UNKNOWN_HOLDER;
use records::{RecordError, RecordReader};
use sampler::{STATE_NAMES, Sampler, Selection, ThreadTrack};

/// Which threads and windows to make samples of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureOptions {
    /// Threads by name; with `tids` empty too, every thread that waited on
    /// a lock.
    pub threads: Vec<String>,
    /// Threads by id (the koid Perfetto shows as tid).
    pub tids: Vec<u64>,
    /// Window length in nanoseconds; None: the whole trace is one window.
    pub window_ns: Option<u64>,
    /// Leave out windows in which the thread never ran.
    pub with_activity: bool,
    /// Stop at the last whole record of a truncated capture, and skip
    /// malformed records, instead of failing.
    pub lenient: bool,
    /// Work out who held the locks the named threads waited on.
    pub holders: bool,
    /// Split each window's waits by holder: one wait per key and holder
    /// (`--by holder`).
    pub split_by_holder: bool,
}

/// One chosen thread's samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadSamples {
    /// The thread's name (or `tid N` when the capture does not name it).
    pub name: String,
    /// One sample per window: state totals and lock waits.
    pub samples: Vec<Sample>,
    /// Its lock waits split over the threads that held the locks, when
    /// worked out (threads named with `--thread` or `--tid`).
    pub holders: Option<HolderFacts>,
}

/// One window of one thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// 0-based window index from the trace's first record.
    pub window: usize,
    /// State totals, `Running` first.
    pub states: Vec<State>,
    /// Lock waits: (category, symbol, caller), total ns, count, longest.
    pub waits: Vec<Wait>,
}

/// The lock waits of one key in one sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// Lock type, symbol and caller.
    pub key: [String; 3],
    /// Total wait in nanoseconds.
    pub ns: u64,
    /// Number of waits.
    pub count: u64,
    /// The longest wait.
    pub max_ns: u64,
    /// How the waits spread; empty where not known (waits of no known
    /// holder that no lock event carried).
    pub histogram: Histogram,
    /// Who held the lock: split by holder (`--by holder`), its
    /// [`HolderThread::describe`] or `unknown`; empty otherwise.
    pub holder: String,
}

/// A capture read into samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The chosen threads, in the order asked (by koid by default).
    pub threads: Vec<ThreadSamples>,
    /// Records skipped or truncation, for the notes.
    pub stats: ParseStats,
}

/// Reads a capture and cuts it into samples. Errors name the byte offset.
pub fn read_capture<R: Read>(
    input: R,
    name: &str,
    options: &CaptureOptions,
) -> Result<Capture, InputError> {
    let mut reader = RecordReader::new(input);
    let mut sampler = Sampler::new(options.window_ns.unwrap_or(u64::MAX));
    if !options.threads.is_empty() || !options.tids.is_empty() {
        sampler.select(Selection {
            names: options.threads.clone(),
            tids: options.tids.clone(),
            holders: options.holders,
            split_by_holder: options.holders && options.split_by_holder,
        });
    }
    let mut stats = ParseStats::default();
    loop {
        let offset = reader.offset();
        let record = match reader.next_record() {
            Ok(Some(record)) => record,
            Ok(None) => break,
            Err(err) if options.lenient && err.truncated && err.offset > 0 => {
                stats.truncated_at = Some(err.offset);
                break;
            }
            // A malformed record the reader could step over (its size was
            // sound): skipped and counted.
            Err(err) if options.lenient && err.skippable => {
                stats.skipped_records += 1;
                stats.first_skipped_offset.get_or_insert(err.offset);
                continue;
            }
            Err(err) => return Err(record_error(name, err)),
        };
        if let Err(message) = sampler.take(&record) {
            if !options.lenient {
                return Err(InputError::whole(
                    name,
                    format!("byte offset {offset}: {message}"),
                ));
            }
            stats.skipped_records += 1;
            stats.first_skipped_offset.get_or_insert(offset);
        }
    }
    sampler
        .finish()
        .map_err(|message| InputError::whole(name, message))?;
    stats.unended_waits = sampler.notes.unended_waits;
    stats.unmatched_ends = sampler.notes.unmatched_ends;
    stats.out_of_order = sampler.notes.out_of_order;
    let threads = choose_threads(&sampler, options).map_err(|m| InputError::whole(name, m))?;
    Ok(Capture { threads, stats })
}

/// Parses a capture into one sink: every chosen thread's samples, one
/// lltrace captures as contend knows them.
pub const FORMAT: Format = Format {
    name: "fxt",
    summary: "OpenBSD lltrace captures converted by lltextract(1): the Fuchsia Trace Format (binary), cut into samples by thread and window",
    signature: "an lltrace capture (the Fuchsia trace magic record)",
    signature_line: None,
    lock_class: openbsd_class,
    reads_mail: false,
    has_kernel_lock: true,
    waits_hint: "the capture has no lock waits",
    states_hint: NO_STATES,
    parse: |reader, name, options, sink| parse(reader, name, &options.capture, sink),
};

/// thread after the other.
pub fn parse<R: Read>(
    input: R,
    name: &str,
    options: &CaptureOptions,
    sink: &mut dyn Sink,
) -> Result<ParseStats, crate::error::Error> {
    let capture = read_capture(input, name, options)?;
    for thread in &capture.threads {
        thread.feed(sink).map_err(|err| err.whole(name))?;
    }
    Ok(capture.stats)
}

impl ThreadSamples {
    /// Hands the samples to a sink, as a parser of a text format would.
    pub fn feed(&self, sink: &mut dyn Sink) -> Result<(), SinkError> {
        for sample in &self.samples {
            sink.sample(sample.states.clone())?;
            for wait in &sample.waits {
                let row = Row {
                    line: 0,
                    dur_ns: wait.ns,
                    count: wait.count,
                    max_ns: wait.max_ns,
                    category: &wait.key[0],
                    symbol: &wait.key[1],
                    caller: &wait.key[2],
                    key_text: "",
                    key_layout: 0,
                    // A distribution where the waits gave one.
                    waits: if wait.histogram.count() > 0 {
                        RowWaits::Each(&wait.histogram)
                    } else {
                        RowWaits::Counted
                    },
                    stack: "",
                    holder: &wait.holder,
                };
                sink.row(&row).map_err(|err| match err {
                    SinkError::Input(m) => {
                        SinkError::Input(format!("{} window {}: {m}", self.name, sample.window + 1))
                    }
                    output => output,
                })?;
            }
        }
        Ok(())
    }
}

fn record_error(name: &str, err: RecordError) -> InputError {
    let hint = if err.truncated {
        "; the capture is cut short (--lenient reads up to the last whole record)"
    } else {
        ""
    };
    InputError::whole(
        name,
        format!("byte offset {}: {}{hint}", err.offset, err.message),
    )
}

/// The threads asked for, each with its samples; an error names a thread
/// asked for that the capture does not have.
fn choose_threads(
    sampler: &Sampler,
    options: &CaptureOptions,
) -> Result<Vec<ThreadSamples>, String> {
    let mut chosen: Vec<u64> = Vec::new();
    for wanted in &options.threads {
        let mut found: Vec<u64> = sampler
            .names
            .iter()
            .filter(|(koid, name)| *name == wanted && sampler.threads.contains_key(koid))
            .map(|(koid, _)| *koid)
            .collect();
        if found.is_empty() {
            return Err(format!(
                "no thread named \"{wanted}\" in the capture{}",
                known_threads(sampler)
            ));
        }
        found.sort_unstable();
        chosen.extend(found);
    }
    for tid in &options.tids {
        if !sampler.threads.contains_key(tid) {
            return Err(format!(
                "no thread with tid {tid} in the capture{}",
                known_threads(sampler)
            ));
        }
        chosen.push(*tid);
    }
    if options.threads.is_empty() && options.tids.is_empty() {
        chosen = sampler
            .threads
            .iter()
            .filter(|(_, track)| track.waits > 0)
            .map(|(koid, _)| *koid)
            .collect();
        chosen.sort_unstable();
        if chosen.is_empty() {
            return Err("no lock waits (`acquire-start` slices) in the capture".into());
        }
    }
    let mut seen = Vec::new();
    chosen.retain(|koid| {
        let new = !seen.contains(koid);
        seen.push(*koid);
        new
    });
    chosen
        .into_iter()
        .map(|koid| thread_samples(sampler, koid, options))
        .collect()
}

/// `; threads in the capture: a, b, c` to help a mistyped name.
fn known_threads(sampler: &Sampler) -> String {
    let mut names: Vec<&str> = sampler.names.values().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return String::new();
    }
    const SHOWN: usize = 8;
    let more = names.len().saturating_sub(SHOWN);
    names.truncate(SHOWN);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("; threads in the capture: {}{tail}", names.join(", "))
}

fn thread_name(sampler: &Sampler, koid: u64) -> String {
    match sampler.names.get(&koid) {
        Some(name) if !name.is_empty() => name.clone(),
        _ => format!("tid {koid}"),
    }
}

fn thread_samples(
    sampler: &Sampler,
    koid: u64,
    options: &CaptureOptions,
) -> Result<ThreadSamples, String> {
    let track = &sampler.threads[&koid];
    let parts = sampler
        .holder_parts
        .as_ref()
        .map(|parts| parts_of(sampler, parts, koid));
    let samples = (0..sampler.window_count())
        .map(|window| sample_of(sampler, track, window, parts.as_ref()))
        .filter(|sample| !options.with_activity || sample.states[0].ns > 0)
        .collect();
    Ok(ThreadSamples {
        name: thread_name(sampler, koid),
        samples,
        holders: sampler.wants_holders().then_some(HolderFacts {
            shares: holder_shares(sampler, koid),
            releases_unrecorded: sampler.without_releases.clone(),
            crowded: {
                let mut locks = sampler.crowded_locks.clone();
                locks.sort();
                locks.dedup();
                locks
            },
            holds: hold_times(sampler, koid)?,
        }),
    })
}

/// A thread's waits by holder and doing, in words, largest first.
fn holder_shares(sampler: &Sampler, koid: u64) -> Vec<HolderShare> {
    let Some(shares) = sampler.holder_shares.get(&koid) else {
        return Vec::new();
    };
    let mut named: Vec<HolderShare> = shares
        .iter()
        .filter(|(_, ns)| **ns > 0)
        .map(|(key, ns)| HolderShare {
            lock: sampler.key_text(key.wait_key),
            holder: holder_thread(sampler, key.holder),
            taken_in: std::mem::take(&mut sampler.key_text(key.hold_key)[2]),
            edge: key.edge,
            doing: doing(sampler, key.doing, key.next_holder),
            ns: *ns,
        })
        .collect();
    named.sort_by(|a, b| {
        b.ns.cmp(&a.ns)
            .then_with(|| a.lock.cmp(&b.lock))
            .then_with(|| a.holder.cmp(&b.holder))
            .then_with(|| a.doing.cmp(&b.doing))
    });
    named
}

/// The hold times of the holders of the locks a thread waited on; locks
/// of one name (per-object locks) are summed into one line, as their
/// waits are.
fn hold_times(sampler: &Sampler, koid: u64) -> Result<Vec<HoldTimes>, String> {
    let Some(shares) = sampler.holder_shares.get(&koid) else {
        return Ok(Vec::new());
    };
    let mut wanted: Vec<([String; 2], u64)> = shares
        .keys()
        .filter(|key| key.holder != holders::NO_THREAD)
        .map(|key| {
            let [category, symbol, _] = sampler.key_text(key.wait_key);
            ([category, symbol], key.holder)
        })
        .collect();
    wanted.sort();
    wanted.dedup();
    let mut times = Vec::new();
    for (name, thread) in wanted {
        let Some(holder) = holder_thread(sampler, thread) else {
            continue;
        };
        let addresses = sampler.locks_named(&name);
        let sums = addresses
            .iter()
            .filter_map(|lock| sampler.hold_times.get(&(*lock, thread)));
        let mut merged = HoldTimes {
            category: name[0].clone(),
            symbol: name[1].clone(),
            holder,
            histogram: Default::default(),
            total_ns: 0,
            max_ns: 0,
        };
        for sum in sums {
            merged.histogram.merge(&sum.histogram);
            merged.total_ns = merged
                .total_ns
                .checked_add(sum.total_ns)
                .ok_or_else(|| format!("the holds of {} add up to more than 2^64 ns", name[1]))?;
            merged.max_ns = merged.max_ns.max(sum.max_ns);
        }
        if merged.histogram.count() > 0 {
            times.push(merged);
        }
    }
    Ok(times)
}

fn holder_thread(sampler: &Sampler, koid: u64) -> Option<HolderThread> {
    let pid = sampler
        .processes
        .get(&koid)
        .copied()
        .filter(|pid| *pid != 0);
    (koid != holders::NO_THREAD).then(|| HolderThread {
        thread: thread_name(sampler, koid),
        tid: koid,
        pid,
        process: pid
            .and_then(|pid| sampler.process_name(pid))
            .map(String::from),
    })
}

fn doing(sampler: &Sampler, activity: holders::Activity, next_holder: u64) -> Doing {
    match activity {
        holders::Activity::Unknown => Doing::Unknown,
        holders::Activity::Running { slice } if slice == holders::NO_SLICE => Doing::Running(None),
        holders::Activity::Running { slice } => {
            let [category, name, _] = sampler.key_text(slice);
            Doing::Running(Some([category, name]))
        }
        holders::Activity::OffCpu { state } => {
            Doing::OffCpu(STATE_NAMES[usize::from(state).min(6)].to_string())
        }
        holders::Activity::Waiting { pair } => {
            let [_, symbol, _] = sampler.key_text(sampler.lock_pair_key(pair));
            Doing::Waiting(symbol, holder_thread(sampler, next_holder))
        }
    }
}

/// A window and a wait key's id.
type WindowKey = (u32, u32);

/// One thread's wait parts by holder, borrowed from the sampler: by
/// window and wait key, each holder's part and the waits split; and each
/// holder's name as a key's holder part.
struct ThreadParts<'s> {
    parts: InputMap<WindowKey, Vec<(u64, &'s sampler::WaitSum)>>,
    split: Option<&'s InputMap<WindowKey, holders::SplitWaits>>,
    names: InputMap<u64, String>,
}

fn parts_of<'s>(sampler: &Sampler, parts: &'s holders::HolderParts, koid: u64) -> ThreadParts<'s> {
    let mut of_thread = ThreadParts {
        parts: InputMap::default(),
        split: parts.split.get(&koid),
        names: InputMap::default(),
    };
    for (&(window, key, holder), sum) in parts.parts.get(&koid).into_iter().flatten() {
        let list = of_thread.parts.entry((window, key)).or_default();
        list.push((holder, sum));
        of_thread
            .names
            .entry(holder)
            .or_insert_with(|| holder_key(holder_thread(sampler, holder).as_ref()));
    }
    of_thread
}

/// A window's waits of one key, one per holder: each holder's parts of
/// them; the rest (waits that no lock event carried, so the attribution
/// never saw them) are nobody's known, with the parts of no holder, and
/// leave that row without a distribution.
fn split_by_holder(
    sampler: &Sampler,
    at: WindowKey,
    whole: &sampler::WaitSum,
    parts: &ThreadParts<'_>,
    out: &mut Vec<Wait>,
) {
    let key = || sampler.key(at.1).clone().map(String::from);
    let mut unknown = None;
    for &(holder, sum) in parts.parts.get(&at).into_iter().flatten() {
        if holder == holders::NO_THREAD {
            unknown = Some(out.len());
        }
        out.push(Wait {
            key: key(),
            ns: sum.ns,
            count: sum.count,
            max_ns: sum.max_ns,
            histogram: sum.histogram.clone(),
            holder: parts.names[&holder].clone(),
        });
    }
    let split = parts.split.and_then(|split| split.get(&at));
    let (waits_split, ns_split, longest_split) = split.copied().unwrap_or_default();
    let rest_count = whole.count.saturating_sub(waits_split);
    if rest_count == 0 {
        return;
    }
    let rest_ns = whole.ns.saturating_sub(ns_split);
    // The window's longest wait is the rest's when no split one is as
    // long; else the rest's longest is at most its total.
    let rest_max = if whole.max_ns > longest_split {
        whole.max_ns
    } else {
        whole.max_ns.min(rest_ns)
    };
    let at_unknown = unknown.unwrap_or_else(|| {
        out.push(Wait {
            key: key(),
            ns: 0,
            count: 0,
            max_ns: 0,
            histogram: Histogram::default(),
            holder: UNKNOWN_HOLDER.to_string(),
        });
        out.len() - 1
    });
    let row = &mut out[at_unknown];
    row.ns += rest_ns;
    row.count += rest_count;
    row.max_ns = row.max_ns.max(rest_max);
}

/// A window of a thread: its states and waits, split by holder with
/// `parts`.
fn sample_of(
    sampler: &Sampler,
    track: &ThreadTrack,
    window: usize,
    parts: Option<&ThreadParts<'_>>,
) -> Sample {
    let empty = sampler::Window::default();
    let figures = track.windows.get(window).unwrap_or(&empty);
    let states = STATE_NAMES
        .iter()
        .zip(figures.state_ns)
        .enumerate()
        .filter(|(index, (_, ns))| *index == 0 || *ns > 0)
        .map(|(_, (name, ns))| State {
            name: name.to_string(),
            ns,
        })
        .collect();
    let mut waits: Vec<Wait> = Vec::with_capacity(figures.waits.len());
    for (&key, sum) in &figures.waits {
        match parts {
            Some(parts) => {
                let at = (u32::try_from(window).unwrap_or(u32::MAX), key);
                split_by_holder(sampler, at, sum, parts, &mut waits);
            }
            None => waits.push(Wait {
                key: sampler.key(key).clone().map(String::from),
                ns: sum.ns,
                count: sum.count,
                max_ns: sum.max_ns,
                histogram: sum.histogram.clone(),
                holder: String::new(),
            }),
        }
    }
    waits.sort_by(|a, b| {
        b.ns.cmp(&a.ns)
            .then_with(|| a.key.cmp(&b.key))
            .then_with(|| a.holder.cmp(&b.holder))
    });
    Sample {
        window,
        states,
        waits,
    }
}
