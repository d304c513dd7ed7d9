//! Writes a synthetic lltrace capture (FXT) for the benchmarks: 64 threads
//! on 8 CPUs switching every 50 µs to 2 ms, each stretch of running with
//! up to three contended lock acquisitions (`acquire-start` begin, the
//! `acquired-exclusive` end, a release a while later) and as many taken
//! without a wait and released, the way lltextract writes them: the lock's
//! address in a koid argument, `symbol` and `caller`.
//!
//! ```sh
//! cargo run --release --example genfxt -- 1G > capture.fxt
//! ```
//!
//! Deterministic (xorshift with a fixed seed): the same bytes on every run.
//! The encoder is the tests' (tests/fxt_encode.rs).

#[path = "../tests/fxt_encode.rs"]
mod fxt_encode;

use std::io::{self, BufWriter, Write};

use fxt_encode::{Encoder, STATE_RUNNING, STATE_SUSPENDED};

const THREADS: u64 = 64;
const CPUS: u64 = 8;
const CATEGORIES: [&str; 3] = ["kernel", "mutex", "rwlock"];
const SYMBOLS: [&str; 6] = [
    "kernel_lock",
    "sched_lock",
    "uvm",
    "kernel_map_store",
    "vmmaplk",
    "pool",
];
const CALLERS: [&str; 8] = [
    "reaper",
    "vm_map_lock_ln",
    "sleep_setup",
    "wakeup_n",
    "uvm_fault",
    "sys_open",
    "pool_get",
    "intr_handler",
];

struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound
    }
}

fn parse_size(text: &str) -> Option<u64> {
    let (number, scale) = match text.as_bytes().last()? {
        b'K' => (&text[..text.len() - 1], 1 << 10),
        b'M' => (&text[..text.len() - 1], 1 << 20),
        b'G' => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    number.parse::<u64>().ok().map(|n| n * scale)
}

fn main() -> io::Result<()> {
    let size = std::env::args()
        .nth(1)
        .and_then(|arg| parse_size(&arg))
        .unwrap_or(1 << 30);
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let mut fxt = Encoder::new(1_000_000_000);
    let koid = |thread: u64| {
        if thread % 2 == 0 {
            100 + thread
        } else {
            100_000 + 1000 + thread
        }
    };
    let pid = |thread: u64| if thread % 2 == 0 { 0 } else { 1000 + thread };
    for thread in 0..THREADS {
        fxt.thread_name(koid(thread), pid(thread), &format!("thread{thread}"));
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut running: Vec<u64> = (0..CPUS).collect();
    let mut clock = vec![0u64; CPUS as usize];
    let mut written = 0u64;
    while written < size {
        // The CPU whose stretch ends first switches next: time only grows.
        let cpu = (0..CPUS as usize).min_by_key(|&c| clock[c]).unwrap_or(0);
        let now = clock[cpu];
        let current = running[cpu];
        let stretch = 50_000 + rng.below(2_000_000);
        let thread = (pid(current), koid(current));
        let mut at = now + rng.below(10_000);
        for _ in 0..rng.below(4) {
            let wait = 100 + rng.below(stretch / 4);
            let category = CATEGORIES[rng.below(3) as usize];
            let symbol_index = rng.below(6);
            let symbol = SYMBOLS[symbol_index as usize];
            let caller = CALLERS[rng.below(8) as usize];
            let address = 0xffff_8000 + symbol_index * 64;
            // A wait, as lltextract writes it, then the hold and its
            // release; and one lock taken without a wait.
            fxt.lock_op(
                2,
                at,
                thread,
                category,
                "acquire-start",
                address,
                symbol,
                caller,
            );
            let acquired = at + wait;
            let outcome = "acquired-exclusive";
            fxt.lock_op(
                3, acquired, thread, category, outcome, address, symbol, caller,
            );
            let released = acquired + 50 + rng.below(2000);
            let release = "release-exclusive";
            fxt.lock_op(
                0, released, thread, category, release, address, symbol, caller,
            );
            let other = 0xffff_9000 + rng.below(64) * 64;
            let taken = released + rng.below(500);
            fxt.lock_op(
                0,
                taken,
                thread,
                category,
                "instant-exclusive",
                other,
                symbol,
                caller,
            );
            fxt.lock_op(
                0,
                taken + 100,
                thread,
                category,
                release,
                other,
                symbol,
                caller,
            );
            at = taken + 100 + rng.below(1000);
        }
        // The next thread is one no other CPU runs.
        let next = loop {
            let candidate = rng.below(THREADS);
            if !running.contains(&candidate) {
                break candidate;
            }
        };
        let state = if rng.below(2) == 0 {
            STATE_RUNNING
        } else {
            STATE_SUSPENDED
        };
        clock[cpu] = now + stretch;
        fxt.switch(clock[cpu], cpu as u64, state, koid(current), koid(next));
        running[cpu] = next;
        if fxt.bytes.len() > 1 << 20 {
            out.write_all(&fxt.bytes)?;
            written += fxt.bytes.len() as u64;
            fxt.bytes.clear();
        }
    }
    out.write_all(&fxt.bytes)?;
    out.flush()
}
