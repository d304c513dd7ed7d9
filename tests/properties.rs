//! Property tests (proptest): tables generated in every shape the parsers
//! accept (random samples, keys, durations, separators, CRLF, column
//! orders) are read back with totals equal to the generated sums; splitting
//! the same rows across samples or inputs never changes the grand totals;
//! the parallel reader agrees with the streaming one.

use std::collections::BTreeMap;

use contend::engine::{self, AnalysisOptions, GroupKey};
use contend::facts::{FactsBuilder, Fold, InputFacts};
use contend::ingest::parallel;
use contend::ingest::{ReadOptions, Source};
use contend::parse::{self, InputFormat, ParseOptions};
use contend::report::{self, ReportFormat, Style};
use proptest::prelude::*;

const CATEGORIES: [&str; 4] = ["kernel", "mutex", "rwlock", "rrwlock"];
const SYMBOLS: [&str; 5] = [
    "kernel_lock",
    "sched_lock",
    "uvm",
    "kernel_map_store",
    "vmmaplk",
];
const CALLERS: [&str; 5] = [
    "reaper",
    "sleep_setup",
    "wakeup_n",
    "vm_map_lock_ln",
    "pool_get",
];

/// One generated row: duration and key indices.
type GenRow = (u64, usize, usize, usize);

/// One sampling: Running and Stopped in µs (exact in `ms` with three
/// decimals), and its rows.
#[derive(Debug, Clone)]
struct GenSample {
    running_us: u64,
    stopped_us: u64,
    rows: Vec<GenRow>,
}

/// How a table is written out.
#[derive(Debug, Clone)]
struct Shape {
    separator: &'static str,
    crlf: bool,
    /// Key columns in this order after `dur` (a permutation of 0..3).
    key_order: Vec<usize>,
}

fn row_strategy() -> impl Strategy<Value = GenRow> {
    (
        0u64..2_000_000_000_000,
        0..CATEGORIES.len(),
        0..SYMBOLS.len(),
        0..CALLERS.len(),
    )
}

fn sample_strategy() -> impl Strategy<Value = GenSample> {
    (
        1u64..10_000_000,
        0u64..10_000_000,
        prop::collection::vec(row_strategy(), 1..12),
    )
        .prop_map(|(running_us, stopped_us, rows)| GenSample {
            running_us,
            stopped_us,
            rows,
        })
}

fn shape_strategy() -> impl Strategy<Value = Shape> {
    (
        prop::sample::select(vec!["\t", "\t\t", "  ", " \t "]),
        any::<bool>(),
        Just(vec![0usize, 1, 2]).prop_shuffle(),
    )
        .prop_map(|(separator, crlf, key_order)| Shape {
            separator,
            crlf,
            key_order,
        })
}

fn key_text(row: &GenRow, column: usize) -> &'static str {
    match column {
        0 => CATEGORIES[row.1],
        1 => SYMBOLS[row.2],
        _ => CALLERS[row.3],
    }
}

fn milliseconds(us: u64) -> String {
    format!("{}.{:03}ms", us / 1000, us % 1000)
}

/// The samples in Perfetto's table shape.
fn table_text(samples: &[GenSample], shape: &Shape) -> String {
    const HEADER_NAMES: [&str; 3] = ["category", "arg_set_id__symbol__", "arg_set_id__caller__"];
    let mut lines = vec!["Samplings, generated".to_string(), String::new()];
    for sample in samples {
        lines.push(format!("Stopped\t{}", milliseconds(sample.stopped_us)));
        lines.push(format!("Running\t{}", milliseconds(sample.running_us)));
        let mut header = vec!["dur"];
        header.extend(shape.key_order.iter().map(|&c| HEADER_NAMES[c]));
        lines.push(header.join(shape.separator));
        for row in &sample.rows {
            let mut fields = vec![row.0.to_string()];
            fields.extend(
                shape
                    .key_order
                    .iter()
                    .map(|&c| key_text(row, c).to_string()),
            );
            lines.push(fields.join(shape.separator));
        }
        lines.push(String::new());
    }
    let end = if shape.crlf { "\r\n" } else { "\n" };
    lines.join(end) + end
}

