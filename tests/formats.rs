//! Every input format, read by the built binary: the seed's figures in each
//! of them, the hand-written Linux, FreeBSD and bpftrace outputs, format
//! detection, compressed input and mixed inputs.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::Value;

use crate::util::{SEED, json_report, read, run, run_with_stdin, scratch_dir};

const CSV: &str = "fixtures/formats/reaper.csv";
const TSV: &str = "fixtures/formats/reaper.tsv";
const BTRACE: &str = "fixtures/formats/reaper-btrace.txt";
const PERF_SEED: &str = "fixtures/formats/reaper-perf-lock.csv";
const LOCKSTAT_SEED: &str = "fixtures/formats/reaper-lockstat.txt";
const PERF_LINUX: &str = "fixtures/formats/linux-perf-lock-contention.txt";
const LOCKSTAT_FREEBSD: &str = "fixtures/formats/freebsd-lockstat.txt";
const BPFTRACE: &str = "fixtures/formats/bpftrace-kstack.txt";

/// The seed's figures (DESIGN.md).
const SPIN_NS: u64 = 14_175_161;
const KERNEL_LOCK_NS: u64 = 13_260_228;
const SLEEP_WAIT_NS: u64 = 25_392_111;

fn report(args: &[&str]) -> Value {
    json_report(args, b"")
}

/// Group total per key (the `--by` keys joined by `;`), from a JSON report.
fn group_totals(report: &Value, keys: &[&str]) -> BTreeMap<String, u64> {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|group| {
            let key: Vec<&str> = keys.iter().map(|k| group[*k].as_str().unwrap()).collect();
            (key.join(";"), group["total_ns"].as_u64().unwrap())
        })
        .collect()
}

fn total(report: &Value, field: &str) -> u64 {
    report["total"][field]
        .as_u64()
        .unwrap_or_else(|| panic!("total.{field} in {}", report["total"]))
}

#[test]
fn csv_and_tsv_carry_the_seed_with_its_states() {
    let seed = report(&[SEED]);
    for path in [CSV, TSV] {
        let read = report(&[path]);
        assert_eq!(read["inputs"][0]["format"], "csv", "{path}");
        assert_eq!(read["inputs"][0]["samples"], 5);
        assert_eq!(read["inputs"][0]["rows"], 30);
        assert_eq!(
            crate::util::spin_shares(&read),
            crate::util::spin_shares(&seed)
        );
        assert_eq!(total(&read, "spin_ns"), SPIN_NS);
        assert_eq!(total(&read, "running_ns"), 21_776_000);
        assert_eq!(total(&read, "off_cpu_ns"), 2_315_700_000);
        assert_eq!(
            format!(
                "{:.1}",
                read["total"]["spin_share"].as_f64().unwrap() * 100.0
            ),
            "65.1"
        );
        assert_eq!(read["groups"], seed["groups"], "{path}");
    }
}

#[test]
fn btrace_printouts_are_the_seed_samples() {
    let seed = report(&[SEED]);
    let read = report(&[BTRACE]);
    assert_eq!(read["inputs"][0]["format"], "btrace");
    assert_eq!(read["inputs"][0]["samples"], 5);
    assert_eq!(total(&read, "spin_ns"), SPIN_NS);
    assert_eq!(total(&read, "kernel_lock_ns"), KERNEL_LOCK_NS);
    assert_eq!(total(&read, "sleep_wait_ns"), SLEEP_WAIT_NS);
    let keys = ["category", "symbol", "caller"];
    assert_eq!(group_totals(&read, &keys), group_totals(&seed, &keys));
    // No thread states in a map printout: no shares.
    assert!(read["total"]["spin_share"].is_null());
    let per_sample: Vec<u64> = read["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kernel_lock_ns"].as_u64().unwrap())
        .collect();
    assert_eq!(
        per_sample,
        [1_751_151, 187_535, 2_911_007, 6_552_644, 1_857_891]
    );
}

