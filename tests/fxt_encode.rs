//! A small Fuchsia Trace Format (FXT) encoder, written from Fuchsia's
//! "Fuchsia trace format" reference, to make lltrace-like captures for the
//! tests and the benchmark (examples/genfxt.rs includes this file).
//!
//! It writes what lltextract writes: the magic record, an initialization
//! record, string records, kernel object records naming threads, context
//! switch records and `acquire-start` duration events whose arguments are
//! `symbol` and `caller`.

#![allow(dead_code)]

use std::collections::HashMap;

/// FXT thread states, as context switch records carry them.
pub const STATE_RUNNING: u8 = 1;
/// Suspended: Perfetto shows it as `Stopped` (lltrace: asleep on a wait
/// channel).
pub const STATE_SUSPENDED: u8 = 2;
/// Blocked: Perfetto shows it as `Sleeping`.
pub const STATE_BLOCKED: u8 = 3;

/// A capture being written.
pub struct Encoder {
    /// The bytes so far.
    pub bytes: Vec<u8>,
    strings: HashMap<String, u16>,
    /// Write strings inline in each record instead of in the table.
    pub inline_strings: bool,
}

impl Encoder {
    /// A capture with the magic and initialization records.
    pub fn new(ticks_per_second: u64) -> Self {
        let mut encoder = Encoder {
            bytes: Vec::new(),
            strings: HashMap::new(),
            inline_strings: false,
        };
        encoder.word(0x0016_5478_4604_0010);
        encoder.word(1 | (2 << 4));
        encoder.word(ticks_per_second);
        encoder
    }

