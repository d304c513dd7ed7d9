//! Hostile paths, round three (issue 35), the figures: no sum saturates
//! in silence, integers stay integers, and a time too long for a signed
//! 64-bit number is still a figure, not "unknown".

use crate::util::{json_report, run, scratch_dir};

#[test]
fn a_mean_past_two_to_the_53_stays_exact() {
    // One sample, one wait of 2^53 + 1 ns: a float's mean said 2^53.
    let table = "Stopped\t400ms\nRunning\t4ms\ndur\tcategory\tsymbol\tcaller\n\
                 9007199254740993\tmutex\tbig\tc\n";
    let report = json_report(&["-"], table.as_bytes());
    assert_eq!(report["groups"][0]["mean_ns"], 9_007_199_254_740_993u64);
    let path = scratch_dir("figures_mean").join("big.txt");
    std::fs::write(&path, table).unwrap();
    let path = path.to_str().unwrap();
    let export = run(&["export", "--what", "groups", path]);
    let mut reader = csv::Reader::from_reader(export.stdout.as_bytes());
    let header = reader.headers().unwrap().clone();
    let mean = header.iter().position(|h| h == "mean_ns").unwrap();
    let record = reader.records().next().unwrap().unwrap();
    assert_eq!(&record[mean], "9007199254740993");
    // diff's per-group means too.
    let diff = run(&["diff", "--format", "json", path, path]);
    let diff: serde_json::Value = serde_json::from_str(&diff.stdout).unwrap();
    assert_eq!(
        diff["groups"][0]["before_mean_ns"],
        9_007_199_254_740_993u64
    );
}

#[test]
fn work_past_two_to_the_63_is_a_figure() {
    // Running 1e19 ns (under 2^64, over i64) with one 5 ns wait: work was
    // printed `-` and its share null, as if unknown.
    let table = "Stopped\t400ms\nRunning\t10000000000000000000ns\n\
                 dur\tcategory\tsymbol\tcaller\n5\tkernel\tkernel_lock\treaper\n";
    let report = json_report(&["-"], table.as_bytes());
    let total = &report["total"];
    assert_eq!(total["work_ns"], 9_999_999_999_999_999_995u64);
    assert_eq!(total["work_share"], 1.0);
    let text = crate::util::run_with_stdin(&["report", "--width", "200", "-"], table.as_bytes());
    assert!(
        text.stdout.contains("100.0 % other work"),
        "{}",
        text.stdout
    );
    let export =
        crate::util::run_with_stdin(&["export", "--what", "samples", "-"], table.as_bytes());
    assert!(
        export.stdout.contains(",9999999999999999995,"),
        "{}",
        export.stdout
    );
    // Parquet's signed 64-bit column cannot hold it: said, not wrapped.
    let out = scratch_dir("figures_work").join("samples.parquet");
    let parquet = crate::util::run_with_stdin(
        &[
            "export",
            "--what",
            "samples",
            "--format",
            "parquet",
            "-",
            "-o",
            out.to_str().unwrap(),
        ],
        table.as_bytes(),
    );
    assert_eq!(parquet.code, 2);
    assert!(
        parquet
            .stderr
            .contains("passes Parquet's signed 64-bit column"),
        "{}",
        parquet.stderr
    );
    assert!(!out.exists());
}
