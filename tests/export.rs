//! `contend export`: every table in every format, read back with a real
//! reader, carrying the seed's figures.

use crate::util::{SEED, read, run, run_with_stdin, scratch_dir};

/// Sum of the seed's lock waits: every row of the five samplings.
const SEED_LOCK_NS: u64 = 39_567_272;

/// Records of a CSV (or TSV) text, read with the `csv` crate.
fn csv_records(text: &str, delimiter: u8) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let records = reader.records().map(Result::unwrap).collect();
    (header, records)
}

fn column_sum(header: &[String], records: &[csv::StringRecord], name: &str) -> u64 {
    let index = header
        .iter()
        .position(|h| h == name)
        .expect("column exists");
    records
        .iter()
        .map(|r| r[index].parse::<u64>().unwrap())
        .sum()
}

fn export(args: &[&str]) -> String {
    let mut all = vec!["export", SEED];
    all.extend(args);
    let run = run(&all);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
}

#[test]
fn rows_csv_has_every_row() {
    let (header, records) = csv_records(&export(&["--what", "rows"]), b',');
    assert_eq!(
        header,
        [
            "input", "sample", "category", "symbol", "caller", "dur_ns", "events"
        ]
    );
    assert_eq!(records.len(), 30);
    assert_eq!(column_sum(&header, &records, "dur_ns"), SEED_LOCK_NS);
    assert_eq!(
        records[0].iter().collect::<Vec<_>>(),
        [
            "openbsd-reaper-make-j32",
            "1",
            "rwlock",
            "kernel_map_store",
            "vm_map_lock_ln",
            "12417639",
            // A pivot table's cell sums an unknown number of waits.
            ""
        ]
    );
    assert_eq!(&records[29][1], "5");
    // rows is the default
    assert_eq!(export(&[]), export(&["--what", "rows"]));
}

#[test]
fn samples_csv_has_one_record_per_sample() {
    let (header, records) = csv_records(&export(&["--what", "samples"]), b',');
    assert_eq!(records.len(), 5);
    assert_eq!(column_sum(&header, &records, "spin_ns"), 14_175_161);
    assert_eq!(
        column_sum(&header, &records, "state_Running_ns"),
        21_776_000
    );
    assert_eq!(
        column_sum(&header, &records, "state_Stopped_ns"),
        2_315_700_000
    );
    assert_eq!(column_sum(&header, &records, "kernel_lock_ns"), 13_260_228);
    for field in [
        "input",
        "sample",
        "running_ns",
        "off_cpu_ns",
        "sleep_wait_ns",
        "work_ns",
        "spin_share",
    ] {
        assert!(
            header.iter().any(|h| h == field),
            "no {field} in {header:?}"
        );
    }
}

#[test]
fn groups_tsv_is_the_ranking() {
    let (header, records) = csv_records(&export(&["--what", "groups", "--format", "tsv"]), b'\t');
    assert_eq!(
        header,
        [
            "category",
            "symbol",
            "caller",
            "class",
            "total_ns",
            "rows",
            "samples_seen",
            "mean_ns",
            "max_ns",
            "share_of_lock_time",
            "share_of_running",
            "cumulative_share",
            "share_of_off_cpu",
            "events",
            "mean_per_event_ns",
            "p50_ns",
            "p90_ns",
            "p99_ns"
        ]
    );
    assert_eq!(records.len(), 9, "export keeps every group");
    assert_eq!(column_sum(&header, &records, "total_ns"), SEED_LOCK_NS);
    assert_eq!(&records[0][4], "25392111");
}

#[test]
fn json_and_ndjson_read_back() {
    for what in ["rows", "groups", "samples"] {
        let array: serde_json::Value =
            serde_json::from_str(&export(&["--what", what, "--format", "json"])).unwrap();
        let lines: Vec<serde_json::Value> = export(&["--what", what, "--format", "ndjson"])
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(array.as_array().unwrap(), &lines, "{what}");
    }
    let rows: serde_json::Value = serde_json::from_str(&export(&["--format", "json"])).unwrap();
    let sum: u64 = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dur_ns"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, SEED_LOCK_NS);
    let samples: serde_json::Value =
        serde_json::from_str(&export(&["--what", "samples", "--format", "json"])).unwrap();
    assert_eq!(samples[3]["spin_ns"], 6_575_322);
    assert!(samples[0]["spin_share"].as_f64().unwrap() > 0.499);
}

#[test]
fn folded_stacks_sum_to_the_seed_total() {
    for what in ["rows", "groups"] {
        let folded = export(&["--what", what, "--format", "folded"]);
        let mut total = 0;
        for line in folded.lines() {
            let (stack, count) = line.rsplit_once(' ').unwrap();
            assert_eq!(stack.split(';').count(), 3, "{line}");
            total += count.parse::<u64>().unwrap();
        }
        assert_eq!(total, SEED_LOCK_NS, "{what}");
    }
    let by_symbol = export(&[
        "--what",
        "groups",
        "--format",
        "folded",
        "--by",
        "symbol,category",
    ]);
    assert_eq!(
        by_symbol.lines().next(),
        Some("kernel_map_store;rwlock 25392111")
    );
}

