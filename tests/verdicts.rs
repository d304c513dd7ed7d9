//! `contend diff`'s verdicts, checked from the outside: inputs generated
//! from chosen per-sample values, and reference figures from the
//! definitions written here (every arrangement listed, every difference
//! listed, Mann and Whitney's recurrence), never from `stats.rs`.

use serde_json::Value;

use crate::diff::{diff_json, metric, number, scratch_file};
use crate::util::{Draws, run};

/// A table of samples, each with `running` ns of Running and, for each
/// (category, symbol, caller, waits) lock, its wait in that sample (no
/// row where the wait is 0: the lock was not seen).
fn samples_table(running: &[u64], locks: &[(&str, &str, &str, &[u64])]) -> String {
    let mut text = String::new();
    for (sample, running) in running.iter().enumerate() {
        text.push_str(&format!("Stopped\t400ms\nRunning\t{running}ns\n"));
        text.push_str("dur\tcategory\tsymbol\tcaller\n");
        for (category, symbol, caller, waits) in locks {
            if waits[sample] > 0 {
                text.push_str(&format!(
                    "{}\t{category}\t{symbol}\t{caller}\n",
                    waits[sample]
                ));
            }
        }
        text.push('\n');
    }
    text
}

/// One mutex's waits, one sample each, with 10 ms of Running.
fn mutex_waits(waits: &[u64]) -> String {
    let running = vec![10_000_000; waits.len()];
    samples_table(&running, &[("mutex", "sched_lock", "sleep_setup", waits)])
}

/// kernel_lock waits, one sample each, with 10 ms of Running.
fn kernel_lock_waits(waits: &[u64]) -> String {
    let running = vec![10_000_000; waits.len()];
    samples_table(&running, &[("kernel", "kernel_lock", "reaper", waits)])
}

/// U of `a` against `b`: pairs with a > b, ties counting 1/2, doubled.
fn u_doubled(a: &[u64], b: &[u64]) -> u64 {
    a.iter()
        .flat_map(|x| b.iter().map(move |y| (x, y)))
        .map(|(x, y)| match x.cmp(y) {
            std::cmp::Ordering::Greater => 2,
            std::cmp::Ordering::Equal => 1,
            std::cmp::Ordering::Less => 0,
        })
        .sum()
}

/// The two-sided exact p from its definition: every way of dealing the
/// pooled values into piles of the sides' sizes listed, and twice the
/// smaller of the shares of deals whose U is at most and at least the
/// observed one, at most 1.
fn enumerated_p(a: &[u64], b: &[u64]) -> f64 {
    let pooled: Vec<u64> = a.iter().chain(b).copied().collect();
    let n = pooled.len();
    let observed = u_doubled(a, b);
    let (mut at_most, mut at_least, mut all) = (0u64, 0u64, 0u64);
    for mask in 0u32..(1 << n) {
        if mask.count_ones() as usize != a.len() {
            continue;
        }
        let pile = |inside: bool| -> Vec<u64> {
            (0..n)
                .filter(|i| (mask & (1 << i) != 0) == inside)
                .map(|i| pooled[i])
                .collect()
        };
        let u = u_doubled(&pile(true), &pile(false));
        all += 1;
        at_most += u64::from(u <= observed);
        at_least += u64::from(u >= observed);
    }
    (2.0 * at_most.min(at_least) as f64 / all as f64).min(1.0)
}

/// How many deals of m + n untied values give U = 0, 1, ..., m n, by
/// Mann and Whitney's recurrence (1947): the largest value is in the
/// first pile (adding n to U) or in the second.
fn u_counts(m: usize, n: usize) -> Vec<f64> {
    let mut table = vec![vec![vec![0.0f64]; n + 1]; m + 1];
    for i in 0..=m {
        for j in 0..=n {
            if i == 0 || j == 0 {
                table[i][j] = vec![1.0];
                continue;
            }
            let mut counts = vec![0.0; i * j + 1];
            for (u, count) in table[i - 1][j].iter().enumerate() {
                counts[u + j] += count;
            }
            for (u, count) in table[i][j - 1].iter().enumerate() {
                counts[u] += count;
            }
            table[i][j] = counts;
        }
    }
    table[m][n].clone()
}

