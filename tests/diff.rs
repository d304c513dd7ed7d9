//! `contend diff`: before/after fixtures built from the seed (kernel_lock
//! halved; kernel_lock doubled with Running grown by the same time) and the
//! dozen-sample synthetic builds of `fixtures/diff/`.

use serde_json::Value;

use crate::util::{SEED, contend, read, run, run_with_stdin, scratch_dir};

/// The group fields of the JSON and CSV contract, in order.
const GROUP_FIELDS: [&str; 15] = [
    "category",
    "symbol",
    "caller",
    "before_total_ns",
    "after_total_ns",
    "before_mean_ns",
    "after_mean_ns",
    "delta_pct",
    "p_value",
    "q_value",
    "significant",
    "status",
    "direction",
    "test",
    "verdict",
];

const BEFORE_12: &str = "fixtures/diff/reaper-before.txt";
const AFTER_12: &str = "fixtures/diff/reaper-after.txt";

/// The seed's kernel_lock waits, per sample (DESIGN.md's figures).
const SEED_KERNEL_LOCK: [u64; 5] = [1_751_151, 187_535, 2_911_007, 6_552_644, 1_857_891];
/// The seed's Running time, per sample.
const SEED_RUNNING: [u64; 5] = [4_384_000, 3_236_000, 3_868_000, 7_508_000, 2_780_000];

/// The seed with every kernel_lock wait scaled by `numerator / denominator`
/// (integer division, as a real trace has whole nanoseconds); when
/// `grow_running`, each sample's Running grows by the wait it gained, as it
/// would if the extra spinning happened on CPU. A sample starts at its
/// `Stopped` line (the posted fifth sample has a blank line inside it).
fn seed_with_kernel_lock_scaled(numerator: u64, denominator: u64, grow_running: bool) -> String {
    let seed = read(SEED);
    let sample_of_line: Vec<usize> = seed
        .lines()
        .scan(0, |sample, line| {
            *sample += usize::from(line.starts_with("Stopped"));
            Some(*sample)
        })
        .collect();
    let mut added_ns = [0u64; 6];
    let mut rows = Vec::new();
    for (line, &sample) in seed.lines().zip(&sample_of_line) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [dur, "kernel", "kernel_lock", caller] => {
                let before: u64 = dur.parse().unwrap();
                let after = before * numerator / denominator;
                added_ns[sample] += after.saturating_sub(before);
                rows.push(format!("{after}\tkernel\tkernel_lock\t{caller}"));
            }
            _ => rows.push(line.to_string()),
        }
    }
    let mut out = String::new();
    for (row, &sample) in rows.iter().zip(&sample_of_line) {
        match row.strip_prefix("Running\t") {
            Some(value) if grow_running => {
                let running = milliseconds_to_ns(value) + added_ns[sample];
                out.push_str(&format!("Running\t{running}ns"));
            }
            _ => out.push_str(row),
        }
        out.push('\n');
    }
    out
}

/// `4.384ms` as nanoseconds.
fn milliseconds_to_ns(value: &str) -> u64 {
    let ms: f64 = value.strip_suffix("ms").unwrap().parse().unwrap();
    (ms * 1e6).round() as u64
}

/// Writes `text` to a scratch file named `name`, returns its path.
pub(crate) fn scratch_file(test: &str, name: &str, text: &str) -> String {
    // A folder per file: scratch_dir empties the folder it makes.
    let path = scratch_dir(&format!("{test}-{name}")).join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// `contend diff --format json ARGS`, expecting `code`.
pub(crate) fn diff_json(args: &[&str], code: i32) -> Value {
    let mut all = vec!["diff", "--format", "json"];
    all.extend(args);
    let run = run(&all);
    assert_eq!(run.code, code, "stderr: {}", run.stderr);
    serde_json::from_str(&run.stdout).expect("diff --format json is JSON")
}

pub(crate) fn metric<'a>(diff: &'a Value, name: &str) -> &'a Value {
    diff["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == name)
        .unwrap_or_else(|| panic!("metric {name} in {diff}"))
}

fn group<'a>(diff: &'a Value, category: &str, symbol: &str, caller: &str) -> &'a Value {
    diff["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["category"] == category && g["symbol"] == symbol && g["caller"] == caller)
        .unwrap_or_else(|| panic!("group {category};{symbol};{caller} in {diff}"))
}

pub(crate) fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is a number"))
}

fn assert_close(actual: &Value, expected: f64) {
    let actual = number(actual);
    assert!(
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{actual} != {expected}"
    );
}

#[test]
fn the_seed_helper_changes_only_what_it_says() {
    let halved = seed_with_kernel_lock_scaled(1, 2, false);
    assert!(halved.contains("875575\tkernel\tkernel_lock\treaper"));
    assert!(halved.contains("Running\t4.384ms"));
    let doubled = seed_with_kernel_lock_scaled(2, 1, true);
    assert!(doubled.contains("3502302\tkernel\tkernel_lock\treaper"));
    // Running of the first sample grows by its 1751151 ns of kernel_lock.
    assert!(doubled.contains(&format!("Running\t{}ns", 4_384_000 + 1_751_151)));
    // The fifth sample, whose state lines stand apart from its table.
    assert!(doubled.contains(&format!("Running\t{}ns", 2_780_000 + 1_725_415 + 132_476)));
}

