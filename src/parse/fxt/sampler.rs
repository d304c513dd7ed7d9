//! Cuts a capture's records into samples: per thread and time window, the
//! time in each scheduler state and the lock waits (`acquire-start`
//! slices), as Perfetto shows them for that thread and selection.
//!
//! A capture's file order is not its time order: lltextract writes each
//! CPU's buffer in turn (a thread that moved between CPUs has its events in
//! several places, a wait can end in a buffer written before the one where
//! it began) and all scheduling records at the end. So the sampler first
//! keeps what each tracked thread did, with its time ([`Sampler::take`]),
//! and once the capture is read replays each thread's happenings in time
//! order ([`Sampler::finish`]), as Perfetto sorts a trace before it builds
//! slices and thread states. Windows start at the earliest timestamp of
//! the capture, Perfetto's trace start.

use crate::hashing::{InputMap, InputSet};

use crate::distribution::Histogram;

use super::holders::{
    Activity, Attribution, DoingRecorder, Hold, HoldBuilder, HoldEdge, HoldNotes, HolderParts,
    HolderTimeline, LockEvent, LockOp, NO_SLICE, NO_THREAD, ShareKey, WaitSpan, meets, merged,
    needed_stretches,
};
use super::spill::{Entry, EntryLog};

use super::records::{
    EVENT_DURATION_BEGIN, EVENT_DURATION_COMPLETE, EVENT_DURATION_END, EVENT_INSTANT, Event, Record,
};

/// The event name lltrace gives a contended lock acquisition: the begin of
/// a wait (a duration begin, or an instant in older lltextract versions).
pub const LOCK_WAIT_EVENT: &str = "acquire-start";

/// The operations that end a wait: the acquisition's outcome. lltextract
/// writes them as the wait's duration end, or as instants.
pub const LOCK_WAIT_ENDS: [&str; 3] = ["acquired-exclusive", "acquired-shared", "acquire-abort"];

/// State names as Perfetto shows them, indexed by [`state_index`].
pub const STATE_NAMES: [&str; 7] = [
    "Running", "Runnable", "Sleeping", "Stopped", "Zombie", "Dead", "Unknown",
];

const RUNNING: u8 = 0;

/// Kernel object types (ZX_OBJ_TYPE) of the records that name things.
const KOBJ_PROCESS: u8 = 1;
const KOBJ_THREAD: u8 = 2;

/// The most windows a capture is cut into: a bound on memory when a
/// corrupt timestamp lies years after the others.
pub const MAX_WINDOWS: usize = 100_000;

/// The most samples a capture gives, over all tracked threads: a bound on
/// memory when many threads meet short windows. Each sample costs about
/// 6 KB on its way through the engine today (120 000 samples: 1.3 s and
/// 720 MB, found by fuzzing), so the bound is the per-trace window bound.
pub const MAX_THREAD_WINDOWS: usize = MAX_WINDOWS;

/// A key id standing for "no `symbol` or `caller` argument".
const NO_KEY: u32 = u32::MAX;

/// Where an outgoing thread goes, by FXT thread state; the same mapping
/// as Perfetto's importer (suspended is `Stopped`, blocked `Sleeping`).
pub fn state_index(fxt_state: u8) -> usize {
    match fxt_state {
        0 | 1 => 1, // new, or preempted while running: Runnable
        3 => 2,     // blocked
        2 => 3,     // suspended
        4 => 4,     // dying
        5 => 5,     // dead
        _ => 6,
    }
}

/// Lock waits of one key within a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaitSum {
    /// Total wait, in nanoseconds.
    pub ns: u64,
    /// Number of waits.
    pub count: u64,
    /// The longest wait.
    pub max_ns: u64,
    /// How the waits spread.
    pub histogram: Histogram,
}

/// One thread's figures in one window.
#[derive(Debug, Clone, Default)]
pub struct Window {
    /// Nanoseconds in each state of [`STATE_NAMES`].
    pub state_ns: [u64; 7],
    /// Lock waits by key id (see [`Sampler::key`]).
    pub waits: InputMap<u32, WaitSum>,
}

/// Something a thread did, kept until the capture is read (in the
/// [`EntryLog`], as a capture holds tens of millions of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    /// The thread enters a scheduler state (an index of [`STATE_NAMES`]).
    State(u8),
    /// A duration begins: a lock wait (with its key) or another slice
    /// (a syscall, an interrupt, a fault).
    Begin { wait: bool, key: u32 },
    /// A duration ends: it closes the innermost open one, whatever its
    /// name. `wait` tells whether its name is a lock wait's end.
    End { wait: bool, key: u32 },
    /// An `acquire-start` instant: its (lock, key) pair by id (see
    /// [`Sampler::lock_pairs`]).
    WaitStart(u32),
    /// An `acquired-*` or `acquire-abort` instant, likewise.
    WaitDone(u32),
    /// A complete lock wait (rare: lltextract writes none) of a key; the
    /// top three bits of its length, and whether it ended before it
    /// began. A [`What::CompleteLength`] follows it.
    Complete {
        key: u32,
        length_top: u8,
        out_of_order: bool,
    },
    /// The low 61 bits of the complete wait's length.
    CompleteLength(u64),
    /// A lock operation on a (lock, key) pair (see
    /// [`Sampler::lock_pairs`]), for the holders.
    LockOp { op: LockOp, pair: u32 },
}

/// The bits of a complete wait's length that [`What::CompleteLength`] holds.
const LENGTH_LOW_BITS: u32 = 61;