    /// Appends one little-endian word.
    pub fn word(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    /// Appends bytes padded to a whole word.
    pub fn stream(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        let padding = bytes.len().div_ceil(8) * 8 - bytes.len();
        self.bytes.extend(std::iter::repeat_n(0, padding));
    }

    /// Words that `bytes` take, padded.
    pub fn words_of(bytes: &[u8]) -> u64 {
        bytes.len().div_ceil(8) as u64
    }

    /// The string's index, writing a string record the first time.
    pub fn string_index(&mut self, text: &str) -> u16 {
        if let Some(&index) = self.strings.get(text) {
            return index;
        }
        let index = self.strings.len() as u16 + 1;
        self.strings.insert(text.to_string(), index);
        let length = text.len() as u64;
        let words = 1 + Self::words_of(text.as_bytes());
        self.word(2 | (words << 4) | (u64::from(index) << 16) | (length << 32));
        self.stream(text.as_bytes());
        index
    }

    /// A string ref for `text` and the inline stream to write (if any).
    fn string_ref(&mut self, text: &str) -> (u64, Option<Vec<u8>>) {
        if text.is_empty() {
            (0, None)
        } else if self.inline_strings {
            (0x8000 | text.len() as u64, Some(text.as_bytes().to_vec()))
        } else {
            (u64::from(self.string_index(text)), None)
        }
    }

    /// A kernel object record naming thread `koid` of process `pid`.
    pub fn thread_name(&mut self, koid: u64, pid: u64, name: &str) {
        let (name_ref, inline) = self.string_ref(name);
        let process_key = self.string_index("process");
        let inline_words = inline.as_deref().map_or(0, Self::words_of);
        let words = 2 + inline_words + 2;
        self.word(7 | (words << 4) | (2 << 16) | (name_ref << 24) | (1 << 40));
        self.word(koid);
        if let Some(bytes) = inline {
            self.stream(&bytes);
        }
        // A koid argument: "process".
        self.word(8 | (2 << 4) | (u64::from(process_key) << 16));
        self.word(pid);
    }

    /// A context switch on `cpu`: `outgoing` leaves in `state`, `incoming`
    /// runs.
    pub fn switch(&mut self, ticks: u64, cpu: u64, state: u8, outgoing: u64, incoming: u64) {
        self.word(8 | (4 << 4) | (cpu << 20) | (u64::from(state) << 36) | (1 << 60));
        self.word(ticks);
        self.word(outgoing);
        self.word(incoming);
    }

    /// The same with the legacy context switch record (inline threads).
    pub fn legacy_switch(
        &mut self,
        ticks: u64,
        state: u8,
        outgoing: (u64, u64),
        incoming: (u64, u64),
    ) {
        self.word(8 | (6 << 4) | (u64::from(state) << 24));
        self.word(ticks);
        self.word(outgoing.0);
        self.word(outgoing.1);
        self.word(incoming.0);
        self.word(incoming.1);
    }

    /// An event record with string arguments; `extra` words follow the
    /// arguments (the end time of a complete event).
    #[allow(clippy::too_many_arguments)]
    pub fn event(
        &mut self,
        kind: u64,
        ticks: u64,
        thread: (u64, u64),
        category: &str,
        name: &str,
        args: &[(&str, &str)],
        extra: &[u64],
    ) {
        let (category_ref, category_inline) = self.string_ref(category);
        let (name_ref, name_inline) = self.string_ref(name);
        let mut arg_words: Vec<u8> = Vec::new();
        for (key, value) in args {
            let (key_ref, key_inline) = self.string_ref(key);
            let (value_ref, value_inline) = self.string_ref(value);
            let inline_words = key_inline.as_deref().map_or(0, Self::words_of)
                + value_inline.as_deref().map_or(0, Self::words_of);
            let header = 6 | ((1 + inline_words) << 4) | (key_ref << 16) | (value_ref << 32);
            arg_words.extend_from_slice(&header.to_le_bytes());
            for bytes in [key_inline, value_inline].into_iter().flatten() {
                arg_words.extend_from_slice(&bytes);
                let padding = bytes.len().div_ceil(8) * 8 - bytes.len();
                arg_words.extend(std::iter::repeat_n(0, padding));
            }
        }
        let inline_words = category_inline.as_deref().map_or(0, Self::words_of)
            + name_inline.as_deref().map_or(0, Self::words_of);
        let words = 4 + inline_words + (arg_words.len() / 8) as u64 + extra.len() as u64;
        self.word(
            4 | (words << 4)
                | (kind << 16)
                | ((args.len() as u64) << 20)
                | (category_ref << 32)
                | (name_ref << 48),
        );
        self.word(ticks);
        self.word(thread.0);
        self.word(thread.1);
        for bytes in [category_inline, name_inline].into_iter().flatten() {
            self.stream(&bytes);
        }
        self.bytes.extend_from_slice(&arg_words);
        for &value in extra {
            self.word(value);
        }
    }

    /// A lock operation as lltextract writes it: category the lock type,
    /// name the operation, a koid argument named by the lock type holding
    /// the lock's address, then `symbol` and `caller`; `kind` 0 for an
    /// instant, 2 for a wait's begin, 3 for its end.
    #[allow(clippy::too_many_arguments)]
    pub fn lock_op(
        &mut self,
        kind: u64,
        ticks: u64,
        thread: (u64, u64),
        category: &str,
        op: &str,
        address: u64,
        symbol: &str,
        caller: &str,
    ) {
        let category_index = u64::from(self.string_index(category));
        let op_index = u64::from(self.string_index(op));
        let symbol_key = u64::from(self.string_index("symbol"));
        let symbol_index = u64::from(self.string_index(symbol));
        let caller_key = u64::from(self.string_index("caller"));
        let caller_index = u64::from(self.string_index(caller));
        self.word(
            4 | (8 << 4) | (kind << 16) | (3 << 20) | (category_index << 32) | (op_index << 48),
        );
        self.word(ticks);
        self.word(thread.0);
        self.word(thread.1);
        self.word(8 | (2 << 4) | (category_index << 16));
        self.word(address);
        self.word(6 | (1 << 4) | (symbol_key << 16) | (symbol_index << 32));
        self.word(6 | (1 << 4) | (caller_key << 16) | (caller_index << 32));
    }

    /// A contended lock acquisition, as lltrace records it: a begin with
    /// the lock's symbol and the caller, and an end.
    pub fn lock_wait(
        &mut self,
        start: u64,
        end: u64,
        thread: (u64, u64),
        category: &str,
        symbol: &str,
        caller: &str,
    ) {
        let args = [("symbol", symbol), ("caller", caller)];
        self.event(2, start, thread, category, "acquire-start", &args, &[]);
        self.event(3, end, thread, category, "acquire-start", &[], &[]);
    }
}

/// One sampling of the seed: state totals and (dur, category, symbol,
/// caller) rows.
pub struct SeedSample {
    /// Running, in nanoseconds.
    pub running: u64,
    /// Stopped, in nanoseconds.
    pub stopped: u64,
    /// The lock rows.
    pub rows: Vec<(u64, String, String, String)>,
}

/// The seed's samplings, read from its fixture text.
pub fn seed_samples(text: &str) -> Vec<SeedSample> {
    let mut samples: Vec<SeedSample> = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["Stopped", value] => samples.push(SeedSample {
                running: 0,
                stopped: milliseconds(value),
                rows: Vec::new(),
            }),
            ["Running", value] => samples.last_mut().unwrap().running = milliseconds(value),
            [dur, category, symbol, caller] if dur.bytes().all(|b| b.is_ascii_digit()) => {
                samples.last_mut().unwrap().rows.push((
                    dur.parse().unwrap(),
                    category.to_string(),
                    symbol.to_string(),
                    caller.to_string(),
                ))
            }
            _ => {}
        }
    }
    samples
}