#[test]
fn lockstat_events_decide_the_class() {
    let seed = report(&[SEED]);
    let read = report(&[LOCKSTAT_SEED]);
    assert_eq!(read["inputs"][0]["format"], "lockstat");
    // `Spin lock spin` and `Adaptive mutex spin` spin, `R/W writer blocked
    // by readers` sleeps: the seed's spin and sleep-wait figures.
    assert_eq!(total(&read, "spin_ns"), SPIN_NS);
    assert_eq!(total(&read, "sleep_wait_ns"), SLEEP_WAIT_NS);
    assert_eq!(total(&read, "kernel_lock_ns"), KERNEL_LOCK_NS);
    let keys = ["symbol", "caller"];
    let by = ["--by", "symbol,caller"];
    assert_eq!(
        group_totals(&report(&[LOCKSTAT_SEED, by[0], by[1]]), &keys),
        group_totals(&report(&[SEED, by[0], by[1]]), &keys)
    );
    assert_eq!(
        group_totals(&seed, &["symbol", "caller", "category"]).len(),
        9
    );
}

#[test]
fn perf_lock_csv_keeps_the_seed_totals_per_type_and_caller() {
    let by = ["--by", "category,caller"];
    let keys = ["category", "caller"];
    let read = report(&[PERF_SEED, by[0], by[1]]);
    assert_eq!(read["inputs"][0]["format"], "perf-lock");
    assert_eq!(read["inputs"][0]["rows"], 30);
    assert_eq!(
        group_totals(&read, &keys),
        group_totals(&report(&[SEED, by[0], by[1]]), &keys)
    );
    // Linux's classes: rwlock spins and mutex sleeps there, the opposite
    // of OpenBSD; `kernel` is no Linux type.
    assert_eq!(total(&read, "spin_ns"), SLEEP_WAIT_NS);
    // With OpenBSD's classes named, the seed's figures come back.
    let openbsd = report(&[PERF_SEED, "--spin", "kernel,mutex", "--sleep", "rwlock"]);
    assert_eq!(total(&openbsd, "spin_ns"), SPIN_NS);
    assert_eq!(total(&openbsd, "sleep_wait_ns"), SLEEP_WAIT_NS);
    // `max wait` is kept: the reaper's longest kernel_lock wait.
    let reaper = read["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["caller"] == "reaper")
        .unwrap();
    assert_eq!(reaper["max_ns"], 6_552_644);
    assert_eq!(reaper["rows"], 5);
}

#[test]
fn linux_perf_lock_contention_table() {
    let read = report(&[PERF_LINUX]);
    assert_eq!(read["inputs"][0]["format"], "perf-lock");
    // contended: 2389 + 912 + 640 + 301 + 95 + 12
    assert_eq!(read["inputs"][0]["rows"], 4349);
    assert_eq!(read["inputs"][0]["skipped_lines"], 0);
    // spinlock and rwlock:R spin: 116.54 ms + 9.87 ms + 8.30 us.
    assert_eq!(total(&read, "spin_ns"), 126_418_300);
    // rwsem:W, mutex, rwsem:R sleep: 58.20 + 22.41 + 4.63 ms.
    assert_eq!(total(&read, "sleep_wait_ns"), 85_240_000);
    let top = &read["groups"][0];
    assert_eq!(top["category"], "spinlock");
    assert_eq!(top["caller"], "_raw_spin_lock");
    assert_eq!(top["total_ns"], 116_540_000);
    assert_eq!(top["max_ns"], 1_470_000);
    assert_eq!(top["class"], "spin");
}

#[test]
fn freebsd_lockstat_with_blanks_in_lock_names() {
    let read = report(&[LOCKSTAT_FREEBSD]);
    // 3050 x 762 + 1811 x 540 + 984 x 1203 + 1573 x 388 + 405 x 227
    assert_eq!(total(&read, "spin_ns"), 5_188_051);
    // 150 x 48211 + 64 x 121873
    assert_eq!(total(&read, "sleep_wait_ns"), 15_031_522);
    let totals = group_totals(&read, &["category", "symbol", "caller"]);
    assert_eq!(totals["Spin lock spin;sched lock 1;sched_add"], 91_935);
    assert_eq!(totals.len(), 7);
    let kept = report(&[LOCKSTAT_FREEBSD, "--keep-offsets"]);
    let totals = group_totals(&kept, &["category", "symbol", "caller"]);
    assert_eq!(totals["Spin lock spin;sched lock 1;sched_add+0x5c"], 91_935);
}

#[test]
fn bpftrace_stacks_and_histograms() {
    let run = run(&[
        "report",
        "-v",
        "--format",
        "json",
        "--stack-frame",
        "2",
        BPFTRACE,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let read: Value = serde_json::from_str(&run.stdout).unwrap();
    let totals = group_totals(&read, &["category", "caller"]);
    assert_eq!(
        totals,
        BTreeMap::from([
            ("wait_ns;do_exit".to_string(), 193_204),
            ("wait_ns;exit_mmap".to_string(), 88_412),
            ("wait_ns;release_task".to_string(), 10_315),
        ])
    );
    assert!(
        run.stderr.contains(
            "bpftrace-kstack: skipped 1 histogram (first: line 20): they count events per \
             bucket, not wait time"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("skipped 1 line that is not part of a table (first: line 1)")
    );
    // By default the first frame past the lock primitives, the same as
    // frame 2 here; the map name is the category, which --spin can
    // classify.
    let by_default = report(&[BPFTRACE, "--spin", "wait_ns"]);
    assert_eq!(group_totals(&by_default, &["category", "caller"]), totals);
    assert_eq!(total(&by_default, "spin_ns"), 193_204 + 88_412 + 10_315);
    let innermost = report(&[BPFTRACE, "--stack-frame", "0", "--keep-offsets"]);
    assert_eq!(
        innermost["groups"][0]["caller"],
        "queued_spin_lock_slowpath+0x11d"
    );
}

#[test]
fn detection_names_each_fixture_and_the_verdict_says_it() {
    for (path, format) in [
        (SEED, "table"),
        ("fixtures/openbsd-tech-reaper-mail.txt", "table"),
        (CSV, "csv"),
        (TSV, "csv"),
        (BTRACE, "btrace"),
        (BPFTRACE, "btrace"),
        (PERF_SEED, "perf-lock"),
        (PERF_LINUX, "perf-lock"),
        (LOCKSTAT_SEED, "lockstat"),
        (LOCKSTAT_FREEBSD, "lockstat"),
        ("fixtures/diff/reaper-before.txt", "table"),
    ] {
        let read = report(&[path]);
        assert_eq!(read["inputs"][0]["format"], format, "{path}");
        let text = run(&["report", path]);
        let label = read["inputs"][0]["label"].as_str().unwrap();
        assert!(
            text.stdout.starts_with(&format!("{label} ({format}): ")),
            "{path}: {}",
            text.stdout
        );
    }
}

#[test]
fn ambiguous_and_unknown_input_name_what_was_tried() {
    let both = run_with_stdin(&["report"], b"dur symbol\n5 x\n@wait[x]: 5\n");
    assert_eq!(both.code, 2);
    assert_eq!(
        both.stderr,
        "contend: <stdin>: the input looks like several formats: table (line 1), btrace \
         (line 3); name one with --input-format\n"
    );
    // Named, it is read as asked: the table is prose to the btrace parser.
    let btrace = run_with_stdin(
        &[
            "report",
            "-v",
            "--input-format",
            "btrace",
            "--format",
            "json",
        ],
        b"dur symbol\n5 x\n@wait[x]: 5\n",
    );
    assert_eq!(btrace.code, 0, "{}", btrace.stderr);
    assert!(
        btrace
            .stderr
            .contains("skipped 2 lines that are not part of a table")
    );
    let none = run_with_stdin(&["report"], b"12:00:01 nothing to see\n");
    assert_eq!(none.code, 2);
    for tried in [
        "Perfetto table",
        "CSV",
        "btrace",
        "perf lock",
        "lockstat",
        "--input-format",
    ] {
        assert!(none.stderr.contains(tried), "{tried}: {}", none.stderr);
    }
    let binary = run_with_stdin(&["report"], &[0u8; 4096]);
    assert_eq!(binary.code, 2);
    assert_eq!(
        binary.stderr,
        "contend: <stdin>: not a text trace (binary byte 0x00 at offset 0)\n"
    );
    let fxt = run_with_stdin(
        &["report"],
        &[0x10, 0x00, 0x04, 0x46, 0x78, 0x54, 0x16, 0x00, 0, 0],
    );
    assert_eq!(fxt.code, 2);
    assert_eq!(
        fxt.stderr,
        "contend: <stdin>: byte offset 8: the input ends inside a record: 8 bytes needed, 2 \
         left; the capture is cut short (--lenient reads up to the last whole record)\n"
    );
}

#[test]
fn a_format_named_wrongly_is_an_error() {
    let run = run(&["report", "--input-format", "lockstat", SEED]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "fixtures/openbsd-reaper-make-j32.txt: no lockstat section found (expected \
             `Adaptive mutex spin: N events in T seconds`, or a table header `Count indv cuml \
             rcnt nsec Lock Caller`)"
        ),
        "{}",
        run.stderr
    );
    let run = crate::util::run(&["report", "--input-format", "perf-lock", CSV]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no perf lock contention header found"));
}

#[test]
fn gzip_and_zstd_inputs_are_read_like_the_plain_ones() {
    let plain = report(&[CSV]);
    let text = read(CSV);
    let dir = scratch_dir("formats_compressed");

    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(text.as_bytes()).unwrap();
    let gzipped = gzip.finish().unwrap();
    let zstd = zstd::encode_all(text.as_bytes(), 3).unwrap();
    let gz_path = dir.join("reaper.csv.gz");
    let zst_path = dir.join("reaper.csv.zst");
    std::fs::write(&gz_path, &gzipped).unwrap();
    std::fs::write(&zst_path, &zstd).unwrap();

    for path in [&gz_path, &zst_path] {
        let read = report(&[path.to_str().unwrap()]);
        assert_eq!(read["groups"], plain["groups"], "{}", path.display());
        assert_eq!(read["samples"], plain["samples"]);
        assert_eq!(read["inputs"][0]["format"], "csv");
    }
    for bytes in [&gzipped, &zstd] {
        let read = json_report(&[], bytes);
        assert_eq!(read["total"], plain["total"]);
    }
    // The seed as a table, gzipped on stdin: the same 65.1 %.
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(read(SEED).as_bytes()).unwrap();
    let seed = json_report(&[], &gzip.finish().unwrap());
    assert_eq!(
        crate::util::spin_shares(&seed),
        ["49.9", "17.6", "75.8", "87.6", "68.7"]
    );

    let truncated = run_with_stdin(&["report"], &gzipped[..gzipped.len() / 2]);
    assert_eq!(truncated.code, 2);
    assert!(truncated.stderr.contains("<stdin>"), "{}", truncated.stderr);
}

#[test]
fn several_inputs_of_several_formats() {
    let read = report(&[SEED, CSV, BTRACE]);
    let labels: Vec<&str> = read["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|input| input["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["openbsd-reaper-make-j32", "reaper", "reaper-btrace"]
    );
    assert_eq!(read["samples"].as_array().unwrap().len(), 15);
    assert_eq!(read["samples"][14]["input"], "reaper-btrace");
    assert_eq!(read["samples"][14]["sample"], 5);
    assert_eq!(total(&read, "spin_ns"), 3 * SPIN_NS);
    // The ranking covers all inputs together.
    assert_eq!(read["groups"][0]["total_ns"], 3 * SLEEP_WAIT_NS);
    let text = run(&["report", SEED, CSV]);
    assert!(
        text.stdout
            .contains("reaper (csv): running 21.776 ms in 5 samples: 65.1 %")
    );
    assert!(
        text.stdout
            .contains("all inputs: running 43.552 ms in 10 samples: 65.1 %")
    );
}

#[test]
fn diff_compares_across_formats() {
    let run = run(&["diff", "--format", "json", SEED, CSV]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let diff: Value = serde_json::from_str(&run.stdout).unwrap();
    for metric in diff["metrics"].as_array().unwrap() {
        assert_eq!(metric["delta_pct"], 0.0, "{metric}");
        assert_eq!(metric["p_value"], 1.0, "{metric}");
    }
}

#[test]
fn export_reads_every_format() {
    for (path, rows) in [
        (CSV, 30),
        (BTRACE, 30),
        (PERF_SEED, 9),
        (LOCKSTAT_FREEBSD, 7),
    ] {
        let run = run(&["export", "--what", "rows", path]);
        assert_eq!(run.code, 0, "{path}: {}", run.stderr);
        assert_eq!(run.stdout.lines().count(), rows + 1, "{path}");
    }
}

#[test]
fn per_input_ranks_each_input_on_its_own() {
    let read = report(&[SEED, PERF_LINUX, "--per-input", "--top", "2"]);
    let groups = read["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 4);
    let inputs: Vec<&str> = groups
        .iter()
        .map(|g| g["input"].as_str().unwrap())
        .collect();
    assert_eq!(
        inputs,
        [
            "openbsd-reaper-make-j32",
            "openbsd-reaper-make-j32",
            "linux-perf-lock-contention",
            "linux-perf-lock-contention"
        ]
    );
    // Shares of each input's own lock time: the seed's rwlock is 64.2 % of
    // the seed's 39567272 ns, perf's spinlock 55.1 % of its 211658300 ns.
    let share = |g: &Value| g["share_of_lock_time"].as_f64().unwrap();
    assert!((share(&groups[0]) - 25_392_111.0 / 39_567_272.0).abs() < 1e-12);
    assert!((share(&groups[2]) - 116_540_000.0 / 211_658_300.0).abs() < 1e-12);
    // The seed's kernel_lock group still against the seed's running time.
    let running = groups[1]["share_of_running"].as_f64().unwrap();
    assert!((running - 13_095_905.0 / 21_776_000.0).abs() < 1e-12);
    assert_eq!(read["groups_total"], 9 + 6);
    // Without it, one ranking: perf's spinlock leads all inputs.
    let together = report(&[SEED, PERF_LINUX]);
    assert!(together["groups"][0].get("input").is_none());
    assert_eq!(together["groups"][0]["total_ns"], 116_540_000);

    let text = run(&["report", SEED, PERF_LINUX, "--per-input", "--top", "1"]);
    assert!(
        text.stdout
            .contains("top 2 of 15 groups, by share of Running (spinning), then of off-CPU time (sleeping), ranked per input")
    );
    let csv = run(&[
        "export",
        "--what",
        "groups",
        "--per-input",
        SEED,
        PERF_LINUX,
    ]);
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    assert!(
        csv.stdout
            .starts_with("input,category,symbol,caller,class,total_ns,")
    );
    assert_eq!(csv.stdout.lines().count(), 1 + 15);
}

#[test]
fn strict_refuses_prose_in_every_line_format() {
    for (path, expected) in [
        (
            BPFTRACE,
            "bpftrace-kstack.txt:1: not part of a btrace map printout: \"Attaching 3 probes...\" \
             (--strict)",
        ),
        (
            "fixtures/openbsd-tech-reaper-mail.txt",
            "openbsd-tech-reaper-mail.txt:1: not part of a lock table",
        ),
    ] {
        let run = run(&["report", "--strict", path]);
        assert_eq!(run.code, 2, "{path}");
        assert!(run.stderr.contains(expected), "{path}: {}", run.stderr);
    }
    let perf = run_with_stdin(
        &["report", "--strict", "--input-format", "perf-lock"],
        b" contended   total wait     max wait     avg wait         type   caller\n\
          done.\n",
    );
    assert_eq!(
        perf.stderr,
        "contend: <stdin>:2: not part of perf lock output: \"done.\" (--strict)\n"
    );
}

#[test]
fn indented_tables_and_blank_lines_inside_them_lose_no_row() {
    // The seed's figures: 65.1 % of 21.776 ms of Running spun.
    let seed = json_report(&["-"], read(SEED).as_bytes());
    let spin_share = |report: &Value| report["total"]["spin_share"].as_f64().unwrap();
    assert_eq!(format!("{:.1}", 100.0 * spin_share(&seed)), "65.1");
    // Indented by four (a Markdown code block, a mail): it was refused
    // with `<stdin>:7: dur "" is not a number of nanoseconds`.
    let indented: String = read(SEED)
        .lines()
        .map(|line| format!("    {line}\n"))
        .collect();
    let report = json_report(&["-"], indented.as_bytes());
    assert_eq!(report["total"], seed["total"]);
    assert_eq!(report["groups"], seed["groups"]);
    // A blank line pasted after the second row of the first table: the
    // five rows after it (437 144 ns of mutex waits) were skipped as prose.
    let seed_text = read(SEED);
    let mut lines: Vec<&str> = seed_text.lines().collect();
    let second_row = lines
        .iter()
        .position(|line| line.starts_with("1751151"))
        .unwrap();
    lines.insert(second_row + 1, "");
    let with_blank = lines.join("\n") + "\n";
    let run = run_with_stdin(&["report", "--format", "json", "-"], with_blank.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["total"], seed["total"]);
    assert_eq!(report["groups"], seed["groups"]);
    assert_eq!(
        run.stderr,
        format!(
            "contend: stdin: read 1 row after a blank line as part of the table above (first: \
             line {})\n",
            second_row + 3
        )
    );
}

#[test]
fn a_blank_line_inside_a_perf_lock_or_klockstat_table_loses_no_row() {
    // perf lock contention with a blank line between rows: the two rows
    // after it (80.61 ms of waits, 1 552 events) were skipped as prose;
    // prose after the table (`6 files changed`) stays prose.
    let perf = " contended   total wait     max wait     avg wait         type   caller\n\n\
        \x20     2389    116.54 ms      1.47 ms     48.78 us     spinlock   _raw_spin_lock+0x1a\n\n\
        \x20      912     58.20 ms      3.12 ms     63.82 us      rwsem:W   down_write+0x3a\n\
        \x20      640     22.41 ms    810.33 us     35.02 us        mutex   __mutex_lock+0x1d4\n\n\
        6 files changed, 10 insertions(+)\n";
    let run = run_with_stdin(&["report", "--format", "json", "-"], perf.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let total: u64 = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["total_ns"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 116_540_000 + 58_200_000 + 22_410_000);
    assert_eq!(report["inputs"][0]["skipped_lines"], 1);
    assert!(
        run.stderr
            .contains("read 1 row after a blank line as part of the table above (first: line 5)"),
        "{}",
        run.stderr
    );
    // klockstat: a wait table with a blank line between its two rows kept
    // one; prose ending in four numbers after a blank line is no row.
    let klockstat = "                                  Caller   Avg Spin  Count   Max spin Total spin\n\
        \x20                     psi_avgs_work+0x2e       3675      5       5468      18379\n\n\
        \x20                    flush_to_ldisc+0x22       2833      2       4210       5667\n\n\
        Tested on a 2 socket box with 96 cores, 10 20 30 40\n";
    let run = run_with_stdin(&["report", "--format", "json", "-"], klockstat.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let totals: Vec<u64> = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["total_ns"].as_u64().unwrap())
        .collect();
    assert_eq!(totals, [18_379, 5_667]);
    assert_eq!(report["inputs"][0]["skipped_lines"], 1);
}

#[test]
fn an_underlined_header_and_a_row_that_lost_its_dur_lose_nothing_silently() {
    // The seed with its header underlined (`----`, as terminal tools and
    // Markdown draw it): it gave 0 rows and "0.0 % spinning".
    let seed = json_report(&["-"], read(SEED).as_bytes());
    let underlined: String = read(SEED)
        .lines()
        .flat_map(|line| {
            let rule = line
                .starts_with("dur")
                .then_some("----\t--------\t------\t------");
            std::iter::once(line).chain(rule)
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let report = json_report(&["-"], underlined.as_bytes());
    assert_eq!(report["total"], seed["total"]);
    assert_eq!(report["groups"], seed["groups"]);
    // A row whose dur was lost: it ended the table and the digit-led row
    // after it was skipped (3 000 ns lost without a word).
    let lost = "Running\t10ms\ndur\tcategory\tsymbol\tcaller\n5000\tkernel\tkernel_lock\tfoo\n\
                \tmutex\tm\tbar\n3000\tmutex\tm\tbaz\n";
    let run = run_with_stdin(&["report", "-"], lost.as_bytes());
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "contend: <stdin>:4: dur \"\" is not a number of nanoseconds\n"
    );
}

#[test]
fn a_tabbed_table_keeps_keys_with_blanks_whole() {
    // lockstat's FreeBSD names in a tab-separated table without a sample
    // column: refused with "expected 4 fields ..., found 8".
    let table = "dur\tcategory\tsymbol\tcaller\n\
                 762000\tAdaptive mutex spin\tvm page free queue\tvm_page_alloc\n\
                 540000\tAdaptive mutex spin\t0xfffff80003a1c8c0\tvm_object_deallocate\n";
    let report = json_report(&["-"], table.as_bytes());
    let groups: Vec<(String, String, u64)> = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["category"].as_str().unwrap().to_string(),
                g["symbol"].as_str().unwrap().to_string(),
                g["total_ns"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        [
            (
                "Adaptive mutex spin".into(),
                "vm page free queue".into(),
                762_000
            ),
            (
                "Adaptive mutex spin".into(),
                "0xfffff80003a1c8c0".into(),
                540_000
            ),
        ]
    );
}

#[test]
fn a_tsv_named_csv_reads_as_detection_reads_it() {
    // `--input-format csv` read the header as one comma-separated field:
    // "the CSV header needs a dur column ...".
    let tsv = "sample\tdur\tcategory\tsymbol\tcaller\n1\t5000\tkernel\tkernel_lock\tfoo\n\
               2\t3000\tmutex\tm\tbar\n";
    let detected = json_report(&["-"], tsv.as_bytes());
    let named = json_report(&["--input-format", "csv", "-"], tsv.as_bytes());
    assert_eq!(named["groups"], detected["groups"]);
    assert_eq!(named["total"]["spin_ns"], 8000);
}

#[test]
fn prose_ending_in_an_equal_sign_does_not_swallow_the_map_line_under_it() {
    // Read as a quoted-printable soft break outside any mail, the line
    // joined the largest wait (5 ms) into prose; only -v counted it.
    let text = "I ran it with @w[kstack] =\n@w[kernel, kernel_lock, foo]: 5000000\n\
                @w[mutex, m, bar]: 1000\n";
    let report = json_report(&["-"], text.as_bytes());
    let totals: Vec<u64> = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["total_ns"].as_u64().unwrap())
        .collect();
    assert_eq!(totals, [5_000_000, 1_000]);
}

#[test]
fn stack_maps_without_a_script_say_their_values_may_be_counts() {
    // A mail's `@[kstack] = count()` output without its command: read as
    // 1.529 ms of waits with no word.
    let run = crate::util::run(&[
        "report",
        "fixtures/real/bpftrace-lkml-eventfs-osq-lock-mutex-kstack-count.txt",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "read 4 map values of stack keys as nanoseconds (first: line 9), though no script \
             above them says sum(); if the map was filled with count() (`@[kstack] = count()`), \
             they are event counts: --values count"
        ),
        "{}",
        run.stderr
    );
    // A script that says sum() settles it: no note.
    let summed = "bpftrace -e 'kprobe:f { @w[kstack] = sum(nsecs - @s[tid]); }'\n@w[\n    \
                  mutex_lock+0x1c\n    do_thing+0x20\n]: 5000\n";
    let run = run_with_stdin(&["report", "-"], summed.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("event counts"), "{}", run.stderr);
}

#[test]
fn count_maps_show_no_times_where_none_exist() {
    // bpftrace's `@[kstack] = count()` from netdev: two stacks of one
    // caller, 2650 + 17119 events and no time at all.
    let fixture = "fixtures/real/bpftrace-netdev-sfc-native-qspinlock-kstack-count.txt";
    let report = json_report(&["--values", "count", fixture], b"");
    let group = &report["groups"][0];
    assert_eq!(group["events"], 19_769);
    for field in ["total_ns", "mean_ns", "max_ns"] {
        assert!(group[field].is_null(), "{field}: {group}");
    }
    let text = run(&["report", "--values", "count", fixture]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout
            .contains("1 group, by events (count() values have no times)"),
        "{}",
        text.stdout
    );
    // No samples table of zeros, no `0 ns` and no empty share bars.
    assert!(!text.stdout.contains("ns"), "{}", text.stdout);
    assert!(
        !text.stdout.contains("share of lock time"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("│ 1 ┆          ┆        ┆ rmqueue_bulk ┆ other ┆  19769 ┆       1 │")
    );
    // Export: rows keep their events and no duration; folded stacks weigh
    // their events, as flame graphs of count() maps do.
    let rows = run(&["export", "--values", "count", fixture]);
    assert_eq!(
        rows.stdout,
        "input,sample,category,symbol,caller,dur_ns,events\n\
         bpftrace-netdev-sfc-native-qspinlock-kstack-count,1,,,rmqueue_bulk,,2650\n\
         bpftrace-netdev-sfc-native-qspinlock-kstack-count,1,,,rmqueue_bulk,,17119\n"
    );
    let folded = run(&[
        "export", "--values", "count", "--what", "groups", "--format", "folded", fixture,
    ]);
    assert_eq!(folded.stdout, "[unknown];[unknown];rmqueue_bulk 19769\n");
}