impl What {
    /// The entry code: a tag in the low three bits, a flag in the fourth,
    /// the state, key or id above (a complete wait's length bits above
    /// its key).
    fn code(self) -> u64 {
        let (tag, flag, value) = match self {
            What::State(state) => (0, false, u64::from(state)),
            What::Begin { wait, key } => (1, wait, u64::from(key)),
            What::End { wait, key } => (2, wait, u64::from(key)),
            What::WaitStart(id) => (3, false, u64::from(id)),
            What::WaitDone(id) => (4, false, u64::from(id)),
            What::Complete {
                key,
                length_top,
                out_of_order,
            } => (
                5,
                out_of_order,
                u64::from(key) | u64::from(length_top) << 32,
            ),
            What::CompleteLength(low) => return 6 | low << 3,
            What::LockOp { op, pair } => {
                return 7 | u64::from(op.code()) << 3 | u64::from(pair) << 7;
            }
        };
        tag | (u64::from(flag) << 3) | (value << 4)
    }

    fn from_code(code: u64) -> What {
        let flag = code & 8 != 0;
        let value = code >> 4;
        match code & 7 {
            0 => What::State(value as u8),
            1 => What::Begin {
                wait: flag,
                key: value as u32,
            },
            2 => What::End {
                wait: flag,
                key: value as u32,
            },
            3 => What::WaitStart(value as u32),
            4 => What::WaitDone(value as u32),
            5 => What::Complete {
                key: value as u32,
                length_top: (value >> 32) as u8,
                out_of_order: flag,
            },
            6 => What::CompleteLength(code >> 3),
            _ => What::LockOp {
                op: LockOp::from_code(((code >> 3) & 15) as u8),
                pair: (code >> 7) as u32,
            },
        }
    }
}

/// A duration that began and has not ended yet.
#[derive(Debug, Clone, Copy)]
struct Open {
    start_ns: u64,
    wait: bool,
    key: u32,
}

/// Everything known of one thread, once [`Sampler::finish`] has replayed
/// what it did.
#[derive(Debug, Default)]
pub struct ThreadTrack {
    /// Windows by index from the trace's start, filled by the replay.
    pub windows: Vec<Window>,
    /// Lock waits seen (to pick threads by default).
    pub waits: u64,
}

/// What was odd in a capture, for a note.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureNotes {
    /// Lock-wait ends with no begin on the thread.
    pub unmatched_ends: u64,
    /// Lock-wait begins never ended before the trace did.
    pub unended_waits: u64,
    /// Complete lock waits that end before they begin.
    pub out_of_order: u64,
}

/// Turns records into per-thread, per-window figures.
#[derive(Debug)]
pub struct Sampler {
    window_ns: u64,
    ticks_per_second: u64,
    /// The earliest and latest timestamps of the whole capture.
    first_ns: Option<u64>,
    last_ns: u64,
    /// Threads by koid.
    pub threads: InputMap<u64, ThreadTrack>,
    /// What the tracked threads did, in file order until [`Sampler::finish`]
    /// replays it.
    log: EntryLog,
    /// Thread names by koid, from kernel object records.
    pub names: InputMap<u64, String>,
    /// Process names by koid.
    process_names: InputMap<u64, String>,
    /// The process of each thread whose record leaves its name empty.
    thread_process: InputMap<u64, u64>,
    /// The same threads by process.
    process_threads: InputMap<u64, Vec<u64>>,
    /// Key ids by `category\0symbol\0caller`, looked up without
    /// allocating through `key_buffer`.
    keys: InputMap<Box<str>, u32>,
    key_list: Vec<[Box<str>; 3]>,
    key_buffer: String,
    /// The (lock address, key) pairs of instant lock events, by id.
    lock_pairs: Vec<(u64, u32)>,
    lock_pair_ids: InputMap<(u64, u32), u32>,
    selection: Option<Selection>,
    /// Threads named otherwise than the selection asks: not tracked.
    ignored: InputSet<u64>,
    /// Every lock operation, by lock, for the holders.
    lock_log: EntryLog,
    /// Threads of the lock log by index, and their indices.
    thread_koids: Vec<u64>,
    thread_ids: InputMap<u64, u32>,
    /// Lock types whose releases the capture records.
    released: InputSet<Box<str>>,
    /// The key of each lock's first operation (its type and symbol).
    lock_keys: InputMap<u64, u32>,
    /// The tracked threads' waits split over the holders, by waiter.
    pub holder_shares: InputMap<u64, InputMap<ShareKey, u64>>,
    /// Each wait's parts by holder, per window (`--by holder`).
    pub holder_parts: Option<HolderParts>,
    /// Lock types waited on whose releases the capture never records.
    pub without_releases: Vec<String>,
    /// Locks (symbols) held by more threads at once than a wait is split
    /// over ([`super::holders::MAX_HOLDERS_AT_ONCE`]).
    pub crowded_locks: Vec<String>,
    /// Complete holds by (lock, holder).
    pub hold_times: InputMap<(u64, u64), HoldSum>,
    /// The waited-on locks by type and symbol.
    locks_by_name: InputMap<[String; 2], Vec<u64>>,
    /// The process of every thread, by koid, when the capture names one.
    pub processes: InputMap<u64, u64>,
    /// Oddities seen.
    pub notes: CaptureNotes,
}

impl Sampler {
    /// A sampler cutting windows of `window_ns` (u64::MAX: one window).
    pub fn new(window_ns: u64) -> Self {
        Sampler {
            window_ns: window_ns.max(1),
            ticks_per_second: 1_000_000_000,
            first_ns: None,
            last_ns: 0,
            threads: InputMap::default(),
            log: EntryLog::default(),
            names: InputMap::default(),
            process_names: InputMap::default(),
            thread_process: InputMap::default(),
            process_threads: InputMap::default(),
            keys: InputMap::default(),
            key_list: Vec::new(),
            key_buffer: String::new(),
            lock_pairs: Vec::new(),
            lock_pair_ids: InputMap::default(),
            selection: None,
            ignored: Default::default(),
            lock_log: EntryLog::default(),
            thread_koids: Vec::new(),
            thread_ids: InputMap::default(),
            released: InputSet::default(),
            lock_keys: InputMap::default(),
            holder_shares: InputMap::default(),
            holder_parts: None,
            without_releases: Vec::new(),
            crowded_locks: Vec::new(),
            hold_times: InputMap::default(),
            locks_by_name: InputMap::default(),
            processes: InputMap::default(),
            notes: CaptureNotes::default(),
        }
    }

