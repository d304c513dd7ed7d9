//! lltrace captures (FXT): the seed as a capture, and generated captures
//! whose per-window figures the tests compute on their own.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::fxt_encode::{
    CaptureBuilder, Encoder, IDLE, Layout, Lock, LockEncoding, MAKE, MAKE_THREAD, REAPER,
    REAPER_THREAD, STATE_BLOCKED, STATE_RUNNING, STATE_SUSPENDED, Thread, seed_builder,
    seed_capture, seed_samples,
};
use crate::util::{
    SEED, json_report, read, repo_path, run, run_with_stdin, scratch_dir, spin_shares,
};

/// The seed's five samplings as an lltrace capture (tests/fxt_encode.rs).
const CAPTURE: &str = "fixtures/fxt/reaper-make-j32.fxt";

fn seed_capture_bytes() -> Vec<u8> {
    seed_capture(&seed_samples(&read(SEED)))
}

#[test]
fn the_shipped_capture_is_the_encoders_seed() {
    let bytes = seed_capture_bytes();
    if std::env::var_os("CONTEND_WRITE_FIXTURES").is_some() {
        std::fs::write(repo_path(CAPTURE), &bytes).expect("fixture written");
    }
    let shipped = std::fs::read(repo_path(CAPTURE)).expect("capture fixture");
    assert!(
        shipped == bytes,
        "{CAPTURE} is stale: CONTEND_WRITE_FIXTURES=1 cargo test shipped_capture"
    );
}

#[test]
fn the_seed_capture_gives_the_seeds_figures() {
    let capture = json_report(&["--thread", "reaper", "--window", "700ms", CAPTURE], b"");
    let table = json_report(&[SEED], b"");
    let input = &capture["inputs"][0];
    assert_eq!(capture["inputs"].as_array().unwrap().len(), 1);
    assert_eq!(input["label"], "reaper-make-j32:reaper");
    assert_eq!(input["format"], "fxt");
    assert_eq!(input["samples"], 5);
    for field in [
        "running_ns",
        "spin_ns",
        "kernel_lock_ns",
        "sleep_wait_ns",
        "work_ns",
    ] {
        assert_eq!(
            input["total"][field], table["inputs"][0]["total"][field],
            "{field}"
        );
    }
    assert_eq!(input["total"]["running_ns"], 21_776_000);
    assert_eq!(input["total"]["spin_ns"], 14_175_161);
    assert_eq!(input["total"]["kernel_lock_ns"], 13_260_228);
    assert_eq!(
        spin_shares(&capture),
        ["49.9", "17.6", "75.8", "87.6", "68.7"]
    );
    let stopped = |report: &Value| -> Vec<Value> {
        let samples = report["samples"].as_array().unwrap();
        samples
            .iter()
            .map(|s| s["states_ns"]["Stopped"].clone())
            .collect()
    };
    assert_eq!(stopped(&capture), stopped(&table));
    // The capture has what the copied tables leave out: the time waiting
    // for the CPU, which fills each 700 ms window.
    let sample = &capture["samples"][0];
    assert_eq!(
        sample["states_ns"]["Runnable"],
        700_000_000 - 4_384_000 - 496_600_000
    );
    // Off-CPU time differs (the capture knows Runnable), so the sleeping
    // lock's share of it does: 25.392 ms of 2.316 s Stopped in the
    // tables, of 3.478 s Stopped and Runnable in the capture.
    assert_eq!(
        shared_figures(&capture["groups"]),
        shared_figures(&table["groups"])
    );
    // The capture has each wait; the tables only their sums per sample.
    let reaper = &capture["groups"][1];
    assert_eq!(reaper["caller"], "reaper");
    assert_eq!(reaper["events"], 5);
    assert_eq!(reaper["mean_per_event_ns"], 2_619_181);
    // The median of 155 688, 1 725 415, 1 751 151, 2 911 007 and 6 552 644
    // ns, each alone in its bucket, so exact.
    assert_eq!(reaper["p50_ns"], 1_751_151);
    assert_eq!(reaper["p90_ns"], 6_552_644);
    assert_eq!(reaper["p99_ns"], 6_552_644);
    for field in ["events", "mean_per_event_ns", "p50_ns", "p99_ns"] {
        assert_eq!(table["groups"][1][field], Value::Null, "{field}");
    }
    let sleeping = |report: &Value| report["groups"][0]["share_of_off_cpu"].as_f64().unwrap();
    assert!((sleeping(&table) - 25_392_111.0 / 2_315_700_000.0).abs() < 1e-9);
    assert!((sleeping(&capture) - 25_392_111.0 / (3_500_000_000.0 - 21_776_000.0)).abs() < 1e-9);

    let text = run(&["report", "--thread", "reaper", "--window", "700ms", CAPTURE]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains(
            "reaper-make-j32:reaper (fxt): running 21.776 ms in 5 samples: 65.1 % spinning on \
             locks (kernel_lock 60.9 %)"
        ),
        "{}",
        text.stdout
    );
}

