//! Cuts a capture's records into samples: per thread and time window, the
//! time in each scheduler state and the lock waits (`acquire-start`
//! slices), as Perfetto would show them for that thread and selection.

use rustc_hash::FxHashMap;

use super::records::{
    EVENT_DURATION_BEGIN, EVENT_DURATION_COMPLETE, EVENT_DURATION_END, Event, Record,
};

/// The slice name lltrace gives a contended lock acquisition.
pub const LOCK_WAIT_EVENT: &str = "acquire-start";

/// State names as Perfetto shows them, indexed by [`state_index`].
pub const STATE_NAMES: [&str; 7] = [
    "Running", "Runnable", "Sleeping", "Stopped", "Zombie", "Dead", "Unknown",
];

const RUNNING: usize = 0;

/// The most windows a capture is cut into: a bound on memory when a
/// corrupt timestamp lies years after the others.
pub const MAX_WINDOWS: usize = 100_000;

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitSum {
    /// Total wait, in nanoseconds.
    pub ns: u64,
    /// Number of waits.
    pub count: u64,
    /// The longest wait.
    pub max_ns: u64,
}

/// One thread's figures in one window.
#[derive(Debug, Clone, Default)]
pub struct Window {
    /// Nanoseconds in each state of [`STATE_NAMES`].
    pub state_ns: [u64; 7],
    /// Lock waits by key id (see [`Sampler::key`]).
    pub waits: FxHashMap<u32, WaitSum>,
}

/// A lock wait that began and has not ended yet.
#[derive(Debug, Clone, Copy)]
struct OpenWait {
    start_ns: u64,
    key: Option<u32>,
}

/// Everything known of one thread.
#[derive(Debug, Default)]
pub struct ThreadTrack {
    /// The state the thread is in since `since_ns`, once known.
    state: Option<usize>,
    since_ns: u64,
    /// Windows by index from the trace's start; grown on demand.
    pub windows: Vec<Window>,
    open_waits: Vec<OpenWait>,
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
    /// Records whose time is before an earlier record of the same thread.
    pub out_of_order: u64,
}

/// Turns records into per-thread, per-window figures.
#[derive(Debug)]
pub struct Sampler {
    window_ns: u64,
    ticks_per_second: u64,
    origin_ns: Option<u64>,
    last_ns: u64,
    /// Threads by koid.
    pub threads: FxHashMap<u64, ThreadTrack>,
    /// Thread names by koid, from kernel object records.
    pub names: FxHashMap<u64, String>,
    /// Key ids by `category\0symbol\0caller`, looked up without
    /// allocating through `key_buffer`.
    keys: FxHashMap<Box<str>, u32>,
    key_list: Vec<[Box<str>; 3]>,
    key_buffer: String,
    selection: Option<Selection>,
    /// Threads named otherwise than the selection asks: not tracked.
    ignored: rustc_hash::FxHashSet<u64>,
    /// Oddities seen.
    pub notes: CaptureNotes,
}

