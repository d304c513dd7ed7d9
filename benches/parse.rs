//! The parser's inner loop: bytes of a table-format dump to facts, on one
//! core, in memory (no I/O). `cargo bench --bench parse`.

use std::hint::black_box;

use contend::engine::GroupKey;
use contend::facts::{FactsBuilder, Fold};
use contend::parse::{ParseOptions, lines, table};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// About 8 MB in the shape of `examples/gendump.rs --shape table`: a state
/// pair and a header every `rows_per_sample` rows, 80 symbols, 200
/// callers.
fn dump(rows_per_sample: u64) -> String {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let categories = ["kernel", "mutex", "rwlock", "rrwlock"];
    let mut text = String::new();
    for row in 0..250_000u64 {
        if row % rows_per_sample == 0 {
            text.push_str("\nStopped\t400.5s\nRunning\t80.125s\ndur\tcategory\tsymbol\tcaller\n");
        }
        let symbol = next() % 80;
        let caller = next() % 200;
        let dur = 100 + next() % 10_000_000;
        let category = categories[(symbol % 4) as usize];
        text.push_str(&format!(
            "{dur}\t{category}\tlock_{symbol:02}\tcaller_fn_{caller:03}\n"
        ));
    }
    text
}

fn parse_table(c: &mut Criterion) {
    let text = dump(100_000);
    let mut group = c.benchmark_group("table");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(20);
    group.bench_function("lines", |b| {
        b.iter(|| {
            let mut bytes = 0usize;
            lines::each_line(
                black_box(text.as_bytes()),
                "bench",
                &mut lines::Utf8Repair::default(),
                |_, line| {
                    bytes += line.len();
                    Ok(())
                },
            )
            .unwrap();
            bytes
        })
    });
    group.bench_function("facts", |b| {
        b.iter(|| {
            let mut builder = FactsBuilder::new("bench", &Default::default());
            let options = ParseOptions::default();
            table::parse(black_box(text.as_bytes()), "bench", &options, &mut builder).unwrap();
            builder.finish(Default::default()).keys.len()
        })
    });
    group.finish();
}

/// The same rows cut into 2 500 samples of 100 rows (a btrace script
/// printing its map every second), grouped by symbol: what a report pays
/// per sample (closing it, counting each group's samples).
fn parse_many_samples(c: &mut Criterion) {
    let text = dump(100);
    let mut group = c.benchmark_group("table-2500-samples");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(20);
    group.bench_function("facts-by-symbol", |b| {
        b.iter(|| {
            let fold = Fold {
                by: vec![GroupKey::Symbol],
                ..Fold::default()
            };
            let mut builder = FactsBuilder::new("bench", &fold);
            let options = ParseOptions::default();
            table::parse(black_box(text.as_bytes()), "bench", &options, &mut builder).unwrap();
            builder.finish(Default::default()).groups_seen.len()
        })
    });
    group.finish();
}

criterion_group!(benches, parse_table, parse_many_samples);
criterion_main!(benches);