fn milliseconds(value: &str) -> u64 {
    let number = value.strip_suffix("ms").expect("a duration in ms");
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let fraction = format!("{fraction:0<6}");
    whole.parse::<u64>().unwrap() * 1_000_000 + fraction.parse::<u64>().unwrap()
}

/// The reaper kernel thread's koid in the seed capture.
pub const REAPER: u64 = 75;
/// A user thread (make) the reaper shares its CPU with.
pub const MAKE: u64 = 100_000 + 4711;
/// Length of the seed capture's windows.
pub const SEED_WINDOW_NS: u64 = 700_000_000;

/// The reaper as lltextract names it: a kernel thread, koid = its pid.
pub const REAPER_THREAD: Thread = Thread {
    pid: 0,
    tid: REAPER,
};
/// make as lltextract names it: pid 4711, thread koid 104711.
pub const MAKE_THREAD: Thread = Thread {
    pid: 4711,
    tid: MAKE,
};

/// The seed capture ([`seed_builder`]) as lltextract writes it.
pub fn seed_capture(samples: &[SeedSample]) -> Vec<u8> {
    seed_builder(samples).write(Layout::Lltextract, LockEncoding::Durations)
}

fn seed_lock(category: &str, symbol: &str, caller: &str) -> Lock {
    let address = symbol.bytes().fold(0xffff_ffff_8100_0000u64, |hash, b| {
        hash.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    Lock {
        kind: category.to_string(),
        address,
        symbol: symbol.to_string(),
        offset: if category == "rwlock" { 0x40 } else { 0 },
        caller: Some(caller.to_string()),
    }
}

/// A capture of two CPUs whose reaper thread, cut into 700 ms windows,
/// gives the seed's samplings. In window i the reaper runs `running_i` in
/// two stretches: the first on CPU i % 2, where it spins (the kernel and
/// mutex waits, back to back, 1 ns apart; an interrupt inside each long
/// kernel_lock wait; the `intr_handler` waits inside an interrupt), then it
/// is `Stopped` for `stopped_i`, waiting on the rwlocks (each begun on the
/// first CPU and acquired on the other, whose buffer lltextract may write
/// first), then runs 100 µs on the other CPU and waits for a CPU
/// (`Runnable`) the rest of the window. make (a user thread, named by its
/// process) runs where the reaper does not, moves to the other CPU halfway
/// through the reaper's sleep, and waits 2 µs on the uvm mutex in a
/// syscall once per window.
pub fn seed_builder(samples: &[SeedSample]) -> CaptureBuilder {
    let mut capture = CaptureBuilder::new(2);
    seed_into(&mut capture, samples);
    capture
}

/// A wait the seed capture gives the reaper, and where make took uvm.
pub struct SeedWait {
    /// From, on CPU `cpu`.
    pub start: u64,
    /// To (acquired).
    pub end: u64,
    /// The CPU it began on.
    pub cpu: usize,
    /// The lock.
    pub lock: Lock,
}

/// Writes the seed onto the first two CPUs of `capture`; returns the
/// reaper's waits and make's uvm acquisitions (when, which CPU).
pub fn seed_into(
    capture: &mut CaptureBuilder,
    samples: &[SeedSample],
) -> (Vec<SeedWait>, Vec<(u64, usize)>) {
    let mut reaper_waits = Vec::new();
    let mut make_uvm = Vec::new();
    capture.name(REAPER_THREAD, "reaper");
    capture.name(MAKE_THREAD, "make");
    let (reaper, make) = (REAPER_THREAD, MAKE_THREAD);
    for (index, sample) in samples.iter().enumerate() {
        let (first, second) = (index % 2, 1 - index % 2);
        let start = index as u64 * SEED_WINDOW_NS;
        let first_stretch = sample.running - 100_000;
        let stopped_at = start + first_stretch;
        let resumed_at = stopped_at + sample.stopped;
        let preempted_at = resumed_at + 100_000;
        capture.switch(start, first, STATE_RUNNING, make, reaper);
        let mut spin_at = start;
        let mut sleep_at = stopped_at + 1;
        for (number, (dur, category, symbol, caller)) in sample.rows.iter().enumerate() {
            let lock = seed_lock(category, symbol, caller);
            if category == "rwlock" {
                let outcome = ["acquired-exclusive", "acquired-shared"][number % 2];
                let end = sleep_at + dur;
                capture.lock_wait((sleep_at, first), (end, second), reaper, outcome, &lock);
                reaper_waits.push(SeedWait {
                    start: sleep_at,
                    end,
                    cpu: first,
                    lock: lock.clone(),
                });
                sleep_at = end + 1;
                continue;
            }
            let end = spin_at + dur;
            let in_interrupt = caller == "intr_handler";
            if in_interrupt {
                capture.slice(spin_at, first, reaper, true, ("intr", "hardintr"));
            }
            capture.lock_op(spin_at, first, reaper, "acquire-start", &lock);
            if *dur >= 1000 && !in_interrupt {
                capture.slice(
                    spin_at + dur / 4,
                    first,
                    reaper,
                    true,
                    ("intr", "clockintr"),
                );
                capture.slice(
                    spin_at + dur / 2,
                    first,
                    reaper,
                    false,
                    ("intr", "clockintr"),
                );
            }
            capture.lock_op(end, first, reaper, "acquired-exclusive", &lock);
            reaper_waits.push(SeedWait {
                start: spin_at,
                end,
                cpu: first,
                lock: lock.clone(),
            });
            if in_interrupt {
                capture.slice(end, first, reaper, false, ("intr", "hardintr"));
            }
            spin_at = end + 1;
        }
        assert!(spin_at <= stopped_at && sleep_at <= resumed_at);
        capture.switch(stopped_at, first, STATE_SUSPENDED, reaper, make);
        capture.slice(stopped_at + 500, first, make, true, ("syscall", "mmap"));
        let uvm = seed_lock("mutex", "uvm", "uvm_fault");
        capture.lock_wait(
            (stopped_at + 1000, first),
            (stopped_at + 3000, first),
            make,
            "acquired-exclusive",
            &uvm,
        );
        make_uvm.push((stopped_at + 3000, first));
        capture.slice(stopped_at + 4000, first, make, false, ("syscall", "mmap"));
        let moved_at = stopped_at + sample.stopped / 2;
        capture.switch(moved_at, first, STATE_RUNNING, make, IDLE);
        capture.switch(moved_at + 1000, second, 3, IDLE, make);
        capture.switch(resumed_at, second, STATE_RUNNING, make, reaper);
        capture.switch(preempted_at, second, STATE_RUNNING, reaper, make);
    }
    // The last window ends when the next would begin.
    let end = samples.len() as u64 * SEED_WINDOW_NS - 1;
    capture.instant(end, samples.len() % 2, make, ("count", "pkts:ifq"));
    // make goes to sleep as the capture ends: the last record of the file.
    capture.switch(end, samples.len() % 2, STATE_BLOCKED, make, IDLE);
    (reaper_waits, make_uvm)
}

/// The cc processes of the holders capture, by pid.
pub const CC_PIDS: [u64; 3] = [5101, 5102, 5103];

/// The seed capture with what a kernel that records releases adds, and a
/// third CPU where cc processes hold the locks the reaper waits on (made
/// up to show holders; the reaper's figures are the seed's): each
/// kernel_lock wait is the time a cc holds kernel_lock in `open`, taken in
/// `sys_open`; each rwlock wait the time a cc holds kernel_map_store,
/// taken in `uvm_map`, and sleeps in the middle half of it (off the CPU
/// while holding); the reaper and make release what they take. The mutex
/// waits have no holder the capture records.
pub fn seed_holders_builder(samples: &[SeedSample]) -> CaptureBuilder {
    let mut capture = CaptureBuilder::new(3);
    let (waits, make_uvm) = seed_into(&mut capture, samples);
    let cc: Vec<Thread> = CC_PIDS
        .iter()
        .map(|&pid| Thread {
            pid,
            tid: 100_000 + pid,
        })
        .collect();
    for thread in &cc {
        capture.name(*thread, "cc");
    }
    for (acquired, cpu) in make_uvm {
        let uvm = seed_lock("mutex", "uvm", "uvm_fault");
        capture.lock_op(acquired + 500, cpu, MAKE_THREAD, "release-exclusive", &uvm);
    }
    let mut on_cpu = IDLE;
    for wait in &waits {
        let window = (wait.start / SEED_WINDOW_NS) as usize;
        let holder = cc[window % cc.len()];
        // The reaper lets go right before its next wait begins.
        capture.lock_op(
            wait.end + 1,
            wait.cpu,
            REAPER_THREAD,
            "release-exclusive",
            &wait.lock,
        );
        let taken = |caller: &str| Lock {
            caller: Some(caller.to_string()),
            ..wait.lock.clone()
        };
        if holder != on_cpu {
            capture.switch(
                wait.start.saturating_sub(50),
                2,
                STATE_RUNNING,
                on_cpu,
                holder,
            );
            on_cpu = holder;
        }
        match wait.lock.kind.as_str() {
            "kernel" => {
                let lock = taken("sys_open");
                capture.slice(
                    wait.start.saturating_sub(20),
                    2,
                    holder,
                    true,
                    ("syscall", "open"),
                );
                capture.lock_wait(
                    (wait.start, 2),
                    (wait.start, 2),
                    holder,
                    "acquired-exclusive",
                    &lock,
                );
                capture.lock_op(wait.end, 2, holder, "release-exclusive", &lock);
                capture.slice(wait.end + 1, 2, holder, false, ("syscall", "open"));
            }
            "rwlock" => {
                let lock = taken("uvm_map");
                let length = wait.end - wait.start;
                capture.lock_op(wait.start, 2, holder, "instant-exclusive", &lock);
                capture.switch(wait.start + length / 4, 2, STATE_BLOCKED, holder, IDLE);
                capture.switch(wait.start + length * 3 / 4, 2, STATE_RUNNING, IDLE, holder);
                capture.lock_op(wait.end, 2, holder, "release-exclusive", &lock);
            }
            _ => {}
        }
    }
    capture
}

/// How lltextract writes a lock wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockEncoding {
    /// The versions with `caller`: `acquire-start` a duration begin, the
    /// outcome (`acquired-exclusive`, `acquired-shared`, `acquire-abort`)
    /// its duration end, both with the lock's arguments.
    Durations,
    /// The versions that write every lock operation as an instant: a wait
    /// is an `acquire-start` instant and the next `acquired-*` or
    /// `acquire-abort` instant of the thread on the same lock address.
    Instants,
}

/// Where records go in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// As lltextract: each CPU's events buffer by buffer (blocks of each
    /// CPU in turn, highest CPU first), name and string records where first
    /// needed, every scheduling record at the end in time order.
    Lltextract,
    /// Every record in time order (what a tool that sorts would write).
    TimeOrder,
}