#[test]
fn output_unit_and_delimiter_for_spreadsheets() {
    let text = export(&[
        "--what",
        "samples",
        "--output-unit",
        "ms",
        "--delimiter",
        ";",
    ]);
    let (header, records) = csv_records(&text, b';');
    assert!(header.contains(&"spin_ms".to_string()));
    assert!(header.contains(&"state_Running_ms".to_string()));
    let spin = header.iter().position(|h| h == "spin_ms").unwrap();
    assert_eq!(&records[0][spin], "2.188295");
    let total: f64 = records
        .iter()
        .map(|r| r[spin].parse::<f64>().unwrap())
        .sum();
    assert!((total - 14.175161).abs() < 1e-9);
}

#[test]
fn output_file_is_written_whole() {
    let dir = scratch_dir("export-file");
    let path = dir.join("rows.csv");
    let path_text = path.to_str().unwrap();
    let run = run(&["export", SEED, "-o", path_text]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let (header, records) = csv_records(&std::fs::read_to_string(&path).unwrap(), b',');
    assert_eq!(records.len(), 30);
    assert_eq!(column_sum(&header, &records, "dur_ns"), SEED_LOCK_NS);
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "temporary files left behind");
}

#[test]
fn a_failed_export_leaves_no_file() {
    let dir = scratch_dir("export-failed");
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "dur symbol\n5 kernel_lock\n12x4 kernel_lock\n").unwrap();
    for what in ["rows", "groups", "samples"] {
        let path = dir.join(format!("{what}.csv"));
        let run = run(&[
            "export",
            SEED,
            bad.to_str().unwrap(),
            "--what",
            what,
            "-o",
            path.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 2, "{what}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("bad.txt:3: dur \"12x4\" is not a number"),
            "{}",
            run.stderr
        );
        assert!(!path.exists(), "{what}: half-written file left");
    }
    // An existing good file is not clobbered either.
    let good = dir.join("good.csv");
    std::fs::write(&good, "kept\n").unwrap();
    let run = run(&[
        "export",
        SEED,
        bad.to_str().unwrap(),
        "-o",
        good.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert_eq!(std::fs::read_to_string(&good).unwrap(), "kept\n");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".partial")), "{names:?}");
}

#[test]
fn usage_errors() {
    let run_ = run(&["export", SEED, "--format", "parquet"]);
    assert_eq!(run_.code, 2);
    assert_eq!(
        run_.stderr,
        "contend: --format parquet needs -o FILE (Parquet is binary)\n"
    );
    let run_ = run(&["export", SEED, "--what", "samples", "--format", "folded"]);
    assert_eq!(run_.code, 2);
    assert_eq!(
        run_.stderr,
        "contend: --format folded exports rows or groups, not samples\n"
    );
    let run_ = run(&["export", SEED, "--delimiter", "é"]);
    assert_eq!(run_.code, 2);
    assert!(
        run_.stderr
            .contains("--delimiter must be one ASCII character")
    );
}