#[test]
fn halving_kernel_lock_on_five_samplings_is_not_significant() {
    let after = scratch_file(
        "diff_halved",
        "halved.txt",
        &seed_with_kernel_lock_scaled(1, 2, false),
    );
    let diff = diff_json(&[SEED, &after], 0);

    let kernel_lock = metric(&diff, "kernel_lock_ns");
    let before_sum: u64 = SEED_KERNEL_LOCK.iter().sum();
    let after_sum: u64 = SEED_KERNEL_LOCK.iter().map(|ns| ns / 2).sum();
    assert_eq!(before_sum, 13_260_228);
    assert_close(&kernel_lock["before_mean"], before_sum as f64 / 5.0);
    assert_close(&kernel_lock["after_mean"], after_sum as f64 / 5.0);
    assert!((number(&kernel_lock["delta_pct"]) + 50.0).abs() < 1e-4);
    // Exact Mann-Whitney, 5+5: the halved samples rank 1,3,4,5,8 of 10, so
    // U = 7 and the two-sided p is 2 * 39/252 (39 of the 252 orderings
    // have U <= 7).
    assert_close(&kernel_lock["p_value"], 78.0 / 252.0);
    assert_eq!(kernel_lock["significant"], false);

    // Running is unchanged, so spin falls and work rises by the same time.
    assert_close(&metric(&diff, "running_ns")["delta_pct"], 0.0);
    assert_close(&metric(&diff, "running_ns")["p_value"], 1.0);
    let spin_share = metric(&diff, "spin_share");
    assert!((number(&spin_share["before_mean"]) * 1000.0).round() == 599.0);
    assert!(number(&spin_share["delta_pct"]) < -20.0);
    assert_eq!(spin_share["significant"], false);
    assert!(number(&metric(&diff, "work_ns")["delta_pct"]) > 0.0);

    let reaper = group(&diff, "kernel", "kernel_lock", "reaper");
    assert_eq!(reaper["before_total_ns"], 13_095_905);
    assert_eq!(reaper["status"], "changed");
    assert!((number(&reaper["delta_pct"]) + 50.0).abs() < 1e-4);
    assert_eq!(reaper["significant"], false);
    assert_eq!(diff["regressions"], serde_json::json!([]));
}

#[test]
fn doubling_kernel_lock_grows_running_and_leaves_work_alone() {
    let after = scratch_file(
        "diff_doubled",
        "doubled.txt",
        &seed_with_kernel_lock_scaled(2, 1, true),
    );
    let diff = diff_json(&[SEED, &after], 0);
    let kernel_lock = metric(&diff, "kernel_lock_ns");
    assert_close(&kernel_lock["delta_pct"], 100.0);
    let running: u64 = SEED_RUNNING.iter().sum();
    assert_eq!(running, 21_776_000);
    // Running grows by the seed's kernel_lock total: 13260228 / 21776000.
    assert_close(
        &metric(&diff, "running_ns")["delta_pct"],
        100.0 * 13_260_228.0 / 21_776_000.0,
    );
    assert_close(&metric(&diff, "work_ns")["delta_pct"], 0.0);
    // 59.9 % of Running spun before, 69.4 % after: the share cannot double,
    // since the added spin also adds Running.
    let spin_share = metric(&diff, "spin_share");
    assert_eq!((number(&spin_share["before_mean"]) * 1000.0).round(), 599.0);
    assert_eq!((number(&spin_share["after_mean"]) * 1000.0).round(), 694.0);
    for name in ["kernel_lock_ns", "spin_share", "running_ns"] {
        assert_eq!(metric(&diff, name)["significant"], false, "{name}");
    }
    let reaper = group(&diff, "kernel", "kernel_lock", "reaper");
    assert_eq!(reaper["after_total_ns"], 2 * 13_095_905);
    assert_close(&reaper["delta_pct"], 100.0);
}

#[test]
fn fail_above_needs_a_significant_rise_unless_alpha_is_one() {
    let after = scratch_file(
        "diff_fail_above",
        "doubled.txt",
        &seed_with_kernel_lock_scaled(2, 1, true),
    );
    // spin_share rises by more than 10 %, but 5+5 noisy samplings cannot
    // tell it from noise: no regression.
    let diff = diff_json(&[SEED, &after, "--fail-above", "10"], 0);
    assert_eq!(diff["regressions"], serde_json::json!([]));
    // --alpha 1 counts every rise.
    let diff = diff_json(&[SEED, &after, "--fail-above", "10", "--alpha", "1"], 1);
    assert_eq!(diff["regressions"], serde_json::json!(["spin_share"]));
    // Several metrics; running_ns shifted +48.0 % (the median of the 25
    // differences after - before, 1.858 ms, over the before median 3.868
    // ms), work_ns did not move.
    let diff = diff_json(
        &[
            SEED,
            &after,
            "--fail-above",
            "40",
            "--alpha",
            "1",
            "--metric",
            "running_ns",
            "--metric",
            "work_ns",
            "--metric",
            "kernel_lock_ns",
        ],
        1,
    );
    assert_eq!(
        diff["regressions"],
        serde_json::json!(["running_ns", "kernel_lock_ns"])
    );
    assert_close(
        &metric(&diff, "running_ns")["shift_pct"],
        100.0 * 1_857_891.0 / 3_868_000.0,
    );
    // Going the other way is an improvement, never a regression.
    diff_json(&[&after, SEED, "--fail-above", "0", "--alpha", "1"], 0);
}