/// A thread as lltextract names it: kernel threads by their pid (process
/// koid 0), user threads as pid + 100000 in their process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Thread {
    /// Process koid (0 for kernel threads).
    pub pid: u64,
    /// Thread koid.
    pub tid: u64,
}

/// The idle "thread" lltextract switches to and from: koids 0, 0.
pub const IDLE: Thread = Thread { pid: 0, tid: 0 };

/// A lock event's arguments, as lltextract writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// Lock type: `kernel`, `mutex` or `rwlock` (the category).
    pub kind: String,
    /// The lock's address (only the low 32 bits are written).
    pub address: u64,
    /// The symbol at or below the address.
    pub symbol: String,
    /// The address's offset from the symbol (an argument when not 0).
    pub offset: u32,
    /// The acquiring function, when the kernel gave one.
    pub caller: Option<String>,
}

#[derive(Debug, Clone)]
enum Item {
    LockOp {
        thread: Thread,
        op: &'static str,
        lock: Lock,
    },
    Slice {
        thread: Thread,
        kind: u64,
        category: String,
        name: String,
    },
    /// The records lltextract writes when a thread is seen: names.
    Names(Thread),
}

#[derive(Debug, Clone, Copy)]
struct SwitchRecord {
    ts: u64,
    cpu: u64,
    state: u8,
    outgoing: Thread,
    incoming: Thread,
}

