//! Writes a synthetic raw lock-wait dump for the benchmarks: one row per
//! lock wait, the way a per-event export of a whole build's trace looks.
//!
//! ```sh
//! cargo run --release --example gendump -- --size 100M --shape table > dump.txt
//! ```
//!
//! `--shape tsv`: one header row, then rows (what DuckDB, polars and awk
//! read). `--shape table`: the seed's shape, a `Stopped`/`Running` pair and
//! a `dur ...` header every 100 000 rows (`--samples N`: N such blocks over
//! the file), each block one sample. The mix: 80 lock symbols of 4
//! categories, 200 callers (`--callers N`), waits log-uniform from 100 ns
//! to 10 ms; about 16 000 distinct keys. Deterministic (xorshift with a
//! fixed seed): the same bytes on every run. The rows do not depend on the
//! shape: a table-shape file holds the TSV's rows (as many as fit in the
//! size), cut into samples, so the two time the samples and nothing else.
//! `--seed N` draws another file of the same mix (a fleet's hosts).

use std::io::{self, BufWriter, Write};

const SYMBOLS: usize = 80;
const CALLERS: usize = 200;
const ROWS_PER_SAMPLE: u64 = 100_000;
/// The mean length of a row, to spread `--samples` over `--size`.
const MEAN_ROW_BYTES: u64 = 35;
const CATEGORIES: [&str; 4] = ["kernel", "mutex", "rwlock", "rrwlock"];

/// xorshift64*: fast, deterministic, good enough for a benchmark mix.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn parse_size(text: &str) -> Option<u64> {
    let (number, scale) = match text.chars().last()? {
        'K' | 'k' => (&text[..text.len() - 1], 1 << 10),
        'M' | 'm' => (&text[..text.len() - 1], 1 << 20),
        'G' | 'g' => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    number.parse::<u64>().ok().map(|n| n * scale)
}

fn main() -> io::Result<()> {
    let mut size = 100u64 << 20;
    let mut table_shape = true;
    let mut samples: Option<u64> = None;
    let mut caller_count = CALLERS;
    let mut seed = 0u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--size", Some(value)) => size = parse_size(&value).expect("--size like 100M or 1G"),
            ("--shape", Some(shape)) => table_shape = shape == "table",
            ("--samples", Some(n)) => samples = Some(n.parse().expect("--samples N")),
            ("--callers", Some(n)) => caller_count = n.parse().expect("--callers N"),
            ("--seed", Some(n)) => seed = n.parse().expect("--seed N"),
            _ => {
                eprintln!(
                    "usage: gendump [--size 100M] [--shape table|tsv] [--samples N] \
                     [--callers N] [--seed N] > dump.txt"
                );
                std::process::exit(2);
            }
        }
    }
    let symbols: Vec<(String, &str)> = (0..SYMBOLS)
        .map(|i| (format!("lock_{i:02}"), CATEGORIES[i % CATEGORIES.len()]))
        .collect();
    let callers: Vec<String> = (0..caller_count)
        .map(|i| format!("caller_fn_{i:03}"))
        .collect();
    let rows_per_sample = samples.map_or(ROWS_PER_SAMPLE, |n| {
        (size / MEAN_ROW_BYTES / n.max(1)).max(1)
    });
    // Zipf-like: low-numbered symbols and callers are hot, as in real traces.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x1000_0000_01b3));
    // The state lines draw from their own sequence, leaving the rows'.
    let mut state_rng = Rng(0x2545_f491_4f6c_dd1d ^ seed.wrapping_mul(0x9e37_79b9));
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let mut written = 0u64;
    let mut rows = 0u64;
    let header = "dur\tcategory\tsymbol\tcaller\n";
    if !table_shape {
        out.write_all(header.as_bytes())?;
    }
    while written < size {
        if table_shape && rows % rows_per_sample == 0 {
            // A block's waits sum to about 87 s, half of it spin: Running
            // above that keeps the synthetic figures plausible.
            let stopped = 300 + state_rng.below(400);
            let running = 60_000 + state_rng.below(40_000);
            let block = format!(
                "\nStopped\t{stopped}.{:01}s\nRunning\t{}.{:03}s\n{header}",
                state_rng.below(10),
                running / 1000,
                running % 1000
            );
            out.write_all(block.as_bytes())?;
            written += block.len() as u64;
        }
        let hot_symbols = 1 + rng.below(SYMBOLS);
        let symbol = rng.below(hot_symbols);
        let hot_callers = 1 + rng.below(caller_count);
        let caller = rng.below(hot_callers);
        // log-uniform 100 ns .. 10 ms
        let exponent = 2.0 + 5.0 * (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        let dur = 10f64.powf(exponent) as u64;
        let (name, category) = &symbols[symbol];
        let line = format!("{dur}\t{category}\t{name}\t{}\n", callers[caller]);
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
        rows += 1;
    }
    out.flush()
}