#[test]
fn a_dozen_samplings_a_side_make_the_shift_significant() {
    let diff = diff_json(&[BEFORE_12, AFTER_12, "--fail-above", "5"], 0);
    assert_eq!(diff["before"]["label"], "reaper-before");
    assert_eq!(diff["before"]["samples"], 12);
    assert_eq!(diff["after"]["samples"], 12);
    for (name, delta) in [
        ("running_ns", -36.7),
        ("spin_ns", -54.3),
        ("spin_share", -27.7),
        ("kernel_lock_ns", -58.5),
    ] {
        let metric = metric(&diff, name);
        assert_eq!(metric["significant"], true, "{name}");
        assert!(number(&metric["p_value"]) < 0.001, "{name}");
        assert!(
            (number(&metric["delta_pct"]) - delta).abs() < 0.05,
            "{name}: {}",
            metric["delta_pct"]
        );
    }
    for name in ["work_ns", "sleep_wait_ns", "off_cpu_ns"] {
        assert_eq!(metric(&diff, name)["significant"], false, "{name}");
    }
    // Offsets (`reaper+0x1c`) are stripped, and only the planted group
    // survives the Benjamini-Hochberg correction.
    let reaper = group(&diff, "kernel", "kernel_lock", "reaper");
    assert_eq!(reaper["significant"], true);
    assert!(number(&reaper["q_value"]) < 0.001);
    assert!(number(&reaper["q_value"]) >= number(&reaper["p_value"]));
    assert!((number(&reaper["delta_pct"]) + 59.06).abs() < 0.01);
    let significant: Vec<&Value> = diff["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["significant"] == true)
        .collect();
    assert_eq!(significant.len(), 1);
    // The wakeup_n rise has p = 0.033 < 0.05 on its own, but not once
    // corrected for six comparisons.
    let wakeup = group(&diff, "mutex", "sched_lock", "wakeup_n");
    assert!(number(&wakeup["p_value"]) < 0.05);
    assert!(number(&wakeup["q_value"]) > 0.05);
    assert_eq!(wakeup["significant"], false);
}

#[test]
fn a_significant_regression_exits_one() {
    // The same builds the other way round: spin_share rises 38 %.
    let diff = diff_json(&[AFTER_12, BEFORE_12, "--fail-above", "10"], 1);
    assert_eq!(diff["regressions"], serde_json::json!(["spin_share"]));
    assert!((number(&metric(&diff, "spin_share")["delta_pct"]) - 38.35).abs() < 0.01);
    // Below the limit: exit 0.
    diff_json(&[AFTER_12, BEFORE_12, "--fail-above", "40"], 0);
    // In percentage points: the share shifted 17.2 points.
    diff_json(&[AFTER_12, BEFORE_12, "--fail-above", "10pt"], 1);
    diff_json(&[AFTER_12, BEFORE_12, "--fail-above", "17pt"], 1);
    diff_json(&[AFTER_12, BEFORE_12, "--fail-above", "18pt"], 0);
    diff_json(&[AFTER_12, BEFORE_12, "--fail-above", "10%"], 1);
    // Without --fail-above nothing fails.
    diff_json(&[AFTER_12, BEFORE_12], 0);

    // The reason, with its figures, on stderr: a CI log shows it with
    // stdout sent to /dev/null.
    let table = run(&["diff", AFTER_12, BEFORE_12, "--fail-above", "10"]);
    assert_eq!(table.code, 1);
    assert!(
        table.stderr.ends_with(
            "contend: FAIL spin_share +17.2 pt [+12.3, +22.3] (+37.3 %, median 46.1 % -> \
             64.3 %, p<0.001, n=12+12) regressed beyond --fail-above 10 %\n"
        ),
        "{}",
        table.stderr
    );
    assert!(!table.stdout.contains("FAIL"), "{}", table.stdout);
}

#[test]
fn json_has_every_contract_field() {
    let diff = diff_json(&[BEFORE_12, AFTER_12], 0);
    let keys =
        |value: &Value| -> Vec<String> { value.as_object().unwrap().keys().cloned().collect() };
    for field in ["before", "after", "metrics", "groups", "regressions"] {
        assert!(diff.get(field).is_some(), "{field}");
    }
    assert_eq!(diff["alpha"], 0.05);
    assert_eq!(diff["groups_tested"], 6);
    for side in ["before", "after"] {
        assert_eq!(keys(&diff[side]), ["label", "samples"]);
    }
    let metric_keys = keys(&diff["metrics"][0]);
    for field in [
        "metric",
        "before_mean",
        "after_mean",
        "before_median",
        "after_median",
        "delta_pct",
        "p_value",
        "significant",
    ] {
        assert!(metric_keys.iter().any(|k| k == field), "{field}");
    }
    let names: Vec<&str> = diff["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["metric"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "running_ns",
            "spin_ns",
            "spin_share",
            "kernel_lock_ns",
            "work_ns",
            "sleep_wait_ns",
            "off_cpu_ns"
        ]
    );
    let group_keys = keys(&diff["groups"][0]);
    for field in GROUP_FIELDS {
        assert!(group_keys.iter().any(|k| k == field), "{field}");
    }
    // The 95 % interval of the median: 12 values give the 3rd smallest and
    // 3rd largest (P(Binomial(12, 1/2) <= 2) = 0.019 <= 0.025).
    let ci = &metric(&diff, "running_ns")["before_median_ci"];
    assert_eq!(ci, &serde_json::json!([3_952_000.0, 5_464_000.0]));
    // Every group is in the JSON, whatever --top says.
    assert_eq!(diff["groups"].as_array().unwrap().len(), 6);
    let top_one = diff_json(&[BEFORE_12, AFTER_12, "--top", "1"], 0);
    assert_eq!(top_one["groups"], diff["groups"]);
}

#[test]
fn one_sample_a_side_gets_no_test() {
    let first_sample: String = read(SEED)
        .split("\n\n")
        .take(2)
        .collect::<Vec<_>>()
        .join("\n\n");
    let before = scratch_file("diff_one_sample", "one.txt", &first_sample);
    let diff = diff_json(&[&before, &before], 0);
    let running = metric(&diff, "running_ns");
    assert_eq!(running["p_value"], Value::Null);
    assert_eq!(running["significant"], false);
    assert_close(&running["before_mean"], 4_384_000.0);

    let table = run(&["diff", &before, &before]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table
            .stdout
            .contains("+0.0 % (n too small for a test, n=1+1)  ┆ inconclusive"),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("running_ns: inconclusive, too few samples for a test (n=1+1)"),
        "{}",
        table.stdout
    );
}