/// A capture built from what happened on each CPU, then written in a
/// [`Layout`] with a [`LockEncoding`], the way lltextract(1) writes
/// (usr.bin/lltextract/lltextract.c): 1 GHz ticks, the kernel process
/// `/bsd`, a fixed table of strings, inline thread koids everywhere, lock
/// events with indexed category (lock type) and name (operation) and a
/// koid argument named by the lock type holding the address, other slices
/// with inline strings, legacy context switch records (idle is koid 0),
/// user threads named by their process.
pub struct CaptureBuilder {
    cpus: Vec<Vec<(u64, Item)>>,
    switches: Vec<SwitchRecord>,
    names: HashMap<Thread, String>,
    /// Events per buffer block.
    pub block: usize,
    /// Write `symbol` arguments with the size of 2 words that one
    /// lltextract version gives them (while writing one).
    pub oversized_symbol_args: bool,
}

/// The strings lltextract writes first, in its order (the version with
/// `caller`).
const LLTEXTRACT_STRINGS: [&str; 23] = [
    "process",
    "sched",
    "wakeup",
    "woken",
    "unknown",
    "acquire",
    "symbol",
    "offset",
    "count",
    "caller",
    "rwlock",
    "mutex",
    "kernel",
    "instant-exclusive",
    "instant-shared",
    "acquire-start",
    "acquired-exclusive",
    "acquired-shared",
    "acquire-abort",
    "downgrade",
    "release-exclusive",
    "release-shared",
    "instant-fail",
];

