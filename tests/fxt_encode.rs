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

    fn word(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    fn stream(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        let padding = bytes.len().div_ceil(8) * 8 - bytes.len();
        self.bytes.extend(std::iter::repeat_n(0, padding));
    }

    fn words_of(bytes: &[u8]) -> u64 {
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

/// A capture whose reaper thread, cut into 700 ms windows, gives the seed's
/// samplings: in window i it runs `running_i` (in two stretches), is
/// `Stopped` for `stopped_i` between them, and waits for the CPU
/// (`Runnable`) the rest of the window. Spin waits (kernel, mutex) lie in
/// the first stretch, rwlock waits in the stopped time. The make thread
/// runs whenever the reaper does not, and waits on one mutex per window.
pub fn seed_capture(samples: &[SeedSample]) -> Vec<u8> {
    let mut fxt = Encoder::new(1_000_000_000);
    fxt.thread_name(REAPER, 0, "reaper");
    fxt.thread_name(MAKE, 4711, "make");
    let reaper = (0, REAPER);
    let make = (4711, MAKE);
    for (index, sample) in samples.iter().enumerate() {
        let start = index as u64 * SEED_WINDOW_NS;
        let first_stretch = sample.running - 100_000;
        let stopped_at = start + first_stretch;
        let resumed_at = stopped_at + sample.stopped;
        let preempted_at = resumed_at + 100_000;
        fxt.switch(start, 0, STATE_RUNNING, MAKE, REAPER);
        let mut spin_at = start;
        let mut sleep_at = stopped_at;
        for (dur, category, symbol, caller) in &sample.rows {
            let at = if category == "rwlock" {
                &mut sleep_at
            } else {
                &mut spin_at
            };
            fxt.lock_wait(*at, *at + dur, reaper, category, symbol, caller);
            *at += dur;
        }
        assert!(spin_at <= stopped_at && sleep_at <= resumed_at);
        fxt.switch(stopped_at, 0, STATE_SUSPENDED, REAPER, MAKE);
        fxt.lock_wait(
            stopped_at + 1000,
            stopped_at + 3000,
            make,
            "mutex",
            "uvm",
            "uvm_fault",
        );
        fxt.switch(resumed_at, 0, STATE_RUNNING, MAKE, REAPER);
        fxt.switch(preempted_at, 0, STATE_RUNNING, REAPER, MAKE);
    }
    // The last window ends when the next would begin.
    let end = samples.len() as u64 * SEED_WINDOW_NS - 1;
    fxt.event(0, end, make, "sched", "tick", &[], &[]);
    fxt.bytes
}