#[test]
fn the_table_reads_like_benchstat() {
    let table = run(&["diff", BEFORE_12, AFTER_12]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    let out = &table.stdout;
    assert!(out.starts_with("reaper-before (12 samples) -> reaper-after (12 samples)\n"));
    // The shift and its 95 % interval: the share fell 17.2 points; work
    // did not change significantly, and its interval reaches past 10 %.
    assert!(
        out.contains("-17.2 pt [-22.3, -12.3] (p<0.001, n=12+12) ┆ improved"),
        "{out}"
    );
    assert!(
        out.contains("~ [-16.9, +7.7] % (p=0.478, n=12+12)       ┆ inconclusive"),
        "{out}"
    );
    // Medians with their 95 % interval from 6 samples a side: 64.3 % in
    // [60.2 %, 67.0 %] reaches 4.1 / 64.3 = 6 % of the median.
    assert!(out.contains("64.3 % ± 6 %"), "{out}");
    assert!(out.contains("4.751 ms ± 17 %"), "{out}");
    assert!(out.contains("± : how far the 95 % confidence interval of the median reaches"));
    assert!(
        out.contains("Regressions: 0 significant of 4 rises, by change of the mean per sample")
    );
    assert!(out.contains("~ = not told from noise"));
    assert!(out.contains("│ ~ ┆ rwlock   ┆ kernel_map_store ┆"), "{out}");
    assert!(out.contains("adjusted for 6 comparisons by Benjamini-Hochberg"));
    assert!(out.contains("Improvements: 1 significant of 2 falls,"));
    let reaper_line = out
        .lines()
        .find(|line| line.contains("reaper") && line.contains("-59.1 %"))
        .expect("the reaper's improvement is listed");
    assert!(reaper_line.contains('*'), "{reaper_line}");
    assert!(
        !out.contains('\u{1b}'),
        "no colour when stdout is not a terminal"
    );

    let five = run(&["diff", SEED, SEED]);
    // The same five samplings twice: the shift's 95 % interval is d(3) ..
    // d(23) of the 25 differences (5+5: P(U <= 2) = 4/252 <= 2.5 % <
    // P(U <= 3) = 7/252), -3.640 ms .. +3.640 ms of Running, 94.1 % of
    // its median 3.868 ms: no test can tell, no change is ruled out.
    assert!(
        five.stdout
            .contains("~ [-94.1, +94.1] % (p=1.000, n=5+5)       ┆ inconclusive"),
        "{}",
        five.stdout
    );
    assert!(
        five.stdout
            .contains("Medians have 95 % confidence intervals from 6 samples a side (5+5 here).")
    );
    assert!(five.stdout.contains("Regressions: none"));

    let top = run(&["diff", BEFORE_12, AFTER_12, "--top", "1"]);
    assert!(
        top.stdout
            .contains("Regressions: 0 significant of 4 rises (top 1 shown),")
    );
}

#[test]
fn significant_regressions_are_painted_when_colour_is_asked_for() {
    let coloured = run(&["diff", AFTER_12, BEFORE_12, "--color", "always"]);
    let regression_line = coloured
        .stdout
        .lines()
        .find(|line| line.contains("reaper") && line.contains("+144.3 %"))
        .expect("the reaper's regression is listed");
    assert!(regression_line.contains("\u{1b}["), "{regression_line}");
    let plain = run(&["diff", AFTER_12, BEFORE_12, "--color", "never"]);
    assert!(!plain.stdout.contains('\u{1b}'));
}

#[test]
fn offsets_are_stripped_unless_kept() {
    let with_offset = read(SEED).replace("\treaper\n", "\treaper+0x1c\n");
    let after = scratch_file("diff_offsets", "offset.txt", &with_offset);
    let diff = diff_json(&[SEED, &after], 0);
    let reaper = group(&diff, "kernel", "kernel_lock", "reaper");
    assert_eq!(reaper["status"], "changed");
    assert_close(&reaper["delta_pct"], 0.0);

    let kept = diff_json(&[SEED, &after, "--keep-offsets"], 0);
    let gone = group(&kept, "kernel", "kernel_lock", "reaper");
    assert_eq!(gone["status"], "gone");
    assert_eq!(gone["after_total_ns"], 0);
    let new = group(&kept, "kernel", "kernel_lock", "reaper+0x1c");
    assert_eq!(new["status"], "new");
    assert_eq!(new["before_total_ns"], 0);
    assert_eq!(new["after_total_ns"], 13_095_905);
    assert_eq!(new["delta_pct"], Value::Null);
}

#[test]
fn labels_name_the_sides() {
    let diff = diff_json(
        &[
            BEFORE_12,
            AFTER_12,
            "--label-before",
            "7.6",
            "--label-after",
            "7.6+unlock-reaper",
        ],
        0,
    );
    assert_eq!(diff["before"]["label"], "7.6");
    assert_eq!(diff["after"]["label"], "7.6+unlock-reaper");
}

#[test]
fn one_side_may_come_from_stdin() {
    let run = run_with_stdin(
        &["diff", "--format", "json", "-", AFTER_12],
        read(BEFORE_12).as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let diff: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(diff["before"]["label"], "stdin");
    assert_eq!(metric(&diff, "spin_share")["significant"], true);
}

#[test]
fn folded_output_has_both_totals() {
    let run = run(&["diff", "--format", "folded", BEFORE_12, AFTER_12]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 6);
    assert!(lines.contains(&"kernel;kernel_lock;reaper 33034870 13524513"));
    let (mut before, mut after) = (0u64, 0u64);
    for line in &lines {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 3, "{line}");
        before += fields[1].parse::<u64>().unwrap();
        after += fields[2].parse::<u64>().unwrap();
    }
    // The lock totals of each side, as `report` computes them.
    assert_eq!(before, lock_total(BEFORE_12));
    assert_eq!(after, lock_total(AFTER_12));
}

/// All lock waits of an input: spin plus sleep-lock wait, as `report` sums them.
fn lock_total(path: &str) -> u64 {
    let total = &crate::util::json_report(&[path], b"")["total"];
    total["spin_ns"].as_u64().unwrap() + total["sleep_wait_ns"].as_u64().unwrap()
}

#[test]
fn csv_has_one_record_per_group() {
    let run = run(&["diff", "--format", "csv", BEFORE_12, AFTER_12]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, GROUP_FIELDS);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 6);
    assert_eq!(
        &records[0].iter().take(5).collect::<Vec<_>>(),
        &["kernel", "kernel_lock", "reaper", "33034870", "13524513"]
    );
    assert_eq!(&records[0][10], "true");
    assert_eq!(&records[0][14], "improved");
}

