//! Hostile paths, round three (issue 35), the output side: nothing at
//! `-o` is destroyed (an input named as the output, `/dev/stdout` with
//! stdout appended to a log, a hard-linked file on a full disk), and
//! every output error names the output.

use std::fs::File;
use std::process::Stdio;

use crate::util::{SEED, contend, read, run, scratch_dir};

/// Runs `contend ARGS` with stdout going to `stdout`.
fn run_with_stdout(args: &[&str], stdout: File) -> crate::util::Run {
    contend()
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("contend runs")
        .into()
}

#[test]
fn an_output_that_is_an_input_is_refused_before_anything_is_read() {
    let dir = scratch_dir("output_is_input");
    let trace = dir.join("trace.txt");
    std::fs::write(&trace, read(SEED)).unwrap();
    let soft = dir.join("soft.txt");
    std::os::unix::fs::symlink(&trace, &soft).unwrap();
    let hard = dir.join("hard.txt");
    std::fs::hard_link(&trace, &hard).unwrap();
    let trace_path = trace.to_str().unwrap();
    for output in [&trace, &soft, &hard] {
        let export = run(&["export", trace_path, "-o", output.to_str().unwrap()]);
        assert_eq!(export.code, 2, "{}", export.stderr);
        assert_eq!(
            export.stderr,
            format!(
                "contend: -o {} is the input {trace_path} (the same file); contend will not \
                 write over what it reads: write elsewhere\n",
                output.display()
            )
        );
        assert_eq!(std::fs::read_to_string(&trace).unwrap(), read(SEED));
    }
    // Through a symlink on the input side, and among other inputs.
    let export = run(&["export", SEED, soft.to_str().unwrap(), "-o", trace_path]);
    assert_eq!(export.code, 2, "{}", export.stderr);
    // `>> trace.txt`: stdout appends to the input, which would read its
    // own rows back.
    let appending = File::options().append(true).open(&trace).unwrap();
    let export = run_with_stdout(&["export", trace_path], appending);
    assert_eq!(export.code, 2);
    assert!(
        export
            .stderr
            .starts_with("contend: standard output is the input"),
        "{}",
        export.stderr
    );
    assert_eq!(std::fs::read_to_string(&trace).unwrap(), read(SEED));
    // plot too.
    let chart = dir.join("chart.svg");
    std::fs::write(&chart, read(SEED)).unwrap();
    let chart_path = chart.to_str().unwrap();
    let plot = run(&["plot", chart_path, "-o", chart_path]);
    assert_eq!(plot.code, 2, "{}", plot.stderr);
    assert_eq!(std::fs::read_to_string(&chart).unwrap(), read(SEED));
}

#[test]
fn dev_stdout_and_dev_fd_write_through_the_descriptor() {
    let dir = scratch_dir("output_dev_stdout");
    let log = dir.join("log.txt");
    std::fs::write(&log, "an earlier line\n").unwrap();
    for name in ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"] {
        // `contend export T -o /dev/stdout >> log.txt`: the log keeps its
        // lines, the export is appended (the path /dev/stdout resolves to
        // would have been replaced by a new file).
        let appending = File::options().append(true).open(&log).unwrap();
        let export = run_with_stdout(&["export", SEED, "-o", name], appending);
        assert_eq!(export.code, 0, "{name}: {}", export.stderr);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.starts_with("an earlier line\ninput,sample,"), "{name}");
        // To a pipe, where the path cannot be followed at all.
        let piped = run(&["export", SEED, "-o", name]);
        assert_eq!(piped.code, 0, "{name}: {}", piped.stderr);
        assert!(
            piped
                .stdout
                .starts_with("input,sample,category,symbol,caller,dur_ns,events\n")
        );
    }
    let appended = std::fs::read_to_string(&log).unwrap();
    assert_eq!(appended.matches("input,sample,").count(), 3);
    // /dev/stderr and a descriptor that is not open.
    let to_stderr = run(&["export", SEED, "-o", "/dev/stderr"]);
    assert_eq!(to_stderr.code, 0);
    assert!(to_stderr.stdout.is_empty());
    assert!(to_stderr.stderr.starts_with("input,sample,"));
    let closed = run(&["export", SEED, "-o", "/dev/fd/9"]);
    assert_eq!(closed.code, 2);
    assert_eq!(
        closed.stderr,
        "contend: -o /dev/fd/9: descriptor 9 is not open: Bad file descriptor (os error 9)\n"
    );
}