impl Sampler {
    /// A sampler cutting windows of `window_ns` (u64::MAX: one window).
    pub fn new(window_ns: u64) -> Self {
        Sampler {
            window_ns: window_ns.max(1),
            ticks_per_second: 1_000_000_000,
            origin_ns: None,
            last_ns: 0,
            threads: FxHashMap::default(),
            names: FxHashMap::default(),
            keys: FxHashMap::default(),
            key_list: Vec::new(),
            key_buffer: String::new(),
            selection: None,
            ignored: Default::default(),
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
                kind: 2,
                koid,
                name,
            } => self.name_thread(*koid, name),
            Record::ContextSwitch {
                ticks,
                outgoing_state,
                outgoing,
                incoming,
            } => {
                let now = self.time(*ticks)?;
                self.switch(*outgoing, state_index(*outgoing_state), now);
                self.switch(*incoming, RUNNING, now);
            }
            Record::Event(event) if event.name == LOCK_WAIT_EVENT => self.lock_event(event)?,
            // Every timestamp tells how far the trace goes.
            Record::Event(event) => {
                self.time(event.ticks)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Closes what is open at the trace's end: states run until the last
    /// record, unended waits are dropped (and counted).
    pub fn finish(&mut self) {
        let end = self.last_ns;
        let origin = self.origin_ns.unwrap_or(0);
        let window_ns = self.window_ns;
        for track in self.threads.values_mut() {
            if let Some(state) = track.state {
                add_state(track, state, track.since_ns, end, origin, window_ns);
                track.since_ns = end;
            }
            self.notes.unended_waits += track.open_waits.len() as u64;
            track.open_waits.clear();
        }
    }

    /// How many windows the trace spans.
    pub fn window_count(&self) -> usize {
        let origin = self.origin_ns.unwrap_or(0);
        if self.origin_ns.is_none() {
            return 0;
        }
        window_of(self.last_ns, origin, self.window_ns) + 1
    }

    /// The (category, symbol, caller) of a key id.
    pub fn key(&self, id: u32) -> &[Box<str>; 3] {
        &self.key_list[id as usize]
    }

    fn time(&mut self, ticks: u64) -> Result<u64, String> {
        let ns = if self.ticks_per_second == 1_000_000_000 {
            ticks
        } else {
            let ns = u128::from(ticks) * 1_000_000_000 / u128::from(self.ticks_per_second);
            u64::try_from(ns).unwrap_or(u64::MAX)
        };
        let origin = *self.origin_ns.get_or_insert(ns);
        let ns = ns.max(origin);
        if window_of(ns, origin, self.window_ns) >= MAX_WINDOWS {
            return Err(format!(
                "a record at {:.3} s into the trace makes more than {MAX_WINDOWS} windows; \
                 choose a longer --window",
                (ns - origin) as f64 / 1e9
            ));
        }
        self.last_ns = self.last_ns.max(ns);
        Ok(ns)
    }

    fn switch(&mut self, koid: u64, new_state: usize, now: u64) {
        if !self.tracked(koid) {
            return;
        }
        let origin = self.origin_ns.unwrap_or(0);
        let window_ns = self.window_ns;
        let track = self.threads.entry(koid).or_default();
        if now < track.since_ns {
            self.notes.out_of_order += 1;
        }
        if let Some(state) = track.state {
            add_state(track, state, track.since_ns, now, origin, window_ns);
        }
        track.state = Some(new_state);
        track.since_ns = track.since_ns.max(now);
    }

    fn lock_event(&mut self, event: &Event<'_>) -> Result<(), String> {
        let start = self.time(event.ticks)?;
        let koid = event.thread.tid;
        if !self.tracked(koid) {
            return Ok(());
        }
        match event.kind {
            EVENT_DURATION_BEGIN => {
                let key = self.event_key(event)?;
                let track = self.threads.entry(koid).or_default();
                track.open_waits.push(OpenWait {
                    start_ns: start,
                    key,
                });
            }
            EVENT_DURATION_END => {
                let end_key = self.event_key(event)?;
                let track = self.threads.entry(koid).or_default();
                let Some(open) = track.open_waits.pop() else {
                    self.notes.unmatched_ends += 1;
                    return Ok(());
                };
                let key = open.key.or(end_key);
                self.add_wait(koid, open.start_ns, start, key);
            }
            EVENT_DURATION_COMPLETE => {
                let end = self.time(event.end_ticks.unwrap_or(event.ticks))?;
                let key = self.event_key(event)?;
                self.add_wait(koid, start, end, key);
            }
            _ => {}
        }
        Ok(())
    }

    fn add_wait(&mut self, koid: u64, start: u64, end: u64, key: Option<u32>) {
        if end < start {
            self.notes.out_of_order += 1;
        }
        let key = match key {
            Some(key) => key,
            None => self.intern(["", "", ""]),
        };
        let window = window_of(start, self.origin_ns.unwrap_or(0), self.window_ns);
        let ns = end.saturating_sub(start);
        let track = self.threads.entry(koid).or_default();
        track.waits += 1;
        let sum = window_at(track, window).waits.entry(key).or_default();
        sum.ns = sum.ns.saturating_add(ns);
        sum.count += 1;
        sum.max_ns = sum.max_ns.max(ns);
    }

    /// The key of a lock-wait event: its category and the `symbol` and
    /// `caller` arguments; None when it carries no arguments (an end
    /// record, typically).
    fn event_key(&mut self, event: &Event<'_>) -> Result<Option<u32>, String> {
        let symbol = event.args.string("symbol")?;
        let caller = event.args.string("caller")?;
        if symbol.is_none() && caller.is_none() {
            return Ok(None);
        }
        let (symbol, caller) = (symbol.unwrap_or_default(), caller.unwrap_or_default());
        Ok(Some(self.intern([&event.category, &symbol, &caller])))
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

    /// Tracks only the threads `selection` names (and those not named yet),
    /// so memory follows the threads asked for, not all of them.
    pub fn select(&mut self, selection: Selection) {
        self.selection = Some(selection);
    }

    fn tracked(&self, koid: u64) -> bool {
        !self.ignored.contains(&koid)
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

/// The threads a user asked for.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// By name.
    pub names: Vec<String>,
    /// By koid.
    pub tids: Vec<u64>,
}

fn window_of(ns: u64, origin: u64, window_ns: u64) -> usize {
    usize::try_from(ns.saturating_sub(origin) / window_ns).unwrap_or(usize::MAX)
}

fn window_at(track: &mut ThreadTrack, index: usize) -> &mut Window {
    if track.windows.len() <= index {
        track.windows.resize_with(index + 1, Window::default);
    }
    &mut track.windows[index]
}

/// Adds the time from `from` to `to` in `state`, split at window edges.
fn add_state(
    track: &mut ThreadTrack,
    state: usize,
    from: u64,
    to: u64,
    origin: u64,
    window_ns: u64,
) {
    let mut at = from;
    while at < to {
        let window = window_of(at, origin, window_ns);
        let window_end = origin
            .saturating_add((window as u64).saturating_add(1).saturating_mul(window_ns))
            .min(to);
        let slot = &mut window_at(track, window).state_ns[state];
        *slot = slot.saturating_add(window_end - at);
        if window_end <= at {
            break;
        }
        at = window_end;
    }
}