/// The samples as CSV with a `sample` column and state columns, columns in
/// the shape's order with `dur` last.
fn csv_text(samples: &[GenSample], shape: &Shape) -> String {
    const NAMES: [&str; 3] = ["category", "symbol", "caller"];
    let mut header = vec!["sample", "running_ns", "stopped_ns"];
    header.extend(shape.key_order.iter().map(|&c| NAMES[c]));
    header.push("dur");
    let end = if shape.crlf { "\r\n" } else { "\n" };
    let mut text = header.join(",") + end;
    for (index, sample) in samples.iter().enumerate() {
        for row in &sample.rows {
            let mut fields = vec![
                (index + 1).to_string(),
                (sample.running_us * 1000).to_string(),
                (sample.stopped_us * 1000).to_string(),
            ];
            fields.extend(
                shape
                    .key_order
                    .iter()
                    .map(|&c| key_text(row, c).to_string()),
            );
            fields.push(row.0.to_string());
            text.push_str(&(fields.join(",") + end));
        }
    }
    text
}

fn read(text: &str, format: InputFormat, label: &str) -> InputFacts {
    let fold = Fold {
        detail: true,
        ..Fold::default()
    };
    read_folded(text, format, label, &fold)
}

/// Folding with every per-sample detail kept, grouped by symbol so that
/// groups' samples are counted apart from keys'.
fn detailed_fold() -> Fold {
    Fold {
        by: vec![GroupKey::Symbol],
        detail: true,
        keep_offsets: false,
        filters: Default::default(),
        rows_are_waits: false,
        holder_names: false,
    }
}

fn read_folded(text: &str, format: InputFormat, label: &str, fold: &Fold) -> InputFacts {
    let mut builder = FactsBuilder::new(label, fold);
    let stats = parse::parse(
        text.as_bytes(),
        label,
        format,
        &ParseOptions::default(),
        &mut builder,
    )
    .expect("a generated table parses");
    builder.finish(stats)
}

/// Total per (sample, category, symbol, caller), from the facts.
fn totals_by_sample(facts: &InputFacts) -> BTreeMap<(u32, String), u64> {
    let mut totals = BTreeMap::new();
    for (key, sample, total_ns) in facts.detail.iter() {
        let ids = facts.keys[key as usize].ids();
        // (category, symbol, caller): the holder is not read here.
        let key = [0, 1, 2].map(|at| facts.key(ids[at]).to_string());
        *totals.entry((sample, key.join("|"))).or_default() += total_ns;
    }
    totals
}

/// Each key's (total, rows, max, samples seen), by key text.
type KeyFigures = BTreeMap<String, (u64, u64, u64, u32)>;

/// Each key's figures; and each symbol's samples seen.
fn keys_and_groups(facts: &InputFacts) -> (KeyFigures, BTreeMap<String, u32>) {
    let keys = facts
        .keys
        .iter()
        .map(|key| {
            let ids = key.ids();
            let name = [0, 1, 2].map(|at| facts.key(ids[at])).join("|");
            (name, (key.total_ns, key.rows, key.max_ns, key.seen.count))
        })
        .collect();
    let groups = facts
        .groups_seen
        .iter()
        .map(|(ids, seen)| (facts.key(ids[1]).to_string(), seen.count))
        .collect();
    (keys, groups)
}

/// The same, computed from the generated samples.
fn expected_by_sample(samples: &[GenSample]) -> BTreeMap<(u32, String), u64> {
    let mut totals = BTreeMap::new();
    for (index, sample) in samples.iter().enumerate() {
        for row in &sample.rows {
            let key = [0, 1, 2].map(|c| key_text(row, c)).join("|");
            *totals.entry((index as u32, key)).or_default() += row.0;
        }
    }
    totals
}

/// Grand total of lock wait per group key in the JSON report.
fn json_group_totals(inputs: &[InputFacts]) -> BTreeMap<String, u64> {
    let options = AnalysisOptions {
        top: 0,
        ..AnalysisOptions::default()
    };
    let analysis = engine::analyze(inputs, &options).expect("analysis");
    let style = Style::default();
    let json = report::render(&analysis, ReportFormat::Json, &style).expect("JSON");
    let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    value["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|group| {
            let key =
                ["category", "symbol", "caller"].map(|k| group[k].as_str().unwrap().to_string());
            (key.join("|"), group["total_ns"].as_u64().unwrap())
        })
        .collect()
}

