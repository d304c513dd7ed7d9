//! Every error a user can reach: exit code 2 and a message naming the file
//! and the line.

use crate::util::{SEED, run, run_with_stdin, scratch_dir};

fn assert_fails(args: &[&str], stdin: &str, expected: &str) {
    let run = run_with_stdin(args, stdin.as_bytes());
    assert_eq!(
        run.code, 2,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert_eq!(run.stderr, format!("contend: {expected}\n"));
    assert!(run.stdout.is_empty(), "half a report: {}", run.stdout);
}

#[test]
fn missing_file() {
    assert_fails(
        &["report", "no-such-trace.txt"],
        "",
        "no-such-trace.txt: cannot open: No such file or directory (os error 2)",
    );
}

#[test]
fn directory_instead_of_a_file() {
    assert_fails(
        &["report", "fixtures"],
        "",
        "fixtures: is a directory, not a trace, and holds no dataset's Parquet files \
         (`contend export --dataset DIR` writes them)",
    );
}

#[test]
fn dur_that_is_not_a_number() {
    let text = "Running 1ms\ndur category symbol caller\n12x4 kernel kernel_lock reaper\n";
    assert_fails(
        &["report"],
        text,
        "<stdin>:3: dur \"12x4\" is not a number of nanoseconds",
    );
    let dir = scratch_dir("bad-dur");
    let path = dir.join("trace.txt");
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap();
    assert_fails(
        &["report", path, "--unit", "us"],
        "",
        &format!("{path}:3: dur \"12x4\" is not a number of microseconds"),
    );
}

#[test]
fn row_with_too_few_fields() {
    assert_fails(
        &["report"],
        "dur category symbol caller\n12 kernel reaper\n",
        "<stdin>:2: expected 4 fields (dur category symbol caller), found 3: \"12 kernel reaper\"",
    );
}

#[test]
fn row_before_any_header_in_strict_mode() {
    assert_fails(
        &["report", "--strict"],
        "12 kernel kernel_lock reaper\ndur category symbol caller\n",
        "<stdin>:1: a row before any header line: \"12 kernel kernel_lock reaper\" (--strict)",
    );
}

#[test]
fn prose_in_strict_mode() {
    assert_fails(
        &["report", "--strict", SEED],
        "",
        &format!(
            "{SEED}:1: not part of a lock table: \"Reaper samplings during a make -j 32 of \
             GENERIC.MP\" (--strict)"
        ),
    );
}

#[test]
fn csv_headers_that_lack_a_column_say_which() {
    assert_fails(
        &[
            "report",
            "fixtures/real/perfetto-csv-android-monitor-contention-chain.csv",
        ],
        "",
        "fixtures/real/perfetto-csv-android-monitor-contention-chain.csv: no lock table found: \
         a CSV header with a dur column but no category, symbol or caller column to group by \
         (28 columns: parent_id, blocking_method, blocked_method, short_blocking_method, \
         short_blocked_method, blocking_src, ...); name a key column so (`... AS symbol`)",
    );
    assert_fails(
        &["report"],
        "\"id\",\"thread_state\",\"thread_state_dur\"\n1,\"R\",7649\n",
        "<stdin>: no lock table found: a CSV header without a dur column (3 columns: id, \
         thread_state, thread_state_dur); name the wait duration column `dur` (nanoseconds)",
    );
}

#[test]
fn input_with_no_table() {
    let expected = "<stdin>: no lock table found in the first 2 lines: not a Perfetto \
                    table (a `dur category symbol caller` header), CSV (a header row with a \
                    dur column), btrace maps (`@map[keys]: value`), perf lock contention \
                    (`contended  total wait ...`), perf lock report (`Name   acquired  \
                    contended ...`), lockstat (`... N events in T seconds`), \
                    klockstat (`Caller   Avg Spin  Count ...`), Linux /proc/lock_stat \
                    (`lock_stat version 0.4`, `NAME: figures`) or FreeBSD LOCK_PROFILING \
                    (`max  wait_max  total  wait_total ... name`); if it is one of these, name \
                    it with --input-format";
    assert_fails(&["report"], "Hi,\nthis mail has no numbers.\n", expected);
    assert_fails(
        &["report"],
        "",
        "<stdin>: no lock table found: the input is empty",
    );
    // Named explicitly, the table parser says what it expected.
    assert_fails(
        &["report", "--input-format", "table"],
        "Hi,\nthis mail has no numbers.\n",
        "<stdin>: no lock table found (expected a header line such as \
         `dur category symbol caller`)",
    );
}

#[test]
fn binary_input() {
    assert_fails(
        &["report"],
        "dur symbol\n5 \u{0}\u{0}\u{0}",
        "<stdin>:2: binary data (byte 0x00 at column 3); is this a text lock table?",
    );
    let run = run_with_stdin(&["report"], b"dur symbol\n5 lock\xff\n");
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "contend: <stdin>:2: not valid UTF-8 (byte 7 of the line); --lossy reads such bytes as U+FFFD\n"
    );
}

#[test]
fn bad_usage() {
    let run = run(&["report", "--sort", "loudest"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("invalid value 'loudest' for '--sort <SORT>'")
    );
    let run = run_with_stdin(&["report", "-", "-"], b"");
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr, "contend: stdin (`-`) can be read only once\n");
    let run = crate::util::run(&["report", SEED, "--label", "a", "--label", "b"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr, "contend: 2 --label given for 1 inputs\n");
}

#[test]
fn lossy_reads_bytes_that_are_not_utf8_as_replacement_characters() {
    let strict = run(&["report", "fixtures/bad/latin1-caller.txt"]);
    assert_eq!(strict.code, 2);
    let lossy = run(&[
        "report",
        "--lossy",
        "--format",
        "json",
        "fixtures/bad/latin1-caller.txt",
    ]);
    assert_eq!(lossy.code, 0, "{}", lossy.stderr);
    let report: serde_json::Value = serde_json::from_str(&lossy.stdout).expect("JSON");
    assert_eq!(report["groups"][0]["caller"], "vm_map_lock_\u{fffd}");
    assert_eq!(report["groups"][0]["total_ns"], 12_417_639);
    assert_eq!(
        lossy.stderr,
        "contend: latin1-caller: read bytes that are not UTF-8 as U+FFFD in 1 line (first: \
         line 4; --lossy)\n"
    );
    for (format, input, line) in [
        ("csv", &b"dur,category,symbol,caller\n5,kernel,kernel_lock,r\xe9aper\n"[..], 2),
        ("btrace", &b"@w[kernel, kernel_lock, r\xe9aper]: 5\n"[..], 1),
        ("perf-lock", &b" contended   total wait     max wait     avg wait         type   caller\n\n         1        5 ns         5 ns         5 ns     spinlock   r\xe9aper+0x12\n"[..], 3),
    ] {
        let run = run_with_stdin(&["report", "--lossy", "--format", "csv", "--input-format", format], input);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert!(run.stdout.contains("r\u{fffd}aper"), "{format}: {}", run.stdout);
        let note = format!("in 1 line (first: line {line}; --lossy)");
        assert!(run.stderr.contains(&note), "{format}: {}", run.stderr);
        let strict = run_with_stdin(&["report", "--input-format", format], input);
        assert_eq!(strict.code, 2, "{format}");
        assert!(strict.stderr.contains("--lossy reads such bytes as U+FFFD"), "{format}: {}", strict.stderr);
    }
}