    /// Takes one record in.
    pub fn take(&mut self, record: &Record<'_>) -> Result<(), String> {
        match record {
            Record::Initialization { ticks_per_second } => {
                if *ticks_per_second == 0 {
                    return Err("the initialization record gives 0 ticks per second".into());
                }
                self.ticks_per_second = *ticks_per_second;
            }
            Record::KernelObject {
                kind: KOBJ_THREAD,
                koid,
                name,
                process,
            } => {
                if let Some(process) = process {
                    self.processes.insert(*koid, *process);
                }
                if let (true, Some(process)) = (name.is_empty(), process) {
                    if self.thread_process.insert(*koid, *process).is_none() {
                        self.process_threads
                            .entry(*process)
                            .or_default()
                            .push(*koid);
                    }
                }
                if let Some(name) = self.effective_name(*koid, name) {
                    self.name_thread(*koid, &name);
                }
            }
            Record::KernelObject {
                kind: KOBJ_PROCESS,
                koid,
                name,
                ..
            } => self.name_process(*koid, name),
            Record::ContextSwitch {
                ticks,
                outgoing_state,
                outgoing,
                incoming,
            } => {
                let ns = self.time(*ticks)?;
                let outgoing_state = state_index(*outgoing_state) as u8;
                self.keep(*outgoing, ns, &[What::State(outgoing_state)]);
                self.keep(*incoming, ns, &[What::State(RUNNING)]);
            }
            Record::Event(event) => self.event(event)?,
            _ => {}
        }
        Ok(())
    }

    /// Replays each thread's happenings in time order into its windows;
    /// states run until the trace's last timestamp, waits never ended are
    /// dropped (and counted). Fails when the trace spans more than
    /// [`MAX_WINDOWS`] windows.
    pub fn finish(&mut self) -> Result<(), String> {
        let Some(span) = self.span() else {
            return Ok(());
        };
        let windows = self.window_count();
        if windows > MAX_WINDOWS {
            return Err(format!(
                "the capture spans {:.3} s, more than {MAX_WINDOWS} windows; choose a longer \
                 --window",
                (span.end - span.origin) as f64 / 1e9
            ));
        }
        let tracked = self.threads.len().max(1);
        if windows.saturating_mul(tracked) > MAX_THREAD_WINDOWS {
            return Err(format!(
                "{tracked} threads x {windows} windows is more than {MAX_THREAD_WINDOWS} \
                 samples to keep; choose a longer --window, or fewer threads with --thread"
            ));
        }
        let empty_key = self.intern(["", "", ""]);
        let mut replay = Replay::new(span, empty_key, &self.lock_pairs);
        let threads = &mut self.threads;
        let notes = &mut self.notes;
        let pairs = &self.lock_pairs;
        // The tracked threads' waits by lock, for the holders.
        let mut waits: InputMap<u64, Vec<WaitSpan>> = InputMap::default();
        let mut pending: InputMap<u64, (u64, u32)> = InputMap::default();
        let tracked: InputSet<u64> = threads.keys().copied().collect();
        self.log.replay_sorted(
            |koid| tracked.contains(&koid),
            |koid, entry| {
                if replay.koid != Some(koid) {
                    replay.next_thread(Some(koid), threads, notes);
                    pending.clear();
                }
                let what = What::from_code(entry.code);
                if let What::LockOp { op, pair } = what {
                    let (lock, key) = pairs[pair as usize];
                    match op {
                        LockOp::AcquireStart => {
                            pending.insert(lock, (entry.ns, key));
                        }
                        _ => {
                            if let Some((start, begun_key)) = pending.remove(&lock) {
                                // The key the window counts the wait under.
                                let key = [begun_key, key]
                                    .into_iter()
                                    .find(|&key| key != NO_KEY)
                                    .unwrap_or(empty_key);
                                let (thread, end) = (koid, entry.ns);
                                let wait = WaitSpan {
                                    thread,
                                    window: u32::try_from(span.window_of(start))
                                        .unwrap_or(u32::MAX),
                                    start,
                                    end,
                                    key,
                                };
                                waits.entry(lock).or_default().push(wait);
                            }
                        }
                    }
                }
                let track = threads.get_mut(&koid).expect("tracked, wanted above");
                replay.take(track, entry.ns, what, notes)
            },
        )?;
        replay.next_thread(None, threads, notes);
        if self.wants_holders() {
            self.find_holders(span, waits)?;
        }
        Ok(())
    }

    /// Whether the holders of the tracked threads' locks are worked out:
    /// for the threads a user named. Every thread's every lock operation
    /// must then be read and kept (a thread not named may hold a lock), so
    /// a read of all threads, which costs that already, does not add the
    /// holders of all of them (docs/performance.md).
    pub fn wants_holders(&self) -> bool {
        self.selection
            .as_ref()
            .is_some_and(|selection| selection.holders)
    }