fn expected_group_totals(samples: &[GenSample]) -> BTreeMap<String, u64> {
    let mut totals = BTreeMap::new();
    for ((_, key), ns) in expected_by_sample(samples) {
        *totals.entry(key).or_default() += ns;
    }
    totals
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn tables_read_back_to_their_sums(
        samples in prop::collection::vec(sample_strategy(), 1..6),
        shape in shape_strategy(),
    ) {
        let facts = read(&table_text(&samples, &shape), InputFormat::Table, "t");
        prop_assert_eq!(facts.samples.len(), samples.len());
        prop_assert_eq!(totals_by_sample(&facts), expected_by_sample(&samples));
        for (index, sample) in samples.iter().enumerate() {
            let running = facts.samples.get(index).find(|s| s.0 == "Running").map(|s| s.1);
            prop_assert_eq!(running, Some(sample.running_us * 1000));
        }
        prop_assert_eq!(json_group_totals(&[facts]), expected_group_totals(&samples));
    }

    #[test]
    fn csv_reads_back_to_its_sums(
        samples in prop::collection::vec(sample_strategy(), 1..6),
        shape in shape_strategy(),
    ) {
        let facts = read(&csv_text(&samples, &shape), InputFormat::Csv, "c");
        prop_assert_eq!(totals_by_sample(&facts), expected_by_sample(&samples));
        prop_assert_eq!(json_group_totals(&[facts]), expected_group_totals(&samples));
    }

    #[test]
    fn splitting_rows_across_samples_or_inputs_keeps_the_totals(
        rows in prop::collection::vec(row_strategy(), 2..40),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
        shape in shape_strategy(),
    ) {
        let whole = vec![GenSample { running_us: 1000, stopped_us: 0, rows: rows.clone() }];
        let mut edges: Vec<usize> = cuts.iter().map(|cut| cut.index(rows.len())).collect();
        edges.extend([0, rows.len()]);
        edges.sort_unstable();
        edges.dedup();
        let pieces: Vec<GenSample> = edges
            .windows(2)
            .map(|w| GenSample { running_us: 1000, stopped_us: 0, rows: rows[w[0]..w[1]].to_vec() })
            .collect();
        let expected = json_group_totals(&[read(&table_text(&whole, &shape), InputFormat::Table, "w")]);
        let as_samples = read(&table_text(&pieces, &shape), InputFormat::Table, "s");
        prop_assert_eq!(json_group_totals(&[as_samples]), expected.clone());
        let as_inputs: Vec<InputFacts> = pieces
            .iter()
            .enumerate()
            .map(|(i, piece)| read(&table_text(std::slice::from_ref(piece), &shape), InputFormat::Table, &format!("i{i}")))
            .collect();
        prop_assert_eq!(json_group_totals(&as_inputs), expected);
    }

    #[test]
    fn the_parallel_reader_agrees_with_the_streaming_one(
        samples in prop::collection::vec(sample_strategy(), 1..8),
        shape in shape_strategy(),
        threads in 2usize..6,
    ) {
        let text = table_text(&samples, &shape);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("dump.txt");
        std::fs::write(&path, &text).expect("written");
        let source = Source { path: Some(path.clone()), name: "dump.txt".into(), label: "t".into() };
        let options = ReadOptions { fold: detailed_fold(), ..ReadOptions::default() };
        let parallel = parallel::read_table_file(&path, &source, &options, threads, 1)
            .expect("parallel read")
            .expect("a plain table file");
        let streaming = read_folded(&text, InputFormat::Table, "t", &detailed_fold());
        prop_assert_eq!(totals_by_sample(&parallel), totals_by_sample(&streaming));
        prop_assert_eq!(keys_and_groups(&parallel), keys_and_groups(&streaming));
        prop_assert_eq!(&parallel.samples, &streaming.samples);
        prop_assert_eq!(parallel.stats, streaming.stats);
    }
}