#[test]
fn every_writer_names_the_output_when_the_device_is_full() {
    let dir = scratch_dir("output_full");
    let svg = dir.join("chart.svg");
    std::os::unix::fs::symlink("/dev/full", &svg).unwrap();
    let svg = svg.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["export", SEED, "-o", "/dev/full"], "/dev/full"),
        (
            &[
                "export",
                "--what",
                "groups",
                "--format",
                "parquet",
                SEED,
                "-o",
                "/dev/full",
            ],
            "/dev/full",
        ),
        (
            &[
                "export",
                "--what",
                "samples",
                "--format",
                "json",
                SEED,
                "-o",
                "/dev/full",
            ],
            "/dev/full",
        ),
        (&["plot", SEED, "-o", svg], svg),
    ];
    for (args, name) in cases {
        let failed = run(args);
        assert_eq!(failed.code, 2, "{args:?}");
        assert_eq!(
            failed.stderr,
            format!("contend: writing {name}: No space left on device (os error 28)\n"),
            "{args:?}"
        );
    }
    // stdout on a full device, help and version included: exit 2, said.
    for args in [
        &["report", SEED][..],
        &["diff", SEED, SEED],
        &["--help"],
        &["--version"],
        &["report", "--help"],
    ] {
        let full = File::options().write(true).open("/dev/full").unwrap();
        let failed = run_with_stdout(args, full);
        assert_eq!(failed.code, 2, "{args:?}");
        assert!(
            failed.stderr.ends_with(
                "contend: writing standard output: No space left on device (os error 28)\n"
            ),
            "{args:?}: {}",
            failed.stderr
        );
    }
}

/// An export of 800 one-row groups (about 29 KB of CSV).
fn rows_800() -> String {
    let mut text = String::from("Stopped\t400ms\nRunning\t4ms\ndur\tcategory\tsymbol\tcaller\n");
    for i in 0..800u64 {
        text.push_str(&format!(
            "{}\tmutex\tlock{i}\tcaller{i}\n",
            100_000 + i * 1_237
        ));
    }
    text
}

/// Runs `script` (sh) in a mount namespace of its own, where it may
/// mount a small tmpfs; its stdout and stderr.
fn in_a_mount_namespace(script: &str) -> crate::util::Run {
    std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", script])
        .output()
        .expect("unshare (util-linux) runs")
        .into()
}

#[test]
fn a_full_disk_never_truncates_the_output_or_names_a_temporary_file() {
    let dir = scratch_dir("output_full_disk");
    let input = dir.join("rows.txt");
    std::fs::write(&input, rows_800()).unwrap();
    let mount = dir.join("disk");
    std::fs::create_dir(&mount).unwrap();
    // A 56 KiB disk holding a 20 013-byte file with a second hard link:
    // room for the new 29 KB export beside it, not for the target to grow
    // to it. Then, 16 KiB of it taken, no room for the temporary file
    // itself: the error names the output, not the temporary file.
    let script = format!(
        "set -u
        mount -t tmpfs -o size=56k tmpfs {mount} || exit 99
        head -c 20013 /dev/zero | tr '\\0' x > {mount}/out.csv
        ln {mount}/out.csv {mount}/other.csv
        {contend} export {input} -o {mount}/out.csv; echo \"exit $?\"
        wc -c < {mount}/out.csv; tr -d x < {mount}/out.csv | wc -c
        ls -A {mount}
        head -c 16384 /dev/zero > {mount}/filler
        {contend} export {input} -o {mount}/new.csv; echo \"exit $?\"
        ls -A {mount}",
        mount = mount.display(),
        input = input.display(),
        contend = env!("CARGO_BIN_EXE_contend"),
    );
    let run = in_a_mount_namespace(&script);
    let lines: Vec<&str> = run.stdout.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            "exit 2",
            "20013",
            "0",
            "other.csv",
            "out.csv",
            "exit 2",
            "filler",
            "other.csv",
            "out.csv"
        ],
        "{}",
        run.stderr
    );
    let full = "No space left on device (os error 28)";
    assert_eq!(
        run.stderr,
        format!(
            "contend: writing {mount}/out.csv: {full}\ncontend: writing {mount}/new.csv: {full}\n",
            mount = mount.display()
        )
    );
    // With room to grow, the target takes the new content and both names
    // still share it.
    let script = format!(
        "mount -t tmpfs -o size=64k tmpfs {mount} || exit 99
        head -c 20013 /dev/zero | tr '\\0' x > {mount}/out.csv
        ln {mount}/out.csv {mount}/other.csv
        {contend} export {input} -o {mount}/out.csv; echo \"exit $?\"
        cmp {mount}/out.csv {mount}/other.csv && head -1 {mount}/other.csv",
        mount = mount.display(),
        input = input.display(),
        contend = env!("CARGO_BIN_EXE_contend"),
    );
    let run = in_a_mount_namespace(&script);
    assert_eq!(
        run.stdout, "exit 0\ninput,sample,category,symbol,caller,dur_ns,events\n",
        "{}",
        run.stderr
    );
}