#[test]
fn rows_stream_from_stdin() {
    let run = run_with_stdin(&["export", "--format", "ndjson"], read(SEED).as_bytes());
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout.lines().count(), 30);
    assert!(run.stdout.starts_with("{\"input\":\"stdin\",\"sample\":1,"));
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_reads_back_with_polars() {
    use polars_io::SerReader;
    use polars_io::parquet::read::ParquetReader;

    let dir = scratch_dir("export-parquet");
    for (what, rows, sum_column, sum) in [
        ("rows", 30, "dur_ns", SEED_LOCK_NS),
        ("groups", 9, "total_ns", SEED_LOCK_NS),
        ("samples", 5, "spin_ns", 14_175_161),
    ] {
        let path = dir.join(format!("{what}.parquet"));
        let run = run(&[
            "export",
            SEED,
            "--what",
            what,
            "--format",
            "parquet",
            "-o",
            path.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let frame = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap();
        assert_eq!(frame.height(), rows, "{what}");
        let column = frame.column(sum_column).unwrap();
        let values: u64 = column.u64().unwrap().iter().map(|v| v.unwrap()).sum();
        assert_eq!(values, sum, "{what}");
    }
}

#[test]
fn decimal_commas_for_spreadsheets_that_read_them() {
    let text = export(&[
        "--what",
        "samples",
        "--output-unit",
        "ms",
        "--delimiter",
        ";",
        "--decimal-comma",
    ]);
    let first = text.lines().nth(1).unwrap();
    assert!(first.contains(";4,384000;496,600000;"), "{first}");
    assert!(!first.contains('.'), "{first}");
    for (args, message) in [
        (
            vec!["--decimal-comma"],
            "--decimal-comma needs another --delimiter than ','",
        ),
        (
            vec!["--decimal-comma", "--format", "json"],
            "--decimal-comma is for --format csv or tsv",
        ),
    ] {
        let mut all = vec!["export"];
        all.extend(args);
        all.push(crate::util::SEED);
        let refused = crate::util::run(&all);
        assert_eq!(refused.code, 2);
        assert!(refused.stderr.contains(message), "{}", refused.stderr);
    }
}

#[test]
fn folded_rows_with_a_call_stack_write_the_whole_stack() {
    // The xfs_release mail's three count() stacks, outermost frame first,
    // offsets left out, weighed by their events (the mail's figures).
    let run = run(&[
        "export",
        "--format",
        "folded",
        "fixtures/real/bpftrace-lkml-xfs-release-whole-mail.txt",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[2],
        "entry_SYSCALL_64_after_hwframe;do_syscall_64;__x64_sys_close;__fput;xfs_release;\
         _raw_spin_lock;__pv_queued_spin_lock_slowpath 1432766"
    );
    assert!(lines[1].ends_with(";xfs_ilock;down_read;rwsem_down_read_slowpath;_raw_spin_lock_irq;__pv_queued_spin_lock_slowpath 137639"));
}

#[test]
fn stacks_printed_under_rows_are_the_rows_stacks() {
    let folded = |fixture: &str| {
        let run = run(&["export", "--format", "folded", fixture]);
        assert_eq!(run.code, 0, "{fixture}: {}", run.stderr);
        run.stdout
    };
    // perf lock contention -v on LKML: each row's eight frames under it,
    // innermost first; 10.74 us and 7.70 us.
    let perf = folded("fixtures/real/perf-lock-contention-lkml-verbose-callstack.txt");
    let lines: Vec<&str> = perf.lines().collect();
    assert_eq!(
        lines[..2],
        [
            "tick_irq_enter;tick_do_update_jiffies64;_raw_spin_lock;queued_spin_lock_slowpath;\
             __bpf_trace_contention_begin;bpf_trace_run2;bpf_prog_bf07ae9e2cbd02c5_contention_begin;\
             bpf_prog_bf07ae9e2cbd02c5_contention_begin 10740",
            "load_balance;raw_spin_rq_lock_nested;_raw_spin_lock;queued_spin_lock_slowpath;\
             __bpf_trace_contention_begin;bpf_trace_run2;bpf_prog_bf07ae9e2cbd02c5_contention_begin;\
             bpf_prog_bf07ae9e2cbd02c5_contention_begin 7700",
        ]
    );
    // -x , -v: the stack in one field, cut short with `...`.
    let csv = folded("fixtures/real/perf-lock-contention-lkml-csv-x-verbose-F-wait-total.txt");
    assert!(
        csv.starts_with("rcu_core;_raw_spin_lock_irqsave 37134\n"),
        "{csv}"
    );
    // klockstat -s 3: the wait row's stack is its own, not the hold row's
    // printed after it (hold rows are set apart).
    let klockstat = folded("fixtures/real/klockstat-bcc-example-stacks.txt");
    assert_eq!(klockstat, "pipe_read;pipe_wait 556542328\n");
    // lockstat -s from illumos' manual: the stack beside the histogram,
    // wrapped below it; 9 x 2540 ns and 1 x 1036 ns.
    let illumos = run(&[
        "export",
        "--format",
        "folded",
        "--keep-offsets",
        "fixtures/real/lockstat-illumos-man-ex3-hold-stack-histogram.txt",
    ]);
    assert_eq!(
        illumos.stdout,
        "sbus_intr_wrapper+0x30;hmeintr+0x36c;hmeread+0x31c;_c_putnext+0x148;ip_rput+0xec4;\
         putnext+0x78;tcp_rput_data+0x2b90 22860\n\
         sbus_intr_wrapper+0x30;hmeintr+0x36c;hmeread+0x31c;_c_putnext+0x148;ip_rput+0xec4;\
         putnext+0x78;tcp_rput_data+0x2fd0;freemsg+0x44 1036\n"
    );
    // FreeBSD's stacks begin at the caller's caller: the caller is put on
    // top. Hold rows, read with --events hold: 32 x 1631 and 29 x 4851 ns.
    let freebsd = run(&[
        "export",
        "--format",
        "folded",
        "--events",
        "hold",
        "fixtures/real/lockstat-freebsd-man-ex3-hold-stack-histogram.txt",
    ]);
    assert_eq!(
        freebsd.stdout,
        "fork_exit;ithread_loop;intr_event_execute_handlers;swi_net;ip_input;tcp_input;\
         tcp_do_segment 52192\n\
         fork_exit;ithread_loop;intr_event_execute_handlers;swi_net;ip_input;tcp_input;\
         tcp_do_segment;sowakeup 140679\n"
    );
}