    /// Splits the tracked threads' lock waits over the holders of the
    /// locks ([`super::holders`]): the holds of each lock waited on,
    /// rebuilt from its events in time order, where they meet the waits;
    /// then a pass over the holders' own events for what they were doing,
    /// and, where a holder itself waited on a lock, that lock's holds
    /// where it waited.
    fn find_holders(
        &mut self,
        span: Span,
        waits: InputMap<u64, Vec<WaitSpan>>,
    ) -> Result<(), String> {
        let mut wanted: InputMap<u64, Vec<(u64, u64)>> = InputMap::default();
        for (lock, list) in &waits {
            wanted.insert(
                *lock,
                merged(list.iter().map(|w| (w.start, w.end)).collect()),
            );
        }
        let mut holds = self.stream_holds(&wanted, span, true)?;
        self.without_releases = self.categories_without_releases(wanted.keys());
        let mut attribution = Attribution::default();
        if self.selection.as_ref().is_some_and(|s| s.split_by_holder) {
            attribution.parts = Some(HolderParts::default());
        }
        for (&lock, lock_waits) in &waits {
            let mut holds = holds.remove(&lock).unwrap_or_default();
            // A lock type whose releases the capture never records: its
            // holds would be guesses; its waits stay unknown.
            if self
                .without_releases
                .iter()
                .any(|w| w == self.lock_category(lock))
            {
                holds.clear();
            }
            let timeline = HolderTimeline::new(holds);
            if timeline.crowded {
                self.crowded_locks.push(self.lock_name(lock)[1].clone());
            }
            attribution.add_lock(&timeline, lock_waits);
        }
        let recorders = self.holders_doings(&attribution)?;
        let chains = self.chain_stretches(&recorders);
        let chain_holds = self.stream_holds(&chains, span, false)?;
        let timelines: InputMap<u64, HolderTimeline> = chain_holds
            .into_iter()
            .map(|(lock, holds)| (lock, HolderTimeline::new(holds)))
            .collect();
        let pairs = &self.lock_pairs;
        let mut next_holder = |pair: u32, from: u64, to: u64, holder: u64| {
            let lock = pairs[pair as usize].0;
            let Some(timeline) = timelines.get(&lock) else {
                return Vec::new();
            };
            timeline
                .within(from, to)
                .into_iter()
                .map(|(from, to, members)| {
                    let other = members
                        .iter()
                        .map(|&i| timeline.holds[i as usize].thread)
                        .find(|&thread| thread != holder);
                    (from, to, other.unwrap_or(NO_THREAD))
                })
                .collect()
        };
        let queries = std::mem::take(&mut attribution.queries);
        let mut recorders = recorders;
        for (holder, queries) in &queries {
            let timeline = recorders
                .remove(holder)
                .map(|r| r.timeline)
                .unwrap_or_default();
            attribution.resolve(queries, &timeline, &mut next_holder);
        }
        self.holder_shares = attribution.shares;
        self.holder_parts = attribution.parts;
        Ok(())
    }

    /// The holds of the locks in `wanted` that meet its stretches, from
    /// the lock log in time order; `count_times` adds every complete hold
    /// of those locks to the hold times.
    fn stream_holds(
        &mut self,
        wanted: &InputMap<u64, Vec<(u64, u64)>>,
        span: Span,
        count_times: bool,
    ) -> Result<InputMap<u64, Vec<Hold>>, String> {
        // What was odd in the holds shows in them (`partial`), not apart.
        let mut notes = HoldNotes::default();
        let notes = &mut notes;
        let mut log = std::mem::take(&mut self.lock_log);
        let mut kept: InputMap<u64, Vec<Hold>> = InputMap::default();
        let mut current: Option<(u64, HoldBuilder)> = None;
        let mut failed: Option<String> = None;
        let mut take_hold = |sampler: &mut Sampler, lock: u64, hold: Hold| {
            if count_times && hold.edge == HoldEdge::Whole {
                if let Err(message) = sampler.add_hold_time(lock, &hold) {
                    failed.get_or_insert(message);
                }
            }
            if wanted
                .get(&lock)
                .is_some_and(|s| meets(s, hold.start, hold.end))
            {
                kept.entry(lock).or_default().push(hold);
            }
        };
        let replayed = log.replay_sorted(
            |lock| wanted.contains_key(&lock),
            |lock, entry| {
                if current.as_ref().is_none_or(|(open, _)| *open != lock) {
                    if let Some((done, builder)) = current.take() {
                        builder.finish(span.end, notes, &mut |h| take_hold(self, done, h));
                    }
                    current = Some((lock, HoldBuilder::new(span.origin)));
                }
                let event = self.lock_event(entry);
                let (_, builder) = current.as_mut().expect("set above");
                builder.feed(event, notes, &mut |h| take_hold(self, lock, h));
                Ok(())
            },
        );
        if let Some((done, builder)) = current.take() {
            builder.finish(span.end, notes, &mut |h| take_hold(self, done, h));
        }
        self.lock_log = log;
        replayed?;
        match failed {
            Some(message) => Err(message),
            None => Ok(kept),
        }
    }

    /// What the holders were doing in the stretches the attribution asks
    /// about: a pass over their own events.
    fn holders_doings(
        &mut self,
        attribution: &Attribution,
    ) -> Result<InputMap<u64, DoingRecorder>, String> {
        let holders: InputSet<u64> = attribution.queries.keys().copied().collect();
        let mut recorders: InputMap<u64, DoingRecorder> = attribution
            .queries
            .iter()
            .map(|(&holder, queries)| (holder, DoingRecorder::new(needed_stretches(queries))))
            .collect();
        let pairs = &self.lock_pairs;
        let mut current: Option<(u64, Doings)> = None;
        let end_thread = |current: &mut Option<(u64, Doings)>,
                          recorders: &mut InputMap<u64, DoingRecorder>| {
            if let Some((koid, doings)) = current.take() {
                if let Some(recorder) = recorders.get_mut(&koid) {
                    recorder.finish(doings.now());
                }
            }
        };
        self.log.replay_sorted(
            |koid| holders.contains(&koid),
            |koid, entry| {
                if current.as_ref().is_none_or(|(thread, _)| *thread != koid) {
                    end_thread(&mut current, &mut recorders);
                    current = Some((koid, Doings::default()));
                }
                let (_, doings) = current.as_mut().expect("set above");
                let recorder = recorders.get_mut(&koid).expect("a holder");
                recorder.before(entry.ns, doings.now());
                doings.apply(What::from_code(entry.code), pairs);
                recorder.after(entry.ns, doings.now());
                Ok(())
            },
        )?;
        end_thread(&mut current, &mut recorders);
        Ok(recorders)
    }