impl CaptureBuilder {
    /// A capture of `cpus` CPUs with nothing on them yet.
    pub fn new(cpus: usize) -> Self {
        CaptureBuilder {
            cpus: vec![Vec::new(); cpus],
            switches: Vec::new(),
            names: HashMap::new(),
            block: 5,
            oversized_symbol_args: false,
        }
    }

    /// Names a thread: a kernel thread by itself, a user thread by its
    /// process (lltextract leaves the thread's own name empty).
    pub fn name(&mut self, thread: Thread, name: &str) {
        self.names.insert(thread, name.to_string());
    }

    /// A context switch on `cpu`: `outgoing` leaves in FXT `state`.
    pub fn switch(&mut self, ts: u64, cpu: usize, state: u8, outgoing: Thread, incoming: Thread) {
        for thread in [outgoing, incoming] {
            self.cpus[cpu].push((ts, Item::Names(thread)));
        }
        self.switches.push(SwitchRecord {
            ts,
            cpu: cpu as u64,
            state,
            outgoing,
            incoming,
        });
    }

    /// A lock operation (`acquire-start`, `acquired-exclusive`, ...).
    pub fn lock_op(&mut self, ts: u64, cpu: usize, thread: Thread, op: &'static str, lock: &Lock) {
        let lock = lock.clone();
        self.cpus[cpu].push((ts, Item::LockOp { thread, op, lock }));
    }

    /// A contended acquisition: begun on `start.1`, acquired (or aborted:
    /// `outcome`) on `end.1`.
    pub fn lock_wait(
        &mut self,
        start: (u64, usize),
        end: (u64, usize),
        thread: Thread,
        outcome: &'static str,
        lock: &Lock,
    ) {
        self.lock_op(start.0, start.1, thread, "acquire-start", lock);
        self.lock_op(end.0, end.1, thread, outcome, lock);
    }

    /// A slice that is not a lock wait (`syscall`/`read`,
    /// `intr`/`hardintr`, `pagefault`/`pagefault`): begin or end.
    pub fn slice(&mut self, ts: u64, cpu: usize, thread: Thread, begin: bool, what: (&str, &str)) {
        let item = Item::Slice {
            thread,
            kind: if begin { 2 } else { 3 },
            category: what.0.to_string(),
            name: what.1.to_string(),
        };
        self.cpus[cpu].push((ts, item));
    }

