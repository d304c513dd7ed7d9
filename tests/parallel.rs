//! Reading one file on several threads gives exactly what reading it from
//! start to end gives: on the seed, the whole mail, and generated dumps
//! whose chunk boundaries fall everywhere (inside tables, between state
//! lines, in prose, across header changes).

use crate::util::{SEED, SEED_MAIL, run, scratch_dir};

/// `report --format json` with `--threads N`, as text.
fn json_with_threads(path: &str, threads: usize) -> (i32, String, String) {
    let run = run(&[
        "report",
        "--format",
        "json",
        "--top",
        "0",
        "--histogram",
        "--threads",
        &threads.to_string(),
        path,
    ]);
    (run.code, run.stdout, run.stderr)
}

fn assert_same_for_all_thread_counts(path: &str) {
    let sequential = json_with_threads(path, 1);
    assert_eq!(sequential.0, 0, "{}", sequential.2);
    // 1 000 000 000 is capped (at 64): as fast as a few, and the same.
    for threads in [2, 3, 4, 7, 16, 1_000_000_000] {
        assert_eq!(
            json_with_threads(path, threads),
            sequential,
            "{path} with --threads {threads}"
        );
    }
}

/// A file that fails read whole fails alike, with the same message, read
/// in 2, 3 or 5 pieces.
fn assert_pieces_fail_alike(path: &str, sequential: &(i32, String, String)) {
    for threads in [2, 3, 5] {
        assert_eq!(
            &json_with_threads(path, threads),
            sequential,
            "--threads {threads}"
        );
    }
}

/// A deterministic dump of `samples` samplings: state lines (sometimes
/// apart from their header, sometimes none), headers in two column orders,
/// rows with keys that repeat across samples (some indented, some after
/// a blank line inside their table), prose between samples.
fn generated_dump(samples: usize) -> String {
    generated_dump_of(samples, false)
}

/// The same, with a `ts` column when `starts` (one row per wait, so each
/// group has a distribution).
fn generated_dump_of(samples: usize, starts: bool) -> String {
    let mut state = 0x2545_f491_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut text = String::from("A generated dump\n\n");
    for sample in 0..samples {
        if sample % 5 != 4 {
            text.push_str(&format!(
                "Stopped\t{}.5ms\nRunning\t{}.25ms\n",
                100 + sample,
                3 + sample % 7
            ));
        }
        if sample % 3 == 0 {
            text.push('\n');
        }
        let swapped = sample % 4 == 1;
        let ts = if starts { "ts " } else { "" };
        text.push_str(&if swapped {
            format!("dur {ts}caller symbol category\n")
        } else {
            format!("dur\t{ts}category\tsymbol\tcaller\n")
        });
        for _ in 0..(50 + next() % 200) {
            let dur = 100 + next() % 100_000;
            let category = ["kernel", "mutex", "rwlock"][(next() % 3) as usize];
            let symbol = format!("lock_{}", next() % 12);
            let caller = format!("fn_{}", next() % 30);
            let ts = if starts {
                format!("{} ", next() % 1_000_000)
            } else {
                String::new()
            };
            // Now and then a blank line pasted inside the table, or a row
            // indented: read as part of the table either way.
            if next() % 97 == 0 {
                text.push('\n');
            }
            if next() % 13 == 0 {
                text.push_str("  ");
            }
            if swapped {
                text.push_str(&format!("{dur} {ts}{caller} {symbol} {category}\n"));
            } else {
                text.push_str(&format!("{dur}\t{ts}{category}\t{symbol}\t{caller}\n"));
            }
        }
        if sample % 7 == 6 {
            text.push_str("\nsome prose between samplings\n");
        }
        text.push('\n');
    }
    text
}

#[test]
fn the_seed_and_the_mail_in_pieces() {
    assert_same_for_all_thread_counts(SEED);
    assert_same_for_all_thread_counts(SEED_MAIL);
}

#[test]
fn a_generated_dump_in_pieces() {
    let path = scratch_dir("parallel_dump").join("dump.txt");
    std::fs::write(&path, generated_dump(300)).unwrap();
    let path = path.to_str().unwrap();
    assert_same_for_all_thread_counts(path);
    let (_, json, _) = json_with_threads(path, 1);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["inputs"][0]["samples"], 300);
    // The title line and one prose line after every seventh sampling.
    assert_eq!(report["inputs"][0]["skipped_lines"], 1 + 42);
}

#[test]
fn wait_distributions_are_the_same_in_pieces() {
    let path = scratch_dir("parallel_waits").join("waits.txt");
    std::fs::write(&path, generated_dump_of(120, true)).unwrap();
    let path = path.to_str().unwrap();
    assert_same_for_all_thread_counts(path);
    let (_, json, _) = json_with_threads(path, 1);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let groups = report["groups"].as_array().unwrap();
    assert!(groups.len() > 1000, "{} groups", groups.len());
    for group in groups {
        let events = group["events"].as_u64().unwrap();
        let histogram = group["histogram"].as_array().unwrap();
        let counted: u64 = histogram.iter().map(|o| o["count"].as_u64().unwrap()).sum();
        assert_eq!(counted, events);
        assert!(group["p50_ns"].as_u64().unwrap() <= group["p99_ns"].as_u64().unwrap());
    }
}

#[test]
fn errors_name_the_same_line_either_way() {
    let mut text = generated_dump(200);
    let middle = text.len() * 2 / 3;
    let line_start = middle + text[middle..].find('\n').unwrap() + 1;
    text.insert_str(line_start, "12x4\tkernel\tkernel_lock\treaper\n");
    let path = scratch_dir("parallel_error").join("bad.txt");
    std::fs::write(&path, &text).unwrap();
    let path = path.to_str().unwrap();
    let sequential = json_with_threads(path, 1);
    assert_eq!(sequential.0, 2);
    let line = text[..line_start].lines().count() + 1;
    assert!(
        sequential
            .2
            .contains(&format!("bad.txt:{line}: dur \"12x4\" is not a number")),
        "{}",
        sequential.2
    );
    assert_pieces_fail_alike(path, &sequential);
}

#[test]
fn an_overflow_found_merging_pieces_names_its_line_as_read_whole() {
    // Two rows of one key that together pass 2^64 ns, in the first and
    // the second piece: merging the pieces found the overflow, without a
    // line (`--threads N` said `FILE: the total wait ...`).
    let text = "Stopped\t400ms\nRunning\t4ms\ndur\tcategory\tsymbol\tcaller\n\
                18446744073709551615\tmutex\ta\tb\n18446744073709551615\tmutex\ta\tb\n";
    let path = scratch_dir("parallel_overflow").join("overflow.txt");
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap();
    let sequential = json_with_threads(path, 1);
    assert_eq!(sequential.0, 2);
    assert!(
        sequential.2.ends_with(
            "overflow.txt:5: the total wait of mutex a b overflows 64-bit nanoseconds\n"
        ),
        "{}",
        sequential.2
    );
    assert_pieces_fail_alike(path, &sequential);
}