    /// Where holders waited on other locks while holding: by lock, the
    /// stretches (merged) whose holders the chains name.
    fn chain_stretches(
        &self,
        recorders: &InputMap<u64, DoingRecorder>,
    ) -> InputMap<u64, Vec<(u64, u64)>> {
        let mut by_lock: InputMap<u64, Vec<(u64, u64)>> = InputMap::default();
        for recorder in recorders.values() {
            for (from, to, doing) in recorder.doings() {
                if let Activity::Waiting { pair } = doing {
                    let lock = self.lock_pairs[pair as usize].0;
                    by_lock.entry(lock).or_default().push((from, to));
                }
            }
        }
        by_lock
            .into_iter()
            .map(|(lock, stretches)| (lock, merged(stretches)))
            .collect()
    }

    /// A lock log entry as a lock event.
    fn lock_event(&self, entry: Entry) -> LockEvent {
        let thread_index = (entry.code & ((1 << 28) - 1)) as usize;
        LockEvent {
            ns: entry.ns,
            thread: self
                .thread_koids
                .get(thread_index)
                .copied()
                .unwrap_or(NO_THREAD),
            op: LockOp::from_code(((entry.code >> 28) & 15) as u8),
            key: (entry.code >> 32) as u32,
        }
    }

    /// Keeps a lock operation in the lock log, by lock.
    fn log_lock_op(&mut self, lock: u64, ns: u64, koid: u64, op: LockOp, key: u32) {
        let next = self.thread_koids.len() as u32;
        let index = *self.thread_ids.entry(koid).or_insert(next);
        if index == next {
            self.thread_koids.push(koid);
        }
        if self.lock_keys.insert(lock, key).is_none() {
            let [category, symbol, _] = self.key_text(key);
            self.locks_by_name
                .entry([category, symbol])
                .or_default()
                .push(lock);
        }
        let code =
            u64::from(index) & ((1 << 28) - 1) | u64::from(op.code()) << 28 | u64::from(key) << 32;
        self.lock_log.push(lock, &[Entry { ns, code }]);
    }

    /// The type and symbol of a lock seen in the lock log.
    fn lock_name(&self, lock: u64) -> [String; 2] {
        let key = self.lock_keys.get(&lock).copied().unwrap_or(NO_KEY);
        let [category, symbol, _] = self.key_text(key);
        [category, symbol]
    }

    fn lock_category(&self, lock: u64) -> &str {
        let key = self.lock_keys.get(&lock).copied().unwrap_or(NO_KEY);
        self.category_of(key)
    }

    /// Temporary-file runs of the event log (for tests of memory).
    pub fn spilled_runs(&self) -> usize {
        self.log.runs()
    }

    /// How many windows the trace spans.
    pub fn window_count(&self) -> usize {
        self.span()
            .map_or(0, |span| span.window_of(span.end).saturating_add(1))
    }

    /// The trace's bounds and windows, once it has a timestamp.
    fn span(&self) -> Option<Span> {
        Some(Span {
            origin: self.first_ns?,
            end: self.last_ns,
            window_ns: self.window_ns,
        })
    }

    /// Adds a complete hold to its holder's hold times of the lock.
    fn add_hold_time(&mut self, lock: u64, hold: &Hold) -> Result<(), String> {
        let length = hold.end - hold.start;
        let times = self.hold_times.entry((lock, hold.thread)).or_default();
        times.total_ns = times.total_ns.checked_add(length).ok_or_else(|| {
            "one thread's holds of one lock add up to more than 2^64 ns".to_string()
        })?;
        times.max_ns = times.max_ns.max(length);
        times.histogram.record(length);
        Ok(())
    }