/// The Hodges-Lehmann shift from its definition: every difference (after
/// minus before) listed and sorted, their median, and the 95 % interval
/// d(k) .. d(N + 1 - k) with k the largest with P(U <= k - 1) <= 2.5 %.
fn shift_by_listing(before: &[f64], after: &[f64]) -> (f64, Option<[f64; 2]>) {
    let mut differences: Vec<f64> = after
        .iter()
        .flat_map(|a| before.iter().map(move |b| a - b))
        .collect();
    differences.sort_by(f64::total_cmp);
    let count = differences.len();
    let median = if count % 2 == 1 {
        differences[count / 2]
    } else {
        (differences[count / 2 - 1] + differences[count / 2]) / 2.0
    };
    let counts = u_counts(before.len(), after.len());
    let total: f64 = counts.iter().sum();
    let mut below = 0.0;
    let mut k = 0;
    for count in &counts {
        below += count;
        if below / total > 0.025 {
            break;
        }
        k += 1;
    }
    let interval = (k >= 1).then(|| [differences[k - 1], differences[count - k]]);
    (median, interval)
}

/// The group of [`mutex_waits`] in a diff.
fn mutex_group(diff: &Value) -> &Value {
    diff["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["symbol"] == "sched_lock")
        .unwrap_or_else(|| panic!("the mutex in {diff}"))
}

/// `diff` of two tables written to scratch files; the JSON.
fn diff_of(test: &str, before: &str, after: &str, args: &[&str]) -> Value {
    let before = scratch_file(test, "before.txt", before);
    let after = scratch_file(test, "after.txt", after);
    let mut all = vec![before.as_str(), after.as_str()];
    all.extend(args);
    diff_json(&all, 0)
}

fn assert_p(actual: &Value, expected: f64, what: &str) {
    let actual = number(actual);
    assert!(
        (actual - expected).abs() <= 1e-9,
        "{what}: p = {actual}, the enumeration says {expected}"
    );
}

#[test]
fn falls_with_ties_get_the_p_of_both_tails_whichever_file_comes_first() {
    // The cases, values in ns, 0 where the lock is absent.
    let cases: [(&[u64], &[u64], f64); 2] = [
        // contend said p = 0; the enumeration 2/210.
        (&[60, 60, 40, 50, 50, 50], &[30, 20, 30, 10], 2.0 / 210.0),
        // A lock in 1 of 9 samples before, in none of 10 after: p = 0, q =
        // 0 and starred before; 18/19 by the enumeration.
        (&[5, 0, 0, 0, 0, 0, 0, 0, 0], &[0; 10], 18.0 / 19.0),
    ];
    for (before, after, expected) in cases {
        assert_p(
            &Value::from(enumerated_p(before, after)),
            expected,
            "the reference",
        );
        let forward = diff_of(
            "verdict_falls",
            &mutex_waits(before),
            &mutex_waits(after),
            &[],
        );
        let backward = diff_of(
            "verdict_falls",
            &mutex_waits(after),
            &mutex_waits(before),
            &[],
        );
        for diff in [&forward, &backward] {
            let group = mutex_group(diff);
            assert_p(
                &group["p_value"],
                expected,
                &format!("{before:?} {after:?}"),
            );
        }
        let significant = expected < 0.05;
        assert_eq!(mutex_group(&forward)["significant"], significant);
        assert_eq!(
            mutex_group(&forward)["verdict"],
            if significant {
                "improved"
            } else {
                "inconclusive"
            }
        );
    }
    // Every sample 9 µs of kernel_lock before (2 samples), 7 µs after (3):
    // p = 0.2 for the group and every metric made of it, not "p<0.001".
    let before = kernel_lock_waits(&[9000, 9000]);
    let after = kernel_lock_waits(&[7000, 7000, 7000]);
    let diff = diff_of("verdict_constant", &before, &after, &[]);
    for name in ["kernel_lock_ns", "spin_ns", "spin_share"] {
        assert_p(&metric(&diff, name)["p_value"], 0.2, name);
        assert_eq!(metric(&diff, name)["significant"], false, "{name}");
    }
    assert_p(&diff["groups"][0]["p_value"], 0.2, "kernel_lock");
    let table = run(&[
        "diff",
        &scratch_file("verdict_constant", "before.txt", &before),
        &scratch_file("verdict_constant", "after.txt", &after),
    ]);
    assert!(!table.stdout.contains("p<0.001"), "{}", table.stdout);
    assert!(
        table.stdout.contains("~ (p=0.200, n=2+3)"),
        "{}",
        table.stdout
    );
}

#[test]
fn random_small_tied_cases_match_the_enumeration_in_both_orders() {
    // 2 to 6 samples a side, waits from 0..60 in steps of 10: ties at
    // both ends, sides of different sizes.
    let mut draws = Draws(0x243f_6a88_85a3_08d3);
    let mut below = |bound: u64| draws.below(bound);
    let mut checked = 0;
    while checked < 24 {
        let (n1, n2) = (2 + below(5) as usize, 2 + below(5) as usize);
        let mut side = |n: usize| -> Vec<u64> { (0..n).map(|_| below(7) * 10).collect() };
        let (before, after) = (side(n1), side(n2));
        if before.iter().chain(&after).all(|&ns| ns == 0) {
            continue; // no comparison: the group is left out
        }
        let expected = enumerated_p(&before, &after);
        let forward = diff_of(
            "verdict_random",
            &mutex_waits(&before),
            &mutex_waits(&after),
            &[],
        );
        let backward = diff_of(
            "verdict_random",
            &mutex_waits(&after),
            &mutex_waits(&before),
            &[],
        );
        for diff in [&forward, &backward] {
            assert_p(
                &mutex_group(diff)["p_value"],
                expected,
                &format!("{before:?} {after:?}"),
            );
        }
        assert!(expected > 0.0);
        checked += 1;
    }
}

#[test]
fn median_intervals_stay_ordered_past_1075_samples() {
    // Running 1, 2, ..., 1 075 µs: the 95 % interval of the median is
    // x(505) .. x(571) (the first k with pbinom(k, 1075, 0.5) > 0.025 is
    // 505, R 4.2.2). 0.5^1075 underflows to 0: the interval came out
    // [largest, smallest].
    let running: Vec<u64> = (1..=1075).map(|us| us * 1000).collect();
    let waits = vec![100; running.len()];
    let table = samples_table(&running, &[("kernel", "kernel_lock", "reaper", &waits)]);
    let diff = diff_of("verdict_1075", &table, &table, &[]);
    let running = metric(&diff, "running_ns");
    assert_eq!(
        running["before_median_ci"],
        serde_json::json!([505_000.0, 571_000.0])
    );
    assert_eq!(running["n_before"], 1075);
}

#[test]
fn summary_metrics_past_two_to_the_53_rank_as_integers() {
    // Running 2^60 + 1 .. + 5 ns before, 2^60 + 6 .. + 10 after: as
    // floats all ten are one value (p = 1, no direction); as integers the
    // after side ranks above in every pair, p = 2 / C(10, 5).
    let base = 1u64 << 60;
    let before: Vec<u64> = (1..=5).map(|i| base + i).collect();
    let after: Vec<u64> = (6..=10).map(|i| base + i).collect();
    let waits = [100u64; 5];
    let lock = [("mutex", "sched_lock", "sleep_setup", &waits[..])];
    let diff = diff_of(
        "verdict_2_60",
        &samples_table(&before, &lock),
        &samples_table(&after, &lock),
        &[],
    );
    let running = metric(&diff, "running_ns");
    assert_p(&running["p_value"], 2.0 / 252.0, "running_ns");
    assert_eq!(running["direction"], "up");
    assert_eq!(running["test"], "exact");
    // A shift of a few ns on 2^60 is no change of 10 %: the same.
    assert_eq!(running["verdict"], "same");
}

#[test]
fn a_sample_without_a_running_line_is_left_out_of_running_figures() {
    // Six ordinary samples a side; the after file also has a sample that
    // lists Stopped and a lock but no Running line. Read as Running = 0,
    // its work was -1.5 ms and work_ns "rose" past any limit.
    let running = [
        3_000_000, 3_100_000, 3_200_000, 3_300_000, 3_400_000, 3_500_000,
    ];
    let waits = [
        1_000_000, 1_100_000, 1_000_000, 1_200_000, 1_100_000, 1_000_000,
    ];
    let lock = [("kernel", "kernel_lock", "reaper", &waits[..])];
    let before = samples_table(&running, &lock);
    let after = format!(
        "{}Stopped\t400ms\ndur\tcategory\tsymbol\tcaller\n1500000\tkernel\tkernel_lock\treaper\n",
        samples_table(&running, &lock)
    );
    let before_path = scratch_file("verdict_no_running", "before.txt", &before);
    let after_path = scratch_file("verdict_no_running", "after.txt", &after);
    let args = [
        "diff",
        "--format",
        "json",
        "--fail-above",
        "10",
        "--metric",
        "work_ns",
        &before_path,
        &after_path,
    ];
    let gate = run(&args);
    assert_eq!(gate.code, 0, "{}", gate.stderr);
    let diff: Value = serde_json::from_str(&gate.stdout).unwrap();
    for name in ["running_ns", "work_ns", "spin_share"] {
        let m = metric(&diff, name);
        assert_eq!(m["n_after"], 6, "{name}");
        // The same six samples a side: no shift, p = 1.
        assert_eq!(number(&m["shift"]), 0.0, "{name}");
        assert_p(&m["p_value"], 1.0, name);
        assert_ne!(m["verdict"], "regressed", "{name}");
    }
    assert_eq!(diff["regressions"], serde_json::json!([]));
    // spin_ns does not need Running: all seven samples.
    assert_eq!(metric(&diff, "spin_ns")["n_after"], 7);
    // The same warning as `report` gives, on stderr.
    let warning = "warning: after: 1 of 7 samples have no Running total (sample 7)";
    assert!(gate.stderr.contains(warning), "{}", gate.stderr);
    let report = run(&["report", &after_path]);
    assert!(report.stderr.contains(warning), "{}", report.stderr);
}

#[test]
fn a_p_just_below_alpha_is_printed_below_it() {
    // 8 + 8 untied, U = 13: p = 0.049883 (the published critical value of
    // U at 0.05 for 8 and 8 is 13). Printed with three decimals it read
    // 0.050 on a starred row.
    let before: Vec<u64> = [1, 2, 3, 4, 6, 8, 12, 13].iter().map(|r| r * 50).collect();
    let after: Vec<u64> = [5, 7, 9, 10, 11, 14, 15, 16]
        .iter()
        .map(|r| r * 50)
        .collect();
    assert_eq!(u_doubled(&before, &after), 26);
    let shares = |per_mille: &[u64]| -> String {
        let waits: Vec<u64> = per_mille.iter().map(|share| share * 10_000).collect();
        kernel_lock_waits(&waits)
    };
    let before_path = scratch_file("verdict_p_text", "before.txt", &shares(&before));
    let after_path = scratch_file("verdict_p_text", "after.txt", &shares(&after));
    let table = run(&["diff", "--width", "200", &before_path, &after_path]);
    let expected = enumerated_p(&before, &after);
    assert!((expected - 0.049_883).abs() < 1e-6, "{expected}");
    assert!(
        table.stdout.contains("(p=0.0499, n=8+8)"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains("0.050"), "{}", table.stdout);
    // The group's p and q (one comparison) alike.
    assert!(
        table.stdout.contains("┆ 0.0499 ┆ 0.0499 ┆"),
        "{}",
        table.stdout
    );
}

#[test]
fn a_gate_that_cannot_test_never_says_ok() {
    // One perf-lock-style run a side: spin_ns rises fourfold.
    let before = kernel_lock_waits(&[126_418_000]);
    let after = kernel_lock_waits(&[526_418_000]);
    let before = scratch_file("verdict_one_run", "before.txt", &before);
    let after = scratch_file("verdict_one_run", "after.txt", &after);
    let gate = ["diff", "--fail-above", "10", "--metric", "spin_ns"];
    let mut args = gate.to_vec();
    args.extend(["--format", "summary", &before, &after]);
    let summary = run(&args);
    assert_eq!(summary.code, 0, "{}", summary.stderr);
    assert!(
        summary.stdout.ends_with("; INCONCLUSIVE spin_ns\n"),
        "{}",
        summary.stdout
    );
    assert!(
        summary.stderr.contains(
            "contend: INCONCLUSIVE spin_ns: --fail-above 10 % cannot tell: too few \
             samples for a test (n=1+1); more samples a side would \
             (--fail-inconclusive makes this exit 1)"
        ),
        "{}",
        summary.stderr
    );
    args.push("--fail-inconclusive");
    let failing = run(&args);
    assert_eq!(failing.code, 1);
    assert!(
        failing.stderr.contains("(exit 1: --fail-inconclusive)"),
        "{}",
        failing.stderr
    );

    // The default metric, spin_share, on inputs without Running time.
    let perf = "fixtures/real/perf-lock-contention-lkml-traceiter-before-after.txt";
    let diff = diff_json(&[perf, perf, "--fail-above", "10"], 0);
    assert_eq!(diff["inconclusive"], serde_json::json!(["spin_share"]));
    let share = metric(&diff, "spin_share");
    assert_eq!(share["verdict"], "inconclusive");
    assert_eq!(
        share["verdict_reason"],
        "no sample with a Running total before"
    );
    diff_json(
        &[perf, perf, "--fail-above", "10", "--fail-inconclusive"],
        1,
    );

    // 3 + 3 samples: no change can be significant, and the summary says
    // so where it said ok.
    let three = |share: u64| kernel_lock_waits(&[share * 10_000; 3]);
    let before = scratch_file("verdict_three", "before.txt", &three(100));
    let after = scratch_file("verdict_three", "after.txt", &three(300));
    let summary = run(&[
        "diff",
        "--format",
        "summary",
        "--fail-above",
        "10",
        &before,
        &after,
    ]);
    assert!(
        summary.stdout.ends_with("; INCONCLUSIVE spin_share\n"),
        "{}",
        summary.stdout
    );
}

#[test]
fn the_shift_and_its_interval_are_those_of_every_difference_listed() {
    // 12 + 12 samples of kernel_lock waits drawn at random, the after side
    // shifted up: spin_ns and kernel_lock_ns are these waits.
    let mut draws = Draws(0x1319_8a2e_0370_7344);
    let mut draw = |count: usize, add: u64| -> Vec<u64> {
        (0..count)
            .map(|_| 1_000_000 + draws.below(1_000_000) + add)
            .collect()
    };
    let (before, after) = (draw(12, 0), draw(12, 400_000));
    let diff = diff_of(
        "verdict_shift",
        &kernel_lock_waits(&before),
        &kernel_lock_waits(&after),
        &[],
    );
    let as_f64 = |values: &[u64]| -> Vec<f64> { values.iter().map(|&v| v as f64).collect() };
    let (estimate, interval) = shift_by_listing(&as_f64(&before), &as_f64(&after));
    let [low, high] = interval.expect("12 + 12 have a 95 % interval");
    for name in ["kernel_lock_ns", "spin_ns"] {
        let m = metric(&diff, name);
        assert_eq!(number(&m["shift"]), estimate, "{name}");
        assert_eq!(m["shift_ci"], serde_json::json!([low, high]), "{name}");
        let median = number(&m["before_median"]);
        let pct = number(&m["shift_pct"]);
        assert!((pct - estimate / median * 100.0).abs() < 1e-9, "{name}");
    }
    // The interval is in the table, in percent of the before median.
    let m = metric(&diff, "kernel_lock_ns");
    let median = number(&m["before_median"]);
    let cell = format!(
        "{:+.1} % [{:+.1}, {:+.1}]",
        estimate / median * 100.0,
        low / median * 100.0,
        high / median * 100.0
    );
    let table = run(&[
        "diff",
        "--width",
        "250",
        &scratch_file("verdict_shift", "before.txt", &kernel_lock_waits(&before)),
        &scratch_file("verdict_shift", "after.txt", &kernel_lock_waits(&after)),
    ]);
    assert!(table.stdout.contains(&cell), "{cell}\n{}", table.stdout);
}

#[test]
fn same_when_the_interval_lies_within_the_limit_else_inconclusive() {
    // 30 samples a side, 1.000 .. 1.029 ms, the after side 1 µs later: a
    // shift of about 0.1 %, its interval a few percent wide: the same.
    let before: Vec<u64> = (0..30).map(|i| 1_000_000 + i * 1_000).collect();
    let after: Vec<u64> = before.iter().map(|ns| ns + 1_000).collect();
    let diff = diff_of(
        "verdict_same",
        &kernel_lock_waits(&before),
        &kernel_lock_waits(&after),
        &["--fail-above", "5", "--metric", "kernel_lock_ns"],
    );
    let m = metric(&diff, "kernel_lock_ns");
    assert_eq!(m["verdict"], "same", "{m}");
    let [low, high] = [number(&m["shift_ci_pct"][0]), number(&m["shift_ci_pct"][1])];
    assert!(low >= -5.0 && high <= 5.0, "{m}");
    assert_eq!(diff["inconclusive"], serde_json::json!([]));
    // Against a limit of 0.5 % the same interval reaches past it.
    let diff = diff_of(
        "verdict_same",
        &kernel_lock_waits(&before),
        &kernel_lock_waits(&after),
        &["--fail-above", "0.5", "--metric", "kernel_lock_ns"],
    );
    let m = metric(&diff, "kernel_lock_ns");
    assert_eq!(m["verdict"], "inconclusive", "{m}");
    assert_eq!(
        m["verdict_reason"],
        "the 95 % interval of the change reaches past the limit"
    );
    assert!(m["samples_needed"].as_u64().unwrap() > 30, "{m}");
}

#[test]
fn the_sample_size_estimate_detects_the_limit_four_times_in_five() {
    // Noisy samples, no change: spin_ns cannot be told within 10 %.
    let mut draws = Draws(0xa409_3822_299f_31d0);
    let mut next = move || draws.bits();
    let mut noisy =
        |count: usize| -> Vec<u64> { (0..count).map(|_| 1_000_000 + next() % 1_000_000).collect() };
    let (before, after) = (noisy(10), noisy(10));
    let diff = diff_of(
        "verdict_power",
        &kernel_lock_waits(&before),
        &kernel_lock_waits(&after),
        &[],
    );
    let m = metric(&diff, "spin_ns").clone();
    assert_eq!(m["verdict"], "inconclusive", "{m}");
    let n = m["samples_needed"].as_u64().expect("an estimate") as usize;
    assert!((10..=400).contains(&n), "{n}");
    // The check: 400 simulated pairs of builds, n samples a side drawn from
    // the observed samples (the after side moved back by the observed
    // shift), the after side raised by the limit, 10 % of the before
    // median. Each pair is one group of a single diff; the diff's own test
    // must find at least 3 in 4 of them.
    let shift = number(&m["shift"]);
    let delta = 0.1 * number(&m["before_median"]);
    let pool: Vec<f64> = before
        .iter()
        .map(|&v| v as f64)
        .chain(after.iter().map(|&v| v as f64 - shift))
        .collect();
    let trials = 400;
    let symbols: Vec<String> = (0..trials).map(|t| format!("lock{t}")).collect();
    let mut draw_side = |raise: f64| -> Vec<Vec<u64>> {
        (0..trials)
            .map(|_| {
                (0..n)
                    .map(|_| (pool[(next() % pool.len() as u64) as usize] + raise).round() as u64)
                    .collect()
            })
            .collect()
    };
    let (before_waits, after_waits) = (draw_side(0.0), draw_side(delta));
    let table = |waits: &[Vec<u64>]| -> String {
        let locks: Vec<(&str, &str, &str, &[u64])> = symbols
            .iter()
            .zip(waits)
            .map(|(symbol, waits)| ("mutex", symbol.as_str(), "caller", &waits[..]))
            .collect();
        samples_table(&vec![1_000_000_000; n], &locks)
    };
    let simulated = diff_of(
        "verdict_power_check",
        &table(&before_waits),
        &table(&after_waits),
        &[],
    );
    let detected = simulated["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| number(&g["p_value"]) < 0.05 && g["direction"] == "up")
        .count();
    assert!(
        detected * 4 >= trials * 3,
        "{detected} of {trials} detected with {n} samples a side"
    );
}

#[test]
fn review_cases_tests_off_rises_from_nothing_and_the_alpha_boundary() {
    // --alpha 1: the shift alone decides, even where the ranks show no
    // direction (10, 20 against 5, 1000: U = 2 = mn/2). The differences
    // are -5, -15, 990 and 980: the shift is 487.5 ns, 3 250 % of 15.
    let before = scratch_file(
        "verdict_alpha_one",
        "before.txt",
        &kernel_lock_waits(&[10, 20]),
    );
    let after = scratch_file(
        "verdict_alpha_one",
        "after.txt",
        &kernel_lock_waits(&[5, 1000]),
    );
    let gate = [
        "--alpha",
        "1",
        "--fail-above",
        "10",
        "--metric",
        "kernel_lock_ns",
    ];
    let mut args = vec![before.as_str(), after.as_str()];
    args.extend(gate);
    let diff = diff_json(&args, 1);
    let m = metric(&diff, "kernel_lock_ns");
    assert_eq!(m["direction"], "none");
    assert_eq!(number(&m["shift"]), 487.5);
    assert_eq!(m["verdict"], "regressed");

    // No kernel_lock in 30 samples before, 1 ms of it in 13 of 30 after:
    // the shift (a median of differences) stays 0, but a significant rise
    // from a before median of 0 regresses.
    let after: Vec<u64> = (0..30)
        .map(|i| if i % 2 == 0 && i < 26 { 1_000_000 } else { 0 })
        .collect();
    assert_eq!(after.iter().filter(|&&ns| ns > 0).count(), 13);
    let before_path = scratch_file(
        "verdict_from_nothing",
        "before.txt",
        &kernel_lock_waits(&[0; 30]),
    );
    let after_path = scratch_file(
        "verdict_from_nothing",
        "after.txt",
        &kernel_lock_waits(&after),
    );
    let gate = crate::util::run(&[
        "diff",
        "--format",
        "json",
        "--fail-above",
        "10",
        "--metric",
        "kernel_lock_ns",
        &before_path,
        &after_path,
    ]);
    assert_eq!(gate.code, 1, "{}", gate.stderr);
    let diff: Value = serde_json::from_str(&gate.stdout).unwrap();
    let m = metric(&diff, "kernel_lock_ns");
    assert_eq!(number(&m["shift"]), 0.0);
    assert!(number(&m["p_value"]) < 0.001);
    assert_eq!(m["verdict"], "regressed");

    // 3 + 3 fully apart at --alpha 0.1: p = 0.1 is not below it, and no
    // 90 % interval is claimed either.
    let diff = diff_of(
        "verdict_boundary",
        &kernel_lock_waits(&[1000, 1010, 1020]),
        &kernel_lock_waits(&[2000, 2010, 2020]),
        &["--alpha", "0.1"],
    );
    let m = metric(&diff, "kernel_lock_ns");
    assert_p(&m["p_value"], 0.1, "kernel_lock_ns");
    assert_eq!(m["shift_ci"], Value::Null);
    assert_eq!(
        m["verdict_reason"],
        "too few samples for a 90 % interval of the change (n=3+3)"
    );
}

#[test]
fn samples_that_all_lack_a_running_line_are_warned_of() {
    // Every sample lists Stopped and a lock, none Running.
    let table =
        "Stopped\t400ms\ndur\tcategory\tsymbol\tcaller\n1500\tkernel\tkernel_lock\treaper\n\n"
            .repeat(3);
    let path = scratch_file("verdict_no_running_at_all", "nostate.txt", &table);
    let warning = "warning: nostate: 3 of 3 samples have no Running total (samples 1, 2, 3)";
    let report = crate::util::run(&["report", &path]);
    assert!(report.stderr.contains(warning), "{}", report.stderr);
    let diff = crate::util::run(&["diff", &path, &path]);
    assert!(diff.stderr.contains(warning), "{}", diff.stderr);
}