#[test]
fn without_a_thread_every_thread_that_waited_is_an_input() {
    let report = json_report(&["--window", "700ms", CAPTURE], b"");
    let labels: Vec<&str> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|input| input["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["reaper-make-j32:reaper", "reaper-make-j32:make"]);
    // make waits 2 µs on uvm once per window.
    assert_eq!(report["inputs"][1]["total"]["spin_ns"], 5 * 2000);
    // Without --window the whole capture is one sample per thread.
    let whole = json_report(&["--tid", &REAPER.to_string(), CAPTURE], b"");
    assert_eq!(whole["inputs"][0]["samples"], 1);
    assert_eq!(whole["inputs"][0]["total"]["running_ns"], 21_776_000);
    assert_eq!(whole["inputs"][0]["total"]["spin_ns"], 14_175_161);
    let by_tid = json_report(&["--tid", &MAKE.to_string(), CAPTURE], b"");
    assert_eq!(by_tid["inputs"][0]["label"], "reaper-make-j32:make");
}

#[test]
fn export_and_diff_read_captures() {
    let dir = scratch_dir("capture_export");
    let csv = dir.join("rows.csv");
    let export = run(&[
        "export",
        "--thread",
        "reaper",
        "--window",
        "700ms",
        "-o",
        csv.to_str().unwrap(),
        CAPTURE,
    ]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("input,sample,category,symbol,caller,dur_ns,events")
    );
    assert_eq!(
        lines.next(),
        Some("reaper-make-j32:reaper,1,rwlock,kernel_map_store,vm_map_lock_ln,12417639,1")
    );
    let total: u64 = text
        .lines()
        .skip(1)
        .map(|line| line.rsplit(',').nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 39_567_272);

    let diff = run(&[
        "diff", "--thread", "reaper", "--window", "700ms", "--format", "json", CAPTURE, SEED,
    ]);
    assert_eq!(diff.code, 0, "{}", diff.stderr);
    let diff: Value = serde_json::from_str(&diff.stdout).unwrap();
    let spin = diff["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "spin_share")
        .expect("spin_share metric");
    assert_eq!(spin["delta_pct"], 0.0, "{spin}");
    assert_eq!(spin["before_mean"], spin["after_mean"]);

    let both_threads = run(&["diff", "--window", "700ms", CAPTURE, SEED]);
    assert_eq!(both_threads.code, 2);
    assert_eq!(
        both_threads.stderr,
        "contend: a capture gives one input per thread (reaper-make-j32:reaper, \
         reaper-make-j32:make, openbsd-reaper-make-j32); diff compares one with one: pick \
         the thread with --thread or --tid\n"
    );
}

/// A small deterministic generator (xorshift), so the captures vary but
/// the tests repeat.
struct Random(u64);

impl Random {
    /// The FXT state a thread leaves in, and Perfetto's name for it.
    fn switch_state(&mut self) -> (u8, &'static str) {
        match self.below(3) {
            0 => (STATE_RUNNING, "Runnable"),
            1 => (STATE_SUSPENDED, "Stopped"),
            _ => (STATE_BLOCKED, "Sleeping"),
        }
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

const CATEGORIES: [&str; 3] = ["kernel", "mutex", "rwlock"];
const SYMBOLS: [&str; 3] = ["kernel_lock", "sched_lock", "vmmaplk"];
const CALLERS: [&str; 4] = ["reaper", "softclock", "uvm_fault", "sys_open"];

/// Per (thread, window): state totals and (key -> wait sum).
type Expected = BTreeMap<(u64, u64), (BTreeMap<&'static str, u64>, BTreeMap<String, u64>)>;

/// What each window of each thread must show, from the intervals a test
/// encoded: (thread, from, to, state) and waits (thread, start, ns, key);
/// `windows` is (origin, length, count).
fn expected_windows(
    threads: &[u64],
    windows: (u64, u64, u64),
    intervals: &[(u64, u64, u64, &'static str)],
    waits: &[(u64, u64, u64, String)],
) -> Expected {
    let (origin, length, count) = windows;
    let mut expected = Expected::new();
    for &thread in threads {
        for w in 0..count {
            let w_start = origin + w * length;
            let w_end = w_start + length;
            let entry = expected.entry((thread, w)).or_default();
            entry.0.insert("Running", 0);
            for &(t, from, to, state) in intervals {
                let overlap = to.min(w_end).saturating_sub(from.max(w_start));
                if t == thread && overlap > 0 {
                    *entry.0.entry(state).or_default() += overlap;
                }
            }
            for (t, start, ns, key) in waits {
                if *t == thread && (w_start..w_end).contains(start) {
                    *entry.1.entry(key.clone()).or_default() += ns;
                }
            }
        }
    }
    expected
}

/// A one-CPU capture: threads 10 (`softnet`) and 100020 (`cc`) and an
/// idle thread take turns; the two wait on locks while they run. Returns
/// the capture and what each window of each thread must show, computed
/// from the intervals (not by the reader's algorithm).
fn generated_capture(seed: u64, window: u64, ticks_per_second: u64) -> (Vec<u8>, Expected) {
    const THREADS: [u64; 3] = [10, 100_020, 1];
    let mut random = Random(seed);
    let mut fxt = Encoder::new(ticks_per_second);
    fxt.inline_strings = seed % 2 == 0;
    fxt.thread_name(10, 0, "softnet");
    fxt.thread_name(100_020, 20, "cc");
    fxt.thread_name(1, 0, "idle0");
    let tick =
        |ns: u64| -> u64 { (u128::from(ns) * u128::from(ticks_per_second) / 1_000_000_000) as u64 };
    let mut intervals: Vec<(u64, u64, u64, &'static str)> = Vec::new(); // thread, from, to, state
    let mut since: BTreeMap<u64, (u64, &'static str)> = BTreeMap::new();
    let mut waits: Vec<(u64, u64, u64, String)> = Vec::new(); // thread, start, ns, key
    let mut now = 0u64;
    let mut running = 1u64;
    for _ in 0..200 {
        let next = THREADS[random.below(3) as usize];
        if next == running {
            continue;
        }
        let (state, name) = random.switch_state();
        // Switch times are whole nanoseconds at the capture's tick rate.
        let switch_ticks = tick(now);
        let at = switch_ticks * 1_000_000_000 / ticks_per_second;
        if random.below(2) == 0 {
            fxt.switch(switch_ticks, 0, state, running, next);
        } else {
            let process = |koid: u64| koid.saturating_sub(100_000);
            fxt.legacy_switch(
                switch_ticks,
                state,
                (process(running), running),
                (process(next), next),
            );
        }
        for (thread, new_state) in [(running, name), (next, "Running")] {
            if let Some((from, old)) = since.insert(thread, (at, new_state)) {
                intervals.push((thread, from, at, old));
            }
        }
        let run_for = 1_000_000 + random.below(30_000_000);
        if next != 1 {
            let mut at_wait = now + random.below(500_000);
            while at_wait + 200_000 < now + run_for && random.below(4) != 0 {
                let ns = 1 + random.below((now + run_for - at_wait).min(3_000_000));
                let key = [
                    CATEGORIES[random.below(3) as usize],
                    SYMBOLS[random.below(3) as usize],
                    CALLERS[random.below(4) as usize],
                ];
                let (start_ticks, end_ticks) = (tick(at_wait), tick(at_wait + ns));
                let process = next.saturating_sub(100_000);
                let thread = (process, next);
                if random.below(3) == 0 {
                    let args = [("symbol", key[1]), ("caller", key[2])];
                    fxt.event(
                        4,
                        start_ticks,
                        thread,
                        key[0],
                        "acquire-start",
                        &args,
                        &[end_ticks],
                    );
                } else {
                    fxt.lock_wait(start_ticks, end_ticks, thread, key[0], key[1], key[2]);
                }
                let start = start_ticks * 1_000_000_000 / ticks_per_second;
                let end = end_ticks * 1_000_000_000 / ticks_per_second;
                waits.push((next, start, end - start, key.join("|")));
                at_wait += ns + random.below(1_000_000);
            }
        }
        running = next;
        now += run_for;
    }
    let end_ticks = tick(now);
    let end = end_ticks * 1_000_000_000 / ticks_per_second;
    fxt.event(0, end_ticks, (0, 1), "sched", "tick", &[], &[]);
    for (thread, (from, state)) in since {
        intervals.push((thread, from, end, state));
    }
    let windows = end / window + 1;
    let expected = expected_windows(&[10, 100_020], (0, window, windows), &intervals, &waits);
    (fxt.bytes, expected)
}

/// What contend reports per (thread, window): states from the JSON report,
/// waits from the rows export.
fn measured(capture: &[u8], window: &str) -> Expected {
    let report = json_report(
        &["--window", window, "--thread", "softnet", "--thread", "cc"],
        capture,
    );
    let tid_of = |label: &str| {
        if label == "stdin:softnet" {
            10
        } else {
            100_020
        }
    };
    let mut measured = Expected::new();
    for sample in report["samples"].as_array().unwrap() {
        let thread = tid_of(sample["input"].as_str().unwrap());
        let window = sample["sample"].as_u64().unwrap() - 1;
        let entry = measured.entry((thread, window)).or_default();
        for (state, ns) in sample["states_ns"].as_object().unwrap() {
            let state = ["Running", "Runnable", "Stopped", "Sleeping"]
                .into_iter()
                .find(|s| s == state)
                .unwrap_or_else(|| panic!("unexpected state {state}"));
            entry.0.insert(state, ns.as_u64().unwrap());
        }
    }
    let rows = run_with_stdin(
        &[
            "export", "--window", window, "--thread", "softnet", "--thread", "cc",
        ],
        capture,
    );
    assert_eq!(rows.code, 0, "{}", rows.stderr);
    for line in rows.stdout.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let thread = tid_of(fields[0]);
        let window = fields[1].parse::<u64>().unwrap() - 1;
        let key = fields[2..5].join("|");
        let entry = measured.entry((thread, window)).or_default();
        *entry.1.entry(key).or_default() += fields[5].parse::<u64>().unwrap();
    }
    measured
}

#[test]
fn per_window_figures_match_the_encoded_events() {
    for (seed, window_ms, ticks_per_second) in [
        (0x9e37_79b9_7f4a_7c15u64, 100, 1_000_000_000),
        (0x1234_5678_9abc_def1, 250, 1_000_000_000),
        (0xdead_beef_cafe_f00d, 50, 24_000_000),
    ] {
        let (capture, expected) = generated_capture(seed, window_ms * 1_000_000, ticks_per_second);
        let measured = measured(&capture, &format!("{window_ms}ms"));
        assert!(
            expected.len() > 10,
            "several windows per thread: {}",
            expected.len()
        );
        assert_eq!(measured, expected, "seed {seed:x}, window {window_ms} ms");
    }
}

#[test]
fn windows_without_activity_can_be_left_out() {
    let (capture, expected) = generated_capture(7, 10_000_000, 1_000_000_000);
    let active = expected
        .iter()
        .filter(|((thread, _), (states, _))| *thread == 10 && states["Running"] > 0)
        .count();
    let all = expected.keys().filter(|(thread, _)| *thread == 10).count();
    assert!(active < all, "some windows without softnet running");
    let report = json_report(
        &[
            "--window",
            "10ms",
            "--thread",
            "softnet",
            "--windows-with-activity",
        ],
        &capture,
    );
    assert_eq!(report["inputs"][0]["samples"], active as u64);
}

#[test]
fn a_truncated_capture_names_the_offset_or_is_read_leniently() {
    let whole = seed_capture_bytes();
    let cut = &whole[..whole.len() - 12];
    let strict = run_with_stdin(&["report", "--thread", "reaper"], cut);
    assert_eq!(strict.code, 2);
    let last_record = whole.len() - 48; // the closing context switch: 6 words
    assert_eq!(
        strict.stderr,
        format!(
            "contend: <stdin>: byte offset {last_record}: the input ends inside a record: 48 \
             bytes needed, 36 left; the capture is cut short (--lenient reads up to the last \
             whole record)\n"
        )
    );
    let lenient = run_with_stdin(&["report", "--thread", "reaper", "--lenient"], cut);
    assert_eq!(lenient.code, 0, "{}", lenient.stderr);
    assert!(
        lenient.stderr.contains(&format!(
            "the capture is cut short; read up to byte offset {last_record}"
        )),
        "{}",
        lenient.stderr
    );
    assert!(lenient.stdout.contains("65.1 %"), "{}", lenient.stdout);
}

#[test]
fn a_corrupt_capture_is_refused_with_its_offset() {
    let mut bytes = seed_capture_bytes();
    // The header of the record after the magic and initialization ones
    // claims a size of 0 words.
    bytes[24..32].copy_from_slice(&2u64.to_le_bytes());
    let run = run_with_stdin(&["report"], &bytes);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "contend: <stdin>: byte offset 24: a record of size 0 (not a Fuchsia trace, or corrupt)\n"
    );

    let mut undefined = Encoder::new(1_000_000_000);
    // A lock-wait begin whose name is string 9, never defined.
    let header = 4u64 | (4 << 4) | (2 << 16) | (9 << 48);
    undefined.bytes.extend_from_slice(&header.to_le_bytes());
    undefined.bytes.extend_from_slice(&[0; 24]);
    let run = run_with_stdin(&["report", "--input-format", "fxt"], &undefined.bytes);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "contend: <stdin>: byte offset 24: the record's name is string 9, which no string \
         record defined\n"
    );
}

#[test]
fn lenient_skips_malformed_records_and_counts_them() {
    let mut bytes = seed_capture_bytes();
    let corrupt_at = bytes.len();
    // A lock-wait begin whose name is string 900, never defined.
    let header = 4u64 | (4 << 4) | (2 << 16) | (900 << 48);
    bytes.extend_from_slice(&header.to_le_bytes());
    bytes.extend_from_slice(&[0; 24]);
    let strict = run_with_stdin(&["report", "--thread", "reaper"], &bytes);
    assert_eq!(strict.code, 2);
    assert!(
        strict.stderr.contains(&format!(
            "byte offset {corrupt_at}: the record's name is string 900"
        )),
        "{}",
        strict.stderr
    );
    let lenient = run_with_stdin(
        &[
            "report",
            "--thread",
            "reaper",
            "--lenient",
            "--window",
            "700ms",
        ],
        &bytes,
    );
    assert_eq!(lenient.code, 0, "{}", lenient.stderr);
    assert!(lenient.stdout.contains("65.1 %"), "{}", lenient.stdout);
    assert_eq!(
        lenient.stderr,
        format!(
            "contend: stdin:reaper: skipped 1 malformed records (first: byte offset {corrupt_at}; \
             --lenient)\n"
        )
    );
}

/// Found by `cargo fuzz run report`: a corrupt timestamp made Running
/// longer than 2^63 ns, and the ranking handed polars a literal it could not
/// hold (a panic). Now the report comes out, with the figure as it is.
#[test]
fn fuzz_regression_running_past_two_to_the_63() {
    const INPUT: &str = "fixtures/bad/fuzz-report-huge-running.fxt";
    let report = json_report(&["--lenient", INPUT], b"");
    assert_eq!(
        report["inputs"][0]["total"]["running_ns"],
        18_446_744_073_707_800_455u64
    );
    assert_eq!(report["inputs"][0]["total"]["spin_ns"], 1_751_151);
    assert_eq!(report["groups"][0]["total_ns"], 12_417_639);
}

#[test]
fn complete_waits_that_end_before_they_begin_are_counted_in_a_note() {
    let mut fxt = Encoder::new(1_000_000_000);
    fxt.thread_name(REAPER, 0, "reaper");
    fxt.switch(1_000, 0, STATE_RUNNING, MAKE, REAPER);
    let args = [("symbol", "kernel_lock"), ("caller", "reaper")];
    fxt.event(
        4,
        1_300,
        (0, REAPER),
        "kernel",
        "acquire-start",
        &args,
        &[1_100],
    );
    fxt.event(
        4,
        1_400,
        (0, REAPER),
        "kernel",
        "acquire-start",
        &args,
        &[1_500],
    );
    fxt.switch(5_000, 0, STATE_SUSPENDED, REAPER, MAKE);
    let report = run_with_stdin(
        &["report", "--format", "json", "--thread", "reaper"],
        &fxt.bytes,
    );
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert_eq!(
        report.stderr,
        "contend: stdin:reaper: 1 lock wait ends before it begins; counted as 0 ns\n"
    );
    let json: Value = serde_json::from_str(&report.stdout).unwrap();
    assert_eq!(json["inputs"][0]["total"]["running_ns"], 4_000);
    assert_eq!(json["inputs"][0]["total"]["spin_ns"], 100);
}

/// The seed's figures, per sample, from a report of a capture.
fn seed_figures(report: &Value) -> Vec<Vec<Value>> {
    report["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sample| {
            ["running_ns", "spin_ns", "kernel_lock_ns", "sleep_wait_ns"]
                .iter()
                .map(|field| sample[field].clone())
                .chain([sample["states_ns"]["Stopped"].clone()])
                .collect()
        })
        .collect()
}

#[test]
fn the_seed_capture_reads_the_same_in_every_layout_and_lock_encoding() {
    let table = json_report(&[SEED], b"");
    let builder = seed_builder(&seed_samples(&read(SEED)));
    for layout in [Layout::Lltextract, Layout::TimeOrder] {
        for encoding in [LockEncoding::Durations, LockEncoding::Instants] {
            let bytes = builder.write(layout, encoding);
            let run = run_with_stdin(
                &[
                    "report", "--format", "json", "--thread", "reaper", "--window", "700ms",
                ],
                &bytes,
            );
            assert_eq!(run.code, 0, "{layout:?} {encoding:?}: {}", run.stderr);
            assert_eq!(run.stderr, "", "{layout:?} {encoding:?}: no note");
            let capture: Value = serde_json::from_str(&run.stdout).unwrap();
            assert_eq!(
                seed_figures(&capture),
                seed_figures(&table),
                "{layout:?} {encoding:?}"
            );
            assert_eq!(
                shared_figures(&capture["groups"]),
                shared_figures(&table["groups"]),
                "{layout:?} {encoding:?}"
            );
            assert_eq!(
                spin_shares(&capture),
                ["49.9", "17.6", "75.8", "87.6", "68.7"]
            );
        }
    }
    // The file order really is not the time order: the first timestamped
    // record in the file is not the earliest.
    let bytes = builder.write(Layout::Lltextract, LockEncoding::Durations);
    let time_ordered = builder.write(Layout::TimeOrder, LockEncoding::Durations);
    assert_eq!(bytes.len(), time_ordered.len());
    assert_ne!(bytes, time_ordered);
}

#[test]
fn windows_start_at_the_earliest_timestamp_not_the_first_record() {
    // A thread runs from 10 ms to 30 ms, but the first record in the file
    // is an event at 25 ms on another CPU's buffer (written first); the
    // switches come at the end. With 10 ms windows from the trace start
    // (10 ms), the thread runs in windows 1 and 2.
    let reaper = REAPER_THREAD;
    let mut capture = CaptureBuilder::new(2);
    capture.name(reaper, "reaper");
    capture.instant(25_000_000, 1, reaper, ("count", "pkts:ifq"));
    capture.switch(10_000_000, 0, 3, IDLE, reaper);
    capture.switch(30_000_000, 0, STATE_SUSPENDED, reaper, IDLE);
    let bytes = capture.write(Layout::Lltextract, LockEncoding::Durations);
    let report = json_report(&["--thread", "reaper", "--window", "10ms"], &bytes);
    let running: Vec<&Value> = report["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["states_ns"]["Running"])
        .collect();
    assert_eq!(running, [10_000_000, 10_000_000, 0]);
}

#[test]
fn waits_without_their_end_or_begin_are_counted_in_notes() {
    let reaper = REAPER_THREAD;
    let lock = Lock {
        kind: "kernel".into(),
        address: 0xffff_ffff_8200_1000,
        symbol: "kernel_lock".into(),
        offset: 0,
        caller: Some("reaper".into()),
    };
    for encoding in [LockEncoding::Durations, LockEncoding::Instants] {
        let mut capture = CaptureBuilder::new(1);
        capture.name(reaper, "reaper");
        capture.switch(1_000, 0, 3, IDLE, reaper);
        // An end whose begin is before the capture.
        capture.lock_op(2_000, 0, reaper, "acquired-exclusive", &lock);
        capture.lock_wait((3_000, 0), (3_500, 0), reaper, "acquired-exclusive", &lock);
        // A begin whose end is after it.
        capture.lock_op(4_000, 0, reaper, "acquire-start", &lock);
        capture.switch(5_000, 0, STATE_SUSPENDED, reaper, IDLE);
        let bytes = capture.write(Layout::Lltextract, encoding);
        let run = run_with_stdin(
            &["report", "--format", "json", "--thread", "reaper"],
            &bytes,
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            run.stderr,
            "contend: stdin:reaper: left out 1 lock waits still open when the capture ended\n\
             contend: stdin:reaper: left out 1 lock-wait ends whose begin is not in the capture\n",
            "{encoding:?}"
        );
        let json: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(json["inputs"][0]["total"]["spin_ns"], 500, "{encoding:?}");
    }
}

#[test]
fn the_lltextract_version_with_oversized_symbol_arguments_is_read() {
    // One lltextract version writes every lock operation as an instant,
    // without callers, and gives each `symbol` argument a size of 2 words
    // while writing one.
    let reaper = REAPER_THREAD;
    let lock = Lock {
        kind: "rwlock".into(),
        address: 0xffff_ffff_8200_2040,
        symbol: "kernel_map_store".into(),
        offset: 0x40,
        caller: None,
    };
    let mut capture = CaptureBuilder::new(2);
    capture.oversized_symbol_args = true;
    capture.name(reaper, "reaper");
    capture.switch(1_000, 0, 3, IDLE, reaper);
    capture.lock_wait((2_000, 0), (9_000, 1), reaper, "acquire-abort", &lock);
    capture.lock_op(9_500, 1, reaper, "release-exclusive", &lock);
    capture.switch(10_000, 1, STATE_SUSPENDED, reaper, IDLE);
    let bytes = capture.write(Layout::Lltextract, LockEncoding::Instants);
    let report = json_report(&["--thread", "reaper"], &bytes);
    let group = &report["groups"][0];
    assert_eq!(
        (&group["category"], &group["symbol"], &group["caller"]),
        (
            &Value::from("rwlock"),
            &Value::from("kernel_map_store"),
            &Value::from("")
        )
    );
    assert_eq!(group["total_ns"], 7_000);
    assert_eq!(report["inputs"][0]["total"]["sleep_wait_ns"], 7_000);
}

/// A capture where threads move between CPUs: a single timeline of
/// stretches (one thread runs at a time), each on a CPU drawn at random,
/// so a thread's events are spread over several CPU buffers; waits are
/// nested in syscalls and interrupts nest in waits; some waits end on
/// another CPU. Returns the capture and what each window of each thread
/// must show, computed from the intervals it encoded.
fn migrating_capture(
    seed: u64,
    window: u64,
    layout: Layout,
    encoding: LockEncoding,
) -> (Vec<u8>, Expected) {
    let softnet = Thread { pid: 0, tid: 10 };
    let cc = Thread {
        pid: 20,
        tid: 100_020,
    };
    let threads = [softnet, cc, IDLE];
    let mut random = Random(seed);
    let mut capture = CaptureBuilder::new(3);
    capture.block = 1 + random.below(7) as usize;
    capture.name(softnet, "softnet");
    capture.name(cc, "cc");
    let mut intervals: Vec<(u64, u64, u64, &'static str)> = Vec::new();
    let mut since: BTreeMap<u64, (u64, &'static str)> = BTreeMap::new();
    let mut waits: Vec<(u64, u64, u64, String)> = Vec::new();
    let mut now = 1_000_000 + random.below(1_000_000);
    let trace_start = now;
    let mut running = IDLE;
    for _ in 0..150 {
        let next = threads[random.below(3) as usize];
        if next == running {
            continue;
        }
        let (state, name) = random.switch_state();
        let cpu = random.below(3) as usize;
        capture.switch(now, cpu, state, running, next);
        for (thread, new_state) in [(running, name), (next, "Running")] {
            if thread == IDLE {
                continue;
            }
            if let Some((from, old)) = since.insert(thread.tid, (now, new_state)) {
                intervals.push((thread.tid, from, now, old));
            }
        }
        let run_for = 1_000_000 + random.below(30_000_000);
        if next != IDLE {
            let mut at = now + 1 + random.below(500_000);
            while at + 200_000 < now + run_for && random.below(4) != 0 {
                let ns = 10 + random.below((now + run_for - at).min(3_000_000) - 10);
                let category = CATEGORIES[random.below(3) as usize];
                let symbol = SYMBOLS[random.below(3) as usize];
                let caller = CALLERS[random.below(4) as usize];
                let lock = Lock {
                    kind: category.to_string(),
                    address: 0xffff_ffff_8100_0000 + 64 * random.below(3),
                    symbol: symbol.to_string(),
                    offset: 0,
                    caller: Some(caller.to_string()),
                };
                let in_syscall = random.below(3) == 0;
                if in_syscall {
                    capture.slice(at - 1, cpu, next, true, ("syscall", "open"));
                }
                let end_cpu = if random.below(4) == 0 {
                    random.below(3) as usize
                } else {
                    cpu
                };
                if ns >= 100 && random.below(2) == 0 {
                    capture.slice(at + ns / 3, cpu, next, true, ("intr", "hardintr"));
                    capture.slice(at + ns / 2, cpu, next, false, ("intr", "hardintr"));
                }
                let outcome = ["acquired-exclusive", "acquired-shared", "acquire-abort"]
                    [random.below(3) as usize];
                capture.lock_wait((at, cpu), (at + ns, end_cpu), next, outcome, &lock);
                if in_syscall {
                    capture.slice(at + ns + 1, end_cpu, next, false, ("syscall", "open"));
                }
                waits.push((next.tid, at, ns, format!("{category}|{symbol}|{caller}")));
                at += ns + 3 + random.below(1_000_000);
            }
        }
        running = next;
        now += run_for;
    }
    capture.instant(now, 0, softnet, ("count", "pkts:ifq"));
    for (thread, (from, state)) in since {
        intervals.push((thread, from, now, state));
    }
    let bytes = capture.write(layout, encoding);
    let windows = (now - trace_start) / window + 1;
    let expected = expected_windows(
        &[softnet.tid, cc.tid],
        (trace_start, window, windows),
        &intervals,
        &waits,
    );
    (bytes, expected)
}

#[test]
fn migrating_threads_with_nested_slices_match_the_encoded_intervals() {
    for (seed, window_ms) in [(0x51_7cc1_b727_220a, 100u64), (0x2545_f491_4f6c_dd1d, 40)] {
        for layout in [Layout::Lltextract, Layout::TimeOrder] {
            for encoding in [LockEncoding::Durations, LockEncoding::Instants] {
                let (bytes, expected) =
                    migrating_capture(seed, window_ms * 1_000_000, layout, encoding);
                let measured = measured(&bytes, &format!("{window_ms}ms"));
                assert!(expected.len() > 20, "windows: {}", expected.len());
                assert_eq!(
                    measured, expected,
                    "seed {seed:x}, {window_ms} ms, {layout:?}, {encoding:?}"
                );
            }
        }
    }
}

#[test]
fn unknown_threads_and_bad_windows_are_errors() {
    let run1 = run(&["report", "--thread", "reeper", CAPTURE]);
    assert_eq!(run1.code, 2);
    assert_eq!(
        run1.stderr,
        "contend: fixtures/fxt/reaper-make-j32.fxt: no thread named \"reeper\" in the capture; \
         threads in the capture: make, reaper\n"
    );
    let run2 = run(&["report", "--tid", "4", CAPTURE]);
    assert_eq!(run2.code, 2);
    assert!(
        run2.stderr.contains("no thread with tid 4"),
        "{}",
        run2.stderr
    );
    let run3 = run(&["report", "--window", "0ms", CAPTURE]);
    assert_eq!(run3.code, 2);
    assert!(
        run3.stderr.contains("a window must be longer than 0"),
        "{}",
        run3.stderr
    );
    let run4 = run(&["report", "--window", "500", CAPTURE]);
    assert_eq!(run4.code, 2);
    assert!(
        run4.stderr
            .contains("\"500\" is not a duration with a unit"),
        "{}",
        run4.stderr
    );
    let run5 = run(&["report", "--window", "1ns", CAPTURE]);
    assert_eq!(run5.code, 2);
    assert!(
        run5.stderr.contains("choose a longer --window"),
        "{}",
        run5.stderr
    );
    let text = run_with_stdin(
        &["report", "--input-format", "fxt"],
        b"dur category\n1 kernel\n",
    );
    assert_eq!(text.code, 2);
    assert!(
        text.stderr.contains("not a Fuchsia trace"),
        "{}",
        text.stderr
    );
}

#[test]
fn sums_and_times_past_two_to_the_64_are_errors_never_clamped() {
    // Two waits of nearly 2^64 ns each, of one key, in one window.
    let mut fxt = Encoder::new(1_000_000_000);
    fxt.thread_name(REAPER, 0, "reaper");
    let args = [("symbol", "kernel_lock"), ("caller", "reaper")];
    for _ in 0..2 {
        fxt.event(
            4,
            0,
            (0, REAPER),
            "kernel",
            "acquire-start",
            &args,
            &[u64::MAX - 1],
        );
    }
    let run = run_with_stdin(&["report", "--thread", "reaper"], &fxt.bytes);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(
        run.stderr,
        "contend: <stdin>: the lock waits of one key in window 1 add up to more than 2^64 ns\n"
    );
    // One tick a second: a timestamp of 2^40 ticks is past 2^64 ns.
    let mut slow = Encoder::new(1);
    slow.thread_name(REAPER, 0, "reaper");
    slow.switch(1 << 40, 0, STATE_RUNNING, MAKE, REAPER);
    let run = run_with_stdin(&["report", "--thread", "reaper"], &slow.bytes);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("a timestamp of 1099511627776 ticks at 1 ticks per second is past 2^64 ns"),
        "{}",
        run.stderr
    );
}

#[test]
fn many_threads_times_many_windows_is_refused_before_memory_grows() {
    // 25 threads, a record 99 998 s in: 25 x 99 999 one-second windows.
    let mut fxt = Encoder::new(1_000_000_000);
    for thread in 0..25u64 {
        fxt.thread_name(1000 + thread, 0, &format!("t{thread}"));
        fxt.switch(thread, 0, STATE_RUNNING, 1000 + thread, 1001 + thread);
    }
    fxt.event(0, 99_998_000_000_000, (0, 1000), "sched", "tick", &[], &[]);
    let run = run_with_stdin(&["report", "--window", "1s"], &fxt.bytes);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "x 99999 windows is more than 100000 samples to keep; choose a \
             longer --window, or fewer threads with --thread"
        ),
        "{}",
        run.stderr
    );
    // Two threads by name in 10 s windows: 2 x 10 000 samples, read.
    let two = run_with_stdin(
        &[
            "report", "--format", "json", "--window", "10s", "--thread", "t0", "--thread", "t1",
        ],
        &fxt.bytes,
    );
    assert_eq!(two.code, 0, "{}", two.stderr);
}

/// Groups without their share of off-CPU time, which a capture's Runnable
/// time changes.
/// The groups' figures that a capture and the tables copied out of it
/// share: not the share of off-CPU time (the capture knows Runnable), nor
/// the events and their distribution (a table's rows are sums).
fn shared_figures(groups: &Value) -> Value {
    let mut groups = groups.clone();
    for group in groups.as_array_mut().into_iter().flatten() {
        if let Some(fields) = group.as_object_mut() {
            for field in [
                "share_of_off_cpu",
                "events",
                "mean_per_event_ns",
                "p50_ns",
                "p90_ns",
                "p99_ns",
                "holders",
            ] {
                fields.remove(field);
            }
        }
    }
    groups
}

#[test]
fn waits_begun_on_many_distinct_locks_are_matched_in_linear_time() {
    // 200 000 instant `acquire-start`s, each on a lock of its own, none
    // acquired: each was looked for in a list of the open ones (quadratic:
    // 600 000 took a minute). Every one is still open at the end, and
    // said so; one acquired among them is a wait.
    let reaper = REAPER_THREAD;
    let lock = |address: u64| Lock {
        kind: "mutex".into(),
        address,
        symbol: "pool".into(),
        offset: 0,
        caller: Some("pool_get".into()),
    };
    let mut capture = CaptureBuilder::new(1);
    capture.name(reaper, "reaper");
    capture.switch(1_000, 0, 3, IDLE, reaper);
    for i in 0..200_000u64 {
        capture.lock_op(2_000 + i, 0, reaper, "acquire-start", &lock(0x1000 + i));
    }
    capture.lock_op(300_000, 0, reaper, "acquired-exclusive", &lock(0x1000 + 7));
    capture.switch(400_000, 0, STATE_SUSPENDED, reaper, IDLE);
    let bytes = capture.write(Layout::TimeOrder, LockEncoding::Instants);
    let run = run_with_stdin(
        &["report", "--format", "json", "--thread", "reaper"],
        &bytes,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "contend: stdin:reaper: left out 199999 lock waits still open when the capture ended\n"
    );
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    // The acquired one waited from its start (2 007) to 300 000.
    assert_eq!(json["inputs"][0]["total"]["spin_ns"], 300_000 - 2_007);
}

#[test]
fn threads_that_share_a_name_get_labels_apart() {
    // Two threads of one process, both named after it (as lltextract
    // names user threads): each an input, `stdin:make` and
    // `stdin:make#2`, as two files of one name are; --per-input ranks
    // each on its own.
    let first = MAKE_THREAD;
    let second = Thread {
        pid: 4711,
        tid: MAKE + 1,
    };
    let lock = Lock {
        kind: "mutex".into(),
        address: 0x1000,
        symbol: "uvm".into(),
        offset: 0,
        caller: Some("uvm_fault".into()),
    };
    let mut capture = CaptureBuilder::new(1);
    capture.name(first, "make");
    capture.name(second, "make");
    capture.switch(1_000, 0, 3, IDLE, first);
    capture.lock_wait((2_000, 0), (3_000, 0), first, "acquired-exclusive", &lock);
    capture.switch(10_000, 0, STATE_SUSPENDED, first, second);
    capture.lock_wait(
        (11_000, 0),
        (14_000, 0),
        second,
        "acquired-exclusive",
        &lock,
    );
    capture.switch(20_000, 0, STATE_SUSPENDED, second, IDLE);
    let bytes = capture.write(Layout::TimeOrder, LockEncoding::Durations);
    let report = json_report(&["--per-input", "-"], &bytes);
    let labels: Vec<&str> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|input| input["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["stdin:make", "stdin:make#2"]);
    let spins: Vec<u64> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|input| input["total"]["spin_ns"].as_u64().unwrap())
        .collect();
    assert_eq!(spins, [1_000, 3_000]);
    // One group in each input, ranked within it: its own total (with one
    // label for both, the two were one input).
    let groups: Vec<(&str, u64)> = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["input"].as_str().unwrap(),
                g["total_ns"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(groups, [("stdin:make", 1_000), ("stdin:make#2", 3_000)]);
}

/// A sleep-lock wait begun while the thread still ran and ended after it
/// woke outlasts its time off the CPU: the verdict says so instead of a
/// share of the off-CPU time above 100 % (issue 36, item 6a).
#[test]
fn a_sleep_wait_longer_than_the_sleep_is_named_not_a_share_above_the_whole() {
    let reaper = Thread { pid: 0, tid: 10 };
    let mut capture = CaptureBuilder::new(1);
    capture.name(reaper, "reaper");
    capture.switch(0, 0, STATE_BLOCKED, IDLE, reaper);
    let lock = Lock {
        kind: "rwlock".into(),
        address: 0x2000,
        symbol: "vmmaplk".into(),
        offset: 0,
        caller: Some("uvm_map".into()),
    };
    capture.lock_wait((1000, 0), (3500, 0), reaper, "acquired-exclusive", &lock);
    capture.switch(1500, 0, STATE_SUSPENDED, reaper, IDLE);
    capture.switch(3000, 0, STATE_RUNNING, IDLE, reaper);
    capture.switch(5000, 0, STATE_RUNNING, reaper, IDLE);
    let bytes = capture.write(Layout::Lltextract, LockEncoding::Durations);
    let run = run_with_stdin(&["report", "--thread", "reaper", "-"], &bytes);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let verdict = run.stdout.lines().take(2).collect::<Vec<_>>().join(" ");
    assert!(
        verdict.contains("off-CPU 1.500 µs, and 2.500 µs waiting on sleep locks, longer than that"),
        "{verdict}"
    );
    // The group's share of the off-CPU time says it is past the whole;
    // the JSON keeps the ratio.
    assert!(!run.stdout.contains("166.7 %"), "{}", run.stdout);
    assert!(run.stdout.contains(">100 %"), "{}", run.stdout);
}