    /// The lock types (categories) of these locks whose releases the
    /// capture never records, sorted.
    fn categories_without_releases<'a>(&self, locks: impl Iterator<Item = &'a u64>) -> Vec<String> {
        let mut types: Vec<String> = locks
            .map(|lock| self.lock_category(*lock))
            .filter(|category| !self.released.contains(*category))
            .map(String::from)
            .collect();
        types.sort_unstable();
        types.dedup();
        types
    }

    /// The lock type of a key id ("" for none).
    fn category_of(&self, key: u32) -> &str {
        self.key_list.get(key as usize).map_or("", |key| &key[0])
    }

    /// The addresses of the waited-on locks of a type and symbol.
    pub fn locks_named(&self, name: &[String; 2]) -> Vec<u64> {
        self.locks_by_name.get(name).cloned().unwrap_or_default()
    }

    /// The key id of a (lock, key) pair.
    pub fn lock_pair_key(&self, pair: u32) -> u32 {
        self.lock_pairs[pair as usize].1
    }

    /// The (category, symbol, caller) of a key id.
    pub fn key(&self, id: u32) -> &[Box<str>; 3] {
        &self.key_list[id as usize]
    }

    /// The (category, symbol, caller) of a key id, empty for one standing
    /// for no key.
    pub fn key_text(&self, id: u32) -> [String; 3] {
        match self.key_list.get(id as usize) {
            Some(key) => key.clone().map(String::from),
            None => Default::default(),
        }
    }

    /// A timestamp in nanoseconds; widens the trace's bounds. One past
    /// 2^64 ns is an error, never clamped.
    fn time(&mut self, ticks: u64) -> Result<u64, String> {
        let ns = if self.ticks_per_second == 1_000_000_000 {
            ticks
        } else {
            let ns = u128::from(ticks) * 1_000_000_000 / u128::from(self.ticks_per_second);
            u64::try_from(ns).map_err(|_| {
                format!(
                    "a timestamp of {ticks} ticks at {} ticks per second is past 2^64 ns",
                    self.ticks_per_second
                )
            })?
        };
        let first = self.first_ns.get_or_insert(ns);
        *first = (*first).min(ns);
        self.last_ns = self.last_ns.max(ns);
        Ok(ns)
    }

    /// Keeps what a thread did (one or two things, kept together): every
    /// thread's, as any may hold a lock a tracked thread waits on; only
    /// tracked threads get windows.
    fn keep(&mut self, koid: u64, ns: u64, what: &[What]) {
        if self.tracked(koid) {
            self.threads.entry(koid).or_default();
        } else if !self.wants_holders() {
            return;
        }
        let mut entries = [Entry::default(); 2];
        for (entry, what) in entries.iter_mut().zip(what) {
            *entry = Entry {
                ns,
                code: what.code(),
            };
        }
        self.log.push(koid, &entries[..what.len()]);
    }

    fn event(&mut self, event: &Event<'_>) -> Result<(), String> {
        let ns = self.time(event.ticks)?;
        let koid = event.thread.tid;
        // A thread not asked for matters only as a holder.
        if !self.tracked(koid) && !self.wants_holders() {
            return Ok(());
        }
        let begins_wait = event.name == LOCK_WAIT_EVENT;
        let ends_wait = LOCK_WAIT_ENDS.contains(&event.name.as_ref());
        // Lock operations and slice names matter only to the holders. A
        // duration end named like its begin is a wait's end of unknown
        // outcome: no lock operation.
        let holders = self.wants_holders();
        let lock_op = holders
            .then(|| LockOp::from_name(&event.name))
            .flatten()
            .filter(|op| !(*op == LockOp::AcquireStart && event.kind == EVENT_DURATION_END))
            .map(|op| (op, event));
        let what = match event.kind {
            EVENT_DURATION_BEGIN if begins_wait => What::Begin {
                wait: true,
                key: self.event_key(event)?,
            },
            EVENT_DURATION_BEGIN => What::Begin {
                wait: false,
                key: if holders {
                    self.intern([&event.category, &event.name, ""])
                } else {
                    NO_KEY
                },
            },
            EVENT_DURATION_END if begins_wait || ends_wait => What::End {
                wait: true,
                key: self.event_key(event)?,
            },
            EVENT_DURATION_END => What::End {
                wait: false,
                key: NO_KEY,
            },
            EVENT_DURATION_COMPLETE if begins_wait => {
                let end_ns = self.time(event.end_ticks.unwrap_or(event.ticks))?;
                let key = self.event_key(event)?;
                let length = end_ns.saturating_sub(ns);
                let complete = What::Complete {
                    key,
                    length_top: (length >> LENGTH_LOW_BITS) as u8,
                    out_of_order: end_ns < ns,
                };
                let low = What::CompleteLength(length & ((1 << LENGTH_LOW_BITS) - 1));
                self.keep(koid, ns, &[complete, low]);
                return Ok(());
            }
            EVENT_INSTANT if begins_wait => What::WaitStart(self.lock_pair(event)?),
            EVENT_INSTANT if ends_wait => What::WaitDone(self.lock_pair(event)?),
            // Acquisitions without a wait, releases, downgrades, failed
            // tries: for the holders only, in the lock log.
            _ => match lock_op {
                Some((op, event)) if event.kind == EVENT_INSTANT => {
                    self.lock_op(koid, ns, op, event)?;
                    return Ok(());
                }
                _ => return Ok(()),
            },
        };
        match lock_op {
            Some((op, event)) => {
                let pair = self.lock_op(koid, ns, op, event)?;
                self.keep(koid, ns, &[what, What::LockOp { op, pair }]);
            }
            _ => self.keep(koid, ns, &[what]),
        }
        Ok(())
    }

    /// A lock operation into the lock log; its (lock, key) pair's id.
    fn lock_op(
        &mut self,
        koid: u64,
        ns: u64,
        op: LockOp,
        event: &Event<'_>,
    ) -> Result<u32, String> {
        let pair = self.lock_pair(event)?;
        let (lock, key) = self.lock_pairs[pair as usize];
        if matches!(op, LockOp::ReleaseExclusive | LockOp::ReleaseShared)
            && !self.released.contains(event.category.as_ref())
        {
            self.released.insert(event.category.as_ref().into());
        }
        self.log_lock_op(lock, ns, koid, op, key);
        Ok(pair)
    }

    /// The id of an instant lock event's (lock, key) pair.
    fn lock_pair(&mut self, event: &Event<'_>) -> Result<u32, String> {
        let key = self.event_key(event)?;
        let pair = (lock_identity(event, key)?, key);
        let next = self.lock_pairs.len() as u32;
        let id = *self.lock_pair_ids.entry(pair).or_insert(next);
        if id == next {
            self.lock_pairs.push(pair);
        }
        Ok(id)
    }

    /// The key of a lock event: its category and the `symbol` and
    /// `caller` arguments; [`NO_KEY`] when it carries neither.
    fn event_key(&mut self, event: &Event<'_>) -> Result<u32, String> {
        let symbol = event.args.string("symbol")?;
        let caller = event.args.string("caller")?;
        if symbol.is_none() && caller.is_none() {
            return Ok(NO_KEY);
        }
        let (symbol, caller) = (symbol.unwrap_or_default(), caller.unwrap_or_default());
        Ok(self.intern([&event.category, &symbol, &caller]))
    }

    fn intern(&mut self, key: [&str; 3]) -> u32 {
        self.key_buffer.clear();
        for (index, part) in key.iter().enumerate() {
            if index > 0 {
                self.key_buffer.push('\0');
            }
            self.key_buffer.push_str(part);
        }
        if let Some(&id) = self.keys.get(self.key_buffer.as_str()) {
            return id;
        }
        let id = self.key_list.len() as u32;
        self.key_list.push(key.map(Box::from));
        self.keys.insert(self.key_buffer.as_str().into(), id);
        id
    }

    /// A process's name, when the capture gives one.
    pub fn process_name(&self, pid: u64) -> Option<&str> {
        self.process_names.get(&pid).map(String::as_str)
    }

    /// Tracks only the threads `selection` names (and those not named yet),
    /// so memory follows the threads asked for, not all of them.
    pub fn select(&mut self, selection: Selection) {
        self.selection = Some(selection);
    }

    fn tracked(&self, koid: u64) -> bool {
        !self.ignored.contains(&koid)
    }

    /// A thread's name: its own, or, when its record leaves it empty (as
    /// lltextract does for user threads), its process's (Perfetto shows
    /// that one). None while the process has no name yet.
    fn effective_name(&self, koid: u64, name: &str) -> Option<String> {
        if !name.is_empty() {
            return Some(name.to_string());
        }
        let process = self.thread_process.get(&koid)?;
        self.process_names.get(process).cloned()
    }

    /// A process named (again): its threads without a name of their own
    /// take it.
    fn name_process(&mut self, koid: u64, name: &str) {
        self.process_names.insert(koid, name.to_string());
        let threads = self.process_threads.get(&koid).cloned().unwrap_or_default();
        for thread in threads {
            self.name_thread(thread, name);
        }
    }

    /// A thread named: dropped when the selection does not want it.
    fn name_thread(&mut self, koid: u64, name: &str) {
        if let Some(selection) = &self.selection {
            if !selection.tids.contains(&koid) && !selection.names.iter().any(|n| n == name) {
                self.ignored.insert(koid);
                self.threads.remove(&koid);
            }
        }
        self.names.insert(koid, name.to_string());
    }
}