#[test]
fn by_symbol_groups_callers_together() {
    let diff = diff_json(&[BEFORE_12, AFTER_12, "--by", "symbol"], 0);
    let groups = diff["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 4);
    let kernel_lock = groups
        .iter()
        .find(|g| g["symbol"] == "kernel_lock")
        .unwrap();
    assert_eq!(kernel_lock["before_total_ns"], 33_034_870 + 511_228);
    assert!(kernel_lock.get("caller").is_none_or(Value::is_null));
}

#[test]
fn bad_options_and_inputs_exit_two() {
    for (args, message) in [
        (
            vec!["diff", "--alpha", "0", SEED, SEED],
            "--alpha must be above 0 and at most 1",
        ),
        (
            vec!["diff", "--alpha", "1.5", SEED, SEED],
            "--alpha must be above 0 and at most 1",
        ),
        (
            vec!["diff", "--fail-above", "inf", SEED, SEED],
            "\"inf\" is not a percentage (10, 10%) or points (5pt)",
        ),
        (
            vec!["diff", "--fail-above", "-5", SEED, SEED],
            "-5 is a fall: --fail-above takes the rise that fails, 0 or more (a falling \
             metric never fails the gate)",
        ),
        (
            vec![
                "diff",
                "--fail-above",
                "5pt",
                "--metric",
                "kernel_lock_ns",
                SEED,
                SEED,
            ],
            "--fail-above in points (pt) is for shares (spin_share); kernel_lock_ns changes \
             in percent",
        ),
        (
            vec!["diff", "missing.txt", SEED],
            "missing.txt: cannot open",
        ),
        // Both sides are read at once; the error is the before side's, as
        // when they were read one after the other.
        (
            vec!["diff", "missing-before.txt", "missing-after.txt"],
            "missing-before.txt: cannot open",
        ),
        (vec!["diff", "-", "-"], "stdin (`-`) can be read only once"),
        (vec!["diff", SEED], "required"),
        (
            vec!["diff", SEED, SEED, "--metric", "bogus"],
            "invalid value 'bogus'",
        ),
    ] {
        let run = run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}");
    }
}