    /// An instant on a thread (`count`, a syscall that does not return).
    pub fn instant(&mut self, ts: u64, cpu: usize, thread: Thread, what: (&str, &str)) {
        let item = Item::Slice {
            thread,
            kind: 0,
            category: what.0.to_string(),
            name: what.1.to_string(),
        };
        self.cpus[cpu].push((ts, item));
    }

    /// The capture's bytes.
    pub fn write(&self, layout: Layout, encoding: LockEncoding) -> Vec<u8> {
        let mut writer = CaptureWriter {
            fxt: Encoder::new(1_000_000_000),
            named: std::collections::HashSet::new(),
            builder: self,
            encoding,
        };
        writer.preamble();
        match layout {
            Layout::Lltextract => {
                for block in self.blocks() {
                    for (ts, item) in block {
                        writer.item(*ts, item);
                    }
                }
                let mut switches = self.switches.clone();
                switches.sort_by_key(|s| s.ts);
                for switch in &switches {
                    writer.switch(switch);
                }
            }
            Layout::TimeOrder => {
                type Entry<'a> = (u64, Option<&'a Item>, Option<&'a SwitchRecord>);
                let mut all: Vec<Entry> = Vec::new();
                for cpu in &self.cpus {
                    let mut events: Vec<&(u64, Item)> = cpu.iter().collect();
                    events.sort_by_key(|(ts, _)| *ts);
                    all.extend(events.into_iter().map(|(ts, item)| (*ts, Some(item), None)));
                }
                all.extend(self.switches.iter().map(|s| (s.ts, None, Some(s))));
                // Stable: each CPU's events keep their order, a switch
                // comes after the events of its time.
                all.sort_by_key(|(ts, _, _)| *ts);
                for (ts, item, switch) in all {
                    if let Some(item) = item {
                        writer.item(ts, item);
                    }
                    if let Some(switch) = switch {
                        writer.switch(switch);
                    }
                }
            }
        }
        writer.fxt.bytes
    }

    /// Each CPU's events in time order, cut into blocks of `block` events,
    /// in the order the buffers are written: block 0 of every CPU
    /// (highest first), then block 1, ...
    fn blocks(&self) -> Vec<Vec<&(u64, Item)>> {
        let per_cpu: Vec<Vec<Vec<&(u64, Item)>>> = self
            .cpus
            .iter()
            .map(|events| {
                let mut events: Vec<&(u64, Item)> = events.iter().collect();
                events.sort_by_key(|(ts, _)| *ts);
                events
                    .chunks(self.block.max(1))
                    .map(<[_]>::to_vec)
                    .collect()
            })
            .collect();
        let most = per_cpu.iter().map(Vec::len).max().unwrap_or(0);
        let mut blocks = Vec::new();
        for index in 0..most {
            for cpu in per_cpu.iter().rev() {
                if let Some(block) = cpu.get(index) {
                    blocks.push(block.clone());
                }
            }
        }
        blocks
    }
}

struct CaptureWriter<'a> {
    fxt: Encoder,
    named: std::collections::HashSet<Thread>,
    builder: &'a CaptureBuilder,
    encoding: LockEncoding,
}