/// The lock an instant lock event is about: its address (a koid argument
/// named by the lock type, as lltextract writes it), or, without one, a
/// value made of its key that is no canonical kernel address (top bit set,
/// the next fifteen clear).
fn lock_identity(event: &Event<'_>, key: u32) -> Result<u64, String> {
    Ok(match event.args.number(&event.category)? {
        Some(address) => address,
        None => (1 << 63) | u64::from(key),
    })
}

/// The threads a user asked for.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// By name.
    pub names: Vec<String>,
    /// By koid.
    pub tids: Vec<u64>,
    /// Work out who held the locks they waited on.
    pub holders: bool,
    /// And split each wait's window sums by holder (`--by holder`).
    pub split_by_holder: bool,
}

/// The trace's bounds and its windows.
#[derive(Debug, Clone, Copy)]
struct Span {
    origin: u64,
    end: u64,
    window_ns: u64,
}

impl Span {
    fn window_of(&self, ns: u64) -> usize {
        usize::try_from(ns.saturating_sub(self.origin) / self.window_ns).unwrap_or(usize::MAX)
    }
}

/// Replays each thread's happenings in time order (stable: records of the
/// same time keep their file order) into its windows, as Perfetto builds a
/// thread's slices and states: one stack of open durations, which any
/// duration end pops; a popped `acquire-start` is a wait of its key.
struct Replay<'a> {
    span: Span,
    empty_key: u32,
    lock_pairs: &'a [(u64, u32)],
    /// The thread being replayed.
    koid: Option<u64>,
    /// Its state and since when.
    state: Option<(u8, u64)>,
    open: Vec<Open>,
    /// Instant-encoded waits begun and not yet acquired: lock -> (start,
    /// key). A map, not a list searched per event: 600 000 waits begun on
    /// distinct locks made that quadratic (a minute).
    started: InputMap<u64, (u64, u32)>,
    /// A complete wait's key and top length bits, until its length.
    complete: Option<(u32, u8)>,
}

impl<'a> Replay<'a> {
    fn new(span: Span, empty_key: u32, lock_pairs: &'a [(u64, u32)]) -> Self {
        Replay {
            span,
            empty_key,
            lock_pairs,
            koid: None,
            state: None,
            open: Vec::new(),
            started: InputMap::default(),
            complete: None,
        }
    }

    /// A key, or the empty key for [`NO_KEY`]: the first of the two known.
    fn pick(&self, first: u32, second: u32) -> u32 {
        [first, second]
            .into_iter()
            .find(|&key| key != NO_KEY)
            .unwrap_or(self.empty_key)
    }