/// A lock row: ns, category, symbol, caller.
type LockRow = (u64, &'static str, &'static str, &'static str);

/// A sample: its Running time and its lock rows.
type TestSample = (u64, Vec<LockRow>);

/// A table in the seed's shape.
fn table_of(samples: &[TestSample]) -> String {
    let mut text = String::new();
    for (running, rows) in samples {
        text.push_str(&format!("Stopped\t400ms\nRunning\t{running}ns\n"));
        text.push_str("dur\tcategory\tsymbol\tcaller\n");
        for (ns, category, symbol, caller) in rows {
            text.push_str(&format!("{ns}\t{category}\t{symbol}\t{caller}\n"));
        }
        text.push('\n');
    }
    text
}

/// Samples whose spin share (kernel_lock spin over Running) is each of
/// `shares_per_mille`.
fn spin_share_samples(shares_per_mille: &[u64]) -> Vec<TestSample> {
    shares_per_mille
        .iter()
        .map(|&share| {
            let running = 10_000_000;
            let spin = running * share / 1000;
            (running, vec![(spin, "kernel", "kernel_lock", "reaper")])
        })
        .collect()
}

#[test]
fn a_falling_median_never_fails_the_gate_whatever_the_mean_does() {
    // spin_share: median 13.5 % -> 4.5 %, 7 of 8 after samples below every
    // before sample, one outlier lifting the after mean above the before
    // mean. The rank test finds the fall; the gate must not call it a rise.
    let before = spin_share_samples(&[120, 125, 130, 135, 135, 140, 145, 150]);
    let after = spin_share_samples(&[30, 35, 40, 45, 45, 50, 55, 950]);
    let before = scratch_file("diff_median_down", "before.txt", &table_of(&before));
    let after = scratch_file("diff_median_down", "after.txt", &table_of(&after));
    let diff = diff_json(&[&before, &after, "--fail-above", "10"], 0);
    let share = metric(&diff, "spin_share");
    assert!(number(&share["delta_pct"]) > 10.0, "the mean rose: {share}");
    assert_close(&share["median_delta_pct"], -66.666_666_666_666_67);
    assert_eq!(share["direction"], "down");
    assert_eq!(share["significant"], true);
    assert_eq!(share["test"], "exact-ties");
    assert_eq!(diff["regressions"], serde_json::json!([]));
    // In the table: the shift, the median of the 64 differences after -
    // before (-9.0 points, listed by hand in Python), its 95 % interval
    // d(14) .. d(51) of them (8+8: P(U <= 13) = 0.025), an improvement.
    let table = run(&["diff", &before, &after, "--fail-above", "10"]);
    assert_eq!(table.code, 0, "{}", table.stdout);
    assert!(
        table
            .stdout
            .contains("-9.0 pt [-10.0, -7.5] (p=0.010, n=8+8)  ┆ improved"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("Regressions: none"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains("rose past"), "{}", table.stdout);
    // The same data the other way round is a significant rise of the
    // median, and fails.
    let diff = diff_json(&[&after, &before, "--fail-above", "10"], 1);
    assert_eq!(diff["regressions"], serde_json::json!(["spin_share"]));
    assert_eq!(metric(&diff, "spin_share")["direction"], "up");
}

#[test]
fn few_tied_samples_get_the_exact_p_and_no_star() {
    // 3+3 samples, constant within each side: the most lopsided deal of
    // 20, twice: p = 0.1, whatever the approximation says (0.047).
    let before = scratch_file(
        "diff_ties",
        "before.txt",
        &table_of(&spin_share_samples(&[100, 100, 100])),
    );
    let after = scratch_file(
        "diff_ties",
        "after.txt",
        &table_of(&spin_share_samples(&[300, 300, 300])),
    );
    let diff = diff_json(&[&before, &after, "--fail-above", "10"], 0);
    let share = metric(&diff, "spin_share");
    assert_close(&share["p_value"], 0.1);
    assert_eq!(share["test"], "exact-ties");
    assert_eq!(share["significant"], false);
    let group = group(&diff, "kernel", "kernel_lock", "reaper");
    assert_close(&group["p_value"], 0.1);
    assert_eq!(group["significant"], false);
    assert_eq!(group["direction"], "up");
    let table = run(&["diff", &before, &after]);
    assert!(
        table
            .stdout
            .contains("With 3+3 samples no change can be significant"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains("│ * ┆"), "{}", table.stdout);
}

#[test]
fn alpha_one_marks_only_what_has_a_p_and_zero_groups_are_no_comparison() {
    let one = |share| table_of(&spin_share_samples(&[share]));
    let before = scratch_file("diff_alpha_one", "before.txt", &one(100));
    let after = scratch_file("diff_alpha_one", "after.txt", &one(300));
    let diff = diff_json(&[&before, &after, "--alpha", "1"], 0);
    let share = metric(&diff, "spin_share");
    assert_eq!(share["p_value"], Value::Null);
    assert_eq!(share["significant"], false);
    assert_eq!(share["test"], Value::Null);
    // --alpha 1 turns the significance requirement of the gate off, but
    // one sample a side is no comparison at all: the gate could not test
    // (exit 0, a line on stderr), and --fail-inconclusive fails it.
    let args = [&before[..], &after, "--alpha", "1", "--fail-above", "10"];
    let diff = diff_json(&args, 0);
    assert_eq!(diff["regressions"], serde_json::json!([]));
    assert_eq!(diff["inconclusive"], serde_json::json!(["spin_share"]));
    assert_eq!(metric(&diff, "spin_share")["verdict"], "inconclusive");
    let mut failing = args.to_vec();
    failing.push("--fail-inconclusive");
    diff_json(&failing, 1);

    // A group whose waits are 0 ns everywhere is left out, and not counted
    // as a comparison.
    let with_zero = |share| {
        let mut samples = spin_share_samples(&[share, share + 10]);
        for (_, rows) in &mut samples {
            rows.push((0, "mutex", "sched_lock", "idle"));
        }
        table_of(&samples)
    };
    let before = scratch_file("diff_alpha_one", "zero-before.txt", &with_zero(100));
    let after = scratch_file("diff_alpha_one", "zero-after.txt", &with_zero(300));
    let diff = diff_json(&[&before, &after], 0);
    assert_eq!(diff["groups"].as_array().unwrap().len(), 1);
    assert_eq!(diff["groups_tested"], 1);
}

#[test]
fn group_totals_are_exact_past_two_to_the_53() {
    let big = (1u64 << 53) + 1;
    let samples = |extra: u64| -> Vec<TestSample> {
        (0..2)
            .map(|i| {
                (
                    u64::MAX / 4,
                    vec![(big + extra + i, "rwlock", "vmmaplk", "uvm_map")],
                )
            })
            .collect()
    };
    let before = scratch_file("diff_big", "before.txt", &table_of(&samples(0)));
    let after = scratch_file("diff_big", "after.txt", &table_of(&samples(2)));
    let diff = diff_json(&[&before, &after], 0);
    let group = &diff["groups"][0];
    assert_eq!(group["before_total_ns"], 2 * big + 1);
    assert_eq!(group["after_total_ns"], 2 * big + 5);
    // Ranked as integers: after above before in every pair, no ties.
    assert_eq!(group["direction"], "up");
    assert_eq!(group["test"], "exact");
    assert_close(&group["p_value"], 2.0 / 6.0);
}

#[test]
fn one_line_summary_for_ci_logs() {
    let better = run(&[
        "diff",
        "--format",
        "summary",
        "--fail-above",
        "10",
        BEFORE_12,
        AFTER_12,
    ]);
    assert_eq!(better.code, 0, "{}", better.stderr);
    assert_eq!(
        better.stdout,
        "reaper-before -> reaper-after: spin_share 64.3 % -> 46.1 % -17.2 pt (p<0.001) \
         improved; kernel_lock_ns 2.779 ms -> 1.214 ms -60.2 % (p<0.001) improved; \
         sleep_wait_ns 2.514 ms -> 3.633 ms ~ (p=0.089) inconclusive; 0 of 6 groups rose \
         significantly; ok\n"
    );
    let worse = run(&[
        "diff",
        "-q",
        "--format",
        "summary",
        "--fail-above",
        "10",
        AFTER_12,
        BEFORE_12,
    ]);
    assert_eq!(worse.code, 1);
    assert!(
        worse
            .stdout
            .ends_with("1 of 6 groups rose significantly; FAIL spin_share\n")
    );
    // -q keeps the FAIL line: it is the reason for the exit code.
    assert!(
        worse
            .stderr
            .starts_with("contend: FAIL spin_share +17.2 pt [+12.3, +22.3] (+37.3 %, median")
    );
    // Without thread states, the headline is the wait time.
    let perf = "fixtures/real/perf-lock-contention-lkml-traceiter-before-after.txt";
    let linux = run(&["diff", "-q", "--format", "summary", perf, perf]);
    assert_eq!(linux.code, 0, "{}", linux.stderr);
    assert!(
        linux
            .stdout
            .contains(": spin_ns 5.539 s -> 5.539 s ~ (p=1.000) inconclusive; sleep_wait_ns"),
        "{}",
        linux.stdout
    );
    // No --fail-above, no gate: never an `ok` that nothing earned.
    assert!(
        linux.stdout.ends_with("; no gate (--fail-above)\n"),
        "{}",
        linux.stdout
    );
}

#[test]
fn files_read_in_pieces_compare_as_files_read_whole() {
    // --threads 5 cuts each file in five, so samples and keys are continued
    // across pieces: every figure must stay the same.
    let whole = diff_json(&["--threads", "1", BEFORE_12, AFTER_12], 0);
    let pieces = diff_json(&["--threads", "5", BEFORE_12, AFTER_12], 0);
    assert_eq!(whole, pieces);
    let reaper = group(&pieces, "kernel", "kernel_lock", "reaper");
    assert_eq!(reaper["status"], "changed");
    assert!(number(&reaper["p_value"]) < 0.001, "{reaper}");
    // By symbol, groups span several keys.
    let by_symbol = diff_json(
        &["--by", "symbol", "--threads", "5", BEFORE_12, AFTER_12],
        0,
    );
    let whole_by_symbol = diff_json(
        &["--by", "symbol", "--threads", "1", BEFORE_12, AFTER_12],
        0,
    );
    assert_eq!(by_symbol, whole_by_symbol);
    assert_eq!(by_symbol["groups"].as_array().map(Vec::len), Some(4));
}

#[test]
fn a_sample_cut_across_pieces_counts_once_for_its_key() {
    // 60 rows of one key a sample: --threads 9 cuts each file inside
    // most samples, so a key's wait in a sample comes from two pieces
    // and must be summed into one value a sample (the mean is the total
    // over the 8 samples only then).
    let samples = |base: u64| -> Vec<TestSample> {
        (0..8)
            .map(|sample| {
                let rows = (0..60)
                    .map(|row| (base + sample * 10 + row, "kernel", "kernel_lock", "reaper"))
                    .collect();
                (10_000_000, rows)
            })
            .collect()
    };
    let test = "sample-across-pieces";
    let before = scratch_file(test, "before.txt", &table_of(&samples(1_000)));
    let after = scratch_file(test, "after.txt", &table_of(&samples(2_000)));
    let pieces = diff_json(&["--threads", "9", &before, &after], 0);
    assert_eq!(pieces, diff_json(&["--threads", "1", &before, &after], 0));
    let reaper = group(&pieces, "kernel", "kernel_lock", "reaper");
    // Sample s: 60 x (1 000 + 10 s) + (0 + 1 + ... + 59) = 61 770 + 600 s.
    let before_total: u64 = (0..8).map(|s| 61_770 + 600 * s).sum();
    assert_eq!(reaper["before_total_ns"], before_total);
    assert_eq!(reaper["before_mean_ns"], before_total / 8);
    assert_eq!(reaper["after_mean_ns"], (before_total + 8 * 60_000) / 8);
}

#[test]
fn a_filter_needs_to_pick_rows_on_one_side_only() {
    // The two sides are read on threads of their own; --match is checked
    // against both once both are read.
    let before = scratch_file(
        "filter-one-side",
        "before.txt",
        &table_of(&[(1000, vec![(10, "mutex", "sched_lock", "wakeup_n")])]),
    );
    let after = scratch_file(
        "filter-one-side",
        "after.txt",
        &table_of(&[(1000, vec![(30, "kernel", "kernel_lock", "reaper")])]),
    );
    let diff = diff_json(&["--match", "symbol=^kernel_lock$", &before, &after], 0);
    let reaper = group(&diff, "kernel", "kernel_lock", "reaper");
    assert_eq!(reaper["status"], "new");
    assert_eq!(reaper["after_total_ns"], 30);
    assert_eq!(diff["groups"].as_array().map(Vec::len), Some(1));
    let run = run(&["diff", "--match", "symbol=^nosuch$", &before, &after]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("nosuch"), "{}", run.stderr);
}

#[test]
fn a_missing_file_stops_the_run_without_reading_stdin() {
    // Two files are read at once, but with stdin the sides are read one
    // after the other, once the named file has opened.
    for args in [["missing-before.txt", "-"], ["-", "missing-after.txt"]] {
        let missing = args.iter().find(|arg| **arg != "-").unwrap();
        let stderr = diff_with_stdin_left_open(&args);
        assert!(
            stderr.contains(&format!("{missing}: cannot open")),
            "{stderr}"
        );
    }
}

/// The stderr of `contend diff ARGS`, which must exit 2, with a stdin that
/// never ends: a diff that read it would never stop.
fn diff_with_stdin_left_open(args: &[&str]) -> String {
    let mut child = contend()
        .arg("diff")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    // A hang guard, not a timing.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("diff {args:?} read stdin, which never ends");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{args:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn named_pipes_are_opened_once() {
    // `diff A B` of two FIFOs: each opened once, so the writers' data all
    // arrives (opening one to check it exists, then again, lost it or hung).
    let dir = scratch_dir("diff_fifos");
    let fifos = [dir.join("before"), dir.join("after")];
    for fifo in &fifos {
        let made = std::process::Command::new("mkfifo")
            .arg(fifo)
            .status()
            .unwrap();
        assert!(made.success());
    }
    for _ in 0..3 {
        let writers: Vec<_> = fifos
            .iter()
            .map(|fifo| {
                let fifo = fifo.clone();
                std::thread::spawn(move || std::fs::write(fifo, read(SEED)).unwrap())
            })
            .collect();
        let paths: Vec<&str> = fifos.iter().map(|f| f.to_str().unwrap()).collect();
        let diff = diff_json(&paths, 0);
        assert_eq!(diff["before"]["samples"], 5);
        assert_eq!(diff["after"]["samples"], 5);
        assert_close(
            &metric(&diff, "kernel_lock_ns")["before_mean"],
            13_260_228.0 / 5.0,
        );
        for writer in writers {
            writer.join().unwrap();
        }
    }
}

#[test]
fn csv_for_spreadsheets_has_the_metrics_and_the_export_options() {
    let json: Value =
        serde_json::from_str(&run(&["diff", "--format", "json", BEFORE_12, AFTER_12]).stdout)
            .unwrap();
    // The metrics table, in a locale with decimal commas.
    let run_metrics = run(&[
        "diff",
        "--format",
        "csv",
        "--what",
        "metrics",
        "--delimiter",
        ";",
        "--decimal-comma",
        BEFORE_12,
        AFTER_12,
    ]);
    assert_eq!(run_metrics.code, 0, "{}", run_metrics.stderr);
    let mut lines = run_metrics.stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split(';').collect();
    assert_eq!(header.len(), 27);
    let rows: Vec<Vec<&str>> = lines.map(|line| line.split(';').collect()).collect();
    assert_eq!(rows.len(), json["metrics"].as_array().unwrap().len());
    let cell =
        |row: &[&str], name: &str| row[header.iter().position(|h| *h == name).unwrap()].to_string();
    for (row, metric) in rows.iter().zip(json["metrics"].as_array().unwrap()) {
        assert_eq!(cell(row, "metric"), metric["metric"].as_str().unwrap());
        assert_eq!(cell(row, "verdict"), metric["verdict"].as_str().unwrap());
        assert_eq!(cell(row, "n_before"), metric["n_before"].to_string());
        // Decimals with a comma, the same figure as the JSON's.
        let shift_low = metric["shift_ci"][0].as_f64().unwrap();
        assert_eq!(
            cell(row, "shift_ci_low"),
            shift_low.to_string().replace('.', ",")
        );
        let median = metric["before_median"].as_f64().unwrap();
        assert_eq!(
            cell(row, "before_median"),
            median.to_string().replace('.', ",")
        );
    }
    // kernel_lock_ns: the 95 % interval of its shift, in ns.
    let kernel_lock = rows.iter().find(|row| row[0] == "kernel_lock_ns").unwrap();
    assert_eq!(cell(kernel_lock, "verdict"), "improved");
    // The groups table keeps its columns, now with the same options.
    let groups = run(&[
        "diff",
        "--format",
        "csv",
        "--delimiter",
        "\t",
        BEFORE_12,
        AFTER_12,
    ]);
    assert!(groups.stdout.starts_with(
        "category\tsymbol\tcaller\tbefore_total_ns\tafter_total_ns\tbefore_mean_ns\t"
    ));
    assert!(
        groups
            .stdout
            .contains("kernel\tkernel_lock\treaper\t33034870\t13524513\t")
    );
    // report --format csv takes them too.
    let report = run(&[
        "report",
        "--format",
        "csv",
        "--delimiter",
        ";",
        "--decimal-comma",
        SEED,
    ]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert!(
        report
            .stdout
            .contains("kernel;kernel_lock;reaper;spin;13095905;5;5;2619181;6552644;0,33"),
        "{}",
        report.stdout
    );
    assert!(report.stdout.contains(";0,3"), "{}", report.stdout);
    // Where they would do nothing, they are refused before anything is read.
    for args in [
        vec!["report", "--delimiter", ";", SEED],
        vec![
            "diff",
            "--format",
            "json",
            "--raw-text",
            BEFORE_12,
            AFTER_12,
        ],
    ] {
        let refused = run(&args);
        assert_eq!(refused.code, 2, "{args:?}");
        assert_eq!(
            refused.stderr,
            "contend: --delimiter, --decimal-comma and --raw-text are for --format csv\n"
        );
    }
    let refused = run(&["diff", "--what", "metrics", BEFORE_12, AFTER_12]);
    assert_eq!(refused.code, 2);
    assert_eq!(
        refused.stderr,
        "contend: --what picks the table of --format csv (the JSON has both)\n"
    );
    let refused = run(&["report", "--format", "csv", "--decimal-comma", SEED]);
    assert_eq!(
        refused.stderr,
        "contend: --decimal-comma needs another --delimiter than ',' (e.g. --delimiter ';')\n"
    );
}

#[test]
fn count_maps_have_no_times_to_compare() {
    // Two bpftrace `@[kstack] = count()` mails: events, no time. A diff
    // of them would print `0 ns` for every figure.
    let run = run(&[
        "diff",
        "--values",
        "count",
        "fixtures/real/bpftrace-netdev-sfc-native-qspinlock-kstack-count.txt",
        "fixtures/real/bpftrace-lkml-shmem-lruvec-pv-spinlock-kstack-count.txt",
    ]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.ends_with(
            "contend: bpftrace-netdev-sfc-native-qspinlock-kstack-count, \
             bpftrace-lkml-shmem-lruvec-pv-spinlock-kstack-count: event counts (count() values) \
             with no times: diff compares wait times; `contend report` ranks both by events\n"
        ),
        "{}",
        run.stderr
    );
}