impl CaptureWriter<'_> {
    fn preamble(&mut self) {
        // The kernel process, koid 0, named inline "/bsd".
        self.fxt
            .word(7 | (3 << 4) | (1 << 16) | ((0x8000 | 4) << 24));
        self.fxt.word(0);
        self.fxt.stream(b"/bsd");
        for text in LLTEXTRACT_STRINGS {
            self.fxt.string_index(text);
        }
    }

    fn item(&mut self, ts: u64, item: &Item) {
        match item {
            Item::Names(thread) => self.names(*thread),
            Item::LockOp { thread, op, lock } => {
                self.names(*thread);
                self.lock_op(ts, *thread, op, lock);
            }
            Item::Slice {
                thread,
                kind,
                category,
                name,
            } => {
                self.names(*thread);
                self.generic_event(ts, *thread, *kind, category, name);
            }
        }
    }

    /// A thread's name records, once: a user thread's kernel object (empty
    /// name, `process` argument) and its process's name; a kernel
    /// thread's name.
    fn names(&mut self, thread: Thread) {
        if thread == IDLE || !self.named.insert(thread) {
            return;
        }
        let name = self.builder.names.get(&thread).cloned().unwrap_or_default();
        if thread.pid != 0 {
            let process_key = self.fxt.string_index("process");
            self.fxt.word(7 | (4 << 4) | (2 << 16) | (1 << 40));
            self.fxt.word(thread.tid);
            self.fxt.word(8 | (2 << 4) | (u64::from(process_key) << 16));
            self.fxt.word(thread.pid);
            self.kernel_object(1, thread.pid, &name);
        } else {
            self.kernel_object(2, thread.tid, &name);
        }
    }

    fn kernel_object(&mut self, kind: u64, koid: u64, name: &str) {
        let words = 2 + Encoder::words_of(name.as_bytes());
        self.fxt
            .word(7 | (words << 4) | (kind << 16) | ((0x8000 | name.len() as u64) << 24));
        self.fxt.word(koid);
        self.fxt.stream(name.as_bytes());
    }

    fn lock_op(&mut self, ts: u64, thread: Thread, op: &str, lock: &Lock) {
        let kind: u64 = match (self.encoding, op) {
            (LockEncoding::Instants, _) => 0,
            (_, "acquire-start") => 2,
            (_, "acquired-exclusive" | "acquired-shared" | "acquire-abort") => 3,
            _ => 0,
        };
        let category = u64::from(self.fxt.string_index(&lock.kind));
        let name = u64::from(self.fxt.string_index(op));
        let symbol_key = u64::from(self.fxt.string_index("symbol"));
        let symbol = u64::from(self.fxt.string_index(&lock.symbol));
        let symbol_words: u64 = if self.builder.oversized_symbol_args {
            2
        } else {
            1
        };
        let mut args = vec![
            8 | (2 << 4) | (category << 16),
            lock.address & 0xffff_ffff,
            6 | (symbol_words << 4) | (symbol_key << 16) | (symbol << 32),
        ];
        let mut count: u64 = 2;
        if lock.offset > 0 {
            let offset_key = u64::from(self.fxt.string_index("offset"));
            args.push(2 | (1 << 4) | (offset_key << 16) | (u64::from(lock.offset) << 32));
            count += 1;
        }
        if let Some(caller) = &lock.caller {
            let caller_key = u64::from(self.fxt.string_index("caller"));
            let caller = u64::from(self.fxt.string_index(caller));
            args.push(6 | (1 << 4) | (caller_key << 16) | (caller << 32));
            count += 1;
        }
        let words = 4 + args.len() as u64;
        self.fxt.word(
            4 | (words << 4) | (kind << 16) | (count << 20) | (category << 32) | (name << 48),
        );
        self.fxt.word(ts);
        self.fxt.word(thread.pid);
        self.fxt.word(thread.tid);
        for word in args {
            self.fxt.word(word);
        }
    }

    /// An event with inline category and name and no arguments.
    fn generic_event(&mut self, ts: u64, thread: Thread, kind: u64, category: &str, name: &str) {
        let words = 4 + Encoder::words_of(category.as_bytes()) + Encoder::words_of(name.as_bytes());
        let category_ref = 0x8000 | category.len() as u64;
        let name_ref = 0x8000 | name.len() as u64;
        self.fxt
            .word(4 | (words << 4) | (kind << 16) | (category_ref << 32) | (name_ref << 48));
        self.fxt.word(ts);
        self.fxt.word(thread.pid);
        self.fxt.word(thread.tid);
        self.fxt.stream(category.as_bytes());
        self.fxt.stream(name.as_bytes());
    }

    /// A legacy context switch record with inline threads, and the `woken`
    /// instant lltextract writes for the incoming thread.
    fn switch(&mut self, switch: &SwitchRecord) {
        if switch.incoming != IDLE {
            let sched = u64::from(self.fxt.string_index("sched"));
            let woken = u64::from(self.fxt.string_index("woken"));
            self.fxt.word(4 | (4 << 4) | (sched << 32) | (woken << 48));
            self.fxt.word(switch.ts);
            self.fxt.word(switch.incoming.pid);
            self.fxt.word(switch.incoming.tid);
        }
        self.fxt.word(
            8 | (6 << 4)
                | (switch.cpu << 16)
                | (u64::from(switch.state) << 24)
                | (1 << 44)
                | (1 << 52),
        );
        self.fxt.word(switch.ts);
        self.fxt.word(switch.outgoing.pid);
        self.fxt.word(switch.outgoing.tid);
        self.fxt.word(switch.incoming.pid);
        self.fxt.word(switch.incoming.tid);
    }
}