    fn take(
        &mut self,
        track: &mut ThreadTrack,
        ns: u64,
        what: What,
        notes: &mut CaptureNotes,
    ) -> Result<(), String> {
        let span = self.span;
        match what {
            What::State(next) => {
                if let Some((current, since)) = self.state {
                    add_state(track, current, since, ns, span);
                }
                self.state = Some((next, ns));
            }
            What::Begin { wait, key } => self.open.push(Open {
                start_ns: ns,
                wait,
                key,
            }),
            What::End { wait, key } => match self.open.pop() {
                Some(begun) if begun.wait => {
                    let key = self.pick(begun.key, key);
                    add_wait(track, begun.start_ns, ns, key, span)?
                }
                Some(_) => {}
                None if wait => notes.unmatched_ends += 1,
                None => {}
            },
            What::WaitStart(id) => {
                let (lock, key) = self.lock_pairs[id as usize];
                if self.started.insert(lock, (ns, key)).is_some() {
                    // Begun again before it was acquired: the first lost its end.
                    notes.unended_waits += 1;
                }
            }
            What::WaitDone(id) => {
                let (lock, key) = self.lock_pairs[id as usize];
                match self.started.remove(&lock) {
                    Some((start, begun_key)) => {
                        let key = self.pick(begun_key, key);
                        add_wait(track, start, ns, key, span)?;
                    }
                    None => notes.unmatched_ends += 1,
                }
            }
            What::Complete {
                key,
                length_top,
                out_of_order,
            } => {
                notes.out_of_order += u64::from(out_of_order);
                self.complete = Some((self.pick(key, NO_KEY), length_top));
            }
            What::LockOp { .. } => {}
            What::CompleteLength(low) => {
                // Kept next to its Complete: the log never parts them.
                if let Some((key, top)) = self.complete.take() {
                    let length = u64::from(top) << LENGTH_LOW_BITS | low;
                    add_wait(track, ns, ns.saturating_add(length), key, span)?;
                }
            }
        }
        Ok(())
    }

    /// Ends the thread being replayed (its last state runs to the trace's
    /// end; what it left open is counted) and starts on `koid`.
    fn next_thread(
        &mut self,
        koid: Option<u64>,
        threads: &mut InputMap<u64, ThreadTrack>,
        notes: &mut CaptureNotes,
    ) {
        let ended = self.koid.and_then(|previous| threads.get_mut(&previous));
        if let (Some(track), Some((current, since))) = (ended, self.state) {
            add_state(track, current, since, self.span.end, self.span);
        }
        notes.unended_waits += self.open.iter().filter(|begun| begun.wait).count() as u64;
        notes.unended_waits += self.started.len() as u64;
        self.open.clear();
        self.started.clear();
        self.complete = None;
        self.state = None;
        self.koid = koid;
    }
}

/// One holder's complete holds of one lock.
#[derive(Debug, Clone, Default)]
pub struct HoldSum {
    /// How they spread.
    pub histogram: Histogram,
    /// Their total, ns.
    pub total_ns: u64,
    /// The longest, ns.
    pub max_ns: u64,
}

/// What a holder is doing, replayed from its events: its state, its open
/// slices and the locks it waits on.
#[derive(Debug, Default)]
struct Doings {
    state: Option<u8>,
    /// Anything but a state seen: a thread that records events runs.
    active: bool,
    open: Vec<(bool, u32)>,
    /// (lock, pair) of the waits begun and not ended.
    waiting: Vec<(u64, u32)>,
}

impl Doings {
    fn apply(&mut self, what: What, pairs: &[(u64, u32)]) {
        match what {
            What::State(state) => self.state = Some(state),
            What::Begin { wait, key } => self.open.push((wait, key)),
            What::End { .. } => {
                self.open.pop();
            }
            What::LockOp { op, pair } => {
                let lock = pairs[pair as usize].0;
                match op {
                    LockOp::AcquireStart => {
                        self.waiting.retain(|waiting| waiting.0 != lock);
                        self.waiting.push((lock, pair));
                    }
                    LockOp::AcquiredExclusive | LockOp::AcquiredShared | LockOp::AcquireAbort => {
                        self.waiting.retain(|waiting| waiting.0 != lock)
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        self.active |= !matches!(what, What::State(_));
    }

    fn now(&self) -> Activity {
        if let Some(&(_, pair)) = self.waiting.last() {
            return Activity::Waiting { pair };
        }
        match self.state {
            Some(RUNNING) => Activity::Running {
                slice: self.innermost_slice(),
            },
            Some(state) => Activity::OffCpu { state },
            None if self.active => Activity::Running {
                slice: self.innermost_slice(),
            },
            None => Activity::Unknown,
        }
    }

    fn innermost_slice(&self) -> u32 {
        let slice = self.open.iter().rev().find(|(wait, _)| !wait);
        slice.map_or(NO_SLICE, |(_, key)| *key)
    }
}

/// Counts a wait in the window where it began; a window's waits of one
/// key past 2^64 ns are an error, never saturated.
fn add_wait(
    track: &mut ThreadTrack,
    start: u64,
    end: u64,
    key: u32,
    span: Span,
) -> Result<(), String> {
    let ns = end.saturating_sub(start);
    track.waits += 1;
    let window = span.window_of(start);
    let sum = window_at(track, window).waits.entry(key).or_default();
    sum.ns = sum.ns.checked_add(ns).ok_or_else(|| {
        format!(
            "the lock waits of one key in window {} add up to more than 2^64 ns",
            window + 1
        )
    })?;
    sum.count += 1;
    sum.max_ns = sum.max_ns.max(ns);
    sum.histogram.record(ns);
    Ok(())
}

fn window_at(track: &mut ThreadTrack, index: usize) -> &mut Window {
    if track.windows.len() <= index {
        track.windows.resize_with(index + 1, Window::default);
    }
    &mut track.windows[index]
}

/// Adds the time from `from` to `to` in `state`, split at window edges.
fn add_state(track: &mut ThreadTrack, state: u8, from: u64, to: u64, span: Span) {
    let mut at = from;
    while at < to {
        let window = span.window_of(at);
        let window_end = span
            .origin
            .saturating_add(
                (window as u64)
                    .saturating_add(1)
                    .saturating_mul(span.window_ns),
            )
            .min(to);
        let slot = &mut window_at(track, window).state_ns[usize::from(state)];
        *slot = slot.saturating_add(window_end - at);
        if window_end <= at {
            break;
        }
        at = window_end;
    }
}
